package jwtverify_test

import (
	"context"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/jwtverify"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

const unauth = behalf.EUNAUTHORIZED

func TestVerifyOK(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c, apiAudience)
	now := c.Now()
	for _, tc := range []struct {
		name string
		key  jwk.Key
		alg  jwa.SignatureAlgorithm
	}{
		{"RS256", p.rsa, jwa.RS256()},
		{"ES256 key without alg", p.ec, jwa.ES256()},
		{"EdDSA", p.ed, jwa.EdDSA()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := sign(t, tc.key, tc.alg, p.claims(now))
			got, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Issuer != p.issuer || got.Subject != testSubject ||
				!reflect.DeepEqual(got.Audience, []string{apiAudience}) ||
				!reflect.DeepEqual(got.Scope, []string{"read", "write"}) ||
				!got.Expiry.Equal(now.Add(5*time.Minute)) || !got.IssuedAt.Equal(now) ||
				got.Raw["sub"] != testSubject {
				t.Errorf("claims = %+v", got)
			}
			if u := got.User(); u != (behalf.User{Issuer: p.issuer, Subject: testSubject}) {
				t.Errorf("User() = %+v", u)
			}
		})
	}
	if n := p.hits.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1", n)
	}
}

func TestVerifyTimes(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c)
	now := c.Now()
	for _, tc := range []struct {
		name  string
		claim string
		value time.Time
		msg   string // "" for OK
	}{
		{"expired", "exp", now.Add(-2 * time.Minute), jwtverify.MsgExpired},
		{"expired within skew", "exp", now.Add(-50 * time.Second), ""},
		{"nbf in future", "nbf", now.Add(2 * time.Minute), jwtverify.MsgNotYetValid},
		{"nbf within skew", "nbf", now.Add(50 * time.Second), ""},
		{"iat in future", "iat", now.Add(2 * time.Minute), jwtverify.MsgNotYetValid},
		{"iat within skew", "iat", now.Add(50 * time.Second), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := p.claims(now)
			cl[tc.claim] = tc.value.Unix()
			tok := sign(t, p.rsa, jwa.RS256(), cl)
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

func TestVerifyMissingClaims(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c)
	for claim, msg := range map[string]string{"exp": jwtverify.MsgNoExpiry, "sub": jwtverify.MsgNoSubject, "iss": jwtverify.MsgUntrusted} {
		cl := p.claims(c.Now())
		delete(cl, claim)
		tok := sign(t, p.rsa, jwa.RS256(), cl)
		_, err := v.Verify(context.Background(), tok)
		wantRefused(t, err, unauth, msg, tok)
	}
}

func TestVerifyUntrustedIssuer(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c)
	for _, iss := range []string{untrustedIssuer, p.issuer + "/", strings.ToUpper(p.issuer)} {
		cl := p.claims(c.Now())
		cl["iss"] = iss
		tok := sign(t, p.rsa, jwa.RS256(), cl)
		_, err := v.Verify(context.Background(), tok)
		wantRefused(t, err, unauth, jwtverify.MsgUntrusted, tok)
	}
	if n := p.hits.Load(); n != 0 {
		t.Errorf("untrusted issuers fetched the JWKS %d times", n)
	}
}

func TestVerifyLookupErrors(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c)
	down := behalf.Errorf(behalf.EUNAVAILABLE, "store down")
	v.Lookup = func(context.Context, string) (jwtverify.Issuer, error) { return jwtverify.Issuer{}, down }
	_, err := v.Verify(context.Background(), sign(t, p.rsa, jwa.RS256(), p.claims(c.Now())))
	if !errors.Is(err, down) {
		t.Errorf("err = %v, want the lookup's error", err)
	}
	v = p.verifier(c)
	v.Lookup = func(context.Context, string) (jwtverify.Issuer, error) {
		return jwtverify.Issuer{Issuer: "https://other.example", JWKSURI: p.issuer + jwksPath}, nil
	}
	tok := sign(t, p.rsa, jwa.RS256(), p.claims(c.Now()))
	_, err = v.Verify(context.Background(), tok)
	wantRefused(t, err, unauth, jwtverify.MsgUntrusted, tok)
}

