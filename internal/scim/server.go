package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/auth"
	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/filter"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// Limits of the API.
const (
	// MaxBodyBytes caps every request body; larger bodies get 413.
	MaxBodyBytes = 1 << 20
	// MaxResults is the largest page a list or search returns (filter.maxResults).
	MaxResults = 1000
	// DefaultCount is the page size when the client names none.
	DefaultCount = 100
	// DefaultRequestTimeout bounds a request's work, store included, so that a database that
	// stops answering gets the client a SCIM error before the HTTP server's write timeout
	// (30 s in cmd/scim-server) closes the connection without one.
	DefaultRequestTimeout = 25 * time.Second
)

// Authenticator verifies a bearer token; *auth.Verifier is one. Rejections are *auth.Error.
type Authenticator interface {
	Verify(ctx context.Context, token string) (*auth.Claims, error)
}

// Server serves one agency's SCIM API. Build it with New; its Handler is safe for concurrent
// use.
type Server struct {
	agencyID string
	basePath string
	groups   bool
	extURN   string
	extKey   []byte // extURN as a JSON string
	store    directory.Store
	authn    Authenticator
	monitor  *Monitor
	logger   *slog.Logger
	users    *schemaSet
	groupSet *schemaSet
	opts     []filter.Option
	timeout  time.Duration
	// userMethods and groupMethods route /Users and /Groups by method.
	userMethods  *resourceMethods
	groupMethods *resourceMethods
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the request logger; slog.Default when unset.
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) { s.logger = l }
}

// WithMonitor sets the Monitor that counts requests and rejections; none when unset.
func WithMonitor(m *Monitor) Option {
	return func(s *Server) { s.monitor = m }
}

// WithRequestTimeout bounds each request's work; DefaultRequestTimeout when unset or not
// positive.
func WithRequestTimeout(d time.Duration) Option {
	return func(s *Server) { s.timeout = d }
}

// BasePath is the path under which an agency's SCIM API is served.
func BasePath(agencyID string) string {
	return "/api/v2/agencies/" + agencyID + "/scim"
}

// CheckExtensionSchema refuses an agency extension URN that is one of the schemas the server
// defines itself (core User or Group, enterprise User), compared case-insensitively as paths
// are: the extension would shadow that schema, so badgeId could never be sent.
func CheckExtensionSchema(urn string) error {
	for _, own := range []string{SchemaUser, SchemaGroup, SchemaEnterprise} {
		if strings.EqualFold(urn, own) {
			return fmt.Errorf("extensionSchema: must differ from the server's own schema %s", own)
		}
	}
	return nil
}

// New returns the SCIM server for the agency in cfg, which must be validated and defaulted.
func New(cfg *scimconfig.Config, store directory.Store, authn Authenticator, opts ...Option) (*Server, error) {
	if cfg == nil || store == nil || authn == nil {
		return nil, errors.New("scim: config, store and authenticator are required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scim: %w", err)
	}
	if err := CheckExtensionSchema(cfg.ExtensionSchema); err != nil {
		return nil, fmt.Errorf("scim: %w", err)
	}
	extKey, err := json.Marshal(cfg.ExtensionSchema)
	if err != nil {
		return nil, fmt.Errorf("scim: extension schema: %w", err)
	}
	s := &Server{
		agencyID: cfg.AgencyID,
		basePath: BasePath(cfg.AgencyID),
		groups:   cfg.SyncMode == scimconfig.SyncModeUsersAndGroups,
		extURN:   cfg.ExtensionSchema,
		extKey:   extKey,
		store:    store,
		authn:    authn,
		logger:   slog.Default(),
		opts:     []filter.Option{filter.Prepared(filter.WithSchemas(cfg.ExtensionSchema))},
	}
	for _, opt := range opts {
		opt(s)
	}
	if s.timeout <= 0 {
		s.timeout = DefaultRequestTimeout
	}
	s.users = &schemaSet{
		core:       userSchema(),
		extensions: []schema{enterpriseSchema(), extensionSchema(s.extURN)},
		opts:       s.opts,
	}
	s.groupSet = &schemaSet{core: groupSchema(), opts: s.opts}
	s.userMethods = &resourceMethods{list: s.listUsers, create: s.createUser,
		get: s.getUser, replace: s.replaceUser, patch: s.patchUser, rm: s.deleteUser}
	s.groupMethods = &resourceMethods{list: s.listGroups, create: s.createGroup,
		get: s.getGroup, replace: s.replaceGroup, patch: s.patchGroup, rm: s.deleteGroup}
	return s, nil
}

// Handler returns the SCIM API: every path is authenticated, then routed.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serve)
}

// route is a parsed request path below the base path.
type route struct {
	resource string // Users, Groups, ServiceProviderConfig, ResourceTypes, Schemas, search
	id       string
	search   bool
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	rt, routed := s.parseRoute(r.URL.Path)
	defer s.finish(rec, r, rt)()
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	r = r.WithContext(ctx)
	claims, err := s.authenticate(r)
	if err != nil {
		writeError(rec, err)
		return
	}
	rec.claims = claims
	if !routed {
		writeError(rec, newError(http.StatusNotFound, "", "no SCIM endpoint at this path"))
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(rec, r.Body, MaxBodyBytes)
	}
	s.dispatch(rec, r, rt)
}

