package oktasim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"
)

// clientSecret is one of an OIDC client's secrets (at most two, as in Okta).
type clientSecret struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Secret      string `json:"client_secret"`
	Hash        string `json:"secret_hash"`
	Created     string `json:"created"`
	LastUpdated string `json:"lastUpdated"`
}

const maxClientSecrets = 2

func (s *Sim) secretRoutes(mux *http.ServeMux) {
	base := "/api/v1/apps/{appId}/credentials/secrets"
	mux.Handle("GET "+base, s.api("okta.apps.read", s.listSecrets))
	mux.Handle("POST "+base, s.api("okta.apps.manage", s.createSecret))
	mux.Handle("GET "+base+"/{secretId}", s.api("okta.apps.read", s.getSecret))
	mux.Handle("DELETE "+base+"/{secretId}", s.api("okta.apps.manage", s.deleteSecret))
	mux.Handle(
		"POST "+base+"/{secretId}/lifecycle/activate",
		s.api("okta.apps.manage", s.secretLifecycle("ACTIVE")),
	)
	mux.Handle(
		"POST "+base+"/{secretId}/lifecycle/deactivate",
		s.api("okta.apps.manage", s.secretLifecycle("INACTIVE")),
	)
}

func (s *Sim) newSecret(value string) *clientSecret {
	if value == "" {
		value = randomToken(40) + "-" + randomToken(23)
	}
	sum := sha256.Sum256([]byte(value))
	now := s.now().UTC().Format(time.RFC3339)
	return &clientSecret{ID: newID("ocs"), Status: "ACTIVE", Secret: value,
		Hash: base64.RawURLEncoding.EncodeToString(sum[:16]), Created: now, LastUpdated: now}
}

// initOIDCSecrets gives a confidential client its first secret.
func (s *Sim) initOIDCSecrets(a *app) {
	cred := objOf(path(a.doc, "credentials", "oauthClient"))
	switch strOf(cred["token_endpoint_auth_method"]) {
	case "client_secret_basic", "client_secret_post", "client_secret_jwt":
	default:
		return
	}
	sec := s.newSecret(strOf(cred["client_secret"]))
	a.secrets = []*clientSecret{sec}
	a.syncSecret()
}

// syncSecret shows the newest active secret in credentials.oauthClient.client_secret.
func (a *app) syncSecret() {
	cred := objOf(path(a.doc, "credentials", "oauthClient"))
	if cred == nil {
		return
	}
	delete(cred, "client_secret")
	for i := len(a.secrets) - 1; i >= 0; i-- {
		if a.secrets[i].Status == "ACTIVE" {
			cred["client_secret"] = a.secrets[i].Secret
			return
		}
	}
}

// checkSecret reports whether secret matches one of the client's active secrets.
func (a *app) checkSecret(secret string) bool {
	ok := false
	for _, sec := range a.secrets {
		if sec.Status == "ACTIVE" && subtle.ConstantTimeCompare([]byte(sec.Secret), []byte(secret)) == 1 {
			ok = true
		}
	}
	return ok
}

func (s *Sim) secretApp(r *http.Request) (*app, error) {
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return nil, err
	}
	if a.signOnMode() != signOnOIDC {
		return nil, errValidation("client secrets", "Client secrets exist only for OAuth 2.0 clients")
	}
	return a, nil
}

func (s *Sim) listSecrets(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.secretApp(r)
	if err != nil {
		return 0, nil, err
	}
	out := make([]*clientSecret, 0, len(a.secrets))
	out = append(out, a.secrets...)
	return http.StatusOK, out, nil
}

// lookupSecret finds the app and the client secret named in the request path, or returns
// the 404 for whichever is missing; callers hold s.mu.
func (s *Sim) lookupSecret(r *http.Request) (*app, *clientSecret, error) {
	a, err := s.secretApp(r)
	if err != nil {
		return nil, nil, err
	}
	id := r.PathValue("secretId")
	for _, sec := range a.secrets {
		if sec.ID == id {
			return a, sec, nil
		}
	}
	return nil, nil, errNotFound(id, "ClientSecret")
}

func (s *Sim) getSecret(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, sec, err := s.lookupSecret(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sec, nil
}

func (s *Sim) createSecret(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if r.ContentLength != 0 {
		if err := decode(r, &body); err != nil {
			return 0, nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.secretApp(r)
	if err != nil {
		return 0, nil, err
	}
	if len(a.secrets) >= maxClientSecrets {
		return 0, nil, errValidation(
			"client_secret",
			"client_secret: You can't have more than two client secrets; delete an inactive one first",
		)
	}
	value := strOf(body["client_secret"])
	if value != "" && len(value) < 14 {
		return 0, nil, errValidation(
			"client_secret",
			"client_secret: A client secret must be at least 14 characters long",
		)
	}
	sec := s.newSecret(value)
	a.secrets = append(a.secrets, sec)
	a.syncSecret()
	return http.StatusCreated, sec, nil
}

func (s *Sim) deleteSecret(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, sec, err := s.lookupSecret(r)
	if err != nil {
		return 0, nil, err
	}
	if sec.Status == "ACTIVE" {
		return 0, nil, errValidation(
			"client_secret",
			"client_secret: Only an inactive client secret can be deleted",
		)
	}
	a.secrets = removeSecret(a.secrets, sec.ID)
	return http.StatusNoContent, nil, nil
}

func removeSecret(list []*clientSecret, id string) []*clientSecret {
	out := list[:0]
	for _, sec := range list {
		if sec.ID != id {
			out = append(out, sec)
		}
	}
	return out
}

func (s *Sim) secretLifecycle(status string) apiFunc {
	return func(r *http.Request) (int, any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		a, sec, err := s.lookupSecret(r)
		if err != nil {
			return 0, nil, err
		}
		if status == "INACTIVE" && sec.Status == "ACTIVE" && a.activeSecrets() == 1 {
			return 0, nil, errValidation(
				"client_secret",
				"client_secret: The only active client secret cannot be deactivated",
			)
		}
		sec.Status = status
		sec.LastUpdated = s.now().UTC().Format(time.RFC3339)
		a.syncSecret()
		return http.StatusOK, sec, nil
	}
}

func (a *app) activeSecrets() int {
	n := 0
	for _, sec := range a.secrets {
		if sec.Status == "ACTIVE" {
			n++
		}
	}
	return n
}
