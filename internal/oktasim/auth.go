package oktasim

import (
	"fmt"
	"net/http"
	"strings"
)

// authorize checks the Authorization header of a management API call. An SSWS token must be
// one of the org's API tokens, not revoked; a bearer token must come from the org
// authorization server (iss and aud are the org URL), not be revoked, belong to an ACTIVE
// service app, and carry the scope, or the .manage scope of a .read one.
func (s *Sim) authorize(w http.ResponseWriter, r *http.Request, scope string) error {
	h := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	switch {
	case strings.EqualFold(scheme, "SSWS"):
		if s.validAPIToken(token) {
			return nil
		}
		return errInvalidToken()
	case strings.EqualFold(scheme, "Bearer"):
		claims, err := s.orgKeys.verify(token, s.now())
		if err != nil || strOf(claims["iss"]) != s.URL() || strOf(claims["aud"]) != s.URL() ||
			!s.accessTokenValid(strOf(claims["jti"]), strOf(claims["cid"])) {
			return errInvalidToken()
		}
		granted := scopesOf(claims)
		if hasScopes(granted, scope) {
			return nil
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="%s/oauth2/v1/authorize", `+
			`realm="IdpAuthorizationServer", scope="%s", error="insufficient_scope", `+
			`error_description="The access token provided does not contain the required scopes.", resource="%s"`,
			s.URL(), strings.ReplaceAll(scope, "+", " "), r.URL.Path))
		return errForbidden()
	default:
		return errInvalidToken()
	}
}

// hasScopes reports whether granted covers every scope of want ("a+b" needs both).
func hasScopes(granted []string, want string) bool {
	for _, w := range strings.Split(want, "+") {
		if !hasScope(granted, w) {
			return false
		}
	}
	return true
}

// hasScope reports whether granted covers want; a .manage scope covers its .read sibling.
func hasScope(granted []string, want string) bool {
	if contains(granted, want) {
		return true
	}
	if base, ok := strings.CutSuffix(want, ".read"); ok {
		return contains(granted, base+".manage")
	}
	return false
}

func scopesOf(claims map[string]any) []string {
	switch v := claims["scp"].(type) {
	case []any:
		return strList(v)
	case string:
		return strings.Fields(v)
	default:
		return nil
	}
}