func TestVerifyRefusesForgeries(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c)
	now := c.Now()
	cl := p.claims(now)

	rogueRSA := privateJWK(t, newRSA(t), "rsa-1", "")
	rogueEC := privateJWK(t, newEC(t, elliptic.P256()), "ec-1", "")
	roguePS := privateJWK(t, newEC(t, elliptic.P384()), "ec-1", "")
	rogueOnRSA := privateJWK(t, newEC(t, elliptic.P256()), "rsa-1", "")
	rsaOnEC := privateJWK(t, newRSA(t), "ec-1", "")
	unknown := privateJWK(t, newRSA(t), "rsa-9", "")

	good := sign(t, p.rsa, jwa.RS256(), cl)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + segment(t, map[string]any{
		"iss": p.issuer, "sub": "admin", "aud": apiAudience, "exp": cl["exp"],
	}) + "." + parts[2]

	pubPEM, pubJWK := publicForms(t, p.rsa)
	tests := []struct {
		name, token string
	}{
		{"key not in the issuer's JWKS under a known kid", sign(t, rogueRSA, jwa.RS256(), cl)},
		{"EC key not in the JWKS", sign(t, rogueEC, jwa.ES256(), cl)},
		{"ES384 on a P-256 kid", sign(t, roguePS, jwa.ES384(), cl)},
		{"ES256 on an RSA kid", sign(t, rogueOnRSA, jwa.ES256(), cl)},
		{"RS256 header on an EC key", sign(t, rsaOnEC, jwa.RS256(), cl)},
		{"PS256 on a key whose JWK says RS256", sign(t, privateJWK(t, newRSA(t), "rsa-1", ""), jwa.PS256(), cl)},
		{"unknown kid", sign(t, unknown, jwa.RS256(), cl)},
		{"tampered payload", tampered},
		{"alg none", unsigned(t, `{"alg":"none","kid":"rsa-1"}`, cl)},
		{"alg none no kid", unsigned(t, `{"alg":"none"}`, cl)},
		{"HS256 with the PEM public key", hmacToken(t, pubPEM, "rsa-1", cl)},
		{"HS256 with the JWK", hmacToken(t, pubJWK, "rsa-1", cl)},
		{"HS256 no kid", hmacToken(t, pubPEM, "", cl)},
		{"RS256 signature, alg HS256 header", segment(t, map[string]string{"alg": "HS256", "kid": "rsa-1"}) + "." + parts[1] + "." + parts[2]},
		{"signature stripped", parts[0] + "." + parts[1] + "."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), tc.token)
			if err == nil {
				t.Fatalf("Verify accepted a forgery: %+v", got)
			}
			wantRefused(t, err, unauth, behalf.ErrorMessage(err), tc.token)
			if m := behalf.ErrorMessage(err); m != jwtverify.MsgSignature && m != jwtverify.MsgMalformed {
				t.Errorf("message = %q, want a signature or format refusal", m)
			}
		})
	}
}

// reheader base64url-encodes a header.
func reheader(t *testing.T, hdr string) string {
	t.Helper()
	return base64.RawURLEncoding.EncodeToString([]byte(hdr))
}

// segment base64url-encodes v as JSON.
func segment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// publicForms returns key's public half as PEM and as JWK JSON.
func publicForms(t *testing.T, key jwk.Key) (pemBytes, jwkJSON []byte) {
	t.Helper()
	pub, err := jwk.PublicKeyOf(key)
	if err != nil {
		t.Fatal(err)
	}
	var raw any
	if err := jwk.Export(pub, &raw); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	jwkJSON, err = json.Marshal(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), jwkJSON
}

// hmacToken signs claims with HS256 under secret, claiming kid.
func hmacToken(t *testing.T, secret []byte, kid string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	if kid != "" {
		if err := h.Set(jws.KeyIDKey, kid); err != nil {
			t.Fatal(err)
		}
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.HS256(), secret, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVerifyMalformed(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c)
	good := sign(t, p.rsa, jwa.RS256(), p.claims(c.Now()))
	parts := strings.Split(good, ".")
	flat, _ := json.Marshal(map[string]string{"protected": parts[0], "payload": parts[1], "signature": parts[2]})
	for name, tok := range map[string]string{
		"empty":       "",
		"junk":        "not a token",
		"two parts":   parts[0] + "." + parts[1],
		"four parts":  good + ".x",
		"JSON JWS":    string(flat),
		"too large":   strings.Repeat("a", jwtverify.MaxTokenBytes+1),
		"bad base64":  "!!!." + parts[1] + "." + parts[2],
		"no alg":      reheader(t, `{"kid":"rsa-1"}`) + "." + parts[1] + "." + parts[2],
		"non-JSON":    reheader(t, `{"alg":"RS256","kid":"rsa-1"}`) + ".bm90IGpzb24." + parts[2],
		"numeric iss": unsigned(t, `{"alg":"RS256","kid":"rsa-1"}`, map[string]any{"iss": 5}) + parts[2],
	} {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tok)
			wantRefused(t, err, unauth, jwtverify.MsgMalformed, tok)
		})
	}
}

