package scim

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// refusedKinds are the directory errors that mean a write broke an agency rule; the operator
// shows them to the admin (the roster entry must be fixed in Okta).
var refusedKinds = []directory.ErrorKind{
	directory.KindInvalidValue, directory.KindUniqueness, directory.KindMutability, directory.KindConflict,
}

// refused notes a write the directory refused for an agency rule, keeping the latest one per
// cause (scimType and detail) for the report. Only directory errors are kept: their details
// name fields and lookup values, never a person's data.
func (m *Monitor) refused(resource, method string, e *Error) {
	var de *directory.Error
	if e == nil || method == http.MethodGet || !errors.As(e.Err, &de) || !slices.Contains(refusedKinds, de.Kind) {
		return
	}
	key := e.ScimType + "\x00" + e.Detail
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refusals == nil {
		m.refusals = map[string]scimconfig.Refusal{}
	}
	prev := m.refusals[key]
	m.refusals[key] = scimconfig.Refusal{
		Resource: resource, Method: methodLabel(method), Status: e.Status, ScimType: e.ScimType,
		Detail: e.Detail, Count: prev.Count + 1, Time: m.now().UTC(),
	}
	if len(m.refusals) > scimconfig.MaxRefusals {
		oldest := ""
		for k, r := range m.refusals {
			if oldest == "" || r.Time.Before(m.refusals[oldest].Time) {
				oldest = k
			}
		}
		delete(m.refusals, oldest)
	}
}

// refusalList returns the kept refusals, oldest first; callers hold m.mu.
func (m *Monitor) refusalList() []scimconfig.Refusal {
	if len(m.refusals) == 0 {
		return nil
	}
	out := make([]scimconfig.Refusal, 0, len(m.refusals))
	for _, r := range m.refusals {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b scimconfig.Refusal) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Detail, b.Detail)
	})
	return out
}
