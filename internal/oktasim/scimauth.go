package oktasim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token fault kinds: what the engine's next pushes carry instead of a good access token.
const (
	// TokenExpired is a token of the right issuer and key whose exp is in the past.
	TokenExpired = "expired"
	// TokenForeignIssuer is a token from another org's authorization server, signed by a
	// key that org's JWKS would hold.
	TokenForeignIssuer = "foreign_issuer"
	// TokenWrongAudience is a good token with aud api://other.
	TokenWrongAudience = "wrong_audience"
	// TokenBadSignature carries the active kid but is signed by another key.
	TokenBadSignature = "bad_signature"
)

// ForeignIssuer is the issuer of TokenForeignIssuer tokens; the host is reserved and never
// resolved.
const ForeignIssuer = "https://foreign-org.oktasim.invalid/oauth2/default"

// TokenFault makes the next Count SCIM requests (0: until cleared) carry a bad token.
type TokenFault struct {
	Kind  string `json:"kind"`
	Count int    `json:"count,omitempty"`
	Hits  int    `json:"hits"`
}

// InjectTokenFault queues a token fault for the provisioning engine.
func (s *Sim) InjectTokenFault(f TokenFault) error {
	switch f.Kind {
	case TokenExpired, TokenForeignIssuer, TokenWrongAudience, TokenBadSignature:
	default:
		return fmt.Errorf("unknown token fault %q", f.Kind)
	}
	e := s.engine
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &f)
	return nil
}

// ClearTokenFaults removes every token fault.
func (s *Sim) ClearTokenFaults() {
	e := s.engine
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

func (e *engine) takeTokenFault() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.faults) == 0 {
		return ""
	}
	f := e.faults[0]
	f.Hits++
	if f.Count > 0 && f.Hits >= f.Count {
		e.faults = e.faults[1:]
	}
	return f.Kind
}

// bearer returns the access token for the app's next SCIM request, refreshing it with the
// refresh token when it has expired, or a faulty token when a token fault is queued.
func (e *engine) bearer(ctx context.Context, appID string) (string, string, error) {
	s := e.s
	e.mu.Lock()
	tok := e.tokens[appID]
	e.mu.Unlock()
	if tok == nil {
		return "", "", errNotConnected
	}
	if !s.now().Before(tok.expires.Add(-30 * time.Second)) {
		s.mu.Lock()
		p := *s.apps[appID].provisioning
		s.mu.Unlock()
		fresh, err := s.tokenRequest(
			ctx,
			p,
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.refresh},
				"scope": {p.scope()}},
		)
		if err != nil {
			return "", "", fmt.Errorf("refresh the access token: %w", err)
		}
		if fresh.refresh == "" {
			fresh.refresh = tok.refresh
		}
		e.mu.Lock()
		e.tokens[appID] = fresh
		e.mu.Unlock()
		tok = fresh
	}
	kind := e.takeTokenFault()
	if kind == "" {
		return tok.access, "", nil
	}
	bad, err := s.faultyToken(tok.access, kind)
	return bad, kind, err
}

// faultyToken derives a bad token from a good one.
func (s *Sim) faultyToken(good, kind string) (string, error) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(good, claims); err != nil {
		return "", fmt.Errorf("read access token: %w", err)
	}
	s.mu.Lock()
	srv := s.servers["default"]
	s.mu.Unlock()
	now := s.now()
	claims["jti"] = "AT." + randomToken(43)
	switch kind {
	case TokenExpired:
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		return srv.keys.sign(claims)
	case TokenWrongAudience:
		claims["aud"] = "api://other"
		return srv.keys.sign(claims)
	}
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	k := &signingKey{kid: randomToken(43), private: priv}
	if kind == TokenBadSignature {
		k.kid = srv.keys.active().kid
	} else {
		claims["iss"] = ForeignIssuer
	}
	return signWith(k, claims)
}

func (p Provisioning) scope() string {
	if p.Scope == "" {
		return "openid profile offline_access"
	}
	return p.Scope
}

func (p Provisioning) serverID() string {
	if p.AuthorizationServerID == "" {
		return "default"
	}
	return p.AuthorizationServerID
}

