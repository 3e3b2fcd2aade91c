package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// fuzzTarget sends a request to the handler of each store in-process (PostgreSQL too when
// SCIM_TEST_POSTGRES_URL is set), so fuzzing is fast; the harnesses stay up for the whole run.
type fuzzTarget struct {
	stores []*fuzzStore
	// userID and groupID name the user and group that paths with {user} and {group} address.
	userID, groupID string
}

// fuzzStore is one store's handler, with the ids of its user and group.
type fuzzStore struct {
	backend         string
	h               *harness
	handler         http.Handler
	userID, groupID string
}

func newFuzzTarget(t testing.TB) *fuzzTarget {
	ft := &fuzzTarget{userID: "{user}", groupID: "{group}"}
	for _, backend := range backends(t) {
		h := newHarness(t, backend, scimconfig.SyncModeUsersAndGroups)
		cfg := testConfig(h.org.srv.URL, scimconfig.SyncModeUsersAndGroups)
		s, err := New(cfg, h.store, mustVerifier(t, h), WithLogger(discardLogger()))
		if err != nil {
			t.Fatal(err)
		}
		fs := &fuzzStore{backend: backend, h: h, handler: s.Handler(), userID: h.createUser(1, nil)}
		r := h.do(http.MethodPost, "/Groups", `{"displayName": "Fuzz Group"}`)
		fs.groupID = r.json(t)["id"].(string)
		ft.stores = append(ft.stores, fs)
	}
	return ft
}

// check sends the request to every store; {user} and {group} in path name each store's own.
func (ft *fuzzTarget) check(t *testing.T, method, path string, body []byte) {
	for _, fs := range ft.stores {
		fs.check(t, method, strings.NewReplacer("{user}", fs.userID, "{group}", fs.groupID).Replace(path), body)
	}
}

func (fs *fuzzStore) check(t *testing.T, method, path string, body []byte) {
	req := httptest.NewRequestWithContext(t.Context(), method, BasePath(testAgency)+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+fs.h.token)
	rec := httptest.NewRecorder()
	fs.handler.ServeHTTP(rec, req)
	if rec.Code >= http.StatusInternalServerError {
		t.Fatalf("%s: %s %s answered %d for body %q: %s", fs.backend, method, path, rec.Code, body, rec.Body.Bytes())
	}
	if rec.Code == http.StatusNoContent {
		return
	}
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%s %s: body is not JSON: %q", method, path, rec.Body.Bytes())
	}
}

var fuzzSeeds = []string{
	`{"userName":"a@b.c","urn:ietf:params:scim:schemas:extension:2.0:axon":{"badgeId":"1"}}`,
	`{"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@y.z"}]}`,
	`{"Operations":[{"op":"replace","value":{"active":"False","name.givenName":"A"}}]}`,
	`{"Operations":[{"op":"remove","path":"members[value eq \"x\"]"}]}`,
	`{"Operations":[{"op":"add","path":"members","value":[{"value":"x"}]}]}`,
	`{"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:2.0:axon",` +
		`"value":{"rankName":"Officer"}}]}`,
	`{"Operations":[{"op":"replace","path":"name","value":"not an object"}]}`,
	`{"Operations":[{"op":"replace","path":"emails","value":{"value":"single"}}]}`,
	`{"filter":"userName eq \"x\" or (emails[type eq \"work\" and value co \"@\"])","count":-1}`,
	`{"emails":[1,2,3],"name":[],"active":null}`,
	`[]`, `null`, `"x"`, `{`, `{"a":{"b":{"c":[[[[]]]]}}}`,
}

func FuzzUserBodies(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	ft := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ft.check(t, http.MethodPost, "/Users", body)
		ft.check(t, http.MethodPut, "/Users/"+ft.userID, body)
		ft.check(t, http.MethodPatch, "/Users/"+ft.userID, body)
		ft.check(t, http.MethodPost, "/.search", body)
	})
}

func FuzzGroupBodies(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	ft := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ft.check(t, http.MethodPost, "/Groups", body)
		ft.check(t, http.MethodPut, "/Groups/"+ft.groupID, body)
		ft.check(t, http.MethodPatch, "/Groups/"+ft.groupID, body)
	})
}

func FuzzQueryParameters(f *testing.F) {
	filters := []string{`userName eq "x"`, `emails[type eq "work"]`, `not (`,
		`meta.lastModified gt "2020-01-01T00:00:00Z"`, `x pr`}
	for _, s := range filters {
		f.Add(s, "userName", "1", "10")
	}
	ft := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, filter, attrs, start, count string) {
		q := "?filter=" + urlEscape(filter) + "&attributes=" + urlEscape(attrs) + "&startIndex=" + urlEscape(start) +
			"&count=" + urlEscape(count) + "&sortBy=" + urlEscape(attrs)
		ft.check(t, http.MethodGet, "/Users"+q, nil)
		ft.check(t, http.MethodGet, "/Groups"+q, nil)
	})
}

func urlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
	}
	return b.String()
}
