package oktasim

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// authServer is a custom authorization server (the simulator has only "default").
type authServer struct {
	ID          string
	Name        string
	Description string
	Audiences   []string
	Status      string
	Created     time.Time
	LastUpdated time.Time
	// issuerOverride replaces {org}/oauth2/{id}, as a custom domain or a misconfigured
	// issuer would; set through the admin API.
	issuerOverride string
	keys           *keySet
	lastRotated    time.Time
	policies       map[string]*policy
	scopes         map[string]map[string]any
}

// policy is an access policy with its rules; both are kept as Okta documents.
type policy struct {
	doc   map[string]any
	rules map[string]map[string]any
}

func (p *policy) priority() int64 { return int64(numOf(p.doc["priority"])) }

func numOf(v any) float64 {
	f, _ := v.(float64)
	return f
}

// systemScopes exist on every authorization server.
var systemScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access", "device_sso"}

func (s *Sim) newDefaultAuthServer() (*authServer, error) {
	keys, err := newKeySet()
	if err != nil {
		return nil, fmt.Errorf("make default server keys: %w", err)
	}
	now := s.now()
	srv := &authServer{
		ID:          "default",
		Name:        "default",
		Description: "Default Authorization Server for your Applications",
		Audiences:   []string{"api://default"},
		Status:      "ACTIVE",
		Created:     now,
		LastUpdated: now,
		keys:        keys,
		lastRotated: now,
		policies:    map[string]*policy{},
		scopes:      map[string]map[string]any{},
	}
	for _, sc := range systemScopes {
		srv.scopes[sc] = map[string]any{"id": newID("scp"), "name": sc, "system": true, "consent": "IMPLICIT",
			"metadataPublish": "ALL_CLIENTS", "default": false}
	}
	def := &policy{doc: map[string]any{
		"id": newID("00p"), "type": "OAUTH_AUTHORIZATION_POLICY", "name": "Default Policy",
		"description": "Default policy description", "status": "ACTIVE", "priority": float64(1), "system": false,
		"conditions": map[string]any{"clients": map[string]any{"include": []any{"ALL_CLIENTS"}}},
		"created":    now.UTC().Format(time.RFC3339), "lastUpdated": now.UTC().Format(time.RFC3339),
	}, rules: map[string]map[string]any{}}
	rid := newID("0pr")
	def.rules[rid] = map[string]any{
		"id": rid, "type": "RESOURCE_ACCESS", "name": "Default Policy Rule", "status": "ACTIVE",
		"priority": float64(1), "system": false,
		"conditions": map[string]any{
			"people": map[string]any{"groups": map[string]any{"include": []any{"EVERYONE"}}},
			"grantTypes": map[string]any{
				"include": anyList(
					[]string{"implicit", "client_credentials", "authorization_code", "password"},
				),
			},
			"scopes": map[string]any{"include": []any{"*"}},
		},
		"actions": map[string]any{"token": map[string]any{
			"accessTokenLifetimeMinutes": float64(60), "refreshTokenLifetimeMinutes": float64(0),
			"refreshTokenWindowMinutes": float64(10080)}},
		"created": now.UTC().Format(time.RFC3339), "lastUpdated": now.UTC().Format(time.RFC3339),
	}
	srv.policies[strOf(def.doc["id"])] = def
	return srv, nil
}

// issuer is the server's issuer: {org}/oauth2/{id} unless overridden.
func (s *Sim) issuer(srv *authServer) string {
	if srv.issuerOverride != "" {
		return srv.issuerOverride
	}
	return s.URL() + "/oauth2/" + srv.ID
}

func (srv *authServer) forgetClient(clientID string) {
	if clientID == "" {
		return
	}
	for _, p := range srv.policies {
		inc := objOf(path(p.doc, "conditions", "clients"))
		if inc == nil {
			continue
		}
		var keep []string
		for _, c := range strList(inc["include"]) {
			if c != clientID {
				keep = append(keep, c)
			}
		}
		inc["include"] = anyList(keep)
	}
}

