package oktasim

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Sign-on modes the simulator models.
const (
	signOnOIDC = "OPENID_CONNECT"
	signOnSAML = "SAML_2_0"
)

// app is one application instance. doc is the document Okta serves; the other fields hold
// what the simulator derives from it or keeps beside it.
type app struct {
	doc          map[string]any
	order        int64
	secrets      []*clientSecret
	groupAssign  map[string]*groupAssignment
	userAssign   map[string]*appUser
	custom       *schemaProps
	provisioning *Provisioning
	pushMappings map[string]*pushMapping
	grants       []*scopeGrant
	// accessTokens are the ids (jti) of the org access tokens issued to a service app, revoked
	// when the app is deactivated.
	accessTokens []string
}

func (a *app) id() string         { return strOf(a.doc["id"]) }
func (a *app) status() string     { return strOf(a.doc["status"]) }
func (a *app) signOnMode() string { return strOf(a.doc["signOnMode"]) }
func (a *app) name() string       { return strOf(a.doc["name"]) }
func (a *app) label() string      { return strOf(a.doc["label"]) }
func (a *app) clientID() string {
	return strOf(path(a.doc, "credentials", "oauthClient", "client_id"))
}

// isCustomSAML reports whether the app is a custom (App Integration Wizard) SAML app.
func (a *app) isCustomSAML() bool { return a.signOnMode() == signOnSAML }

func (a *app) oauthSettings() map[string]any { return objOf(path(a.doc, "settings", "oauthClient")) }

func (a *app) grantTypes() []string { return strList(a.oauthSettings()["grant_types"]) }

func (s *Sim) appRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/apps", s.listHandler("okta.apps.read", s.listApps))
	mux.Handle("POST /api/v1/apps", s.api("okta.apps.manage", s.createApp))
	mux.Handle("GET /api/v1/apps/{appId}", s.api("okta.apps.read", s.getApp))
	mux.Handle("PUT /api/v1/apps/{appId}", s.api("okta.apps.manage", s.updateApp))
	mux.Handle("DELETE /api/v1/apps/{appId}", s.api("okta.apps.manage", s.deleteApp))
	mux.Handle(
		"POST /api/v1/apps/{appId}/lifecycle/activate",
		s.api("okta.apps.manage", s.appLifecycle("ACTIVE")),
	)
	mux.Handle(
		"POST /api/v1/apps/{appId}/lifecycle/deactivate",
		s.api("okta.apps.manage", s.appLifecycle("INACTIVE")),
	)
	s.secretRoutes(mux)
	s.featureRoutes(mux)
	s.assignmentRoutes(mux)
	s.groupPushRoutes(mux)
	s.grantRoutes(mux)
}

// lookupApp finds an app; callers hold s.mu.
func (s *Sim) lookupApp(id string) (*app, error) {
	a, ok := s.apps[id]
	if !ok {
		return nil, errNotFound(id, "AppInstance")
	}
	return a, nil
}

func (s *Sim) renderApp(a *app) map[string]any {
	out := clone(a.doc)
	out["_links"] = map[string]any{
		"self":  map[string]any{"href": s.URL() + "/api/v1/apps/" + a.id()},
		"users": map[string]any{"href": s.URL() + "/api/v1/apps/" + a.id() + "/users"},
	}
	if a.provisioning != nil {
		out["features"] = anyList(a.provisioning.features())
	}
	return out
}

func (s *Sim) appsInOrder() []*app {
	return valuesBy(s.apps, func(a *app) int64 { return a.order })
}

// listApps serves GET /api/v1/apps with q (label or name prefix) and filter
// (status, name, user.id, group.id).
func (s *Sim) listApps(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilter(r.URL.Query().Get("filter"))
	if err != nil {
		return err
	}
	q := strings.ToLower(r.URL.Query().Get("q"))
	s.mu.Lock()
	var docs []map[string]any
	for _, a := range s.appsInOrder() {
		if q != "" && !strings.HasPrefix(strings.ToLower(a.label()), q) &&
			!strings.HasPrefix(strings.ToLower(a.name()), q) {
			continue
		}
		if !appMatches(a, f) {
			continue
		}
		docs = append(docs, s.renderApp(a))
	}
	s.mu.Unlock()
	return list(s, r, w, docs, func(d map[string]any) string { return strOf(d["id"]) }, 20, 200)
}

