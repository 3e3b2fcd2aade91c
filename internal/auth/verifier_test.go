package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// testOrg is an Okta org on 127.0.0.1 that serves key sets and counts how often they are read.
type testOrg struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey // published, by kid
	fetches atomic.Int64
	fail    atomic.Bool
}

func newTestOrg(t testing.TB) *testOrg {
	t.Helper()
	o := &testOrg{keys: map[string]*rsa.PrivateKey{}}
	o.srv = httptest.NewServer(http.HandlerFunc(o.serveKeys))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *testOrg) serveKeys(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/v1/keys") {
		http.NotFound(w, r)
		return
	}
	o.fetches.Add(1)
	if o.fail.Load() {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var out struct {
		Keys []map[string]string `json:"keys"`
	}
	for kid, k := range o.keys {
		out.Keys = append(out.Keys, map[string]string{
			"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
		})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// publish adds a fresh key under kid to the org's key set and returns it.
func (o *testOrg) publish(t testing.TB, kid string) *rsa.PrivateKey {
	t.Helper()
	k := newKey(t)
	o.mu.Lock()
	o.keys[kid] = k
	o.mu.Unlock()
	return k
}

func newKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	return k
}

// mint signs claims with key under kid, RS256 unless method says otherwise.
func mint(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign token: %v", err)
	}
	return s
}

var testNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func goodClaims(iss string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": iss, "aud": "api://default", "cid": "0oa-client", "sub": "okta-admin@example.invalid",
		"iat": testNow.Add(-time.Minute).Unix(), "exp": testNow.Add(time.Hour).Unix(),
	}
}

func with(c jwt.MapClaims, key string, value any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	if value == nil {
		delete(out, key)
	} else {
		out[key] = value
	}
	return out
}

