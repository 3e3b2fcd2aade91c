package scimconfig

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// ErrInvalid is wrapped by every configuration error, which names the offending key.
var ErrInvalid = errors.New("invalid configuration")

// agencyIDPattern keeps the agency id safe as a URL path segment.
var agencyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Load reads, defaults and validates the configuration file at path. Unknown keys are errors,
// so a misspelt key is not silently ignored.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
	}
	if c.DatabaseURLEnv != "" {
		c.Database = os.Getenv(c.DatabaseURLEnv)
		if c.Database == "" {
			return nil, invalid("databaseURLEnv", "names the environment variable %s, which is empty or unset",
				c.DatabaseURLEnv)
		}
	}
	c.Default()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.TLS.CertFile != "" {
		if _, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile); err != nil {
			return nil, invalid("tls", "%v", err)
		}
	}
	return c, nil
}

// decode reads the YAML file into a Config. Keys match exactly, case included, as in every
// Kubernetes object: a key that differs in case from a known one is an unknown key, and so is
// a key given twice.
func decode(data []byte) (*Config, error) {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		// The YAML parser lists its errors one per line; the configuration error is one line.
		return nil, errors.New(strings.Join(strings.Fields(err.Error()), " "))
	}
	var c Config
	strict, err := kjson.UnmarshalStrict(js, &c)
	if err != nil {
		return nil, err
	}
	if len(strict) > 0 {
		return nil, strict[0]
	}
	return &c, nil
}

// Default fills the keys left out with their documented defaults.
func (c *Config) Default() {
	setDefault(&c.SyncMode, SyncModeUsersOnly)
	setDefault(&c.Audience, DefaultAudience)
	setDefault(&c.ListenAddress, DefaultListenAddress)
	setDefault(&c.MetricsAddress, DefaultMetricsAddress)
	setDefault(&c.ExtensionSchema, DefaultExtensionSchema)
	setDefault(&c.DefaultLanguage, DefaultLanguage)
}

func setDefault(field *string, value string) {
	if *field == "" {
		*field = value
	}
}

// Validate checks a defaulted configuration. The error names the first bad key and says what
// is wrong with it, on one line.
func (c *Config) Validate() error {
	if c.AgencyID == "" {
		return invalid("agencyID", "is required")
	}
	if !agencyIDPattern.MatchString(c.AgencyID) {
		return invalid("agencyID", "must be 1 to 128 letters, digits, '.', '_' or '-', "+
			"starting with a letter or digit (got %q)", c.AgencyID)
	}
	if _, err := ParseOrgURL(c.OktaOrgURL); err != nil {
		return invalid("oktaOrgURL", "%v", err)
	}
	if c.SyncMode != SyncModeUsersOnly && c.SyncMode != SyncModeUsersAndGroups {
		return invalid("syncMode", "must be %s or %s (got %q)", SyncModeUsersOnly, SyncModeUsersAndGroups, c.SyncMode)
	}
	for _, a := range []struct{ key, value string }{
		{"listenAddress", c.ListenAddress}, {"metricsAddress", c.MetricsAddress},
	} {
		if _, _, err := net.SplitHostPort(a.value); err != nil {
			return invalid(a.key, "must be host:port or :port (got %q)", a.value)
		}
	}
	if c.ListenAddress == c.MetricsAddress {
		return invalid("metricsAddress", "must differ from listenAddress (%q)", c.ListenAddress)
	}
	if err := validateDatabase(c.Database); err != nil {
		return err
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return invalid("tls", "certFile and keyFile must be set together")
	}
	if !strings.HasPrefix(c.ExtensionSchema, "urn:") || strings.ContainsAny(c.ExtensionSchema, " \t\"") {
		return invalid("extensionSchema", "must be a URN (got %q)", c.ExtensionSchema)
	}
	for _, l := range []struct {
		key   string
		names []string
	}{
		{"ranks", c.Ranks}, {"roles", c.Roles}, {"evidenceGroups", c.EvidenceGroups},
		{"userGroups", c.UserGroups}, {"commandHierarchy", c.CommandHierarchy}, {"clientIDs", c.ClientIDs},
	} {
		if err := validateNames(l.key, l.names); err != nil {
			return err
		}
	}
	return nil
}

func validateDatabase(db string) error {
	switch {
	case strings.HasPrefix(db, "sqlite://"):
		if strings.TrimPrefix(db, "sqlite://") == "" {
			return invalid("database", "sqlite:// needs a file path, as in sqlite:///var/lib/scim/scim.db")
		}
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		if _, err := url.Parse(db); err != nil {
			return invalid("database", "is not a valid postgres URL")
		}
	case db == "":
		return invalid("database", "is required: sqlite:///path/to/file.db or postgres://user@host:5432/db")
	default:
		return invalid("database", "must start with sqlite:// or postgres://")
	}
	return nil
}

func validateNames(key string, names []string) error {
	seen := map[string]bool{}
	for i, n := range names {
		if strings.TrimSpace(n) == "" {
			return invalid(fmt.Sprintf("%s[%d]", key, i), "must not be empty")
		}
		if seen[strings.ToLower(n)] {
			return invalid(fmt.Sprintf("%s[%d]", key, i), "duplicates %q", n)
		}
		seen[strings.ToLower(n)] = true
	}
	return nil
}

func invalid(key, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, args...))
}

// ParseOrgURL parses an Okta org URL and returns it in canonical form (lower-case scheme and
// host, no trailing slash). It must be https, or http on a loopback host, with no path beyond
// "/", no user info, query or fragment.
func ParseOrgURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("must be an absolute URL such as https://example.okta.com (got %q)", raw)
	}
	if u.User != nil {
		// The URL itself is not repeated: its user info may be a password.
		return nil, errors.New("must not carry a user name or password: give the org's base URL only")
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("must be https, or http on a loopback host (got %q)", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("must be the org's base URL with no path, query or fragment (got %q)", raw)
	}
	u.Path, u.RawPath, u.ForceQuery = "", "", false
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
