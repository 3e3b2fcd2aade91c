package oktasim

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/oktasim/roster"
)

// adminPrefix is the simulator-only admin API; Okta serves nothing under it.
const adminPrefix = "/__sim/"

func (s *Sim) adminRoutes(mux *http.ServeMux) {
	h := func(pattern string, f apiFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			status, v, err := f(r)
			if err != nil {
				writeError(w, err)
				return
			}
			writeJSON(w, status, v)
		})
	}
	h("POST /__sim/roster", s.adminSeed)
	h("GET /__sim/state", s.adminState)
	h("POST /__sim/users/{user}/profile", s.adminProfile)
	h("POST /__sim/users/{user}/deactivate", s.adminUserStatus("DEPROVISIONED"))
	h("POST /__sim/users/{user}/activate", s.adminUserStatus("ACTIVE"))
	h("POST /__sim/apps/{app}/assign", s.adminAssign(true))
	h("POST /__sim/apps/{app}/unassign", s.adminAssign(false))
	h("POST /__sim/apps/{app}/provisioning", s.adminProvisioning)
	h("GET /__sim/apps/{app}/provisioning", s.adminGetProvisioning)
	h("POST /__sim/apps/{app}/sync", s.adminSync)
	h("POST /__sim/apps/{app}/retry", s.adminRetry)
	h("GET /__sim/progress", s.adminProgress)
	h("GET /__sim/push-log", s.adminPushLog)
	h("POST /__sim/wait", s.adminWait)
	h("GET /__sim/faults", func(*http.Request) (int, any, error) { return http.StatusOK, s.Faults(), nil })
	h("POST /__sim/faults", s.adminFault)
	h("DELETE /__sim/faults", func(*http.Request) (int, any, error) {
		s.ClearFaults()
		return http.StatusOK, map[string]any{}, nil
	})
	h("GET /__sim/rate-limits", func(*http.Request) (int, any, error) {
		return http.StatusOK, s.RateLimitStats(), nil
	})
	h("POST /__sim/token-faults", s.adminTokenFault)
	h("DELETE /__sim/token-faults", func(*http.Request) (int, any, error) {
		s.ClearTokenFaults()
		return http.StatusOK, map[string]any{}, nil
	})
	h("POST /__sim/authorization-servers/{server}/issuer", s.adminIssuer)
	h("POST /__sim/authorization-servers/{server}/rotate-keys", func(r *http.Request) (int, any, error) {
		if err := s.RotateKeys(r.PathValue("server")); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]any{}, nil
	})
	h("POST /__sim/service-apps", s.adminServiceApp)
	h("GET /__sim/api-tokens", func(*http.Request) (int, any, error) { return http.StatusOK, s.APITokens(), nil })
	h("POST /__sim/api-tokens", s.adminIssueAPIToken)
	h("POST /__sim/api-tokens/revoke", s.adminRevokeAPIToken)
	h("POST /__sim/access-tokens", s.adminIssueAccessToken)
}

// SeedResult says what a roster seed created and which people Okta refused.
type SeedResult struct {
	Users    int            `json:"users"`
	Groups   int            `json:"groups"`
	Rejected []SeedRejected `json:"rejected"`
	// GroupIDs maps group names to Okta ids.
	GroupIDs map[string]string `json:"groupIds"`
}

// SeedRejected is one person of the roster that Okta's validation refused.
type SeedRejected struct {
	Index  int      `json:"index"`
	Errors []string `json:"errors"`
}

// rosterProperties are the custom Okta user profile properties the roster uses.
var rosterProperties = map[string]map[string]any{
	"role": {"title": "Role", "type": "string", "scope": "NONE"},
}

// SeedRoster adds the roster's groups and people (ACTIVE, in their groups), as an admin's
// import would. People Okta refuses (a missing email, a duplicate login) are reported.
func (s *Sim) SeedRoster(r roster.Roster) SeedResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := SeedResult{Rejected: []SeedRejected{}, GroupIDs: map[string]string{}}
	for name, def := range rosterProperties {
		if s.userCustom.props[name] == nil {
			s.userCustom.set(name, clone(def))
		}
	}
	s.adminUser()
	for _, g := range s.groupsInOrder() {
		res.GroupIDs[g.name()] = g.ID
	}
	for _, rg := range r.Groups {
		if _, ok := res.GroupIDs[rg.Name]; ok {
			continue
		}
		g, err := s.createGroup(map[string]any{"name": rg.Name, "description": rg.Description})
		if err != nil {
			continue
		}
		res.GroupIDs[rg.Name] = g.ID
		res.Groups++
	}
	for i, p := range r.People {
		u, err := s.createUser(p.Profile(), "ACTIVE")
		if err != nil {
			res.Rejected = append(res.Rejected, SeedRejected{Index: i, Errors: causesOf(err)})
			continue
		}
		res.Users++
		for _, gname := range p.Groups {
			if gid, ok := res.GroupIDs[gname]; ok {
				s.addMember(s.groups[gid], u)
			}
		}
	}
	return res
}