func TestVerifyAudience(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c, apiAudience, cognitoClient)
	open := p.verifier(c)
	for _, tc := range []struct {
		name string
		aud  any // nil: no aud claim
		cid  string
		ok   bool
	}{
		{"aud matches", apiAudience, "", true},
		{"one of several aud matches", []string{"x", apiAudience}, "", true},
		{"wrong aud", "api://other", "", false},
		{"no aud, client_id matches (Cognito access token)", nil, cognitoClient, true},
		{"no aud, other client_id", nil, "other", false},
		{"no aud, no client_id", nil, "", false},
		{"wrong aud, client_id matches", "api://other", cognitoClient, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := p.claims(c.Now())
			delete(cl, "aud")
			if tc.aud != nil {
				cl["aud"] = tc.aud
			}
			if tc.cid != "" {
				cl["client_id"] = tc.cid
				cl["token_use"] = "access"
			}
			tok := sign(t, p.rsa, jwa.RS256(), cl)
			got, err := v.Verify(context.Background(), tok)
			if !tc.ok {
				wantRefused(t, err, unauth, jwtverify.MsgAudience, tok)
			} else if err != nil {
				t.Fatalf("Verify: %v", err)
			} else if got.ClientID != tc.cid {
				t.Errorf("ClientID = %q, want %q", got.ClientID, tc.cid)
			}
			if _, err := open.Verify(context.Background(), tok); err != nil {
				t.Errorf("issuer without Audiences refused: %v", err)
			}
		})
	}
}

func TestVerifyScp(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c)
	for _, scp := range []any{"a b", []string{"a", "b"}} {
		cl := p.claims(c.Now())
		delete(cl, "scope")
		cl["scp"] = scp
		got, err := v.Verify(context.Background(), sign(t, p.rsa, jwa.RS256(), cl))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Scope, []string{"a", "b"}) {
			t.Errorf("scp %v: Scope = %q", scp, got.Scope)
		}
	}
}

func TestUnknownKidRefetchCooldown(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c)
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign(t, p.rsa, jwa.RS256(), p.claims(c.Now()))); err != nil {
		t.Fatal(err)
	}
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("hits = %d, want 1", n)
	}
	c.Add(jwtverify.DefaultRefetchCooldown)
	for i, kid := range []string{"rsa-8", "rsa-9"} {
		tok := sign(t, privateJWK(t, newRSA(t), kid, ""), jwa.RS256(), p.claims(c.Now()))
		_, err := v.Verify(ctx, tok)
		wantRefused(t, err, unauth, jwtverify.MsgSignature, tok)
		if n := p.hits.Load(); n != 2 {
			t.Errorf("after unknown kid #%d: hits = %d, want 2", i+1, n)
		}
	}
}

func TestRotationPickedUpAfterCooldown(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c)
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign(t, p.rsa, jwa.RS256(), p.claims(c.Now()))); err != nil {
		t.Fatal(err)
	}
	next := privateJWK(t, newRSA(t), "rsa-2", "RS256")
	p.serve(p.rsa, next)
	c.Add(jwtverify.DefaultRefetchCooldown / 2)
	tok := sign(t, next, jwa.RS256(), p.claims(c.Now()))
	_, err := v.Verify(ctx, tok)
	wantRefused(t, err, unauth, jwtverify.MsgSignature, tok)
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("within cooldown: hits = %d, want 1", n)
	}
	c.Add(jwtverify.DefaultRefetchCooldown / 2)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("after cooldown: %v", err)
	}
	if n := p.hits.Load(); n != 2 {
		t.Errorf("after cooldown: hits = %d, want 2", n)
	}
	if _, err := v.Verify(ctx, sign(t, p.rsa, jwa.RS256(), p.claims(c.Now()))); err != nil {
		t.Errorf("old key after rotation: %v", err)
	}
}