func appMatches(a *app, f map[string]string) bool {
	for k, v := range f {
		switch k {
		case "status":
			if a.status() != v {
				return false
			}
		case "name":
			if a.name() != v {
				return false
			}
		case "user.id":
			if _, ok := a.userAssign[v]; !ok {
				return false
			}
		case "group.id":
			if _, ok := a.groupAssign[v]; !ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func (s *Sim) getApp(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderApp(a), nil
}

// createApp serves POST /api/v1/apps for OIDC clients and custom SAML 2.0 apps.
func (s *Sim) createApp(r *http.Request) (int, any, error) {
	doc := map[string]any{}
	if err := decode(r, &doc); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC().Format(time.RFC3339)
	a := &app{
		groupAssign:  map[string]*groupAssignment{},
		userAssign:   map[string]*appUser{},
		custom:       newSchemaProps(),
		pushMappings: map[string]*pushMapping{},
	}
	switch strOf(doc["signOnMode"]) {
	case signOnOIDC:
		if err := s.prepareOIDC(doc, nil); err != nil {
			return 0, nil, err
		}
	case signOnSAML:
		if err := s.prepareSAML(doc, nil); err != nil {
			return 0, nil, err
		}
	case "":
		return 0, nil, errValidation("signOnMode", "signOnMode: The field cannot be left blank")
	default:
		return 0, nil, errValidation("signOnMode",
			fmt.Sprintf("signOnMode: %s apps are not modelled by the simulator", strOf(doc["signOnMode"])))
	}
	doc["id"] = newID("0oa")
	doc["created"] = now
	doc["lastUpdated"] = now
	doc["status"] = "ACTIVE"
	if !queryBool(r, "activate", true) {
		doc["status"] = "INACTIVE"
	}
	if _, ok := doc["visibility"]; !ok {
		doc["visibility"] = map[string]any{
			"autoSubmitToolbar": false,
			"hide":              map[string]any{"iOS": false, "web": false},
		}
	}
	if _, ok := doc["accessibility"]; !ok {
		doc["accessibility"] = map[string]any{"selfService": false}
	}
	doc["features"] = []any{}
	a.doc = doc
	a.order = s.nextOrder()
	if a.signOnMode() == signOnOIDC {
		s.initOIDCSecrets(a)
	}
	s.apps[a.id()] = a
	s.createAppMappings(a)
	return http.StatusOK, s.renderApp(a), nil
}

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// prepareSAML validates a custom SAML app and fills what Okta assigns. old is the stored
// app on update, nil on create.
func (s *Sim) prepareSAML(doc map[string]any, old *app) error {
	var causes []string
	label := strings.TrimSpace(strOf(doc["label"]))
	if label == "" {
		causes = append(causes, "label: The field cannot be left blank")
	}
	name := strOf(doc["name"])
	switch {
	case old == nil && name != "":
		causes = append(causes, "name: A custom SAML 2.0 app takes a label; Okta assigns its name")
	case old != nil && name != "" && name != old.name():
		causes = append(causes, "name: The name of an app cannot be changed")
	}
	signOn := objOf(path(doc, "settings", "signOn"))
	if strOf(signOn["ssoAcsUrl"]) == "" {
		causes = append(causes, "ssoAcsUrl: The field cannot be left blank")
	}
	if strOf(signOn["audience"]) == "" {
		causes = append(causes, "audience: The field cannot be left blank")
	}
	if len(causes) > 0 {
		return errValidation("app", causes...)
	}
	if old != nil {
		doc["name"] = old.name()
		return nil
	}
	base := nonAlnum.ReplaceAllString(strings.ToLower(s.orgName), "") + "_" +
		nonAlnum.ReplaceAllString(strings.ToLower(label), "")
	n := 1
	for s.appNameTaken(fmt.Sprintf("%s_%d", base, n)) {
		n++
	}
	doc["name"] = fmt.Sprintf("%s_%d", base, n)
	return nil
}

func (s *Sim) appNameTaken(name string) bool {
	for _, a := range s.apps {
		if a.name() == name {
			return true
		}
	}
	return false
}

// Grant types and their rules for OIDC clients.
var (
	knownGrants = []string{"authorization_code", "refresh_token", "implicit", "password",
		"client_credentials", "urn:ietf:params:oauth:grant-type:device_code",
		"urn:ietf:params:oauth:grant-type:token-exchange", "interaction_code"}
	knownAppTypes = []string{"web", "native", "browser", "service"}
)

// prepareOIDC validates an OIDC client as Okta does: the web type needs authorization_code,
// refresh_token needs a redirect-based grant, redirect URIs with authorization_code, and
// response types that fit the grants.
func (s *Sim) prepareOIDC(doc map[string]any, old *app) error {
	var causes []string
	if strings.TrimSpace(strOf(doc["label"])) == "" {
		causes = append(causes, "label: The field cannot be left blank")
	}
	if name := strOf(doc["name"]); name != "" && name != "oidc_client" {
		causes = append(causes, "name: An OpenID Connect app is named oidc_client")
	}
	doc["name"] = "oidc_client"
	oc := objOf(path(doc, "settings", "oauthClient"))
	if oc == nil {
		return errValidation("settings", "settings.oauthClient: The field cannot be left blank")
	}
	appType := strOf(oc["application_type"])
	if !contains(knownAppTypes, appType) {
		causes = append(causes, fmt.Sprintf("application_type: %q is not one of %s",
			appType, strings.Join(knownAppTypes, ", ")))
	}
	grants := strList(oc["grant_types"])
	if len(grants) == 0 {
		grants = []string{"authorization_code"}
		oc["grant_types"] = anyList(grants)
	}
	causes = append(causes, grantCauses(appType, grants)...)
	causes = append(causes, redirectCauses(oc, grants)...)
	causes = append(causes, authMethodCauses(doc, oc, appType)...)
	if len(causes) > 0 {
		return errValidation("app", causes...)
	}
	cred := objOf(path(doc, "credentials", "oauthClient"))
	if old != nil {
		cred["client_id"] = old.clientID()
		return nil
	}
	if strOf(cred["client_id"]) == "" {
		cred["client_id"] = newID("0oa")
	}
	if s.clientIDTaken(strOf(cred["client_id"])) {
		return errValidation("app", "client_id: An object with this field already exists")
	}
	if _, ok := cred["autoKeyRotation"]; !ok {
		cred["autoKeyRotation"] = true
	}
	return nil
}

// grantCauses checks the grant types against each other and the application type.
func grantCauses(appType string, grants []string) []string {
	var causes []string
	for _, g := range grants {
		if !contains(knownGrants, g) {
			causes = append(causes, fmt.Sprintf("grant_types: %q is not a valid grant type", g))
		}
	}
	switch {
	case appType == "web" && !contains(grants, "authorization_code"):
		causes = append(causes, "grant_types: Web applications must include the authorization_code grant type")
	case appType == "service" && (len(grants) != 1 || grants[0] != "client_credentials"):
		causes = append(causes, "grant_types: Service applications only support the client_credentials grant type")
	}
	redirectBased := contains(grants, "authorization_code") || contains(grants, "password") ||
		contains(grants, "urn:ietf:params:oauth:grant-type:device_code")
	if contains(grants, "refresh_token") && !redirectBased {
		causes = append(causes, "grant_types: refresh_token requires authorization_code, password or device_code")
	}
	return causes
}

// redirectCauses checks redirect URIs and response types; it fills the default response type.
func redirectCauses(oc map[string]any, grants []string) []string {
	var causes []string
	code := contains(grants, "authorization_code")
	redirects := strList(oc["redirect_uris"])
	if (code || contains(grants, "implicit")) && len(redirects) == 0 {
		causes = append(causes, "redirect_uris: The field cannot be left blank "+
			"when the authorization_code or implicit grant is used")
	}
	for _, u := range redirects {
		if !strings.Contains(u, "://") {
			causes = append(causes, fmt.Sprintf("redirect_uris: %q is not a valid URI", u))
		}
	}
	responses := strList(oc["response_types"])
	if len(responses) == 0 && code {
		responses = []string{"code"}
		oc["response_types"] = anyList(responses)
	}
	if code && !contains(responses, "code") {
		causes = append(causes, "response_types: The authorization_code grant requires the code response type")
	}
	return causes
}

// authMethodCauses checks the token endpoint auth method; it fills Okta's default.
func authMethodCauses(doc, oc map[string]any, appType string) []string {
	cred := ensure(ensure(doc, "credentials"), "oauthClient")
	method := strOf(cred["token_endpoint_auth_method"])
	if method == "" {
		method = "client_secret_basic"
		if appType == "browser" || appType == "native" {
			method = "none"
		}
		cred["token_endpoint_auth_method"] = method
	}
	switch method {
	case "client_secret_basic", "client_secret_post", "client_secret_jwt", "none":
		return nil
	case "private_key_jwt":
		if len(asSlice(path(oc, "jwks", "keys"))) == 0 {
			return []string{"jwks: private_key_jwt requires at least one public key in settings.oauthClient.jwks"}
		}
		return nil
	default:
		return []string{fmt.Sprintf("token_endpoint_auth_method: %q is not supported", method)}
	}
}

func asSlice(v any) []any {
	arr, _ := v.([]any)
	return arr
}

func (s *Sim) clientIDTaken(id string) bool {
	for _, a := range s.apps {
		if a.clientID() == id {
			return true
		}
	}
	return false
}

// appByClientID finds an OIDC app by client id; callers hold s.mu.
func (s *Sim) appByClientID(id string) *app {
	for _, a := range s.apps {
		if a.signOnMode() == signOnOIDC && a.clientID() == id {
			return a
		}
	}
	return nil
}

// updateApp serves PUT /api/v1/apps/{appId}: a full replace that keeps what Okta owns.
func (s *Sim) updateApp(r *http.Request) (int, any, error) {
	doc := map[string]any{}
	if err := decode(r, &doc); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return 0, nil, err
	}
	if mode := strOf(doc["signOnMode"]); mode != "" && mode != a.signOnMode() {
		return 0, nil, errValidation("signOnMode", "signOnMode: The sign-on mode of an app cannot be changed")
	}
	doc["signOnMode"] = a.signOnMode()
	switch a.signOnMode() {
	case signOnOIDC:
		err = s.prepareOIDC(doc, a)
	default:
		err = s.prepareSAML(doc, a)
	}
	if err != nil {
		return 0, nil, err
	}
	for _, k := range []string{"id", "created", "status"} {
		doc[k] = a.doc[k]
	}
	if a.signOnMode() == signOnOIDC {
		cred := objOf(path(doc, "credentials", "oauthClient"))
		cred["client_secret"] = path(a.doc, "credentials", "oauthClient", "client_secret")
	}
	doc["lastUpdated"] = s.now().UTC().Format(time.RFC3339)
	delete(doc, "_links")
	delete(doc, "_embedded")
	a.doc = doc
	return http.StatusOK, s.renderApp(a), nil
}

// deleteApp serves DELETE /api/v1/apps/{appId}; an ACTIVE app must be deactivated first.
func (s *Sim) deleteApp(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return 0, nil, err
	}
	if a.status() == "ACTIVE" {
		return 0, nil, newAPIError(http.StatusForbidden, CodeDeleteAppActive, "Delete application forbidden.",
			"Application must be deactivated before it can be deleted")
	}
	delete(s.apps, a.id())
	for id, m := range s.mappings {
		if m.sourceID == a.id() || m.targetID == a.id() {
			delete(s.mappings, id)
		}
	}
	for _, srv := range s.servers {
		srv.forgetClient(a.clientID())
	}
	return http.StatusNoContent, nil, nil
}

func (s *Sim) appLifecycle(status string) apiFunc {
	return func(r *http.Request) (int, any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		a, err := s.lookupApp(r.PathValue("appId"))
		if err != nil {
			return 0, nil, err
		}
		a.doc["status"] = status
		a.doc["lastUpdated"] = s.now().UTC().Format(time.RFC3339)
		if status != "ACTIVE" {
			s.revokeAccessTokens(a)
		}
		return http.StatusOK, map[string]any{}, nil
	}
}