func (s *Sim) authServerRoutes(mux *http.ServeMux) {
	const base = "/api/v1/authorizationServers"
	const scope = "okta.authorizationServers"
	mux.Handle("GET "+base, s.api(scope+".read", s.listAuthServers))
	mux.Handle("GET "+base+"/{authServerId}", s.api(scope+".read", s.getAuthServer))
	mux.Handle("PUT "+base+"/{authServerId}", s.api(scope+".manage", s.updateAuthServer))
	mux.Handle(
		"POST "+base+"/{authServerId}/lifecycle/activate",
		s.api(scope+".manage", s.authServerLifecycle("ACTIVE")),
	)
	mux.Handle(
		"POST "+base+"/{authServerId}/lifecycle/deactivate",
		s.api(scope+".manage", s.authServerLifecycle("INACTIVE")),
	)
	mux.Handle("GET "+base+"/{authServerId}/credentials/keys", s.api(scope+".read", s.authServerKeys))
	mux.Handle(
		"POST "+base+"/{authServerId}/credentials/lifecycle/keyRotate",
		s.api(scope+".manage", s.rotateAuthServerKeys),
	)
	mux.Handle("GET "+base+"/{authServerId}/scopes", s.api(scope+".read", s.listScopes))
	mux.Handle("POST "+base+"/{authServerId}/scopes", s.api(scope+".manage", s.createScope))
	p := base + "/{authServerId}/policies"
	mux.Handle("GET "+p, s.api(scope+".read", s.listPolicies))
	mux.Handle("POST "+p, s.api(scope+".manage", s.createPolicy))
	mux.Handle("GET "+p+"/{policyId}", s.api(scope+".read", s.getPolicy))
	mux.Handle("PUT "+p+"/{policyId}", s.api(scope+".manage", s.updatePolicy))
	mux.Handle("DELETE "+p+"/{policyId}", s.api(scope+".manage", s.deletePolicy))
	mux.Handle(
		"POST "+p+"/{policyId}/lifecycle/activate",
		s.api(scope+".manage", s.policyLifecycle("ACTIVE")),
	)
	mux.Handle(
		"POST "+p+"/{policyId}/lifecycle/deactivate",
		s.api(scope+".manage", s.policyLifecycle("INACTIVE")),
	)
	r := p + "/{policyId}/rules"
	mux.Handle("GET "+r, s.api(scope+".read", s.listRules))
	mux.Handle("POST "+r, s.api(scope+".manage", s.createRule))
	mux.Handle("GET "+r+"/{ruleId}", s.api(scope+".read", s.getRule))
	mux.Handle("PUT "+r+"/{ruleId}", s.api(scope+".manage", s.updateRule))
	mux.Handle("DELETE "+r+"/{ruleId}", s.api(scope+".manage", s.deleteRule))
	mux.Handle("POST "+r+"/{ruleId}/lifecycle/activate", s.api(scope+".manage", s.ruleLifecycle("ACTIVE")))
	mux.Handle(
		"POST "+r+"/{ruleId}/lifecycle/deactivate",
		s.api(scope+".manage", s.ruleLifecycle("INACTIVE")),
	)
}

func (s *Sim) lookupAuthServer(id string) (*authServer, error) {
	srv, ok := s.servers[id]
	if !ok {
		return nil, errNotFound(id, "AuthorizationServer")
	}
	return srv, nil
}

func (s *Sim) renderAuthServer(srv *authServer) map[string]any {
	return map[string]any{
		"id": srv.ID, "name": srv.Name, "description": srv.Description,
		"audiences": anyList(srv.Audiences), "issuer": s.issuer(srv), "issuerMode": "ORG_URL",
		"status": srv.Status, "default": srv.ID == "default",
		"created":     srv.Created.UTC().Format(time.RFC3339),
		"lastUpdated": srv.LastUpdated.UTC().Format(time.RFC3339),
		"credentials": map[string]any{"signing": map[string]any{
			"kid": srv.keys.active().kid, "rotationMode": "AUTO", "use": "sig",
			"lastRotated":  srv.lastRotated.UTC().Format(time.RFC3339),
			"nextRotation": srv.lastRotated.Add(90 * 24 * time.Hour).UTC().Format(time.RFC3339),
		}},
		"_links": map[string]any{
			"self": map[string]any{"href": s.URL() + "/api/v1/authorizationServers/" + srv.ID},
		},
	}
}

