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

// fuzzTarget sends a body to the handler in-process, so fuzzing is fast; the harness's
// server stays up for the whole fuzz run.
type fuzzTarget struct {
	h       *harness
	handler http.Handler
	userID  string
	groupID string
}

func newFuzzTarget(t testing.TB) *fuzzTarget {
	h := newHarness(t, "sqlite", scimconfig.SyncModeUsersAndGroups)
	cfg := testConfig(h.org.srv.URL, scimconfig.SyncModeUsersAndGroups)
	s, err := New(cfg, h.store, mustVerifier(t, h), WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	ft := &fuzzTarget{h: h, handler: s.Handler(), userID: h.createUser(1, nil)}
	r := h.do(http.MethodPost, "/Groups", `{"displayName": "Fuzz Group"}`)
	ft.groupID = r.json(t)["id"].(string)
	return ft
}

func (ft *fuzzTarget) check(t *testing.T, method, path string, body []byte) {
	req := httptest.NewRequestWithContext(t.Context(), method, BasePath(testAgency)+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ft.h.token)
	rec := httptest.NewRecorder()
	ft.handler.ServeHTTP(rec, req)
	if rec.Code >= http.StatusInternalServerError {
		t.Fatalf("%s %s answered %d for body %q: %s", method, path, rec.Code, body, rec.Body.Bytes())
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
