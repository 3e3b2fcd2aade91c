package okta

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	sdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// Options tune every client a Factory builds. Zero values take the defaults.
type Options struct {
	// CallTimeout bounds one HTTP attempt (default 15s).
	CallTimeout time.Duration
	// MaxRateLimitWait is how long one call may wait for a rate-limit reset before it fails
	// with *RateLimitError (default 20s).
	MaxRateLimitWait time.Duration
	// MaxRetries is how often a 5xx or network failure is retried (default 3).
	MaxRetries int
	// RetryBackoff is the first retry's delay, doubled for each further retry (default 500ms).
	RetryBackoff time.Duration
	// MaxConcurrent bounds the requests in flight to one org across all clients (default 8).
	MaxConcurrent int
	// Transport is the base round tripper (default: a clone of http.DefaultTransport).
	Transport http.RoundTripper
}

func (o Options) withDefaults() Options {
	if o.CallTimeout <= 0 {
		o.CallTimeout = 15 * time.Second
	}
	if o.MaxRateLimitWait <= 0 {
		o.MaxRateLimitWait = 20 * time.Second
	}
	if o.MaxRetries < 0 {
		o.MaxRetries = 0
	} else if o.MaxRetries == 0 {
		o.MaxRetries = 3
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 500 * time.Millisecond
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 8
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	return o
}

// Factory builds clients and shares, per org, the rate-limit state and the concurrency bound,
// so that many AgencyProvisioning objects on one org respect one budget. It caches a client
// per set of credentials (a service app's access token lives in its client), rebuilds one
// that Okta answered 401, so that a revoked access token is not used again, and forgets one
// unused for idleClientTTL, so rotated credentials do not pile up.
type Factory struct {
	opts    Options
	now     func() time.Time
	mu      sync.Mutex
	gates   map[string]*orgGate
	clients map[string]*cachedClient
}

// idleClientTTL is how long a Factory keeps a client nobody asked for. Every agency asks for
// its client at each full sync (every 10 minutes by default); a longer resync period only
// costs a new access token.
const idleClientTTL = time.Hour

type cachedClient struct {
	client   *Client
	lastUsed time.Time
}

// NewFactory returns a Factory with opts.
func NewFactory(opts Options) *Factory {
	return &Factory{
		opts:    opts.withDefaults(),
		now:     time.Now,
		gates:   map[string]*orgGate{},
		clients: map[string]*cachedClient{},
	}
}

// NewOrg builds (or reuses) the client for creds, as the Org interface.
func (f *Factory) NewOrg(_ context.Context, creds Credentials) (Org, error) {
	return f.New(creds)
}

// New builds (or reuses) the client for creds.
func (f *Factory) New(creds Credentials) (*Client, error) {
	if err := creds.Validate(); err != nil {
		return nil, err
	}
	key := credentialsKey(creds)
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	for k, e := range f.clients {
		if now.Sub(e.lastUsed) > idleClientTTL {
			delete(f.clients, k)
		}
	}
	// A client Okta refused is rebuilt: a service app's cached access token may have been
	// revoked (the app was deactivated) while its key is still good.
	if e, ok := f.clients[key]; ok && !e.client.transport.rejected.Load() {
		e.lastUsed = now
		return e.client, nil
	}
	u, _ := ParseOrgURL(creds.OrgURL)
	gate, ok := f.gates[u.Host]
	if !ok {
		gate = newOrgGate(f.opts.MaxConcurrent)
		f.gates[u.Host] = gate
	}
	c, err := newClient(creds, f.opts, gate)
	if err != nil {
		return nil, err
	}
	f.clients[key] = &cachedClient{client: c, lastUsed: now}
	return c, nil
}

// credentialsKey identifies a credential set without keeping it readable in memory maps.
func credentialsKey(c Credentials) string {
	h := sha256.New()
	for _, s := range []string{c.OrgURL, c.APIToken, c.ClientID, c.PrivateKey, c.KeyID, strings.Join(c.Scopes, " ")} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Client is the Okta management client for one org and one set of credentials. It implements
// Org and is safe for concurrent use.
type Client struct {
	orgURL    string
	sdk       *sdk.Client
	transport *transport
}

// New builds a client for creds with its own rate-limit state; use a Factory to share it.
func New(creds Credentials, opts Options) (*Client, error) {
	if err := creds.Validate(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	return newClient(creds, o, newOrgGate(o.MaxConcurrent))
}

func newClient(creds Credentials, o Options, gate *orgGate) (*Client, error) {
	u, err := ParseOrgURL(creds.OrgURL)
	if err != nil {
		return nil, err
	}
	tr := &transport{
		next:        o.Transport,
		gate:        gate,
		callTimeout: o.CallTimeout,
		maxWait:     o.MaxRateLimitWait,
		maxRetries:  o.MaxRetries,
		backoff:     o.RetryBackoff,
		now:         time.Now,
		sleep:       sleepContext,
	}
	httpClient := &http.Client{Transport: tr}
	orgURL := u.Scheme + "://" + u.Host
	setters := []sdk.ConfigSetter{
		sdk.WithOrgUrl(orgURL),
		sdk.WithHttpClientPtr(httpClient),
		sdk.WithCache(false),
		sdk.WithRateLimitMaxRetries(0),
		sdk.WithRequestTimeout(0),
		sdk.WithTestingDisableHttpsCheck(u.Scheme == "http"),
		sdk.WithUserAgentExtra("scim-operator"),
	}
	if creds.APIToken != "" {
		setters = append(setters, sdk.WithAuthorizationMode("SSWS"), sdk.WithToken(creds.APIToken))
	} else {
		signer, err := keySigner(creds.PrivateKey, creds.KeyID)
		if err != nil {
			return nil, err
		}
		setters = append(setters,
			sdk.WithAuthorizationMode("PrivateKey"),
			sdk.WithClientId(creds.ClientID),
			sdk.WithScopes(creds.Scopes),
			sdk.WithPrivateKeySigner(signer),
			// The SDK also validates that a private key or signer is present; the signer wins.
			sdk.WithPrivateKeyId(creds.KeyID),
		)
	}
	_, c, err := sdk.NewClient(context.Background(), setters...)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidConfig, redact(err.Error(), creds))
	}
	return &Client{orgURL: orgURL, sdk: c, transport: tr}, nil
}

// keySigner parses a PEM RSA key in PKCS#1 or PKCS#8 form into an RS256 signer carrying kid.
func keySigner(pemKey, keyID string) (jose.Signer, error) {
	block, _ := pem.Decode([]byte(strings.ReplaceAll(pemKey, `\n`, "\n")))
	if block == nil {
		return nil, fmt.Errorf("%w: %s is not a PEM private key", ErrInvalidConfig, SecretKeyPrivateKey)
	}
	var key crypto.Signer
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: parse %s: %w", ErrInvalidConfig, SecretKeyPrivateKey, err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: parse %s: %w", ErrInvalidConfig, SecretKeyPrivateKey, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: %s must be an RSA key", ErrInvalidConfig, SecretKeyPrivateKey)
		}
		key = rk
	default:
		return nil, fmt.Errorf("%w: %s has PEM type %q, want an RSA private key",
			ErrInvalidConfig, SecretKeyPrivateKey, block.Type)
	}
	opts := &jose.SignerOptions{}
	if keyID != "" {
		opts = opts.WithHeader("kid", keyID)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return signer, nil
}

// redact removes credential values from a message that the SDK built.
func redact(msg string, c Credentials) string {
	for _, s := range []string{c.APIToken, c.PrivateKey} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

// OrgURL is the org this client talks to, without a trailing slash.
func (c *Client) OrgURL() string { return c.orgURL }
