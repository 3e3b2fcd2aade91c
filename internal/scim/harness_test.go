package scim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/provisioning-dev/scim-operator/internal/auth"
	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// postgresURLEnv is the variable hack/postgres.sh sets; with it the tests also run against
// PostgreSQL.
const postgresURLEnv = "SCIM_TEST_POSTGRES_URL"

const testAgency = "e1e19bb4-ecab-4ffa-b60d-3fd152d50892"

// testOrg is an Okta org on 127.0.0.1 that publishes one RSA key and mints tokens with it.
type testOrg struct {
	srv *httptest.Server
	mu  sync.Mutex
	key *rsa.PrivateKey
	kid string
}

var (
	sharedKeyOnce sync.Once
	sharedKey     *rsa.PrivateKey
)

func newTestOrg(t testing.TB) *testOrg {
	t.Helper()
	sharedKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		sharedKey = k
	})
	o := &testOrg{key: sharedKey, kid: "k1"}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/v1/keys") {
			http.NotFound(w, r)
			return
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": o.kid, "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(o.key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(o.key.E)).Bytes()),
		}}})
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *testOrg) issuer() string { return o.srv.URL + "/oauth2/default" }

// token mints an access token like Okta's; edit changes claims before signing.
func (o *testOrg) token(t testing.TB, edit func(jwt.MapClaims)) string {
	t.Helper()
	now := time.Now()
	claims := jwt.MapClaims{"ver": 1, "jti": "AT.test", "iss": o.issuer(), "aud": "api://default",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "cid": "0oa-scim-client", "uid": "00u-admin",
		"scp": []string{"openid"}, "sub": "admin@agency.example"}
	if edit != nil {
		edit(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = o.kid
	s, err := tok.SignedString(o.key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// backends are the stores the handler tests run against: SQLite always, PostgreSQL when
// SCIM_TEST_POSTGRES_URL is set.
func backends(t testing.TB) []string {
	t.Helper()
	bs := []string{"sqlite"}
	if os.Getenv(postgresURLEnv) != "" {
		bs = append(bs, "postgres")
	}
	return bs
}

func openStore(t testing.TB, backend string, cfg *scimconfig.Config) directory.Store {
	t.Helper()
	ctx := context.Background()
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "scim.db")
	var cleanup func()
	if backend == "postgres" {
		dbURL, cleanup = createPostgresDB(t)
	}
	st, err := directory.Open(ctx, dbURL, directory.RulesFromConfig(cfg))
	if err != nil {
		t.Fatalf("open %s store: %v", backend, err)
	}
	t.Cleanup(func() {
		_ = st.Close()
		if cleanup != nil {
			cleanup()
		}
	})
	return st
}

var pgSeq struct {
	sync.Mutex
	n int
}

func createPostgresDB(t testing.TB) (string, func()) {
	t.Helper()
	base := os.Getenv(postgresURLEnv)
	pgSeq.Lock()
	pgSeq.n++
	name := fmt.Sprintf("scim_http_%d_%d", os.Getpid(), pgSeq.n)
	pgSeq.Unlock()
	admin, err := openSQL("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", postgresURLEnv, err)
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		_ = admin.Close()
	}
}

func testConfig(org string, mode string) *scimconfig.Config {
	c := &scimconfig.Config{
		AgencyID: testAgency, OktaOrgURL: org, SyncMode: mode, Database: "sqlite:///unused.db",
		Ranks: []string{
			"Officer",
			"Corporal",
			"Sergeant",
			"Lieutenant",
			"Captain",
		}, Roles: []string{"User", "Supervisor", "Admin"},
		EvidenceGroups: []string{"Evidence-North", "Evidence-South"}, UserGroups: []string{"Patrol-A", "Patrol-B"},
		CommandHierarchy: []string{"Patrol Division"},
	}
	c.Default()
	return c
}

// harness is a SCIM server on 127.0.0.1 over a real store, with an org that signs its tokens.
type harness struct {
	t       testing.TB
	org     *testOrg
	srv     *httptest.Server
	store   directory.Store
	monitor *Monitor
	token   string
	base    string
}

func newHarness(t testing.TB, backend, mode string) *harness {
	t.Helper()
	org := newTestOrg(t)
	cfg := testConfig(org.srv.URL, mode)
	st := openStore(t, backend, cfg)
	verifier, err := auth.NewVerifier(org.srv.URL, auth.WithHTTPClient(org.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	mon, err := NewMonitor(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, st, verifier, WithMonitor(mon), WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &harness{t: t, org: org, srv: srv, store: st, monitor: mon, token: org.token(t, nil),
		base: BasePath(testAgency)}
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// do sends a request under the agency's base path (paths starting with "/api" are sent as
// they are). headers are name, value pairs.
func (h *harness) do(method, path, body string, headers ...string) response {
	h.t.Helper()
	if !strings.HasPrefix(path, "/api") {
		path = h.base + path
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("read body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// createUser posts an Okta-shaped user and returns its id.
func (h *harness) createUser(n int, edit func(map[string]any)) string {
	h.t.Helper()
	u := oktaUser(n)
	if edit != nil {
		edit(u)
	}
	b, _ := json.Marshal(u)
	r := h.do(http.MethodPost, "/Users", string(b))
	if r.status != http.StatusCreated {
		h.t.Fatalf("create user %d: %d %s", n, r.status, r.body)
	}
	return r.json(h.t)["id"].(string)
}

// oktaUser is the body Okta posts for a new user of a custom SAML app.
func oktaUser(n int) map[string]any {
	return map[string]any{
		"schemas":  []string{SchemaUser, scimconfig.DefaultExtensionSchema},
		"userName": fmt.Sprintf("officer%d@agency.example", n),
		"name":     map[string]any{"givenName": fmt.Sprintf("Given%d", n), "familyName": fmt.Sprintf("Family%d", n)},
		"emails": []map[string]any{{"primary": true, "value": fmt.Sprintf("officer%d@agency.example", n),
			"type": "work"}},
		"displayName": fmt.Sprintf("Given%d Family%d", n, n), "locale": "en-US",
		"externalId": fmt.Sprintf("00u%06dOKTA", n), "password": "Thr0waway!", "active": true,
		"groups":                          []any{},
		scimconfig.DefaultExtensionSchema: map[string]any{"badgeId": fmt.Sprintf("B%05d", n), "rankName": "Officer"},
	}
}

// newServerFor builds another server over the harness's store and org with cfg.
func newServerFor(t testing.TB, h *harness, cfg *scimconfig.Config) *httptest.Server {
	t.Helper()
	v, err := auth.NewVerifier(
		cfg.OktaOrgURL,
		auth.WithHTTPClient(h.org.srv.Client()),
		auth.WithClientIDs(cfg.ClientIDs...),
	)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, h.store, v, WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// doWith lists users on srv with token.
func doWith(t testing.TB, srv *httptest.Server, token string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(
		context.Background(),
		http.MethodGet,
		srv.URL+BasePath(testAgency)+"/Users",
		nil,
	)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func mustVerifier(t testing.TB, h *harness) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(h.org.srv.URL, auth.WithHTTPClient(h.org.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
