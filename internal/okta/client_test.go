package okta

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeOrg is an httptest server speaking Okta's wire format for the handlers a test installs.
type fakeOrg struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []string
	hits  atomic.Int64
}

func newFakeOrg(t *testing.T, h http.HandlerFunc) *fakeOrg {
	t.Helper()
	f := &fakeOrg{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		f.mu.Lock()
		f.calls = append(f.calls, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOrg) client(t *testing.T, opts Options) *Client {
	t.Helper()
	c, err := New(Credentials{OrgURL: f.srv.URL, APIToken: "test-token"}, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oktaError(w http.ResponseWriter, status int, code, summary string) {
	writeJSON(w, status, map[string]any{
		"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": "oae1", "errorCauses": []any{},
	})
}

func fastOptions() Options {
	return Options{CallTimeout: 2 * time.Second, MaxRateLimitWait: 3 * time.Second,
		RetryBackoff: 10 * time.Millisecond}
}

func TestErrors_StatusCodesMapToSentinels(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
		want   error
	}{
		{name: "401 invalid token is invalid credentials", status: http.StatusUnauthorized, code: "E0000011",
			want: ErrInvalidCredentials},
		{name: "403 is forbidden", status: http.StatusForbidden, code: "E0000006", want: ErrForbidden},
		{name: "404 is not found", status: http.StatusNotFound, code: "E0000007", want: ErrNotFound},
		{name: "400 is invalid request", status: http.StatusBadRequest, code: "E0000001", want: ErrInvalidRequest},
		{name: "500 after retries is server error", status: http.StatusInternalServerError, code: "E0000009",
			want: ErrServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := newFakeOrg(t, func(w http.ResponseWriter, _ *http.Request) {
				oktaError(w, tt.status, tt.code, "Api validation failed: label")
			})
			_, err := org.client(t, fastOptions()).GetAuthorizationServer(t.Context(), "default")
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tt.code || apiErr.Status != tt.status {
				t.Fatalf("err = %#v, want APIError %d %s", err, tt.status, tt.code)
			}
		})
	}
}

func TestClient_SendsSSWSTokenAndParsesIssuer(t *testing.T) {
	var auth string
	org := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		writeJSON(w, http.StatusOK, map[string]any{"id": "default", "name": "default",
			"issuer": "https://x.example/oauth2/default", "status": "ACTIVE"})
	})
	s, err := org.client(t, fastOptions()).GetAuthorizationServer(t.Context(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if auth != "SSWS test-token" {
		t.Fatalf("Authorization = %q", auth)
	}
	if s.Issuer != "https://x.example/oauth2/default" || s.Status != StatusActive {
		t.Fatalf("server = %+v", s)
	}
}

func TestTransport_RetriesServerErrorsOnReadsButNotOnCreates(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var n atomic.Int64
			org := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 || r.Method == http.MethodPost {
					oktaError(w, status, "E0000009", http.StatusText(status))
					return
				}
				writeJSON(w, http.StatusOK, map[string]any{"id": "default", "issuer": "i", "status": "ACTIVE"})
			})
			c := org.client(t, fastOptions())
			if _, err := c.GetAuthorizationServer(t.Context(), "default"); err != nil {
				t.Fatalf("GET after one %d: %v", status, err)
			}
			if got := org.hits.Load(); got != 2 {
				t.Fatalf("GET hits = %d, want 2", got)
			}
			// A gateway's 5xx can hide a create Okta completed: a retry could make a second app.
			_, err := c.CreateSAMLApp(t.Context(), SAMLAppSpec{Label: "x"})
			if !errors.Is(err, ErrServer) {
				t.Fatalf("POST err = %v, want ErrServer", err)
			}
			if got := org.hits.Load(); got != 3 {
				t.Fatalf("hits after POST = %d, want 3 (no retry of a create)", got)
			}
		})
	}
}

func TestTransport_WaitsUntilRateLimitResetThenSucceeds(t *testing.T) {
	var n atomic.Int64
	org := newFakeOrg(t, func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("X-Rate-Limit-Limit", "600")
			w.Header().Set("X-Rate-Limit-Remaining", "0")
			w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10))
			oktaError(w, http.StatusTooManyRequests, "E0000047",
				"API call exceeded rate limit due to too many requests.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": "default", "issuer": "i", "status": "ACTIVE"})
	})
	start := time.Now()
	if _, err := org.client(t, fastOptions()).GetAuthorizationServer(t.Context(), "default"); err != nil {
		t.Fatalf("err = %v", err)
	}
	if waited := time.Since(start); waited < 500*time.Millisecond {
		t.Fatalf("answered after %s; it should have waited for the reset", waited)
	}
	if got := org.hits.Load(); got != 2 {
		t.Fatalf("hits = %d, want 2", got)
	}
}

