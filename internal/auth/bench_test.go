package auth

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func benchVerifier(b *testing.B, cache int) (*Verifier, string) {
	org := newTestOrg(b)
	key := org.publish(b, "k1")
	v, err := NewVerifier(org.srv.URL, WithClock(func() time.Time { return testNow }), WithCacheSize(cache))
	if err != nil {
		b.Fatal(err)
	}
	tok := mint(b, jwt.SigningMethodRS256, key, "k1", goodClaims(org.srv.URL+"/oauth2/default"))
	return v, tok
}

func BenchmarkVerify(b *testing.B) {
	for _, tc := range []struct {
		name  string
		cache int
	}{{"signature checked every time", 0}, {"accepted token cached", DefaultCacheSize}} {
		b.Run(tc.name, func(b *testing.B) {
			v, tok := benchVerifier(b, tc.cache)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(b.Context(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
