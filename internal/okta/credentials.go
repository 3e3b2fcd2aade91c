package okta

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Keys of the credentials Secret that spec.okta.credentialsSecretRef names. Either apiToken,
// or clientId + privateKey (+ keyId, scopes) for an OAuth service app.
const (
	SecretKeyAPIToken   = "apiToken"
	SecretKeyClientID   = "clientID"
	SecretKeyPrivateKey = "privateKey"
	SecretKeyKeyID      = "keyID"
	SecretKeyScopes     = "scopes"
)

// DefaultScopes are the OAuth scopes a service app asks for when the Secret names none: what
// the operator's steps need and nothing more.
var DefaultScopes = []string{
	"okta.apps.manage",
	"okta.authorizationServers.manage",
	"okta.schemas.manage",
	"okta.profileMappings.manage",
	"okta.groups.read",
	"okta.userTypes.read",
}

// ErrInvalidConfig is returned when the org URL or the credentials Secret cannot be used.
var ErrInvalidConfig = errors.New("invalid okta configuration")

// Credentials say which org to call and how to authenticate. Exactly one of APIToken or
// (ClientID, PrivateKey) is set.
type Credentials struct {
	OrgURL     string
	APIToken   string
	ClientID   string
	PrivateKey string
	KeyID      string
	Scopes     []string
}

// Mode names the authentication mode for messages: "API token" or "OAuth service app".
func (c Credentials) Mode() string {
	if c.APIToken != "" {
		return "API token"
	}
	return "OAuth service app"
}

// CredentialsFromSecret reads the credentials Secret's data for the org at orgURL.
func CredentialsFromSecret(orgURL string, data map[string][]byte) (Credentials, error) {
	c := Credentials{
		OrgURL:     strings.TrimRight(orgURL, "/"),
		APIToken:   strings.TrimSpace(string(data[SecretKeyAPIToken])),
		ClientID:   strings.TrimSpace(string(data[SecretKeyClientID])),
		PrivateKey: string(data[SecretKeyPrivateKey]),
		KeyID:      strings.TrimSpace(string(data[SecretKeyKeyID])),
		Scopes:     strings.Fields(string(data[SecretKeyScopes])),
	}
	if len(c.Scopes) == 0 {
		c.Scopes = DefaultScopes
	}
	return c, c.Validate()
}

// Validate checks the org URL (https, or http on a loopback host) and that one complete set of
// credentials is present. Its messages never include a credential.
func (c Credentials) Validate() error {
	if _, err := ParseOrgURL(c.OrgURL); err != nil {
		return err
	}
	hasToken := c.APIToken != ""
	hasApp := c.ClientID != "" || c.PrivateKey != ""
	switch {
	case hasToken && hasApp:
		return fmt.Errorf("%w: the Secret holds both %s and %s/%s; keep one",
			ErrInvalidConfig, SecretKeyAPIToken, SecretKeyClientID, SecretKeyPrivateKey)
	case hasToken:
		return nil
	case c.ClientID == "" || c.PrivateKey == "":
		return fmt.Errorf("%w: the Secret needs %s, or both %s and %s",
			ErrInvalidConfig, SecretKeyAPIToken, SecretKeyClientID, SecretKeyPrivateKey)
	}
	return nil
}

// ParseOrgURL accepts https org URLs, and http ones only on loopback hosts (local runs).
func ParseOrgURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: org URL %q is not an absolute URL", ErrInvalidConfig, raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("%w: org URL %q must use https", ErrInvalidConfig, raw)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("%w: org URL %q must not have a path", ErrInvalidConfig, raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