func (s *Sim) listAuthServers(_ *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, id := range sortedKeys(s.servers) {
		out = append(out, s.renderAuthServer(s.servers[id]))
	}
	return http.StatusOK, out, nil
}

func (s *Sim) getAuthServer(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, err := s.lookupAuthServer(r.PathValue("authServerId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderAuthServer(srv), nil
}

func (s *Sim) updateAuthServer(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, err := s.lookupAuthServer(r.PathValue("authServerId"))
	if err != nil {
		return 0, nil, err
	}
	auds := strList(body["audiences"])
	if strOf(body["name"]) == "" || len(auds) == 0 {
		return 0, nil, errValidation(
			"authorizationServer",
			"name and audiences: The field cannot be left blank",
		)
	}
	srv.Name, srv.Description, srv.Audiences = strOf(body["name"]), strOf(body["description"]), auds
	srv.LastUpdated = s.now()
	return http.StatusOK, s.renderAuthServer(srv), nil
}

func (s *Sim) authServerLifecycle(status string) apiFunc {
	return func(r *http.Request) (int, any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		srv, err := s.lookupAuthServer(r.PathValue("authServerId"))
		if err != nil {
			return 0, nil, err
		}
		srv.Status = status
		return http.StatusNoContent, nil, nil
	}
}

func (s *Sim) authServerKeys(r *http.Request) (int, any, error) {
	s.mu.Lock()
	srv, err := s.lookupAuthServer(r.PathValue("authServerId"))
	s.mu.Unlock()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, srv.keys.jwks(), nil
}

func (s *Sim) rotateAuthServerKeys(r *http.Request) (int, any, error) {
	s.mu.Lock()
	srv, err := s.lookupAuthServer(r.PathValue("authServerId"))
	s.mu.Unlock()
	if err != nil {
		return 0, nil, err
	}
	if err := srv.keys.rotate(); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	srv.lastRotated = s.now()
	s.mu.Unlock()
	return http.StatusOK, srv.keys.jwks(), nil
}

func (s *Sim) listScopes(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, err := s.lookupAuthServer(r.PathValue("authServerId"))
	if err != nil {
		return 0, nil, err
	}
	out := []any{}
	for _, k := range sortedKeys(srv.scopes) {
		out = append(out, srv.scopes[k])
	}
	return http.StatusOK, out, nil
}

func (s *Sim) createScope(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, err := s.lookupAuthServer(r.PathValue("authServerId"))
	if err != nil {
		return 0, nil, err
	}
	name := strOf(body["name"])
	if name == "" {
		return 0, nil, errValidation("scope", "name: The field cannot be left blank")
	}
	if _, ok := srv.scopes[name]; ok {
		return 0, nil, errValidation("scope", "name: A scope with this name already exists")
	}
	body["id"] = newID("scp")
	body["system"] = false
	srv.scopes[name] = body
	return http.StatusCreated, body, nil
}

func (srv *authServer) policiesInOrder() []*policy {
	return valuesBy(srv.policies, func(p *policy) int64 { return p.priority() })
}

func (s *Sim) lookupPolicy(r *http.Request) (*authServer, *policy, error) {
	srv, err := s.lookupAuthServer(r.PathValue("authServerId"))
	if err != nil {
		return nil, nil, err
	}
	p, ok := srv.policies[r.PathValue("policyId")]
	if !ok {
		return nil, nil, errNotFound(r.PathValue("policyId"), "Policy")
	}
	return srv, p, nil
}

func (s *Sim) renderPolicy(srv *authServer, p *policy) map[string]any {
	out := clone(p.doc)
	out["_links"] = map[string]any{"self": map[string]any{
		"href": s.URL() + "/api/v1/authorizationServers/" + srv.ID + "/policies/" + strOf(p.doc["id"])}}
	return out
}

func (s *Sim) listPolicies(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, err := s.lookupAuthServer(r.PathValue("authServerId"))
	if err != nil {
		return 0, nil, err
	}
	out := []any{}
	for _, p := range srv.policiesInOrder() {
		out = append(out, s.renderPolicy(srv, p))
	}
	return http.StatusOK, out, nil
}

func (s *Sim) getPolicy(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, p, err := s.lookupPolicy(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderPolicy(srv, p), nil
}

// validatePolicy requires a name, the OAUTH_AUTHORIZATION_POLICY type and clients that are
// ALL_CLIENTS or existing OAuth clients.
func (s *Sim) validatePolicy(doc map[string]any) error {
	var causes []string
	if strOf(doc["name"]) == "" {
		causes = append(causes, "name: The field cannot be left blank")
	}
	if t := strOf(doc["type"]); t != "OAUTH_AUTHORIZATION_POLICY" {
		causes = append(causes, fmt.Sprintf("type: %q is not OAUTH_AUTHORIZATION_POLICY", t))
	}
	clients := strList(path(doc, "conditions", "clients", "include"))
	if len(clients) == 0 {
		causes = append(causes, "conditions.clients.include: The field cannot be left blank")
	}
	for _, c := range clients {
		if c != "ALL_CLIENTS" && s.appByClientID(c) == nil {
			causes = append(causes, fmt.Sprintf("conditions.clients.include: %s is not a valid client id", c))
		}
	}
	if len(causes) > 0 {
		return errValidation("policy", causes...)
	}
	return nil
}

// placePriority puts an item at the wanted priority (last when absent or out of range)
// and renumbers the others 1..n, as Okta does.
func placePriority[T any](items []T, item T, want int64, get func(T) int64, set func(T, int64)) {
	others := slices.Clone(items)
	slices.SortFunc(others, func(x, y T) int { return int(get(x) - get(y)) })
	if want < 1 || want > int64(len(others)+1) {
		want = int64(len(others) + 1)
	}
	out := append([]T{}, others[:want-1]...)
	out = append(out, item)
	out = append(out, others[want-1:]...)
	for i, it := range out {
		set(it, int64(i+1))
	}
}

func (s *Sim) createPolicy(r *http.Request) (int, any, error) {
	doc := map[string]any{}
	if err := decode(r, &doc); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, err := s.lookupAuthServer(r.PathValue("authServerId"))
	if err != nil {
		return 0, nil, err
	}
	if err := s.validatePolicy(doc); err != nil {
		return 0, nil, err
	}
	now := s.now().UTC().Format(time.RFC3339)
	doc["id"], doc["created"], doc["lastUpdated"], doc["system"] = newID("00p"), now, now, false
	if strOf(doc["status"]) == "" {
		doc["status"] = "ACTIVE"
	}
	p := &policy{doc: doc, rules: map[string]map[string]any{}}
	s.placePolicy(srv, p, int64(numOf(doc["priority"])))
	srv.policies[strOf(doc["id"])] = p
	return http.StatusCreated, s.renderPolicy(srv, p), nil
}

func (s *Sim) placePolicy(srv *authServer, p *policy, want int64) {
	var others []*policy
	for _, o := range srv.policies {
		if o != p {
			others = append(others, o)
		}
	}
	placePriority(
		others,
		p,
		want,
		(*policy).priority,
		func(x *policy, n int64) { x.doc["priority"] = float64(n) },
	)
}

func (s *Sim) updatePolicy(r *http.Request) (int, any, error) {
	doc := map[string]any{}
	if err := decode(r, &doc); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, p, err := s.lookupPolicy(r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.validatePolicy(doc); err != nil {
		return 0, nil, err
	}
	for _, k := range []string{"id", "created", "system"} {
		doc[k] = p.doc[k]
	}
	if strOf(doc["status"]) == "" {
		doc["status"] = p.doc["status"]
	}
	doc["lastUpdated"] = s.now().UTC().Format(time.RFC3339)
	delete(doc, "_links")
	want := int64(numOf(doc["priority"]))
	p.doc = doc
	s.placePolicy(srv, p, want)
	return http.StatusOK, s.renderPolicy(srv, p), nil
}

func (s *Sim) deletePolicy(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, p, err := s.lookupPolicy(r)
	if err != nil {
		return 0, nil, err
	}
	delete(srv.policies, strOf(p.doc["id"]))
	return http.StatusNoContent, nil, nil
}

func (s *Sim) policyLifecycle(status string) apiFunc {
	return func(r *http.Request) (int, any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, p, err := s.lookupPolicy(r)
		if err != nil {
			return 0, nil, err
		}
		p.doc["status"] = status
		return http.StatusNoContent, nil, nil
	}
}
