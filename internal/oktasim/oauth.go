package oktasim

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// authCode is an authorization code waiting for the token request.
type authCode struct {
	clientID, redirectURI, userID, serverID string
	scopes                                  []string
	expires                                 time.Time
}

// refreshGrant is an issued refresh token.
type refreshGrant struct {
	clientID, userID, serverID string
	scopes                     []string
	issued                     time.Time
	lastUsed                   time.Time
	lifetime, window           time.Duration
}

func (s *Sim) oauthRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /oauth2/{server}/.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /oauth2/{server}/.well-known/oauth-authorization-server", s.discovery)
	mux.HandleFunc("GET /oauth2/{server}/v1/keys", s.serverKeys)
	mux.HandleFunc("GET /oauth2/{server}/v1/authorize", s.authorizeEndpoint)
	mux.HandleFunc("POST /oauth2/{server}/v1/token", s.tokenEndpoint)
	mux.HandleFunc("GET /.well-known/openid-configuration", s.orgDiscovery)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.orgDiscovery)
	mux.HandleFunc("GET /oauth2/v1/keys", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"keys": s.orgKeys.jwks()})
	})
	mux.HandleFunc("POST /oauth2/v1/token", s.orgTokenEndpoint)
}

// activeServer finds an ACTIVE authorization server for the OAuth endpoints.
func (s *Sim) activeServer(id string) (*authServer, error) {
	srv, ok := s.servers[id]
	if !ok || srv.Status != "ACTIVE" {
		return nil, errNotFound(id, "AuthorizationServer")
	}
	return srv, nil
}

func (s *Sim) discovery(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	srv, err := s.activeServer(r.PathValue("server"))
	if err != nil {
		s.mu.Unlock()
		writeError(w, err)
		return
	}
	iss := s.issuer(srv)
	scopes := sortedKeys(srv.scopes)
	s.mu.Unlock()
	// Endpoints stay on the org URL so a look-alike issuer is still served locally.
	base := s.URL() + "/oauth2/" + srv.ID + "/v1"
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                 iss,
		"authorization_endpoint": base + "/authorize",
		"token_endpoint":         base + "/token",
		"jwks_uri":               base + "/keys",
		"userinfo_endpoint":      base + "/userinfo",
		"response_types_supported": []string{
			"code",
			"token",
			"id_token",
			"code id_token",
			"code token",
			"id_token token",
			"code id_token token",
		},
		"grant_types_supported": []string{
			"authorization_code",
			"implicit",
			"refresh_token",
			"password",
			"client_credentials",
		},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      scopes,
		"token_endpoint_auth_methods_supported": []string{
			"client_secret_basic",
			"client_secret_post",
			"client_secret_jwt",
			"private_key_jwt",
			"none",
		},
		"code_challenge_methods_supported": []string{"S256"},
	})
}

func (s *Sim) orgDiscovery(w http.ResponseWriter, _ *http.Request) {
	base := s.URL() + "/oauth2/v1"
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.URL(),
		"authorization_endpoint":                base + "/authorize",
		"token_endpoint":                        base + "/token",
		"jwks_uri":                              base + "/keys",
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func (s *Sim) serverKeys(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	srv, err := s.activeServer(r.PathValue("server"))
	s.mu.Unlock()
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "max-age=3600")
	writeJSON(w, http.StatusOK, map[string]any{"keys": srv.keys.jwks()})
}