func causesOf(err error) []string {
	apiErr := &APIError{}
	if !errors.As(err, &apiErr) {
		return []string{err.Error()}
	}
	out := []string{apiErr.Summary}
	for _, c := range apiErr.Causes {
		out = append(out, c.Summary)
	}
	return out
}

func (s *Sim) adminSeed(r *http.Request) (int, any, error) {
	body := struct {
		roster.Roster
		Path string `json:"path"`
	}{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	ros := body.Roster
	if body.Path != "" {
		loaded, err := roster.Load(body.Path)
		if err != nil {
			return 0, nil, errValidation("path", err.Error())
		}
		ros = loaded
	}
	return http.StatusOK, s.SeedRoster(ros), nil
}

// LoadRoster seeds the org from a roster file.
func (s *Sim) LoadRoster(file string) (SeedResult, error) {
	r, err := roster.Load(file)
	if err != nil {
		return SeedResult{}, err
	}
	return s.SeedRoster(r), nil
}

// AppSummary is one app as the admin state shows it.
type AppSummary struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Label        string        `json:"label"`
	SignOnMode   string        `json:"signOnMode"`
	Status       string        `json:"status"`
	ClientID     string        `json:"clientId,omitempty"`
	Provisioning *Provisioning `json:"provisioning,omitempty"`
	Progress     Progress      `json:"progress"`
	Assigned     int           `json:"assignedUsers"`
}

// State summarises the org for the demo: counts and apps.
type State struct {
	URL    string       `json:"url"`
	Users  int          `json:"users"`
	Groups int          `json:"groups"`
	Apps   []AppSummary `json:"apps"`
}

// Snapshot returns the org's State.
func (s *Sim) Snapshot() State {
	s.mu.Lock()
	st := State{URL: s.URL(), Users: len(s.users), Groups: len(s.groups), Apps: []AppSummary{}}
	for _, a := range s.appsInOrder() {
		sum := AppSummary{ID: a.id(), Name: a.name(), Label: a.label(), SignOnMode: a.signOnMode(),
			Status: a.status(), ClientID: a.clientID()}
		for _, au := range a.userAssign {
			if au.assigned() {
				sum.Assigned++
			}
		}
		st.Apps = append(st.Apps, sum)
	}
	s.mu.Unlock()
	for i := range st.Apps {
		st.Apps[i].Provisioning = s.ProvisioningOf(st.Apps[i].ID)
		st.Apps[i].Progress = s.Progress(st.Apps[i].ID)
	}
	return st
}

func (s *Sim) adminState(*http.Request) (int, any, error) { return http.StatusOK, s.Snapshot(), nil }

// SetProfile changes profile attributes of a user (id or login); nil values remove them.
func (s *Sim) SetProfile(userRef string, changes map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.lookupUser(userRef)
	if err != nil {
		return err
	}
	return s.setProfile(u, changes, true)
}

func (s *Sim) adminProfile(r *http.Request) (int, any, error) {
	changes := map[string]any{}
	if err := decode(r, &changes); err != nil {
		return 0, nil, err
	}
	if p := objOf(changes["profile"]); p != nil {
		changes = p
	}
	if err := s.SetProfile(r.PathValue("user"), changes); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{}, nil
}

// SetUserStatus deactivates (DEPROVISIONED) or activates (ACTIVE) a user by id or login.
func (s *Sim) SetUserStatus(userRef, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.lookupUser(userRef)
	if err != nil {
		return err
	}
	s.setUserStatus(u, status)
	return nil
}

func (s *Sim) adminUserStatus(status string) apiFunc {
	return func(r *http.Request) (int, any, error) {
		if err := s.SetUserStatus(r.PathValue("user"), status); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]any{}, nil
	}
}

// lookupAppRef finds an app by id, name or label; callers hold s.mu.
func (s *Sim) lookupAppRef(ref string) (*app, error) {
	if a, ok := s.apps[ref]; ok {
		return a, nil
	}
	for _, a := range s.appsInOrder() {
		if a.name() == ref || a.label() == ref {
			return a, nil
		}
	}
	return nil, errNotFound(ref, "AppInstance")
}

// Assign assigns a user (id or login) or a group (id or name) to an app; Unassign undoes it.
func (s *Sim) Assign(appRef, userRef, groupRef string) error {
	return s.assign(appRef, userRef, groupRef, true)
}

// Unassign removes a user's direct assignment or a group assignment.
func (s *Sim) Unassign(appRef, userRef, groupRef string) error {
	return s.assign(appRef, userRef, groupRef, false)
}