// tokenRequest calls the org's own token endpoint over HTTP with the OIDC app's credentials
// (client_secret_basic, or client_secret_post when the client is set up for it).
func (s *Sim) tokenRequest(ctx context.Context, p Provisioning, form url.Values) (*scimToken, error) {
	s.mu.Lock()
	method := "client_secret_basic"
	if a := s.appByClientID(p.ClientID); a != nil {
		method = strOf(path(a.doc, "credentials", "oauthClient", "token_endpoint_auth_method"))
	}
	s.mu.Unlock()
	if method == "client_secret_post" {
		form.Set("client_id", p.ClientID)
		form.Set("client_secret", p.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/oauth2/"+p.serverID()+"/v1/token",
		strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("build token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if method != "client_secret_post" {
		req.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret))
	}
	resp, err := s.engine.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Access      string `json:"access_token"`
		Refresh     string `json:"refresh_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf(
			"token endpoint answered %d: %s",
			resp.StatusCode,
			strings.TrimSpace(string(raw)),
		)
	}
	if resp.StatusCode != http.StatusOK || body.Access == "" {
		return nil, fmt.Errorf(
			"token endpoint answered %d %s: %s",
			resp.StatusCode,
			body.Error,
			body.Description,
		)
	}
	return &scimToken{access: body.Access, refresh: body.Refresh,
		expires: s.now().Add(time.Duration(body.ExpiresIn) * time.Second)}, nil
}

// redirectURI is the callback Okta registers for a custom app's OAuth connector.
func (p Provisioning) redirectURI(appName string) string {
	if p.RedirectURI != "" {
		return p.RedirectURI
	}
	return "https://system-admin.okta.com/admin/app/cpc/" + appName + "/oauth/callback"
}

// authenticate runs "Authenticate with OAuth": the authorization code flow at the org's
// own authorization server with the connector's redirect URI, then the code exchange.
func (s *Sim) authenticate(ctx context.Context, appName string, p Provisioning) (*scimToken, error) {
	state := randomToken(16)
	q := url.Values{
		"client_id":     {p.ClientID},
		"redirect_uri":  {p.redirectURI(appName)},
		"response_type": {"code"},
		"scope":         {p.scope()},
		"state":         {state},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		s.URL()+"/oauth2/"+p.serverID()+"/v1/authorize?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("build authorize request: %w", err)
	}
	resp, err := s.engine.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("authorize request: %w", err)
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf(
			"authorize endpoint answered %d: %s",
			resp.StatusCode,
			strings.TrimSpace(string(raw)),
		)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, fmt.Errorf("authorize redirect: %w", err)
	}
	if e := loc.Query().Get("error"); e != "" {
		return nil, fmt.Errorf("authorize endpoint refused: %s: %s", e, loc.Query().Get("error_description"))
	}
	if loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		return nil, fmt.Errorf("authorize redirect carries no code for this request")
	}
	tok, err := s.tokenRequest(ctx, p, url.Values{"grant_type": {"authorization_code"},
		"code": {loc.Query().Get("code")}, "redirect_uri": {p.redirectURI(appName)}})
	if err != nil {
		return nil, err
	}
	if tok.refresh == "" {
		return nil, fmt.Errorf(
			"the token response has no refresh token: the client needs the refresh_token grant " +
				"and the offline_access scope",
		)
	}
	return tok, nil
}

// ConfigureProvisioning is the admin's manual step for a custom SAML app: switch SCIM on,
// set the connector, authenticate with OAuth through the OIDC app and test the connection
// (GET /Users?startIndex=1&count=2). Nothing is saved unless all of it succeeds.
func (s *Sim) ConfigureProvisioning(ctx context.Context, appID string, p Provisioning) error {
	s.mu.Lock()
	a, err := s.lookupApp(appID)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if !a.isCustomSAML() {
		s.mu.Unlock()
		return errValidation(
			"provisioning",
			"SCIM provisioning can be switched on only for a custom SAML 2.0 app here",
		)
	}
	appName := a.name()
	s.mu.Unlock()
	if err := p.validate(); err != nil {
		return err
	}
	tok, err := s.authenticate(ctx, appName, p)
	if err != nil {
		return fmt.Errorf("authenticate with OAuth: %w", err)
	}
	s.mu.Lock()
	prev := a.provisioning
	stored := p
	a.provisioning = &stored
	s.mu.Unlock()
	e := s.engine
	e.mu.Lock()
	prevTok := e.tokens[appID]
	e.tokens[appID] = tok
	e.mu.Unlock()
	_, err = s.scimCall(ctx, appID, "test connection", "", http.MethodGet, "/Users?startIndex=1&count=2", nil)
	if err != nil {
		s.mu.Lock()
		a.provisioning = prev
		s.mu.Unlock()
		e.mu.Lock()
		e.tokens[appID] = prevTok
		e.mu.Unlock()
		return fmt.Errorf("test connection: %w", err)
	}
	return nil
}

func (p *Provisioning) validate() error {
	var causes []string
	u, err := url.Parse(p.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		causes = append(causes, "baseUrl: must be an absolute http(s) URL")
	}
	switch p.UniqueIdentifier {
	case "":
		p.UniqueIdentifier = "userName"
	case "email", "userName":
	default:
		causes = append(causes, "uniqueIdentifier: must be email or userName")
	}
	if p.ClientID == "" || p.ClientSecret == "" {
		causes = append(
			causes,
			"clientId and clientSecret: OAuth 2 needs the OIDC app's client id and secret",
		)
	}
	if len(causes) > 0 {
		return errValidation("provisioning", causes...)
	}
	return nil
}

// ProvisioningOf returns an app's provisioning settings without the client secret, or nil.
func (s *Sim) ProvisioningOf(appID string) *Provisioning {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appID]
	if !ok || a.provisioning == nil {
		return nil
	}
	p := *a.provisioning
	p.ClientSecret = ""
	return &p
}

// SetIssuer overrides the issuer of an authorization server ("default" when serverID is
// empty), as a custom domain would; an empty issuer restores {org}/oauth2/{id}.
func (s *Sim) SetIssuer(serverID, issuer string) error {
	if serverID == "" {
		serverID = "default"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, err := s.lookupAuthServer(serverID)
	if err != nil {
		return err
	}
	srv.issuerOverride = strings.TrimRight(issuer, "/")
	return nil
}

// RotateKeys rotates an authorization server's signing keys ("default" when empty); the
// old key stays published.
func (s *Sim) RotateKeys(serverID string) error {
	if serverID == "" {
		serverID = "default"
	}
	s.mu.Lock()
	srv, err := s.lookupAuthServer(serverID)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := srv.keys.rotate(); err != nil {
		return err
	}
	s.mu.Lock()
	srv.lastRotated = s.now()
	s.mu.Unlock()
	return nil
}
