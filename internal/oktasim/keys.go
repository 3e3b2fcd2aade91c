package oktasim

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// keySet is an authorization server's signing keys: the active one first, then retired ones
// that stay published so tokens signed before a rotation keep verifying.
type keySet struct {
	mu   sync.Mutex
	keys []*signingKey
}

const keyBits = 2048

// publishedKeys is how many keys a key set publishes (the active one and retired ones).
const publishedKeys = 3

func newKeySet() (*keySet, error) {
	ks := &keySet{}
	if err := ks.rotate(); err != nil {
		return nil, err
	}
	return ks, nil
}

// rotate makes a new active key and keeps the previous ones published.
func (ks *keySet) rotate() error {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return fmt.Errorf("generate RSA key: %w", err)
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	k := &signingKey{kid: randomToken(43), private: priv, created: time.Now()}
	ks.keys = append([]*signingKey{k}, ks.keys...)
	if len(ks.keys) > publishedKeys {
		ks.keys = ks.keys[:publishedKeys]
	}
	return nil
}

func (ks *keySet) active() *signingKey {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.keys[0]
}

// jwk is one RSA public key in JWK form, as Okta publishes it.
type jwk struct {
	Kty    string `json:"kty"`
	Alg    string `json:"alg"`
	Kid    string `json:"kid"`
	Use    string `json:"use"`
	E      string `json:"e"`
	N      string `json:"n"`
	Status string `json:"status,omitempty"`
}

func (ks *keySet) jwks() []jwk {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	out := make([]jwk, 0, len(ks.keys))
	for i, k := range ks.keys {
		status := "INACTIVE"
		if i == 0 {
			status = "ACTIVE"
		}
		out = append(out, publicJWK(k.kid, &k.private.PublicKey, status))
	}
	return out
}

func publicJWK(kid string, pub *rsa.PublicKey, status string) jwk {
	return jwk{
		Kty: "RSA", Alg: "RS256", Kid: kid, Use: "sig", Status: status,
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
	}
}

// sign signs claims with the active key (RS256, kid in the header).
func (ks *keySet) sign(claims jwt.MapClaims) (string, error) {
	return signWith(ks.active(), claims)
}

func signWith(k *signingKey, claims jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = k.kid
	signed, err := t.SignedString(k.private)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signed, nil
}

var errUnknownKey = errors.New("unknown signing key")

// verify checks the signature and the time claims of a token signed by one of the keys.
func (ks *keySet) verify(raw string, now time.Time) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		for _, k := range ks.keys {
			if k.kid == kid {
				return &k.private.PublicKey, nil
			}
		}
		return nil, errUnknownKey
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		return nil, fmt.Errorf("verify token: %w", err)
	}
	return claims, nil
}

// parseJWK turns an RSA JWK into a public key.
func parseJWK(m map[string]any) (*rsa.PublicKey, string, error) {
	kty, _ := m["kty"].(string)
	if kty != "RSA" {
		return nil, "", fmt.Errorf("key type %q: only RSA keys are supported", kty)
	}
	n, err := base64.RawURLEncoding.DecodeString(strOf(m["n"]))
	if err != nil {
		return nil, "", fmt.Errorf("decode modulus: %w", err)
	}
	e, err := base64.RawURLEncoding.DecodeString(strOf(m["e"]))
	if err != nil {
		return nil, "", fmt.Errorf("decode exponent: %w", err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	return pub, strOf(m["kid"]), nil
}
