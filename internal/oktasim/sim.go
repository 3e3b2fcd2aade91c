package oktasim

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sim is one simulated Okta org: its data, its authorization servers and its provisioning
// engine. Create it with New, serve it with Listen (or mount Handler yourself and call
// SetURL), and stop it with Close.
type Sim struct {
	mu  sync.Mutex
	log *slog.Logger

	url      atomic.Pointer[string]
	apiToken string
	// tokens are the SSWS API tokens not revoked, by id; apiToken is the first of them.
	tokens map[string]*apiToken
	// revokedJTIs are the ids of org access tokens invalidated before they expired.
	revokedJTIs map[string]bool
	orgName     string
	now         func() time.Time

	// settle is how long a new app-profile property stays invisible to profile mapping
	// validation after the schema write, like Okta's eventual consistency.
	settle     time.Duration
	limits     rateLimits
	faults     faultSet
	users      map[string]*user
	groups     map[string]*group
	apps       map[string]*app
	userType   string
	userCustom *schemaProps
	servers    map[string]*authServer
	orgKeys    *keySet
	mappings   map[string]*profileMapping
	codes      map[string]*authCode
	refresh    map[string]*refreshGrant
	order      int64

	engine *engine

	server   *http.Server
	listener net.Listener
	handler  http.Handler
}

// Option configures a Sim.
type Option func(*Sim)

// WithAPIToken sets the first SSWS API token; without it a random token is made.
func WithAPIToken(token string) Option {
	return func(s *Sim) { s.apiToken = token }
}

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(s *Sim) { s.log = l }
}

// WithOrgName sets the org's subdomain-like name, used in the names Okta assigns to apps.
func WithOrgName(name string) Option {
	return func(s *Sim) { s.orgName = name }
}

// WithRateLimit sets how many requests each rate-limit bucket admits per window (default 600;
// the window is one minute unless WithRateLimitWindow changes it).
func WithRateLimit(perWindow int) Option {
	return func(s *Sim) { s.limits.perWindow = perWindow }
}

// WithRateLimitWindow sets the length of a rate-limit window (default one minute, as Okta's;
// whole seconds, because X-Rate-Limit-Reset is in epoch seconds). Tests use a few seconds so
// that running out of budget costs seconds, not minutes.
func WithRateLimitWindow(d time.Duration) Option {
	return func(s *Sim) { s.limits.window = d.Round(time.Second) }
}

// WithSchemaSettle makes a property added to an app user schema unknown to profile mapping
// updates for d after the write, as Okta is eventually consistent after schema writes. The
// default is 0 (visible at once).
func WithSchemaSettle(d time.Duration) Option {
	return func(s *Sim) { s.settle = d }
}

// WithClock replaces time.Now, for tests of token lifetimes.
func WithClock(now func() time.Time) Option {
	return func(s *Sim) { s.now = now }
}

// New builds an org with its default authorization server, default user type and an
// initial set of signing keys.
func New(opts ...Option) (*Sim, error) {
	s := &Sim{
		log:        slog.New(slog.DiscardHandler),
		orgName:    "oktasim",
		now:        time.Now,
		users:      map[string]*user{},
		groups:     map[string]*group{},
		apps:       map[string]*app{},
		servers:    map[string]*authServer{},
		mappings:   map[string]*profileMapping{},
		codes:      map[string]*authCode{},
		refresh:    map[string]*refreshGrant{},
		userType:   newID("oty"),
		userCustom: newSchemaProps(),
	}
	s.limits.perWindow = 600
	s.limits.window = time.Minute
	for _, o := range opts {
		o(s)
	}
	if s.apiToken == "" {
		s.apiToken = "00" + randomToken(40)
	}
	s.tokens, s.revokedJTIs = map[string]*apiToken{}, map[string]bool{}
	s.addAPIToken("default", s.apiToken)
	s.limits.buckets = map[string]*bucket{}
	if s.limits.window < time.Second {
		s.limits.window = time.Second
	}
	var err error
	if s.orgKeys, err = newKeySet(); err != nil {
		return nil, fmt.Errorf("make org signing keys: %w", err)
	}
	def, err := s.newDefaultAuthServer()
	if err != nil {
		return nil, err
	}
	s.servers[def.ID] = def
	s.engine = newEngine(s)
	s.handler = s.routes()
	return s, nil
}

// Listen serves the org on addr (for example 127.0.0.1:0) until Close.
func (s *Sim) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.mu.Lock()
	s.listener = ln
	s.setURL("http://" + ln.Addr().String())
	s.server = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
	}
	srv := s.server
	s.mu.Unlock()
	s.engine.start()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("Serve failed", "error", err)
		}
	}()
	return nil
}

// SetURL sets the org URL when the caller serves Handler itself, and starts the engine.
func (s *Sim) SetURL(url string) {
	s.setURL(strings.TrimRight(url, "/"))
	s.engine.start()
}

// Close stops the server and the provisioning engine.
func (s *Sim) Close() error {
	s.engine.stop()
	s.mu.Lock()
	srv := s.server
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// Handler returns the org's HTTP handler.
func (s *Sim) Handler() http.Handler { return s.handler }

// URL returns the org URL, for example http://127.0.0.1:41234.
func (s *Sim) URL() string {
	if u := s.url.Load(); u != nil {
		return *u
	}
	return ""
}

func (s *Sim) setURL(u string) { s.url.Store(&u) }

// APIToken returns the org's first SSWS API token (a super admin's), also after
// RevokeAPIToken revoked it.
func (s *Sim) APIToken() string { return s.apiToken }

// DefaultUserTypeID returns the id of the default user type (the source of the Okta user to
// app profile mapping).
func (s *Sim) DefaultUserTypeID() string { return s.userType }

// nextOrder gives objects a stable creation order for pagination. Callers hold s.mu.
func (s *Sim) nextOrder() int64 {
	s.order++
	return s.order
}

// signingKey is a private key with its key id.
type signingKey struct {
	kid     string
	private *rsa.PrivateKey
	created time.Time
}
