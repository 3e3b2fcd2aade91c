package oktasim

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// apiToken is one SSWS API token of the org. Revoking it removes it: Okta forgets a revoked
// token, and every later request carrying it answers 401 E0000011.
type apiToken struct {
	info  APITokenInfo
	value string
}

// APITokenInfo describes an API token without its value, as GET /api/v1/api-tokens lists it.
type APITokenInfo struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

func (s *Sim) apiTokenRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/api-tokens", s.api("okta.apiTokens.read", s.listAPITokens))
	mux.Handle("DELETE /api/v1/api-tokens/current", s.api("okta.apiTokens.manage", s.revokeCurrentAPIToken))
	mux.Handle("DELETE /api/v1/api-tokens/{tokenId}", s.api("okta.apiTokens.manage", s.revokeAPITokenByID))
}

// addAPIToken records a token. Callers hold s.mu (or own s, in New).
func (s *Sim) addAPIToken(name, value string) APITokenInfo {
	t := &apiToken{info: APITokenInfo{ID: newID("00T"), Name: name, Created: s.now().UTC()}, value: value}
	s.tokens[t.info.ID] = t
	return t.info
}

// IssueAPIToken creates another SSWS API token, as an admin does under Security > API >
// Tokens; it returns the token's description and its value.
func (s *Sim) IssueAPIToken(name string) (APITokenInfo, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	value := "00" + randomToken(40)
	return s.addAPIToken(name, value), value
}

// RevokeAPIToken revokes the API token whose id or value is ref; requests carrying it are
// refused from then on. It fails with a not-found error for an unknown token.
func (s *Sim) RevokeAPIToken(ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if id == ref || t.value == ref {
			delete(s.tokens, id)
			return nil
		}
	}
	return errNotFound("api token", "ApiToken")
}

// APITokens lists the org's API tokens without their values, oldest first.
func (s *Sim) APITokens() []APITokenInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]APITokenInfo, 0, len(s.tokens))
	for _, t := range s.tokens {
		out = append(out, t.info)
	}
	slices.SortFunc(out, func(a, b APITokenInfo) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// validAPIToken reports whether value is a token the org has issued and not revoked.
func (s *Sim) validAPIToken(value string) bool {
	if value == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if t.value == value {
			return true
		}
	}
	return false
}

func (s *Sim) listAPITokens(*http.Request) (int, any, error) {
	return http.StatusOK, s.APITokens(), nil
}

// revokeCurrentAPIToken serves DELETE /api/v1/api-tokens/current: the SSWS token of the request
// revokes itself. A request with an OAuth access token has no API token to revoke.
func (s *Sim) revokeCurrentAPIToken(r *http.Request) (int, any, error) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "SSWS") {
		return 0, nil, errForbidden()
	}
	if err := s.RevokeAPIToken(strings.TrimSpace(token)); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *Sim) revokeAPITokenByID(r *http.Request) (int, any, error) {
	id := r.PathValue("tokenId")
	s.mu.Lock()
	_, ok := s.tokens[id]
	s.mu.Unlock()
	if !ok {
		return 0, nil, errNotFound(id, "ApiToken")
	}
	if err := s.RevokeAPIToken(id); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// revokeAccessTokens invalidates every access token the org authorization server issued to a,
// as Okta does when a service app is deactivated. Callers hold s.mu.
func (s *Sim) revokeAccessTokens(a *app) {
	for _, jti := range a.accessTokens {
		s.revokedJTIs[jti] = true
	}
	a.accessTokens = nil
}

// accessTokenValid reports whether an org access token (already verified) is still honoured:
// not revoked, and its client is an ACTIVE app.
func (s *Sim) accessTokenValid(jti, clientID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revokedJTIs[jti] {
		return false
	}
	a := s.appByClientID(clientID)
	return a != nil && a.status() == "ACTIVE"
}

// handTestClientID is the cid of access tokens minted for hand testing when no client is named.
const handTestClientID = "0oahandtest"

// IssueAccessToken mints an access token of the default authorization server for clientID (a
// made-up client when empty), as Okta issues one to a client through client_credentials: for
// trying a SCIM server by hand without an OAuth exchange. It answers the token and its lifetime.
func (s *Sim) IssueAccessToken(clientID string) (string, time.Duration, error) {
	if clientID == "" {
		clientID = handTestClientID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, err := s.lookupAuthServer("default")
	if err != nil {
		return "", 0, err
	}
	const lifetime = time.Hour
	token, err := srv.keys.sign(s.accessClaims(srv, clientID, "", []string{"scim"}, s.now(), lifetime))
	return token, lifetime, err
}