func (s *Sim) assign(appRef, userRef, groupRef string, add bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupAppRef(appRef)
	if err != nil {
		return err
	}
	if userRef != "" {
		u, err := s.lookupUser(userRef)
		if err != nil {
			return err
		}
		if add {
			s.assignUser(a, u, "")
			return nil
		}
		if au, ok := a.userAssign[u.ID]; !ok || !au.Direct {
			return errNotFound(u.ID, "AppUser")
		}
		s.unassignUser(a, u, "")
		return nil
	}
	g, err := s.lookupGroupRef(groupRef)
	if err != nil {
		return err
	}
	if add {
		s.assignGroup(a, g)
		return nil
	}
	if _, ok := a.groupAssign[g.ID]; !ok {
		return errNotFound(g.ID, "ApplicationGroupAssignment")
	}
	s.unassignGroup(a, g)
	return nil
}

func (s *Sim) lookupGroupRef(ref string) (*group, error) {
	if g, ok := s.groups[ref]; ok {
		return g, nil
	}
	for _, g := range s.groupsInOrder() {
		if g.name() == ref {
			return g, nil
		}
	}
	return nil, errNotFound(ref, "UserGroup")
}

func (s *Sim) adminAssign(add bool) apiFunc {
	return func(r *http.Request) (int, any, error) {
		body := struct {
			UserID  string `json:"userId"`
			GroupID string `json:"groupId"`
		}{}
		if err := decode(r, &body); err != nil {
			return 0, nil, err
		}
		if (body.UserID == "") == (body.GroupID == "") {
			return 0, nil, errValidation("assignment", "give exactly one of userId and groupId")
		}
		if err := s.assign(r.PathValue("app"), body.UserID, body.GroupID, add); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]any{}, nil
	}
}

func (s *Sim) appIDOf(ref string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupAppRef(ref)
	if err != nil {
		return "", err
	}
	return a.id(), nil
}

func (s *Sim) adminProvisioning(r *http.Request) (int, any, error) {
	var p Provisioning
	if err := decode(r, &p); err != nil {
		return 0, nil, err
	}
	id, err := s.appIDOf(r.PathValue("app"))
	if err != nil {
		return 0, nil, err
	}
	if err := s.ConfigureProvisioning(r.Context(), id, p); err != nil {
		apiErr := &APIError{}
		if errors.As(err, &apiErr) {
			return 0, nil, err
		}
		return 0, nil, newAPIError(
			http.StatusBadGateway,
			CodeValidation,
			"Provisioning could not be switched on",
			err.Error(),
		)
	}
	return http.StatusOK, s.ProvisioningOf(id), nil
}

