package jwtverify_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/jwtverify"
	"github.com/lestrrat-go/jwx/v3/jwa"
)

// switchableIssuer is p's issuer as a Lookup whose trust and audiences a
// test changes between calls.
type switchableIssuer struct {
	p         *idp
	mu        sync.Mutex
	untrusted bool
	audiences []string
}

func (s *switchableIssuer) set(untrusted bool, audiences ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.untrusted, s.audiences = untrusted, audiences
}

func (s *switchableIssuer) verifier(c *clock) *jwtverify.Verifier {
	return &jwtverify.Verifier{
		HTTPClient: safehttp.NewClient(safehttp.Options{AllowPrivate: true}),
		Now:        c.Now,
		Lookup: func(_ context.Context, iss string) (jwtverify.Issuer, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if iss != s.p.issuer || s.untrusted {
				return jwtverify.Issuer{}, behalf.Errorf(behalf.ENOTFOUND, "issuer not found")
			}
			return jwtverify.Issuer{Issuer: s.p.issuer, JWKSURI: s.p.issuer + jwksPath, Audiences: s.audiences}, nil
		},
	}
}

// Ensure a token verified once is not verified from scratch again (its
// signature is not computed again) while nothing changed, and that
// everything that can change is checked again at each call: the issuer's
// trust and audiences, the key in its key set, the clock (issue 12).
func TestVerifiedTokenIsCheckedAgain(t *testing.T) {
	ctx := context.Background()
	p := newIDP(t)
	c := newClock()
	is := &switchableIssuer{p: p}
	is.set(false, apiAudience)
	v := is.verifier(c)
	cl := p.claims(c.Now())
	cl["exp"] = c.Now().Add(3 * jwtverify.JWKSTTL).Unix()
	tok := sign(t, p.rsa, jwa.RS256(), cl)
	first, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}

	// Again: the same claims, without a signature check (a check from
	// scratch allocates hundreds of times).
	if allocs := testing.AllocsPerRun(20, func() {
		if again, err := v.Verify(ctx, tok); err != nil || again.Subject != first.Subject || !again.Expiry.Equal(first.Expiry) {
			t.Fatalf("again: %+v %v", again, err)
		}
	}); allocs > 10 {
		t.Errorf("a verified token presented again: %.0f allocations, want it not verified from scratch", allocs)
	}

	// A change to one byte of the signature is another token, refused.
	i := strings.LastIndexByte(tok, '.') + 5
	swap := "A"
	if tok[i] == 'A' {
		swap = "B"
	}
	forged := tok[:i] + swap + tok[i+1:]
	_, err = v.Verify(ctx, forged)
	wantRefused(t, err, unauth, jwtverify.MsgSignature, forged)

	// The issuer's audiences change: refused, and accepted again after.
	is.set(false, "api://other")
	_, err = v.Verify(ctx, tok)
	wantRefused(t, err, unauth, jwtverify.MsgAudience, tok)
	is.set(false, apiAudience)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("audience restored: %v", err)
	}

	// The issuer is no longer trusted.
	is.set(true)
	_, err = v.Verify(ctx, tok)
	wantRefused(t, err, unauth, jwtverify.MsgUntrusted, tok)
	is.set(false, apiAudience)

	// The clock moves back before the token's iat (beyond the skew).
	c.Add(-jwtverify.DefaultSkew - time.Second)
	_, err = v.Verify(ctx, tok)
	wantRefused(t, err, unauth, jwtverify.MsgNotYetValid, tok)
	c.Add(jwtverify.DefaultSkew + time.Second)

	// The key set is refetched with the same key (another key object):
	// verified again, accepted.
	c.Add(jwtverify.JWKSTTL)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("after the key set's refresh: %v", err)
	}
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}

	// The issuer drops the key: refused at the next fetch.
	p.serve(p.ec, p.ed)
	c.Add(jwtverify.JWKSTTL)
	_, err = v.Verify(ctx, tok)
	wantRefused(t, err, unauth, jwtverify.MsgSignature, tok)

	// The token expires.
	p.serve(p.rsa)
	c.Add(jwtverify.DefaultRefetchCooldown)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("key served again: %v", err)
	}
	c.Add(jwtverify.JWKSTTL + jwtverify.DefaultSkew) // past exp and the skew
	_, err = v.Verify(ctx, tok)
	wantRefused(t, err, unauth, jwtverify.MsgExpired, tok)
}