func TestVerify_AcceptsAndRejectsTokensByCause(t *testing.T) {
	org := newTestOrg(t)
	key := org.publish(t, "k1")
	other := newKey(t)
	issuer := org.srv.URL + "/oauth2/default"
	lookalike := strings.Replace(org.srv.URL, "127.0.0.1", "127.0.0.1.example.invalid", 1) + "/oauth2/default"
	otherPort := "http://127.0.0.1:1/oauth2/default"

	tests := []struct {
		name      string
		token     string
		clientIDs []string
		reason    string // empty: accepted
		detail    string
	}{
		{
			name:  "default authorization server token is accepted",
			token: mint(t, jwt.SigningMethodRS256, key, "k1", goodClaims(issuer)),
		},
		{
			name:  "org authorization server token is accepted",
			token: mint(t, jwt.SigningMethodRS256, key, "k1", goodClaims(org.srv.URL)),
		},
		{
			name:  "custom authorization server token is accepted",
			token: mint(t, jwt.SigningMethodRS256, key, "k1", goodClaims(org.srv.URL+"/oauth2/aus1abc")),
		},
		{
			name: "audience list containing the audience is accepted",
			token: mint(
				t,
				jwt.SigningMethodRS256,
				key,
				"k1",
				with(goodClaims(issuer), "aud", []string{"x", "api://default"}),
			),
		},
		{
			name: "expiry within the skew is accepted",
			token: mint(
				t,
				jwt.SigningMethodRS256,
				key,
				"k1",
				with(goodClaims(issuer), "exp", testNow.Add(-10*time.Second).Unix()),
			),
		},
		{
			name:      "listed client is accepted",
			clientIDs: []string{"0oa-client"},
			token:     mint(t, jwt.SigningMethodRS256, key, "k1", goodClaims(issuer)),
		},
		{name: "missing token", token: "", reason: scimconfig.ReasonMissingToken},
		{name: "garbage token", token: "not.a.jwt", reason: scimconfig.ReasonMalformedToken},
		{
			name:   "issuer on a look-alike host",
			token:  mint(t, jwt.SigningMethodRS256, key, "k1", goodClaims(lookalike)),
			reason: scimconfig.ReasonIssuerMismatch,
			detail: lookalike,
		},
		{
			name:   "issuer on another port",
			token:  mint(t, jwt.SigningMethodRS256, key, "k1", goodClaims(otherPort)),
			reason: scimconfig.ReasonIssuerMismatch,
			detail: org.srv.URL,
		},
		{
			name:   "issuer with extra path",
			token:  mint(t, jwt.SigningMethodRS256, key, "k1", goodClaims(issuer+"/x")),
			reason: scimconfig.ReasonIssuerMismatch,
		},
		{
			name: "issuer with https scheme",
			token: mint(
				t,
				jwt.SigningMethodRS256,
				key,
				"k1",
				goodClaims(strings.Replace(issuer, "http:", "https:", 1)),
			),
			reason: scimconfig.ReasonIssuerMismatch,
		},
		{
			name: "issuer with user info",
			token: mint(
				t,
				jwt.SigningMethodRS256,
				key,
				"k1",
				goodClaims(strings.Replace(issuer, "http://", "http://a@", 1)),
			),
			reason: scimconfig.ReasonIssuerMismatch,
		},
		{
			name: "expired token",
			token: mint(
				t,
				jwt.SigningMethodRS256,
				key,
				"k1",
				with(goodClaims(issuer), "exp", testNow.Add(-time.Hour).Unix()),
			),
			reason: scimconfig.ReasonTokenExpired,
		},
		{
			name:   "token without exp",
			token:  mint(t, jwt.SigningMethodRS256, key, "k1", with(goodClaims(issuer), "exp", nil)),
			reason: scimconfig.ReasonMalformedToken,
		},
		{
			name: "token not yet valid",
			token: mint(
				t,
				jwt.SigningMethodRS256,
				key,
				"k1",
				with(goodClaims(issuer), "nbf", testNow.Add(time.Hour).Unix()),
			),
			reason: scimconfig.ReasonTokenNotYetValid,
		},
		{
			name:   "wrong audience",
			token:  mint(t, jwt.SigningMethodRS256, key, "k1", with(goodClaims(issuer), "aud", "api://other")),
			reason: scimconfig.ReasonWrongAudience,
			detail: "api://other",
		},
		{
			name:      "unknown client",
			clientIDs: []string{"0oa-expected"},
			token:     mint(t, jwt.SigningMethodRS256, key, "k1", goodClaims(issuer)),
			reason:    scimconfig.ReasonUnknownClient,
			detail:    "0oa-expected",
		},
		{
			name:   "signature by another key under a known kid",
			token:  mint(t, jwt.SigningMethodRS256, other, "k1", goodClaims(issuer)),
			reason: scimconfig.ReasonInvalidSignature,
		},
		{
			name:   "HMAC token",
			token:  mint(t, jwt.SigningMethodHS256, []byte("secret"), "k1", goodClaims(issuer)),
			reason: scimconfig.ReasonInvalidSignature,
		},
		{
			name:   "unsigned token",
			token:  mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "k1", goodClaims(issuer)),
			reason: scimconfig.ReasonInvalidSignature,
		},
		{
			name:   "token without kid",
			token:  mint(t, jwt.SigningMethodRS256, key, "", goodClaims(issuer)),
			reason: scimconfig.ReasonMalformedToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(org.srv.URL, WithClock(func() time.Time { return testNow }),
				WithClientIDs(tt.clientIDs...), WithHTTPClient(org.srv.Client()))
			if err != nil {
				t.Fatalf("NewVerifier: %v", err)
			}
			claims, err := v.Verify(t.Context(), tt.token)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify rejected a good token: %v", err)
				}
				if claims.ClientID != "0oa-client" {
					t.Errorf("client id = %q, want 0oa-client", claims.ClientID)
				}
				return
			}
			var rej *Error
			if !errors.As(err, &rej) {
				t.Fatalf("Verify error = %v, want an *Error with reason %s", err, tt.reason)
			}
			if rej.Reason != tt.reason {
				t.Errorf("reason = %s (%s), want %s", rej.Reason, rej.Message, tt.reason)
			}
			if !errors.Is(err, ErrRejected) {
				t.Errorf("error does not wrap ErrRejected")
			}
			if tt.detail != "" && !strings.Contains(rej.Message, tt.detail) {
				t.Errorf("message %q does not name %q", rej.Message, tt.detail)
			}
			if strings.Contains(rej.Message, tt.token) && tt.token != "" {
				t.Errorf("message echoes the token")
			}
		})
	}
}

