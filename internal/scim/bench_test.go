package scim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// benchServer is a handler over a SQLite store holding n Okta-shaped users.
func benchServer(b *testing.B, n int) (http.Handler, string) {
	b.Helper()
	h := newHarness(b, "sqlite", scimconfig.SyncModeUsersOnly)
	for i := range n {
		h.createUser(i, nil)
	}
	cfg := testConfig(h.org.srv.URL, scimconfig.SyncModeUsersOnly)
	s, err := New(cfg, h.store, mustVerifier(b, h), WithLogger(discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	return s.Handler(), h.token
}

func BenchmarkLookupByUserName(b *testing.B) {
	handler, token := benchServer(b, 500)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		f := url.QueryEscape(fmt.Sprintf(`userName eq "officer%d@agency.example"`, i%500))
		req := httptest.NewRequest(
			http.MethodGet,
			BasePath(testAgency)+"/Users?filter="+f+"&startIndex=1&count=100",
			nil,
		)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
		i++
	}
}

func BenchmarkRenderUser(b *testing.B) {
	cfg := testConfig("https://examplepd.okta.com", scimconfig.SyncModeUsersOnly)
	s := &Server{extURN: cfg.ExtensionSchema, extKey: []byte(`"` + cfg.ExtensionSchema + `"`)}
	u := &directory.User{ID: "5d3c8a4e", UserName: "officer1@agency.example", Active: true,
		Name:      directory.Name{GivenName: "Given", FamilyName: "Family"},
		Emails:    []directory.Email{{Value: "officer1@agency.example", Type: "work", Primary: true}},
		Extension: directory.Extension{BadgeID: "B1", RankName: "Officer", AxonRole: "User"},
		Meta:      directory.Meta{Version: 3}}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.renderUser(u, "https://scim.example/api/v2/agencies/a/scim")
	}
}

func BenchmarkApplyEntraPatch(b *testing.B) {
	cfg := testConfig("https://examplepd.okta.com", scimconfig.SyncModeUsersOnly)
	s, err := New(cfg, nopStore{}, nopAuth{})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@agency.example"},
		{"op":"Replace","value":{"active":"False","name.givenName":"Theo"}},
		{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:2.0:axon:rankName","value":"Captain"}]}`)
	u := &directory.User{ID: "1", UserName: "u@agency.example", Active: true,
		Emails: []directory.Email{
			{Value: "u@agency.example", Type: "work", Primary: true},
		}, Extension: directory.Extension{BadgeID: "1"}}
	b.ReportAllocs()
	for b.Loop() {
		ops, err := parsePatch(body, s.opts)
		if err != nil {
			b.Fatal(err)
		}
		d, err := s.userDocument(u, "https://x")
		if err != nil {
			b.Fatal(err)
		}
		if err := s.users.applyPatch(d, ops); err != nil {
			b.Fatal(err)
		}
		if _, err := s.userFromDocument(d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateUser(b *testing.B) {
	handler, token := benchServer(b, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(
			http.MethodPost,
			BasePath(testAgency)+"/Users",
			strings.NewReader(mustJSON(oktaUser(i))),
		)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		i++
	}
}

func BenchmarkMonitorObserve(b *testing.B) {
	m, err := NewMonitor(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.observe("Users", http.MethodGet, http.StatusOK, time.Millisecond)
	}
}