func TestTTLRefreshAndStaleFallback(t *testing.T) {
	p := newIDP(t)
	c := newClock()
	v := p.verifier(c)
	ctx := context.Background()
	verify := func() {
		t.Helper()
		if _, err := v.Verify(ctx, sign(t, p.rsa, jwa.RS256(), p.claims(c.Now()))); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	verify()
	c.Add(jwtverify.JWKSTTL)
	verify()
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("after TTL: hits = %d, want 2", n)
	}
	p.setStatus(500)
	c.Add(jwtverify.JWKSTTL)
	verify() // the stale set still verifies while the endpoint is down
	verify()
	if n := p.hits.Load(); n != 3 {
		t.Errorf("failing refresh: hits = %d, want 3 (one attempt per cooldown)", n)
	}
}

func TestJWKSUnavailable(t *testing.T) {
	p := newIDP(t)
	p.setStatus(503)
	c := newClock()
	v := p.verifier(c)
	tok := sign(t, p.rsa, jwa.RS256(), p.claims(c.Now()))
	for range 2 {
		_, err := v.Verify(context.Background(), tok)
		wantRefused(t, err, behalf.EUNAVAILABLE, jwtverify.MsgKeysDown, tok)
		var be *behalf.Error
		if errors.As(err, &be) && be.Retry <= 0 {
			t.Errorf("Retry = %v, want a positive delay", be.Retry)
		}
	}
	if n := p.hits.Load(); n != 1 {
		t.Errorf("hits = %d, want 1 within the cooldown", n)
	}
	p.setStatus(0)
	c.Add(jwtverify.DefaultRefetchCooldown)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Errorf("after recovery: %v", err)
	}
}

func TestCanceledFetchIsNotAnAttempt(t *testing.T) {
	p := newIDP(t)
	p.delay = 200 * time.Millisecond
	c := newClock()
	v := p.verifier(c)
	tok := sign(t, p.rsa, jwa.RS256(), p.claims(c.Now()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := v.Verify(ctx, tok); err == nil {
		t.Fatal("Verify with a canceled fetch succeeded")
	}
	p.mu.Lock()
	p.delay = 0
	p.mu.Unlock()
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Errorf("Verify after a canceled fetch: %v", err)
	}
}

func TestConcurrentColdCacheFetchesOnce(t *testing.T) {
	p := newIDP(t)
	p.delay = 100 * time.Millisecond
	c := newClock()
	v := p.verifier(c)
	tok := sign(t, p.rsa, jwa.RS256(), p.claims(c.Now()))
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(context.Background(), tok); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := p.hits.Load(); n != 1 {
		t.Errorf("hits = %d, want 1", n)
	}
}

func BenchmarkVerifyRS256(b *testing.B) {
	p := newIDP(b)
	c := newClock()
	v := p.verifier(c, apiAudience)
	tok := sign(b, p.rsa, jwa.RS256(), p.claims(c.Now()))
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func TestVerifyEveryAllowedAlgorithm(t *testing.T) {
	p := newIDP(t)
	rsaAny := privateJWK(t, newRSA(t), "rsa-any", "")
	ec384 := privateJWK(t, newEC(t, elliptic.P384()), "ec-384", "")
	p.serve(p.rsa, p.ec, p.ed, rsaAny, ec384)
	c := newClock()
	v := p.verifier(c)
	keys := map[string]jwk.Key{
		"RS256": rsaAny, "RS384": rsaAny, "RS512": rsaAny, "PS256": rsaAny,
		"ES256": p.ec, "ES384": ec384, "EdDSA": p.ed,
	}
	for _, name := range jwtverify.Algorithms() {
		alg, ok := jwa.LookupSignatureAlgorithm(name)
		if !ok || keys[name] == nil {
			t.Fatalf("no algorithm or key for %s", name)
		}
		if _, err := v.Verify(context.Background(), sign(t, keys[name], alg, p.claims(c.Now()))); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Algorithms outside the list are refused even with a fitting key.
	for _, alg := range []jwa.SignatureAlgorithm{jwa.PS384(), jwa.PS512()} {
		tok := sign(t, rsaAny, alg, p.claims(c.Now()))
		_, err := v.Verify(context.Background(), tok)
		wantRefused(t, err, unauth, jwtverify.MsgSignature, tok)
	}
}
