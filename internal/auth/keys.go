package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// maxJWKSBytes caps a key set response.
const maxJWKSBytes = 1 << 20

// keyCache holds the key sets of the org's authorization servers, one per accepted issuer.
type keyCache struct {
	client      *http.Client
	minInterval time.Duration
	maxAge      time.Duration
	now         func() time.Time

	mu   sync.Mutex
	sets map[string]*keySet
}

// keySet is one issuer's keys. Its mutex also serialises fetches, so concurrent requests with
// an unknown kid cause one fetch, not many.
type keySet struct {
	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey
	fetched   time.Time // last successful fetch
	attempted time.Time // last fetch, successful or not
}

func newKeyCache() *keyCache {
	return &keyCache{
		client:      &http.Client{Timeout: 10 * time.Second, CheckRedirect: refuseRedirect},
		minInterval: DefaultKeyRefreshInterval,
		maxAge:      DefaultKeyMaxAge,
		now:         time.Now,
		sets:        map[string]*keySet{},
	}
}

// set returns the issuer's key set, evicting the least recently fetched one when full.
func (c *keyCache) set(issuer string) *keySet {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.sets[issuer]; ok {
		return s
	}
	if len(c.sets) >= maxIssuers {
		var oldest string
		var oldestAt time.Time
		for iss, s := range c.sets {
			s.mu.Lock()
			at := s.attempted
			s.mu.Unlock()
			if oldest == "" || at.Before(oldestAt) {
				oldest, oldestAt = iss, at
			}
		}
		delete(c.sets, oldest)
	}
	s := &keySet{}
	c.sets[issuer] = s
	return s
}

// key returns the issuer's key kid, fetching the key set when the key is unknown or the set is
// old, at most once per minInterval.
func (c *keyCache) key(ctx context.Context, issuer, url, kid string) (*rsa.PublicKey, error) {
	s := c.set(issuer)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := c.now()
	key, known := s.keys[kid]
	if known && now.Sub(s.fetched) < c.maxAge {
		return key, nil
	}
	if !s.attempted.IsZero() && now.Sub(s.attempted) < c.minInterval {
		return c.fallback(s, issuer, kid, key, nil)
	}
	s.attempted = now
	keys, err := c.fetch(ctx, url)
	if err != nil {
		return c.fallback(s, issuer, kid, key, err)
	}
	s.keys, s.fetched = keys, now
	if key, ok := keys[kid]; ok {
		return key, nil
	}
	return nil, reject(
		scimconfig.ReasonInvalidSignature,
		"token key id %q is not in the key set of %s",
		clip(kid),
		issuer,
	)
}

// fallback answers when no fresh fetch is possible: a stale known key is still used.
func (c *keyCache) fallback(s *keySet, issuer, kid string, stale *rsa.PublicKey, err error) (*rsa.PublicKey, error) {
	if stale != nil {
		return stale, nil
	}
	if s.fetched.IsZero() {
		e := reject(scimconfig.ReasonKeysUnavailable, "the signing keys of %s could not be fetched", issuer)
		if err != nil {
			e.Message += ": " + err.Error()
			e.Err = err
		}
		return nil, e
	}
	return nil, reject(
		scimconfig.ReasonInvalidSignature,
		"token key id %q is not in the key set of %s",
		clip(kid),
		issuer,
	)
}

type jwks struct {
	Keys []struct {
		Kty string `json:"kty"`
		Kid string `json:"kid"`
		Use string `json:"use"`
		Alg string `json:"alg"`
		N   string `json:"n"`
		E   string `json:"e"`
	} `json:"keys"`
}

func (c *keyCache) fetch(ctx context.Context, url string) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("build key request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: status %s", url, resp.Status)
	}
	var set jwks
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode key set from %s: %w", url, err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		pub, err := rsaKey(k.N, k.E)
		if err != nil {
			return nil, fmt.Errorf("key %q from %s: %w", k.Kid, url, err)
		}
		keys[k.Kid] = pub
	}
	return keys, nil
}

func rsaKey(n, e string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		return nil, fmt.Errorf("modulus: %w", err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(e)
	if err != nil {
		return nil, fmt.Errorf("exponent: %w", err)
	}
	exp := new(big.Int).SetBytes(eb)
	if len(nb) < 256 || !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31 {
		return nil, fmt.Errorf("not a usable RSA key (modulus %d bits)", len(nb)*8)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(exp.Int64())}, nil
}
