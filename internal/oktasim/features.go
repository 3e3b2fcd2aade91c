package oktasim

import (
	"net/http"
)

// Provisioning is what an Okta admin sets by hand for a custom SAML app: SCIM on, the
// connector base URL, the unique identifier field, the To App actions and OAuth 2
// authentication through the OIDC app. None of it can be set through Okta's API.
type Provisioning struct {
	// BaseURL is the SCIM connector base URL; Okta appends /Users and /Groups.
	BaseURL string `json:"baseUrl"`
	// UniqueIdentifier is "email" or "userName": the SCIM userName Okta sends and looks up.
	UniqueIdentifier string `json:"uniqueIdentifier"`
	// CreateUsers, UpdateUserAttributes, DeactivateUsers and PushGroups are the To App
	// actions and the Push Groups provisioning action.
	CreateUsers          bool `json:"createUsers"`
	UpdateUserAttributes bool `json:"updateUserAttributes"`
	DeactivateUsers      bool `json:"deactivateUsers"`
	PushGroups           bool `json:"pushGroups"`
	// ClientID and ClientSecret are the OIDC app's credentials Okta authenticates with.
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret,omitempty"`
	// Scope is what Okta asks the authorization endpoint for; "openid profile
	// offline_access" when empty, as the admin guide's authorize URL has it.
	Scope string `json:"scope,omitempty"`
	// PatchStyle sends deactivation, reactivation and group membership as PATCH the way
	// Okta does for catalogue apps, instead of GET + PUT for custom apps.
	PatchStyle bool `json:"patchStyle"`
	// AuthorizationServerID is the server whose token endpoint is used; "default" when empty.
	AuthorizationServerID string `json:"authorizationServerId,omitempty"`
	// RedirectURI is the connector's OAuth callback; Okta's
	// https://system-admin.okta.com/admin/app/cpc/{appName}/oauth/callback when empty.
	RedirectURI string `json:"redirectUri,omitempty"`
}

// features lists the app's provisioning features as Okta names them in the app's features.
func (p *Provisioning) features() []string {
	var out []string
	if p.CreateUsers {
		out = append(out, "PUSH_NEW_USERS")
	}
	if p.UpdateUserAttributes {
		out = append(out, "PUSH_PROFILE_UPDATES")
	}
	if p.DeactivateUsers {
		out = append(out, "PUSH_USER_DEACTIVATION", "REACTIVATE_USERS")
	}
	if p.PushGroups {
		out = append(out, "GROUP_PUSH")
	}
	return out
}

func (s *Sim) featureRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/apps/{appId}/features", s.api("okta.apps.read", s.listFeatures))
	mux.Handle("GET /api/v1/apps/{appId}/features/{name}", s.api("okta.apps.read", s.getFeature))
	mux.Handle("PUT /api/v1/apps/{appId}/features/{name}", s.api("okta.apps.manage", s.updateFeature))
	mux.Handle("GET /api/v1/apps/{appId}/connections/default", s.api("okta.apps.read", s.getConnection))
	mux.Handle("POST /api/v1/apps/{appId}/connections/default", s.api("okta.apps.manage", s.setConnection))
	mux.Handle(
		"POST /api/v1/apps/{appId}/connections/default/lifecycle/activate",
		s.api("okta.apps.manage", s.setConnection),
	)
	mux.Handle(
		"POST /api/v1/apps/{appId}/connections/default/lifecycle/deactivate",
		s.api("okta.apps.manage", s.setConnection),
	)
}

func errProvisioningNotSupported() *APIError {
	return errValidation("features", "Provisioning is not supported for this application")
}

// provisionedApp returns the app when its provisioning was switched on by the admin step.
func (s *Sim) provisionedApp(r *http.Request) (*app, error) {
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return nil, err
	}
	if a.provisioning == nil {
		return nil, errProvisioningNotSupported()
	}
	return a, nil
}

func enabled(b bool) map[string]any {
	if b {
		return map[string]any{"status": "ENABLED"}
	}
	return map[string]any{"status": "DISABLED"}
}

func (s *Sim) userProvisioningFeature(a *app) map[string]any {
	p := a.provisioning
	status := "DISABLED"
	if p.CreateUsers || p.UpdateUserAttributes || p.DeactivateUsers {
		status = "ENABLED"
	}
	pw := enabled(false)
	pw["seed"] = "RANDOM"
	pw["change"] = "KEEP_EXISTING"
	return map[string]any{
		"name":        "USER_PROVISIONING",
		"status":      status,
		"description": "User provisioning settings from Okta to a downstream app",
		"capabilities": map[string]any{
			"create": map[string]any{"lifecycleCreate": enabled(p.CreateUsers)},
			"update": map[string]any{
				"profile":             enabled(p.UpdateUserAttributes),
				"lifecycleDeactivate": enabled(p.DeactivateUsers),
				"password":            pw,
			},
		},
		"_links": map[string]any{"self": map[string]any{
			"href": s.URL() + "/api/v1/apps/" + a.id() + "/features/USER_PROVISIONING"}},
	}
}

// listFeatures answers 400 for an app without provisioning, as Okta does for a custom
// SAML app before an admin switches SCIM on.
func (s *Sim) listFeatures(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.provisionedApp(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, []any{s.userProvisioningFeature(a)}, nil
}

func (s *Sim) getFeature(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.provisionedApp(r)
	if err != nil {
		return 0, nil, err
	}
	if r.PathValue("name") != "USER_PROVISIONING" {
		return 0, nil, errNotFound(r.PathValue("name"), "AppFeature")
	}
	return http.StatusOK, s.userProvisioningFeature(a), nil
}

// updateFeature refuses: the To App actions of a custom SAML app are set only in the admin
// console (the simulator's admin step), never through the API.
func (s *Sim) updateFeature(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.provisionedApp(r)
	if err != nil {
		return 0, nil, err
	}
	if a.isCustomSAML() {
		return 0, nil, errValidation("features",
			"The provisioning features of a custom SAML app can only be changed in the Okta Admin Console")
	}
	return 0, nil, errProvisioningNotSupported()
}

// getConnection answers what Okta answers for an app without a supported provisioning
// connection: authScheme and status UNKNOWN.
func (s *Sim) getConnection(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.lookupApp(r.PathValue("appId")); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"authScheme": "UNKNOWN", "status": "UNKNOWN"}, nil
}

func (s *Sim) setConnection(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.lookupApp(r.PathValue("appId")); err != nil {
		return 0, nil, err
	}
	return 0, nil, errValidation("connection",
		"Provisioning connections can be set through the API only for supported catalogue apps")
}