func TestTransport_RateLimitBeyondBoundIsTypedAndHoldsBackLaterCalls(t *testing.T) {
	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	org := newFakeOrg(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Rate-Limit-Limit", "600")
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
		oktaError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
	})
	f := NewFactory(fastOptions())
	c, err := f.New(Credentials{OrgURL: org.srv.URL, APIToken: "a"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAuthorizationServer(t.Context(), "default")
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want *RateLimitError", err)
	}
	if d := rl.Reset.Sub(reset); d < 0 || d > 3*time.Second {
		t.Fatalf("reset = %s, want about %s", rl.Reset, reset)
	}
	// Another client of the same org (other credentials) must not call Okta before the reset.
	other, err := f.New(Credentials{OrgURL: org.srv.URL, APIToken: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.GetAuthorizationServer(t.Context(), "default"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("second client err = %v, want ErrRateLimited", err)
	}
	if got := org.hits.Load(); got != 1 {
		t.Fatalf("hits = %d, want 1", got)
	}
}

func TestTransport_UnreachableOrgIsTyped(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	c, err := New(Credentials{OrgURL: "http://" + addr, APIToken: "x"}, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckCredentials(t.Context())
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
}

func TestTransport_SlowAnswerTimesOutAsUnreachable(t *testing.T) {
	release := make(chan struct{})
	org := newFakeOrg(t, func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	opts := fastOptions()
	opts.CallTimeout = 100 * time.Millisecond
	opts.MaxRetries = -1
	err := org.client(t, opts).CheckCredentials(t.Context())
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("err = %v, want a timeout as ErrUnreachable", err)
	}
}

func TestPolicyRule_SendsZeroRefreshLifetimeAsUnlimited(t *testing.T) {
	var body map[string]any
	org := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&body)
		writeJSON(w, http.StatusOK, body)
	})
	_, err := org.client(t, fastOptions()).CreatePolicyRule(t.Context(), "default", "p1", PolicyRule{
		Name: "r", GrantTypes: []string{GrantAuthorizationCode}, Scopes: []string{"*"}, GroupIDs: []string{"EVERYONE"},
		AccessTokenLifetimeMinutes: 60, RefreshTokenLifetimeMinutes: 0, RefreshTokenWindowMinutes: 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	token := body["actions"].(map[string]any)["token"].(map[string]any)
	v, ok := token["refreshTokenLifetimeMinutes"]
	if !ok || v != float64(0) {
		t.Fatalf("refreshTokenLifetimeMinutes = %v (present %v), want 0", v, ok)
	}
}

func TestProfileMapping_MatchesBothEnds(t *testing.T) {
	org := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/mappings":
			writeJSON(w, http.StatusOK, []map[string]any{
				{"id": "wrong", "source": map[string]any{"id": "app1"}, "target": map[string]any{"id": "oty1"}},
				{"id": "right", "source": map[string]any{"id": "oty1"}, "target": map[string]any{"id": "app1"}},
			})
		case "/api/v1/mappings/right":
			writeJSON(w, http.StatusOK, map[string]any{"id": "right",
				"source": map[string]any{"id": "oty1"},
				"target": map[string]any{"id": "app1"},
				"properties": map[string]any{"badgeId": map[string]any{"expression": "user.employeeNumber",
					"pushStatus": "PUSH"}}})
		default:
			oktaError(w, http.StatusNotFound, "E0000007", "Not found")
		}
	})
	m, err := org.client(t, fastOptions()).FindProfileMapping(t.Context(), "oty1", "app1")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "right" || m.Properties["badgeId"].Expression != "user.employeeNumber" {
		t.Fatalf("mapping = %+v", m)
	}
}

func TestGroupPush_GoesThroughRequestExecutorWithAuth(t *testing.T) {
	var auth, path string
	var body map[string]any
	org := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		auth, path = r.Header.Get("Authorization"), r.URL.Path
		_ = json.NewDecoder(r.Body).Decode(&body)
		writeJSON(w, http.StatusOK, map[string]any{"id": "gpm1", "sourceGroupId": "g1", "targetGroupId": "t1",
			"status": "ACTIVE"})
	})
	m, err := org.client(t, fastOptions()).CreateGroupPushMapping(t.Context(), "app1", "g1")
	if err != nil {
		t.Fatal(err)
	}
	if auth != "SSWS test-token" || path != "/api/v1/apps/app1/group-push/mappings" || body["sourceGroupId"] != "g1" {
		t.Fatalf("auth=%q path=%q body=%v", auth, path, body)
	}
	if m.ID != "gpm1" || m.Status != StatusActive {
		t.Fatalf("mapping = %+v", m)
	}
}

