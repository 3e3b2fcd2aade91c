package oktasim

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// scopeGrant is an Okta API scope granted to a service app.
type scopeGrant struct {
	ID      string `json:"id"`
	Issuer  string `json:"issuer"`
	ScopeID string `json:"scopeId"`
	Status  string `json:"status"`
	Created string `json:"created"`
}

// orgTokenLifetime is the lifetime of org authorization server access tokens.
const orgTokenLifetime = time.Hour

func (s *Sim) grantRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/apps/{appId}/grants", s.api("okta.appGrants.read", s.listGrants))
	mux.Handle("POST /api/v1/apps/{appId}/grants", s.api("okta.appGrants.manage", s.createGrant))
}

func (s *Sim) listGrants(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return 0, nil, err
	}
	out := []*scopeGrant{}
	out = append(out, a.grants...)
	return http.StatusOK, out, nil
}

func (s *Sim) createGrant(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return 0, nil, err
	}
	g, err := s.grantScope(a, strOf(body["issuer"]), strOf(body["scopeId"]))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, g, nil
}

// grantScope grants an okta.* scope to an app; callers hold s.mu.
func (s *Sim) grantScope(a *app, issuer, scope string) (*scopeGrant, error) {
	if issuer != s.URL() {
		return nil, errValidation("grant", "issuer: must be the org URL "+s.URL())
	}
	if !strings.HasPrefix(scope, "okta.") {
		return nil, errValidation("grant", fmt.Sprintf("scopeId: %q is not an Okta API scope", scope))
	}
	for _, g := range a.grants {
		if g.ScopeID == scope {
			return g, nil
		}
	}
	g := &scopeGrant{ID: newID("oag"), Issuer: issuer, ScopeID: scope, Status: "ACTIVE",
		Created: s.now().UTC().Format(time.RFC3339)}
	a.grants = append(a.grants, g)
	return g, nil
}

// orgTokenEndpoint serves the org authorization server's client_credentials grant for
// service apps authenticating with private_key_jwt, as the SDK's PrivateKey mode does. The
// SDK sends its parameters in the query string, so both query and body are read.
func (s *Sim) orgTokenEndpoint(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(
			w,
			newOAuthError(http.StatusBadRequest, "invalid_request", "The request is not a valid form."),
		)
		return
	}
	if g := r.Form.Get("grant_type"); g != "client_credentials" {
		writeOAuthError(w, newOAuthError(http.StatusBadRequest, "unsupported_grant_type",
			"The org authorization server serves only client_credentials for service apps."))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.clientAssertion(r.Form.Get("client_assertion_type"), r.Form.Get("client_assertion"))
	if err != nil {
		writeOAuthError(w, err)
		return
	}
	scopes := strings.Fields(r.Form.Get("scope"))
	var missing []string
	for _, sc := range scopes {
		granted := false
		for _, g := range a.grants {
			granted = granted || (g.ScopeID == sc && g.Status == "ACTIVE")
		}
		if !granted {
			missing = append(missing, sc)
		}
	}
	if len(scopes) == 0 || len(missing) > 0 {
		writeOAuthError(w, newOAuthError(http.StatusBadRequest, "invalid_scope",
			"The following scopes are not granted to the client: "+strings.Join(missing, " ")))
		return
	}
	now := s.now()
	jti := "AT." + randomToken(43)
	at, err := s.orgKeys.sign(
		jwt.MapClaims{"ver": 1, "jti": jti, "iss": s.URL(), "aud": s.URL(),
			"iat": now.Unix(), "exp": now.Add(orgTokenLifetime).Unix(), "cid": a.clientID(), "scp": scopes,
			"sub": a.clientID()},
	)
	if err != nil {
		writeOAuthError(w, err)
		return
	}
	a.accessTokens = append(a.accessTokens, jti)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(
		w,
		http.StatusOK,
		map[string]any{"token_type": "Bearer", "expires_in": int(orgTokenLifetime / time.Second),
			"access_token": at, "scope": strings.Join(scopes, " ")},
	)
}

var errNoKey = errors.New("no public key of the client matches the assertion")

// clientAssertion verifies a private_key_jwt client assertion against the service app's
// registered public keys: iss and sub are the client id, aud is the org token endpoint.
func (s *Sim) clientAssertion(typ, raw string) (*app, error) {
	bad := func(desc string) error { return newOAuthError(http.StatusUnauthorized, "invalid_client", desc) }
	if typ != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || raw == "" {
		return nil, bad(
			"client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer " +
				"with a client_assertion.",
		)
	}
	unverified, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		return nil, bad("The client_assertion is not a valid JWT.")
	}
	claims, _ := unverified.Claims.(jwt.MapClaims)
	clientID := strOf(claims["iss"])
	a := s.appByClientID(clientID)
	if a == nil || a.status() != "ACTIVE" ||
		strOf(path(a.doc, "credentials", "oauthClient", "token_endpoint_auth_method")) != "private_key_jwt" {
		return nil, bad("The client_id in the client_assertion is not a private_key_jwt client.")
	}
	verified := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(raw, verified, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		for _, k := range asSlice(path(a.oauthSettings(), "jwks", "keys")) {
			pub, keyID, err := parseJWK(objOf(k))
			if err == nil && (kid == "" || keyID == "" || kid == keyID) {
				return pub, nil
			}
		}
		return nil, errNoKey
	}, jwt.WithValidMethods([]string{"RS256", "RS384", "RS512"}), jwt.WithTimeFunc(s.now),
		jwt.WithAudience(s.URL()+"/oauth2/v1/token"), jwt.WithIssuer(clientID), jwt.WithSubject(clientID),
		jwt.WithExpirationRequired())
	if err != nil {
		return nil, bad("The client_assertion signature or claims are invalid: " + err.Error())
	}
	return a, nil
}