func (s *Sim) adminGetProvisioning(r *http.Request) (int, any, error) {
	id, err := s.appIDOf(r.PathValue("app"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{
		"provisioning": s.ProvisioningOf(id),
		"progress":     s.Progress(id),
	}, nil
}

func (s *Sim) adminSync(r *http.Request) (int, any, error) {
	id, err := s.appIDOf(r.PathValue("app"))
	if err != nil {
		return 0, nil, err
	}
	if err := s.Sync(id); err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.Progress(id), nil
}

func (s *Sim) adminRetry(r *http.Request) (int, any, error) {
	id, err := s.appIDOf(r.PathValue("app"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, map[string]any{"retried": s.RetryFailed(id)}, nil
}

func (s *Sim) appQuery(r *http.Request) (string, error) {
	ref := r.URL.Query().Get("app")
	if ref == "" {
		return "", nil
	}
	return s.appIDOf(ref)
}

func (s *Sim) adminProgress(r *http.Request) (int, any, error) {
	id, err := s.appQuery(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.Progress(id), nil
}

func (s *Sim) adminPushLog(r *http.Request) (int, any, error) {
	id, err := s.appQuery(r)
	if err != nil {
		return 0, nil, err
	}
	recs := s.PushLog(id)
	if since, err := strconv.Atoi(r.URL.Query().Get("since")); err == nil {
		out := []PushRecord{}
		for _, rec := range recs {
			if rec.Seq > since {
				out = append(out, rec)
			}
		}
		recs = out
	}
	return http.StatusOK, recs, nil
}

func (s *Sim) adminWait(r *http.Request) (int, any, error) {
	timeout := 60 * time.Second
	if d, err := time.ParseDuration(r.URL.Query().Get("timeout")); err == nil {
		timeout = d
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		return 0, nil, newAPIError(
			http.StatusGatewayTimeout,
			CodeServerError,
			"The provisioning queue is still busy",
			err.Error(),
		)
	}
	return http.StatusOK, s.Progress(""), nil
}

func (s *Sim) adminFault(r *http.Request) (int, any, error) {
	var f Fault
	if err := decode(r, &f); err != nil {
		return 0, nil, err
	}
	id, err := s.InjectFault(f)
	if err != nil {
		return 0, nil, errValidation("fault", err.Error())
	}
	return http.StatusCreated, map[string]any{"id": id}, nil
}

func (s *Sim) adminTokenFault(r *http.Request) (int, any, error) {
	var f TokenFault
	if err := decode(r, &f); err != nil {
		return 0, nil, err
	}
	if err := s.InjectTokenFault(f); err != nil {
		return 0, nil, errValidation("token fault", err.Error())
	}
	return http.StatusCreated, map[string]any{}, nil
}

func (s *Sim) adminIssuer(r *http.Request) (int, any, error) {
	body := struct {
		Issuer string `json:"issuer"`
	}{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	if err := s.SetIssuer(r.PathValue("server"), body.Issuer); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{}, nil
}

// ServiceApp is an OAuth service app for the management API (private_key_jwt).
type ServiceApp struct {
	ID       string `json:"id"`
	ClientID string `json:"clientId"`
}

// CreateServiceApp registers a service app with the public key and grants it Okta API
// scopes, the console steps behind the SDK's PrivateKey mode.
func (s *Sim) CreateServiceApp(
	label string,
	pub *rsa.PublicKey,
	kid string,
	scopes []string,
) (ServiceApp, error) {
	key := publicJWK(kid, pub, "")
	keyDoc := map[string]any{
		"kty": key.Kty,
		"alg": key.Alg,
		"kid": key.Kid,
		"use": key.Use,
		"e":   key.E,
		"n":   key.N,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	doc := map[string]any{"name": "oidc_client", "label": label, "signOnMode": signOnOIDC,
		"settings": map[string]any{"oauthClient": map[string]any{
			"application_type": "service", "grant_types": []any{"client_credentials"}, "response_types": []any{"token"},
			"jwks": map[string]any{"keys": []any{keyDoc}}}},
		"credentials": map[string]any{
			"oauthClient": map[string]any{"token_endpoint_auth_method": "private_key_jwt"},
		}}
	if err := s.prepareOIDC(doc, nil); err != nil {
		return ServiceApp{}, err
	}
	now := s.now().UTC().Format(time.RFC3339)
	doc["id"], doc["created"], doc["lastUpdated"], doc["status"] = newID("0oa"), now, now, "ACTIVE"
	a := &app{doc: doc, order: s.nextOrder(), groupAssign: map[string]*groupAssignment{},
		userAssign: map[string]*appUser{}, custom: newSchemaProps(), pushMappings: map[string]*pushMapping{}}
	s.apps[a.id()] = a
	for _, sc := range scopes {
		if _, err := s.grantScope(a, s.URL(), sc); err != nil {
			return ServiceApp{}, err
		}
	}
	return ServiceApp{ID: a.id(), ClientID: a.clientID()}, nil
}

func (s *Sim) adminServiceApp(r *http.Request) (int, any, error) {
	body := struct {
		Label        string   `json:"label"`
		PublicKeyPEM string   `json:"publicKeyPem"`
		KeyID        string   `json:"kid"`
		Scopes       []string `json:"scopes"`
	}{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	block, _ := pem.Decode([]byte(body.PublicKeyPEM))
	if block == nil {
		return 0, nil, errValidation("publicKeyPem", "publicKeyPem: not a PEM block")
	}
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return 0, nil, errValidation("publicKeyPem", fmt.Sprintf("publicKeyPem: %v", err))
	}
	pub, ok := parsed.(*rsa.PublicKey)
	if !ok {
		return 0, nil, errValidation("publicKeyPem", "publicKeyPem: only RSA keys are supported")
	}
	if body.Label == "" {
		body.Label = "scim-operator"
	}
	sa, err := s.CreateServiceApp(body.Label, pub, body.KeyID, body.Scopes)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, sa, nil
}

func (s *Sim) adminIssueAPIToken(r *http.Request) (int, any, error) {
	body := struct {
		Name string `json:"name"`
	}{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	if body.Name == "" {
		body.Name = "scim-operator"
	}
	info, value := s.IssueAPIToken(body.Name)
	return http.StatusCreated, struct {
		APITokenInfo
		Token string `json:"token"`
	}{info, value}, nil
}

func (s *Sim) adminIssueAccessToken(r *http.Request) (int, any, error) {
	body := struct {
		ClientID string `json:"clientId"`
	}{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	token, lifetime, err := s.IssueAccessToken(body.ClientID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{"token_type": "Bearer", "access_token": token,
		"expires_in": int(lifetime / time.Second)}, nil
}

func (s *Sim) adminRevokeAPIToken(r *http.Request) (int, any, error) {
	body := struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	ref := body.ID
	if ref == "" {
		ref = body.Token
	}
	if ref == "" {
		return 0, nil, errValidation("api token", "give the token's id or its value")
	}
	if err := s.RevokeAPIToken(ref); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{}, nil
}
