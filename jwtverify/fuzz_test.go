package jwtverify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/lestrrat-go/jwx/v3/jwa"
)

// FuzzVerify feeds arbitrary strings to Verify: none may panic and none
// may verify. The seeds are near misses (forged, expired, alg none, HMAC
// confusion, truncated) so mutations explore the parser and the checks;
// no seed is a valid token, and no mutation can make one without the
// issuer's private key.
func FuzzVerify(f *testing.F) {
	p := newIDP(f)
	c := newClock()
	v := p.verifier(c, apiAudience)
	now := c.Now()
	cl := p.claims(now)
	expired := p.claims(now.Add(-time.Hour))
	rogue := privateJWK(f, newRSA(f), "rsa-1", "")

	valid := sign(f, p.rsa, jwa.RS256(), cl)
	parts := strings.Split(valid, ".")
	seeds := []string{
		"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0..",
		sign(f, rogue, jwa.RS256(), cl),
		sign(f, p.rsa, jwa.RS256(), expired),
		sign(f, p.ec, jwa.ES256(), expired),
		sign(f, p.ed, jwa.EdDSA(), expired),
		unsigned(f, `{"alg":"none","kid":"rsa-1"}`, cl),
		parts[0] + "." + parts[1],
		parts[0] + "." + parts[1] + ".",
		parts[0] + ".." + parts[2],
		`{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	// Warm the cache so that iterations do not depend on the network.
	if _, err := v.Verify(context.Background(), valid); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		got, err := v.Verify(context.Background(), token)
		if err == nil {
			t.Fatalf("Verify accepted %q: %+v", token, got)
		}
		if code := behalf.ErrorCode(err); code != behalf.EUNAUTHORIZED && code != behalf.EUNAVAILABLE {
			t.Fatalf("Verify(%q) error code %q: %v", token, code, err)
		}
	})
}
