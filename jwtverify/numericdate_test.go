package jwtverify_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/behalf-dev/behalf/jwtverify"
)

// signRaw signs claims as given (JSON types kept) with key.
func signRaw(t *testing.T, key jwk.Key, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	hdr.Set(jws.TypeKey, "JWT")
	b, err := jws.Sign(payload, jws.WithKey(jwa.RS256(), key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Ensure exp, nbf and iat must be JSON numbers (RFC 7519 NumericDate): a
// trusted issuer's token whose exp is the string "9999999999" (or an RFC
// 3339 date) is refused, not taken to expire in 2286 (issue 11,
// Security 7).
func TestVerifyNumericDatesMustBeNumbers(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c)
	now := c.Now()
	for _, tc := range []struct {
		name  string
		claim string
		value any
		msg   string // "" for OK
	}{
		{"exp number", "exp", now.Add(time.Minute).Unix(), ""},
		{"exp fraction", "exp", float64(now.Add(time.Minute).UnixMilli()) / 1000, ""},
		{"exp string", "exp", "9999999999", jwtverify.MsgMalformed},
		{"exp RFC 3339", "exp", now.Add(time.Hour).UTC().Format(time.RFC3339), jwtverify.MsgMalformed},
		{"exp boolean", "exp", true, jwtverify.MsgMalformed},
		{"exp huge", "exp", 1e300, jwtverify.MsgMalformed},
		{"nbf string", "nbf", "0", jwtverify.MsgMalformed},
		{"iat string", "iat", "0", jwtverify.MsgMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := p.claims(now)
			cl[tc.claim] = tc.value
			tok := signRaw(t, p.rsa, cl)
			_, err := v.Verify(context.Background(), tok)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			wantRefused(t, err, unauth, tc.msg, tok)
		})
	}
}
