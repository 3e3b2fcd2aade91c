package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// Defaults of a Verifier.
const (
	// DefaultLeeway is the clock skew allowed on exp and nbf.
	DefaultLeeway = 30 * time.Second
	// DefaultKeyRefreshInterval is the shortest time between two key fetches for one issuer.
	DefaultKeyRefreshInterval = 30 * time.Second
	// DefaultKeyMaxAge is how long fetched keys are used before they are fetched again.
	DefaultKeyMaxAge = time.Hour
	// maxIssuers bounds how many authorization servers of the org have cached key sets.
	maxIssuers = 16
	// maxSeen bounds how much of a token-supplied value is echoed in a rejection.
	maxSeen = 200
)

// serverIDPattern is what an Okta authorization server id looks like ("default", "aus...").
var serverIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Claims are the facts of an accepted token that the server keeps: no subject, no user data.
type Claims struct {
	// Issuer is the token's iss claim, one of the org's authorization servers.
	Issuer string
	// ClientID is the token's cid claim: the OIDC app that obtained the token.
	ClientID string
}

// Verifier checks bearer tokens against one Okta org. It is safe for concurrent use.
type Verifier struct {
	org       *url.URL
	orgString string
	audience  string
	clientIDs []string
	leeway    time.Duration
	now       func() time.Time
	keys      *keyCache
	cache     *tokenCache
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithAudience sets the accepted aud claim (scimconfig.DefaultAudience when not set).
func WithAudience(aud string) Option {
	return func(v *Verifier) {
		if aud != "" {
			v.audience = aud
		}
	}
}

// WithClientIDs restricts accepted tokens to these cid claims; none accepts any client.
func WithClientIDs(ids ...string) Option {
	return func(v *Verifier) { v.clientIDs = slices.Clone(ids) }
}

// WithLeeway sets the clock skew allowed on exp and nbf.
func WithLeeway(d time.Duration) Option {
	return func(v *Verifier) { v.leeway = d }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) {
		v.now = now
		v.keys.now = now
	}
}

// WithHTTPClient sets the client used to fetch keys. Redirects are refused whatever the
// client's own policy, so keys only ever come from the org's host.
func WithHTTPClient(c *http.Client) Option {
	return func(v *Verifier) {
		clone := *c
		clone.CheckRedirect = refuseRedirect
		v.keys.client = &clone
	}
}

// WithCacheSize sets how many accepted tokens are remembered (0 turns the cache off). A
// remembered token is accepted until it expires, even if its key leaves the key set.
func WithCacheSize(n int) Option {
	return func(v *Verifier) { v.cache.size = n }
}

// WithKeyRefreshInterval sets the shortest time between two key fetches for one issuer,
// which bounds the fetches tokens with unknown key ids can cause.
func WithKeyRefreshInterval(d time.Duration) Option {
	return func(v *Verifier) { v.keys.minInterval = d }
}

// NewVerifier returns a Verifier for the Okta org at orgURL, which must be https, or http on
// a loopback host.
func NewVerifier(orgURL string, opts ...Option) (*Verifier, error) {
	org, err := scimconfig.ParseOrgURL(orgURL)
	if err != nil {
		return nil, fmt.Errorf("okta org URL: %w", err)
	}
	v := &Verifier{
		org:       org,
		orgString: org.String(),
		audience:  scimconfig.DefaultAudience,
		leeway:    DefaultLeeway,
		now:       time.Now,
		keys:      newKeyCache(),
		cache:     &tokenCache{size: DefaultCacheSize},
	}
	for _, opt := range opts {
		opt(v)
	}
	return v, nil
}

