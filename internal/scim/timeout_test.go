package scim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/auth"
	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// TestTimeout_AStalledDatabaseGetsASCIMErrorNotAHang stalls PostgreSQL's users table (as a
// database that stops answering does) and checks that reads and writes answer a SCIM 503 with
// Retry-After once the request timeout passes. Before, lookups ignored cancellation and every request waited
// for the database, past the HTTP server's write timeout, so the client got no answer at all.
func TestTimeout_AStalledDatabaseGetsASCIMErrorNotAHang(t *testing.T) {
	if os.Getenv(postgresURLEnv) == "" {
		t.Skipf("%s is not set", postgresURLEnv)
	}
	org := newTestOrg(t)
	cfg := testConfig(org.srv.URL, scimconfig.SyncModeUsersOnly)
	dbURL, drop := createPostgresDB(t)
	st, err := directory.Open(t.Context(), dbURL, directory.RulesFromConfig(cfg))
	if err != nil {
		drop()
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		_ = st.Close()
		drop()
	})
	verifier, err := auth.NewVerifier(org.srv.URL, auth.WithHTTPClient(org.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	s, err := New(cfg, st, verifier, WithLogger(discardLogger()), WithRequestTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	h := &harness{t: t, org: org, srv: srv, store: st, token: org.token(t, nil), base: BasePath(testAgency)}
	id := h.createUser(1, nil)

	locker, err := openSQL("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = locker.Close() }()
	lock, err := locker.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback() }()
	if _, err := lock.ExecContext(t.Context(), "LOCK TABLE users IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, method, path, body string
	}{
		{name: "get by id", method: http.MethodGet, path: "/Users/" + id},
		{name: "lookup by userName", method: http.MethodGet, path: `/Users?filter=userName%20eq%20%22x%22`},
		{name: "list", method: http.MethodGet, path: "/Users?startIndex=2&count=2"},
		{name: "patch", method: http.MethodPatch, path: "/Users/" + id,
			body: `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations": [{"op": "replace", "value": {"active": false}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan response, 1)
			go func() { done <- doQuietly(h, tt.method, tt.path, tt.body) }()
			select {
			case r := <-done:
				if r.status != http.StatusServiceUnavailable || r.json(t)["schemas"].([]any)[0] != errorSchema {
					t.Fatalf("status %d, want a SCIM 503: %s", r.status, r.body)
				}
				if got := r.header.Get("Retry-After"); got != retryAfterSeconds {
					t.Errorf("Retry-After %q, want %q", got, retryAfterSeconds)
				}
			case <-time.After(10 * timeout):
				t.Fatalf("no answer %v after the request timeout (%v)", 9*timeout, timeout)
			}
		})
	}
}

// doQuietly is harness.do for another goroutine: a failed request is status 0, not t.Fatal.
func doQuietly(h *harness, method, path, body string) response {
	req, err := http.NewRequestWithContext(context.Background(), method, h.srv.URL+h.base+path,
		strings.NewReader(body))
	if err != nil {
		return response{body: []byte(err.Error())}
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", ContentType)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		return response{body: []byte(err.Error())}
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}