func (s *Server) parseRoute(path string) (route, bool) {
	rest, ok := strings.CutPrefix(path, s.basePath)
	if !ok || (rest != "" && rest[0] != '/') {
		return route{resource: "unknown"}, false
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == ".search":
		return route{resource: "Users", search: true}, true
	case len(parts) == 0 || parts[0] == "":
		return route{resource: "unknown"}, false
	case len(parts) > 2:
		return route{resource: "unknown"}, false
	}
	rt := route{resource: parts[0]}
	switch rt.resource {
	case "Users", "Groups", "ServiceProviderConfig", "ResourceTypes", "Schemas":
	default:
		return route{resource: "unknown"}, false
	}
	if len(parts) == 2 {
		discovery := rt.resource != "Users" && rt.resource != "Groups"
		switch {
		case rt.resource == "ServiceProviderConfig", discovery && parts[1] == ".search":
			// One configuration, no search: /ServiceProviderConfig/x and /Schemas/.search name nothing.
			return route{resource: "unknown"}, false
		case parts[1] == ".search":
			rt.search = true
		default:
			rt.id = parts[1]
		}
	}
	return rt, true
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, rt route) {
	if rt.resource == "Groups" && !s.groups {
		writeError(w, newError(http.StatusForbidden, "", "this agency syncs users only; /Groups is not served"))
		return
	}
	m := r.Method
	switch {
	case rt.search && m == http.MethodPost && rt.resource == "Groups":
		s.searchGroups(w, r)
	case rt.search && m == http.MethodPost:
		s.searchUsers(w, r)
	case rt.search:
		notAllowed(w, r, http.MethodPost)
	case rt.resource == "ServiceProviderConfig" && m == http.MethodGet:
		s.serviceProviderConfig(w, r)
	case rt.resource == "ResourceTypes" && m == http.MethodGet:
		s.resourceTypes(w, r, rt.id)
	case rt.resource == "Schemas" && m == http.MethodGet:
		s.schemas(w, r, rt.id)
	case rt.resource == "ServiceProviderConfig" || rt.resource == "ResourceTypes" || rt.resource == "Schemas":
		notAllowed(w, r, http.MethodGet)
	case rt.resource == "Users":
		s.dispatchResource(w, r, rt.id, s.userMethods)
	default:
		s.dispatchResource(w, r, rt.id, s.groupMethods)
	}
}

// resourceMethods are the handlers of a resource type's endpoints.
type resourceMethods struct {
	list, create            http.HandlerFunc
	get, replace, patch, rm func(w http.ResponseWriter, r *http.Request, id string)
}

// dispatchResource routes a request for /Users or /Groups (id empty) or one of its resources.
func (s *Server) dispatchResource(w http.ResponseWriter, r *http.Request, id string, h *resourceMethods) {
	if id == "" {
		switch r.Method {
		case http.MethodGet:
			h.list(w, r)
		case http.MethodPost:
			h.create(w, r)
		default:
			notAllowed(w, r, http.MethodGet, http.MethodPost)
		}
		return
	}
	switch r.Method {
	case http.MethodGet:
		h.get(w, r, id)
	case http.MethodPut:
		h.replace(w, r, id)
	case http.MethodPatch:
		h.patch(w, r, id)
	case http.MethodDelete:
		h.rm(w, r, id)
	default:
		notAllowed(w, r, http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete)
	}
}

// notAllowed answers 405 with the methods the endpoint allows, in a stable order.
func notAllowed(w http.ResponseWriter, r *http.Request, allowed ...string) {
	w.Header().Set("Allow", strings.Join(slices.Sorted(slices.Values(allowed)), ", "))
	writeError(w, newError(http.StatusMethodNotAllowed, "", "method %s is not allowed here", r.Method))
}

// authenticate checks the bearer token; failures are 401 with WWW-Authenticate and counted.
func (s *Server) authenticate(r *http.Request) (*auth.Claims, error) {
	token := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			token = strings.TrimSpace(rest)
		}
	}
	claims, err := s.authn.Verify(r.Context(), token)
	if err == nil {
		return claims, nil
	}
	var rej *auth.Error
	if !errors.As(err, &rej) {
		rej = &auth.Error{Reason: scimconfig.ReasonKeysUnavailable, Message: "token could not be checked", Err: err}
	}
	if s.monitor != nil {
		s.monitor.rejected(rej)
	}
	s.logger.LogAttrs(r.Context(), slog.LevelWarn, "Token rejected",
		slog.String("reason", rej.Reason), slog.String("detail", rej.Message))
	return nil, &Error{Status: http.StatusUnauthorized, Detail: rej.Reason + ": " + rej.Message, Err: err}
}