// tokenClaims are the claims read from an Okta access token.
type tokenClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"cid"`
}

// Verify checks a raw bearer token and returns its claims. Every failure is an *Error.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if raw == "" {
		return nil, reject(scimconfig.ReasonMissingToken, "no bearer token in the Authorization header")
	}
	if c, ok := v.cache.get(raw, v.now(), v.leeway); ok {
		return c, nil
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithoutClaimsValidation())
	var unverified tokenClaims
	tok, _, err := parser.ParseUnverified(raw, &unverified)
	if err != nil {
		e := reject(scimconfig.ReasonMalformedToken, "bearer token is not a well-formed JWT")
		e.Err = err
		return nil, e
	}
	if alg := tok.Method.Alg(); alg != jwt.SigningMethodRS256.Alg() {
		return nil, reject(scimconfig.ReasonInvalidSignature, "token is signed with %s; only RS256 is accepted",
			clip(alg))
	}
	issuer, rerr := v.checkIssuer(unverified.Issuer)
	if rerr != nil {
		return nil, rerr
	}
	kid, _ := tok.Header["kid"].(string)
	if kid == "" {
		return nil, reject(scimconfig.ReasonMalformedToken, "token header has no kid")
	}
	key, err := v.keys.key(ctx, issuer, jwksURL(v.orgString, issuer), kid)
	if err != nil {
		return nil, err
	}
	var claims tokenClaims
	if _, err := parser.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
		e := reject(scimconfig.ReasonInvalidSignature, "token signature does not verify with key %q of %s",
			clip(kid), issuer)
		e.Err = err
		return nil, e
	}
	if rerr := v.checkClaims(&claims); rerr != nil {
		return nil, rerr
	}
	accepted := Claims{Issuer: issuer, ClientID: claims.ClientID}
	entry := cachedToken{claims: accepted, expires: claims.ExpiresAt.Time}
	if claims.NotBefore != nil {
		entry.notBefore = claims.NotBefore.Time
	}
	v.cache.put(raw, entry)
	return &accepted, nil
}

// checkIssuer accepts the org URL itself or {orgURL}/oauth2/{serverId}, same scheme and host.
func (v *Verifier) checkIssuer(iss string) (string, *Error) {
	mismatch := func() (string, *Error) {
		e := reject(scimconfig.ReasonIssuerMismatch,
			"token issuer %q is not the Okta org %s or one of its authorization servers (%s/oauth2/{serverId})",
			clip(iss), v.orgString, v.orgString)
		e.Expected = v.orgString
		e.Seen = clip(iss)
		return "", e
	}
	if iss == v.orgString {
		return iss, nil
	}
	rest, ok := strings.CutPrefix(iss, v.orgString+"/oauth2/")
	if !ok || !serverIDPattern.MatchString(rest) {
		return mismatch()
	}
	// The prefix match is on the canonical org string, so the scheme and host are the org's;
	// parse anyway to refuse anything a URL parser would read differently.
	u, err := url.Parse(iss)
	if err != nil || u.Host != v.org.Host || u.Scheme != v.org.Scheme || u.User != nil {
		return mismatch()
	}
	return iss, nil
}

func (v *Verifier) checkClaims(c *tokenClaims) *Error {
	now := v.now()
	if c.ExpiresAt == nil {
		return reject(scimconfig.ReasonMalformedToken, "token has no exp claim")
	}
	if now.After(c.ExpiresAt.Add(v.leeway)) {
		return reject(scimconfig.ReasonTokenExpired, "token expired at %s (server time %s, allowed skew %s)",
			c.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.leeway)
	}
	if c.NotBefore != nil && now.Add(v.leeway).Before(c.NotBefore.Time) {
		return reject(
			scimconfig.ReasonTokenNotYetValid,
			"token is not valid before %s (server time %s, allowed skew %s)",
			c.NotBefore.UTC().Format(time.RFC3339),
			now.UTC().Format(time.RFC3339),
			v.leeway,
		)
	}
	if !slices.Contains(c.Audience, v.audience) {
		seen := clip(strings.Join(c.Audience, ","))
		e := reject(scimconfig.ReasonWrongAudience, "token audience %q is not the expected %q", seen, v.audience)
		e.Expected, e.Seen = v.audience, seen
		return e
	}
	if len(v.clientIDs) > 0 && !slices.Contains(v.clientIDs, c.ClientID) {
		expected := strings.Join(v.clientIDs, ",")
		e := reject(scimconfig.ReasonUnknownClient, "token client id (cid) %q is not one of the accepted %q",
			clip(c.ClientID), expected)
		e.Expected, e.Seen = expected, clip(c.ClientID)
		return e
	}
	return nil
}

// jwksURL is where Okta publishes an authorization server's keys: /oauth2/v1/keys for the org
// authorization server, {issuer}/v1/keys for a custom one. It is derived from the accepted
// issuer, never read from the token or a document.
func jwksURL(org, issuer string) string {
	if issuer == org {
		return org + "/oauth2/v1/keys"
	}
	return issuer + "/v1/keys"
}

func refuseRedirect(*http.Request, []*http.Request) error {
	return errors.New("key fetch redirects are not followed")
}

// clip bounds a token-supplied value before it is echoed in a message or a report.
func clip(s string) string {
	if len(s) <= maxSeen {
		return strings.ToValidUTF8(s, "?")
	}
	return strings.ToValidUTF8(s[:maxSeen], "?") + "..."
}