func TestPrivateKeyMode_GetsServiceAppTokenThenUsesBearer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	var tokenCalls atomic.Int64
	var gotScope, gotAuth string
	org := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth2/v1/token" {
			tokenCalls.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			gotScope = r.URL.Query().Get("scope")
			if r.URL.Query().Get("client_assertion") == "" {
				writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client",
					"error_description": "no assertion"})
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3600,
				"access_token": "at-1", "scope": gotScope})
			return
		}
		gotAuth = r.Header.Get("Authorization")
		writeJSON(w, http.StatusOK, []any{})
	})
	c, err := New(Credentials{OrgURL: org.srv.URL, ClientID: "0oasvc", PrivateKey: pemKey, KeyID: "kid1",
		Scopes: []string{"okta.apps.manage"}}, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.CheckCredentials(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if gotAuth != "Bearer at-1" || gotScope != "okta.apps.manage" {
		t.Fatalf("auth=%q scope=%q", gotAuth, gotScope)
	}
	if n := tokenCalls.Load(); n != 1 {
		t.Fatalf("token calls = %d, want 1 (token cached)", n)
	}
}

func TestPrivateKeyMode_RejectedKeyIsInvalidCredentials(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	org := newFakeOrg(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client",
			"error_description": "The client_assertion signature is invalid."})
	})
	c, err := New(Credentials{OrgURL: org.srv.URL, ClientID: "0oasvc", PrivateKey: pemKey, Scopes: DefaultScopes},
		fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckCredentials(t.Context()); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("err = %v, want ErrInvalidCredentials", err)
	}
}

func TestCredentialsFromSecret(t *testing.T) {
	tests := []struct {
		name    string
		orgURL  string
		data    map[string][]byte
		wantErr bool
		mode    string
	}{
		{name: "api token", orgURL: "https://x.okta.com", data: map[string][]byte{"apiToken": []byte("t")},
			mode: "API token"},
		{name: "service app", orgURL: "https://x.okta.com", data: map[string][]byte{"clientID": []byte("c"),
			"privateKey": []byte("k")}, mode: "OAuth service app"},
		{name: "loopback http allowed", orgURL: "http://127.0.0.1:8080",
			data: map[string][]byte{"apiToken": []byte("t")}, mode: "API token"},
		{name: "plain http refused", orgURL: "http://x.okta.com", data: map[string][]byte{"apiToken": []byte("t")},
			wantErr: true},
		{name: "both kinds refused", orgURL: "https://x.okta.com", data: map[string][]byte{"apiToken": []byte("t"),
			"clientID": []byte("c")}, wantErr: true},
		{name: "nothing refused", orgURL: "https://x.okta.com", data: map[string][]byte{}, wantErr: true},
		{name: "client id without key refused", orgURL: "https://x.okta.com",
			data: map[string][]byte{"clientID": []byte("c")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CredentialsFromSecret(tt.orgURL, tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidConfig) || strings.Contains(err.Error(), "\"t\"") {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if c.Mode() != tt.mode {
				t.Fatalf("mode = %q", c.Mode())
			}
		})
	}
}

func TestFactory_ReusesAClientUntilOktaRejectsIt(t *testing.T) {
	var refuse atomic.Bool
	org := newFakeOrg(t, func(w http.ResponseWriter, _ *http.Request) {
		if refuse.Load() {
			oktaError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided")
			return
		}
		writeJSON(w, http.StatusOK, []any{})
	})
	f := NewFactory(fastOptions())
	creds := Credentials{OrgURL: org.srv.URL, APIToken: "test-token"}
	first, err := f.New(creds)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.CheckCredentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	if again, _ := f.New(creds); again != first {
		t.Fatalf("the factory built a second client for the same accepted credentials")
	}
	refuse.Store(true)
	if err := first.CheckCredentials(t.Context()); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("err = %v, want ErrInvalidCredentials", err)
	}
	// A rejected client may hold a revoked service-app access token: the next caller gets a
	// fresh client, which fetches a new token.
	if fresh, _ := f.New(creds); fresh == first {
		t.Fatalf("the factory kept a client that Okta answered 401")
	}
}

func TestFactory_ForgetsClientsUnusedForAnHour(t *testing.T) {
	org := newFakeOrg(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, []any{}) })
	f := NewFactory(fastOptions())
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	build := func(token string) *Client {
		t.Helper()
		c, err := f.New(Credentials{OrgURL: org.srv.URL, APIToken: token})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	old, kept := build("rotated-away"), build("in-use")
	now = now.Add(50 * time.Minute)
	if build("in-use") != kept {
		t.Fatalf("a client used 50 minutes ago was rebuilt")
	}
	now = now.Add(20 * time.Minute) // "rotated-away" last used 70 minutes ago, "in-use" 20.
	build("new")
	if len(f.clients) != 2 {
		t.Fatalf("the factory holds %d clients, want 2 (in-use and new)", len(f.clients))
	}
	if build("in-use") != kept {
		t.Fatalf("a client used 20 minutes ago was rebuilt")
	}
	if build("rotated-away") == old {
		t.Fatalf("a client unused for 70 minutes was kept")
	}
}
