package filter

import (
	"slices"
	"strings"
)

// Schema URNs known without being told. The agency's extension URN is the configured default;
// pass another with WithSchemas.
const (
	UserSchema           = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	AxonExtensionSchema  = "urn:ietf:params:scim:schemas:extension:2.0:axon"
)

// DefaultSchemas are the URNs every parse knows.
var DefaultSchemas = []string{UserSchema, GroupSchema, EnterpriseUserSchema, AxonExtensionSchema}

// Option changes how Parse and ParsePath work.
type Option func(*config)

type config struct {
	schemas []string
	// sorted is true while schemas is in matching order (longest first).
	sorted bool
}

// WithSchemas adds schema URNs that qualified paths are matched against, longest first.
func WithSchemas(urns ...string) Option {
	return func(c *config) {
		if len(urns) == 0 {
			return
		}
		// schemas is always clipped, so this append copies and never writes to a shared list.
		c.schemas = append(c.schemas, urns...)
		c.sorted = false
	}
}

// Prepared returns one Option that does what opts do, with the schema list merged and sorted
// once here instead of on every Parse. Servers that parse with the same options on every
// request prepare them at start.
func Prepared(opts ...Option) Option {
	schemas := slices.Clip(newConfig(opts).schemas)
	return func(c *config) {
		c.schemas = schemas
		c.sorted = true
	}
}

// defaultSchemas is DefaultSchemas in matching order.
var defaultSchemas = sortSchemas(slices.Clone(DefaultSchemas))

func sortSchemas(urns []string) []string {
	slices.SortStableFunc(urns, func(a, b string) int { return len(b) - len(a) })
	return urns
}

// newConfig applies opts to the defaults. The schema list it returns may be shared: it is
// never written to.
func newConfig(opts []Option) *config {
	c := &config{schemas: slices.Clip(defaultSchemas), sorted: true}
	for _, o := range opts {
		o(c)
	}
	if !c.sorted {
		c.schemas = slices.Clip(sortSchemas(c.schemas))
		c.sorted = true
	}
	return c
}

// splitURN splits a qualified token into its schema URN and the rest. ok is false when the
// token is not qualified. A known URN wins (the longest one); otherwise the token is split at
// its last colon, since attribute names hold no colon. bare is true when the token is exactly
// a known URN.
func (c *config) splitURN(tok string) (urn, rest string, qualified, bare bool) {
	if len(tok) < 4 || !strings.EqualFold(tok[:4], "urn:") {
		return "", tok, false, false
	}
	for _, known := range c.schemas {
		if len(tok) == len(known) && strings.EqualFold(tok, known) {
			return known, "", true, true
		}
		if len(tok) > len(known) && tok[len(known)] == ':' && strings.EqualFold(tok[:len(known)], known) {
			return known, tok[len(known)+1:], true, false
		}
	}
	i := strings.LastIndexByte(tok, ':')
	return tok[:i], tok[i+1:], true, false
}

// validURN reports whether urn looks like urn:NID:NSS with no empty segment.
func validURN(urn string) bool {
	parts := strings.Split(urn, ":")
	if len(parts) < 3 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
	}
	return true
}