// authorizeEndpoint plays the admin who signs in and consents: it validates the request
// the way Okta does and redirects with a code for the simulator's admin user.
func (s *Sim) authorizeEndpoint(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, err := s.activeServer(r.PathValue("server"))
	if err != nil {
		writeError(w, err)
		return
	}
	a := s.appByClientID(q.Get("client_id"))
	if a == nil || a.status() != "ACTIVE" {
		writeOAuthError(
			w,
			newOAuthError(
				http.StatusBadRequest,
				"invalid_client",
				"The client_id is not valid or the client is not active.",
			),
		)
		return
	}
	redirect := q.Get("redirect_uri")
	if !contains(strList(a.oauthSettings()["redirect_uris"]), redirect) {
		writeOAuthError(w, newOAuthError(http.StatusBadRequest, "invalid_request",
			"The 'redirect_uri' parameter must be a Login redirect URI in the client app settings."))
		return
	}
	fail := func(code, desc string) {
		u, _ := url.Parse(redirect)
		v := u.Query()
		v.Set("error", code)
		v.Set("error_description", desc)
		v.Set("state", q.Get("state"))
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" || !contains(strList(a.oauthSettings()["response_types"]), "code") {
		fail("unsupported_response_type", "The response type is not supported by the authorization server.")
		return
	}
	if !contains(a.grantTypes(), "authorization_code") {
		fail("unauthorized_client", "The client is not authorized to use the provided grant type.")
		return
	}
	scopes := strings.Fields(q.Get("scope"))
	if len(scopes) == 0 {
		fail("invalid_scope", "The authorization request must include at least one scope.")
		return
	}
	if bad := s.unknownScopes(srv, scopes); len(bad) > 0 {
		fail(
			"invalid_scope",
			"One or more scopes are not configured for the authorization server resource: "+strings.Join(
				bad,
				" ",
			),
		)
		return
	}
	admin := s.adminUser()
	if _, err := s.evaluatePolicy(srv, a.clientID(), "authorization_code", admin.ID, scopes); err != nil {
		fail(
			"access_denied",
			"Policy evaluation failed for this request, please check the policy configurations.",
		)
		return
	}
	code := randomToken(43)
	s.codes[code] = &authCode{clientID: a.clientID(), redirectURI: redirect, userID: admin.ID,
		serverID: srv.ID, scopes: scopes, expires: s.now().Add(time.Minute)}
	u, _ := url.Parse(redirect)
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (s *Sim) unknownScopes(srv *authServer, scopes []string) []string {
	var bad []string
	for _, sc := range scopes {
		if _, ok := srv.scopes[sc]; !ok {
			bad = append(bad, sc)
		}
	}
	return bad
}

// adminUser is the org's super admin, made on first use; callers hold s.mu.
func (s *Sim) adminUser() *user {
	for _, u := range s.users {
		if u.login() == adminLogin {
			return u
		}
	}
	u, err := s.createUser(map[string]any{"login": adminLogin, "email": adminLogin,
		"firstName": "Org", "lastName": "Admin"}, "ACTIVE")
	if err != nil {
		panic(err)
	}
	return u
}

const adminLogin = "admin@oktasim.test"

// evaluatePolicy finds the rule that governs a token request: the first ACTIVE policy (by
// priority) whose clients include the client, then its first ACTIVE rule whose grant types,
// people and scopes match. No match fails the request, as in Okta.
func (s *Sim) evaluatePolicy(
	srv *authServer,
	clientID, grant, userID string,
	scopes []string,
) (map[string]any, error) {
	denied := newOAuthError(http.StatusBadRequest, "access_denied",
		"Policy evaluation failed for this request, please check the policy configurations.")
	for _, p := range srv.policiesInOrder() {
		if strOf(p.doc["status"]) != "ACTIVE" {
			continue
		}
		clients := strList(path(p.doc, "conditions", "clients", "include"))
		if !contains(clients, "ALL_CLIENTS") && !contains(clients, clientID) {
			continue
		}
		for _, rule := range rulesInOrder(p) {
			if strOf(rule["status"]) == "ACTIVE" && s.ruleMatches(rule, grant, userID, scopes) {
				return rule, nil
			}
		}
		return nil, denied
	}
	return nil, denied
}

func (s *Sim) ruleMatches(rule map[string]any, grant, userID string, scopes []string) bool {
	cond := objOf(rule["conditions"])
	if !contains(strList(path(cond, "grantTypes", "include")), grant) {
		return false
	}
	allowed := strList(path(cond, "scopes", "include"))
	if !contains(allowed, "*") {
		for _, sc := range scopes {
			if !contains(allowed, sc) {
				return false
			}
		}
	}
	if userID == "" {
		return true
	}
	groups := strList(path(cond, "people", "groups", "include"))
	users := strList(path(cond, "people", "users", "include"))
	if contains(groups, "EVERYONE") || contains(users, userID) {
		return true
	}
	for _, gid := range groups {
		if g, ok := s.groups[gid]; ok && (g.Members[userID] || g.Type == "BUILT_IN") {
			return true
		}
	}
	return false
}

// tokenEndpoint serves the authorization_code, refresh_token and client_credentials grants
// of a custom authorization server.
func (s *Sim) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(
			w,
			newOAuthError(http.StatusBadRequest, "invalid_request", "The request body is not a valid form."),
		)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, err := s.activeServer(r.PathValue("server"))
	if err != nil {
		writeError(w, err)
		return
	}
	a, err := s.clientAuth(r)
	if err != nil {
		writeOAuthError(w, err)
		return
	}
	grant := r.PostForm.Get("grant_type")
	if !contains(a.grantTypes(), grant) {
		writeOAuthError(w, newOAuthError(
			http.StatusBadRequest,
			"unauthorized_client",
			"The client is not authorized to use the provided grant type. Configured grant types: "+strings.Join(
				a.grantTypes(),
				", ",
			)+".",
		))
		return
	}
	var resp map[string]any
	switch grant {
	case "authorization_code":
		resp, err = s.codeGrant(srv, a, r.PostForm)
	case "refresh_token":
		resp, err = s.refreshTokenGrant(srv, a, r.PostForm)
	case "client_credentials":
		resp, err = s.clientCredentialsGrant(srv, a, r.PostForm)
	default:
		err = newOAuthError(
			http.StatusBadRequest,
			"unsupported_grant_type",
			"The grant type is not supported by the simulator: "+grant,
		)
	}
	if err != nil {
		writeOAuthError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

// clientAuth authenticates a confidential client by client_secret_basic or
// client_secret_post.
func (s *Sim) clientAuth(r *http.Request) (*app, error) {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	invalid := newOAuthError(
		http.StatusUnauthorized,
		"invalid_client",
		"The client secret supplied for a confidential client is invalid.",
	)
	a := s.appByClientID(id)
	if a == nil || a.status() != "ACTIVE" {
		return nil, newOAuthError(
			http.StatusUnauthorized,
			"invalid_client",
			"Client authentication failed. Either the client or the client credentials are invalid.",
		)
	}
	method := strOf(path(a.doc, "credentials", "oauthClient", "token_endpoint_auth_method"))
	if (method == "client_secret_basic" && !basic) || (method == "client_secret_post" && basic) {
		return nil, newOAuthError(http.StatusUnauthorized, "invalid_client",
			"Client authentication failed: the client is configured for "+method+".")
	}
	if !a.checkSecret(secret) {
		return nil, invalid
	}
	return a, nil
}

func (s *Sim) codeGrant(srv *authServer, a *app, form url.Values) (map[string]any, error) {
	code, ok := s.codes[form.Get("code")]
	delete(s.codes, form.Get("code"))
	invalid := newOAuthError(
		http.StatusBadRequest,
		"invalid_grant",
		"The authorization code is invalid or has expired.",
	)
	if !ok || code.clientID != a.clientID() || code.serverID != srv.ID || s.now().After(code.expires) {
		return nil, invalid
	}
	if form.Get("redirect_uri") != code.redirectURI {
		return nil, newOAuthError(
			http.StatusBadRequest,
			"invalid_grant",
			"The 'redirect_uri' does not match the redirection URI used in the authorization request.",
		)
	}
	rule, err := s.evaluatePolicy(srv, a.clientID(), "authorization_code", code.userID, code.scopes)
	if err != nil {
		return nil, err
	}
	return s.issueTokens(srv, a, rule, code.userID, code.scopes, true)
}

func (s *Sim) refreshTokenGrant(srv *authServer, a *app, form url.Values) (map[string]any, error) {
	g, ok := s.refresh[form.Get("refresh_token")]
	invalid := newOAuthError(
		http.StatusBadRequest,
		"invalid_grant",
		"The refresh token is invalid or expired.",
	)
	if !ok || g.clientID != a.clientID() || g.serverID != srv.ID {
		return nil, invalid
	}
	now := s.now()
	if (g.lifetime > 0 && now.After(g.issued.Add(g.lifetime))) || now.After(g.lastUsed.Add(g.window)) {
		delete(s.refresh, form.Get("refresh_token"))
		return nil, invalid
	}
	if u, ok := s.users[g.userID]; !ok || u.Status != "ACTIVE" {
		return nil, invalid
	}
	rule, err := s.evaluatePolicy(srv, a.clientID(), "authorization_code", g.userID, g.scopes)
	if err != nil {
		return nil, err
	}
	g.lastUsed = now
	resp, err := s.issueTokens(srv, a, rule, g.userID, g.scopes, false)
	if err != nil {
		return nil, err
	}
	resp["refresh_token"] = form.Get("refresh_token")
	return resp, nil
}

func (s *Sim) clientCredentialsGrant(srv *authServer, a *app, form url.Values) (map[string]any, error) {
	scopes := strings.Fields(form.Get("scope"))
	if len(scopes) == 0 {
		return nil, newOAuthError(
			http.StatusBadRequest,
			"invalid_scope",
			"The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
		)
	}
	for _, sc := range scopes {
		if contains(systemScopes, sc) {
			return nil, newOAuthError(
				http.StatusBadRequest,
				"invalid_scope",
				"The following scopes are not allowed for the client_credentials grant: "+sc,
			)
		}
	}
	if bad := s.unknownScopes(srv, scopes); len(bad) > 0 {
		return nil, newOAuthError(
			http.StatusBadRequest,
			"invalid_scope",
			"One or more scopes are not configured for the authorization server resource: "+strings.Join(
				bad,
				" ",
			),
		)
	}
	rule, err := s.evaluatePolicy(srv, a.clientID(), "client_credentials", "", scopes)
	if err != nil {
		return nil, err
	}
	return s.issueTokens(srv, a, rule, "", scopes, false)
}

// issueTokens signs an access token with Okta's claims, and an ID token and a refresh token
// when the scopes ask for them.
func (s *Sim) issueTokens(
	srv *authServer,
	a *app,
	rule map[string]any,
	userID string,
	scopes []string,
	newRefresh bool,
) (map[string]any, error) {
	token := objOf(path(rule, "actions", "token"))
	lifetime := time.Duration(numOr(token["accessTokenLifetimeMinutes"], 60)) * time.Minute
	now := s.now()
	claims := s.accessClaims(srv, a.clientID(), userID, scopes, now, lifetime)
	at, err := srv.keys.sign(claims)
	if err != nil {
		return nil, err
	}
	resp := map[string]any{"token_type": "Bearer", "expires_in": int(lifetime / time.Second),
		"access_token": at, "scope": strings.Join(scopes, " ")}
	if userID != "" && contains(scopes, "openid") {
		id, err := srv.keys.sign(
			jwt.MapClaims{"ver": 1, "sub": userID, "iss": s.issuer(srv), "aud": a.clientID(),
				"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "ID." + randomToken(40),
				"amr": []string{"pwd"}, "idp": newID("00o"), "auth_time": now.Unix()},
		)
		if err != nil {
			return nil, err
		}
		resp["id_token"] = id
	}
	if newRefresh && userID != "" && contains(scopes, "offline_access") &&
		contains(a.grantTypes(), "refresh_token") {
		rt := randomToken(43)
		s.refresh[rt] = &refreshGrant{
			clientID: a.clientID(),
			userID:   userID,
			serverID: srv.ID,
			scopes:   scopes,
			issued:   now,
			lastUsed: now,
			lifetime: time.Duration(numOr(token["refreshTokenLifetimeMinutes"], 0)) * time.Minute,
			window: time.Duration(
				numOr(token["refreshTokenWindowMinutes"], defaultRefreshWindow),
			) * time.Minute,
		}
		resp["refresh_token"] = rt
	}
	return resp, nil
}

// accessClaims are the claims of an Okta access token.
func (s *Sim) accessClaims(
	srv *authServer,
	clientID, userID string,
	scopes []string,
	now time.Time,
	lifetime time.Duration,
) jwt.MapClaims {
	claims := jwt.MapClaims{
		"ver": 1, "jti": "AT." + randomToken(43), "iss": s.issuer(srv), "aud": srv.Audiences[0],
		"iat": now.Unix(), "exp": now.Add(lifetime).Unix(), "cid": clientID, "scp": scopes, "sub": clientID,
	}
	if u, ok := s.users[userID]; ok {
		claims["uid"] = u.ID
		claims["sub"] = u.login()
		claims["auth_time"] = now.Unix()
	}
	return claims
}
