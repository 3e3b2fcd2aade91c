package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// DefaultCacheSize is how many accepted tokens a Verifier remembers.
const DefaultCacheSize = 1024

// tokenCache remembers accepted tokens by their SHA-256, so a client that reuses its access
// token (Okta does, for up to an hour) costs one signature check, not one per request. Only
// accepted tokens are kept, with their validity window, which is checked again on every hit.
type tokenCache struct {
	size int
	mu   sync.Mutex
	m    map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	claims    Claims
	expires   time.Time
	notBefore time.Time
}

func (c *tokenCache) get(raw string, now time.Time, leeway time.Duration) (*Claims, bool) {
	if c == nil || c.size == 0 {
		return nil, false
	}
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return nil, false
	}
	if now.After(e.expires.Add(leeway)) || now.Add(leeway).Before(e.notBefore) {
		delete(c.m, key)
		return nil, false
	}
	claims := e.claims
	return &claims, true
}

func (c *tokenCache) put(raw string, e cachedToken) {
	if c == nil || c.size == 0 {
		return
	}
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.size {
		c.m = make(map[[sha256.Size]byte]cachedToken, c.size)
	}
	c.m[key] = e
}