func TestVerify_IssuerMismatchNamesExpectedAndSeenAndFetchesNoKeys(t *testing.T) {
	org := newTestOrg(t)
	key := org.publish(t, "k1")
	attacker := newTestOrg(t)
	attacker.publish(t, "k1")
	v, err := NewVerifier(org.srv.URL, WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	seen := attacker.srv.URL + "/oauth2/default"
	_, err = v.Verify(t.Context(), mint(t, jwt.SigningMethodRS256, key, "k1", goodClaims(seen)))
	var rej *Error
	if !errors.As(err, &rej) || rej.Reason != scimconfig.ReasonIssuerMismatch {
		t.Fatalf("error = %v, want IssuerMismatch", err)
	}
	if rej.Expected != org.srv.URL || rej.Seen != seen {
		t.Errorf("expected/seen = %q/%q, want %q/%q", rej.Expected, rej.Seen, org.srv.URL, seen)
	}
	if n := attacker.fetches.Load() + org.fetches.Load(); n != 0 {
		t.Errorf("key sets fetched %d times for a rejected issuer, want 0", n)
	}
}

func TestVerify_UnknownKidRefreshesKeysAtABoundedRate(t *testing.T) {
	org := newTestOrg(t)
	k1 := org.publish(t, "k1")
	issuer := org.srv.URL + "/oauth2/default"
	now := testNow
	v, err := NewVerifier(org.srv.URL, WithClock(func() time.Time { return now }),
		WithKeyRefreshInterval(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), mint(t, jwt.SigningMethodRS256, k1, "k1", goodClaims(issuer))); err != nil {
		t.Fatalf("first token: %v", err)
	}
	// The org rotates: k2 appears. Right after the first fetch, an unknown kid causes no fetch.
	k2 := org.publish(t, "k2")
	rotated := mint(t, jwt.SigningMethodRS256, k2, "k2", goodClaims(issuer))
	for range 5 {
		_, err = v.Verify(t.Context(), rotated)
		var rej *Error
		if !errors.As(err, &rej) || rej.Reason != scimconfig.ReasonInvalidSignature {
			t.Fatalf("unknown kid inside the refresh interval: %v, want InvalidSignature", err)
		}
	}
	if n := org.fetches.Load(); n != 1 {
		t.Fatalf("key set fetched %d times, want 1 (refresh bounded by interval)", n)
	}
	now = now.Add(2 * time.Minute)
	if _, err := v.Verify(t.Context(), rotated); err != nil {
		t.Fatalf("rotated key after the refresh interval: %v", err)
	}
	if n := org.fetches.Load(); n != 2 {
		t.Errorf("key set fetched %d times, want 2", n)
	}
	// Known keys are served from the cache.
	if _, err := v.Verify(t.Context(), mint(t, jwt.SigningMethodRS256, k1, "k1", goodClaims(issuer))); err != nil {
		t.Fatalf("k1 after rotation: %v", err)
	}
	if n := org.fetches.Load(); n != 2 {
		t.Errorf("key set fetched %d times for cached keys, want 2", n)
	}
}

func TestVerify_KeysUnavailableWhenTheOrgFails(t *testing.T) {
	org := newTestOrg(t)
	key := org.publish(t, "k1")
	org.fail.Store(true)
	v, err := NewVerifier(org.srv.URL, WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(
		t.Context(),
		mint(t, jwt.SigningMethodRS256, key, "k1", goodClaims(org.srv.URL+"/oauth2/default")),
	)
	var rej *Error
	if !errors.As(err, &rej) || rej.Reason != scimconfig.ReasonKeysUnavailable {
		t.Fatalf("error = %v, want KeysUnavailable", err)
	}
}

func TestNewVerifier_RefusesPlainHTTPOffLoopback(t *testing.T) {
	orgs := []string{"http://examplepd.okta.com", "ftp://127.0.0.1", "https://examplepd.okta.com/path", ""}
	for _, org := range orgs {
		if _, err := NewVerifier(org); err == nil {
			t.Errorf("NewVerifier(%q) accepted it", org)
		}
	}
}
