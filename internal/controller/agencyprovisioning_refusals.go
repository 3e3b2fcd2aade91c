package controller

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// ReasonProvisioningRefused is the reason of the Warning Event recorded when the SCIM server
// refused a write from Okta because it broke an agency rule (a rank that does not exist, a
// missing badge id, a duplicate userName): the roster entry must be fixed in Okta.
const ReasonProvisioningRefused = "ProvisioningRefused"

// refusalsSeen remembers, per AgencyProvisioning, the time of the newest refusal already
// recorded as an Event, so each refusal is recorded once (again after an operator restart). It
// is shared by every OktaSync of the process; an AgencyProvisioning made again under the same
// name (a new UID) starts afresh, and a deleted one is forgotten.
var refusalsRecorded refusalsSeen

type refusalsSeen struct {
	mu     sync.Mutex
	latest map[types.NamespacedName]refusalMark
}

type refusalMark struct {
	uid types.UID
	at  time.Time
}

// newRefusals returns the report's refusals newer than the last ones recorded for ap, and
// remembers the newest.
func (r *refusalsSeen) newRefusals(ap *scimv1alpha1.AgencyProvisioning, rep *scimconfig.Report) []scimconfig.Refusal {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.latest == nil {
		r.latest = map[types.NamespacedName]refusalMark{}
	}
	key := types.NamespacedName{Namespace: ap.Namespace, Name: ap.Name}
	mark := r.latest[key]
	if mark.uid != ap.UID {
		mark = refusalMark{uid: ap.UID}
	}
	since := mark.at
	var out []scimconfig.Refusal
	for _, ref := range rep.Refusals {
		if ref.Time.After(since) {
			out = append(out, ref)
			if ref.Time.After(mark.at) {
				mark.at = ref.Time
			}
		}
	}
	r.latest[key] = mark
	return out
}

// forget drops what was remembered of an AgencyProvisioning that is gone.
func (r *refusalsSeen) forget(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.latest, key)
}

// RefusalEventReader reads the SCIM server's report through Reader and records a Warning
// Event (reason ProvisioningRefused) on the AgencyProvisioning for each write the server
// refused since the last read: a roster entry that broke an agency rule. Wrap the manager's
// ReportReader with it to show refusals in `kubectl describe ap`.
type RefusalEventReader struct {
	Reader   ReportReader
	Recorder EventRecorder
}

// ReadReport implements ReportReader.
func (r *RefusalEventReader) ReadReport(
	ctx context.Context,
	ap *scimv1alpha1.AgencyProvisioning,
) (*scimconfig.Report, error) {
	rep, err := r.Reader.ReadReport(ctx, ap)
	if err != nil || rep == nil || r.Recorder == nil || (rep.AgencyID != "" && rep.AgencyID != ap.Spec.AgencyID) {
		return rep, err
	}
	for _, ref := range refusalsRecorded.newRefusals(ap, rep) {
		r.Recorder.Eventf(ap, nil, corev1.EventTypeWarning, ReasonProvisioningRefused, refusalAction(ref),
			"%s", refusalNote(ref))
	}
	return rep, nil
}

// refusalAction names the refused write and its cause. The events.k8s.io recorder folds
// Events with the same type, reason, action and object into one series that keeps the first
// note, so each cause needs its own action for its note to be shown.
func refusalAction(ref scimconfig.Refusal) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(ref.ScimType + "\x00" + ref.Detail))
	return fmt.Sprintf("Provision%s-%08x", ref.Resource, h.Sum32())
}

func refusalNote(ref scimconfig.Refusal) string {
	kind := ref.ScimType
	if kind == "" {
		kind = "conflict"
	}
	note := fmt.Sprintf("The SCIM server refused %s /%s from Okta (%d %s, %d time(s), last at %s): %s. "+
		"Fix the user's profile in Okta or the agency's lookup data in spec.directory",
		ref.Method, ref.Resource, ref.Status, kind, ref.Count, ref.Time.UTC().Format(time.RFC3339), ref.Detail)
	if strings.Contains(ref.Detail, "is required") {
		note += "; if every user is refused for a missing extension attribute, the ScimUserMapping was not " +
			"Ready when Okta pushed: retry once it is"
	}
	return note
}
