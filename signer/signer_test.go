package signer_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/signer"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

var algs = []string{signer.EdDSA, signer.ES256, signer.RS256, signer.PS256}

// fixture is a Signer over a fresh store and sealer.
type fixture struct {
	store  *memStore
	sealer *gcmSealer
	clock  *clock
	s      *signer.Signer
}

func newFixture(t testing.TB, alg string) *fixture {
	t.Helper()
	f := &fixture{store: &memStore{}, sealer: newSealer(), clock: newClock()}
	f.s = f.open(t, alg)
	return f
}

// open returns another Signer on the fixture's store, as a restarted or
// second process would.
func (f *fixture) open(t testing.TB, alg string) *signer.Signer {
	t.Helper()
	s, err := signer.New(context.Background(), f.store, f.sealer, "wat", alg, f.clock.Now)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func claimsAt(now time.Time) map[string]any {
	return map[string]any{
		"iss": "https://behalf.example", "sub": "workload-1", "aud": "behalf",
		"iat": now, "exp": now.Add(5 * time.Minute), "workload": "w1",
	}
}

func sign(t testing.TB, s *signer.Signer, claims map[string]any) string {
	t.Helper()
	tok, err := s.Sign(claims)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

// headerOf returns a token's protected header, unverified.
func headerOf(t *testing.T, token string) map[string]any {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("decode header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("parse header: %v", err)
	}
	return h
}

// jwks parses the Signer's key set.
func jwks(t *testing.T, s *signer.Signer) jwk.Set {
	t.Helper()
	b, err := s.PublicJWKS()
	if err != nil {
		t.Fatalf("PublicJWKS: %v", err)
	}
	if strings.Contains(string(b), `"d"`) || strings.Contains(string(b), `"p"`) {
		t.Fatalf("JWKS holds private parameters: %s", b)
	}
	set, err := jwk.Parse(b)
	if err != nil {
		t.Fatalf("parse JWKS: %v", err)
	}
	return set
}

// wantRefused checks that err is EUNAUTHORIZED with message msg and does
// not contain the token.
func wantRefused(t *testing.T, err error, msg, token string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Verify succeeded, want %q", msg)
	}
	if code := behalf.ErrorCode(err); code != behalf.EUNAUTHORIZED {
		t.Errorf("code = %q, want %q (err %v)", code, behalf.EUNAUTHORIZED, err)
	}
	if got := behalf.ErrorMessage(err); got != msg {
		t.Errorf("message = %q, want %q (err %v)", got, msg, err)
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Errorf("error contains the token")
	}
}

func TestRoundTrip(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			now := f.clock.Now()
			tok := sign(t, f.s, claimsAt(now))
			h := headerOf(t, tok)
			if h["alg"] != alg || h["typ"] != "JWT" || h["kid"] == "" || len(h) != 3 {
				t.Errorf("header = %v, want alg %s, typ JWT and a kid", h, alg)
			}
			claims, err := f.s.Verify(tok, now.Add(time.Minute))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if claims["sub"] != "workload-1" || claims["workload"] != "w1" || claims["exp"] != float64(now.Add(5*time.Minute).Unix()) {
				t.Errorf("claims = %v", claims)
			}
			set := jwks(t, f.s)
			k, ok := set.LookupKeyID(h["kid"].(string))
			if set.Len() != 1 || !ok {
				t.Fatalf("JWKS has %d keys, want the token's kid", set.Len())
			}
			if a, _ := k.Algorithm(); a.String() != alg {
				t.Errorf("JWK alg = %v, want %s", a, alg)
			}
			if u, _ := k.KeyUsage(); u != "sig" {
				t.Errorf("JWK use = %q, want sig", u)
			}
		})
	}
}

func TestVerifyTimes(t *testing.T) {
	f := newFixture(t, signer.EdDSA)
	now := f.clock.Now()
	tok := sign(t, f.s, claimsAt(now))
	if _, err := f.s.Verify(tok, now.Add(5*time.Minute+20*time.Second)); err != nil {
		t.Errorf("Verify within skew after exp: %v", err)
	}
	_, err := f.s.Verify(tok, now.Add(5*time.Minute+31*time.Second))
	wantRefused(t, err, "The token has expired.", tok)

	c := claimsAt(now)
	c["nbf"] = now.Add(time.Minute)
	tok = sign(t, f.s, c)
	_, err = f.s.Verify(tok, now)
	wantRefused(t, err, "The token is not valid yet.", tok)

	c = claimsAt(now)
	c["iat"] = now.Add(time.Minute)
	tok = sign(t, f.s, c)
	_, err = f.s.Verify(tok, now)
	wantRefused(t, err, "The token is not valid yet.", tok)
}

func TestSignRequiresExp(t *testing.T) {
	f := newFixture(t, signer.EdDSA)
	c := claimsAt(f.clock.Now())
	delete(c, "exp")
	if _, err := f.s.Sign(c); err == nil {
		t.Fatal("Sign without exp succeeded")
	}
	c = claimsAt(f.clock.Now())
	c["exp"] = "soon"
	if _, err := f.s.Sign(c); err == nil {
		t.Fatal("Sign with a non-numeric exp succeeded")
	}
}

func TestVerifyRefusesOtherKey(t *testing.T) {
	f := newFixture(t, signer.ES256)
	other := newFixture(t, signer.ES256)
	now := f.clock.Now()
	tok := sign(t, other.s, claimsAt(now))
	_, err := f.s.Verify(tok, now)
	wantRefused(t, err, "The token's signature is invalid.", tok)

	// Another key under our kid.
	kid := headerOf(t, sign(t, f.s, claimsAt(now)))["kid"].(string)
	forged := forge(t, kid, jwa.ES256())
	_, err = f.s.Verify(forged, now)
	wantRefused(t, err, "The token's signature is invalid.", forged)
}

// forge signs claims with a fresh key of alg, claiming kid.
func forge(t *testing.T, kid string, alg jwa.SignatureAlgorithm) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range claimsAt(newClock().Now()) {
		if err := tok.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	key, err := jwk.Import(newRawKey(t, alg))
	if err != nil {
		t.Fatal(err)
	}
	if err := key.Set(jwk.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newRawKey generates a private key for alg.
func newRawKey(t *testing.T, alg jwa.SignatureAlgorithm) crypto.Signer {
	t.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch alg {
	case jwa.EdDSA():
		_, k, err = ed25519.GenerateKey(rand.Reader)
	case jwa.ES256():
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestVerifyRefusesAlgNone(t *testing.T) {
	f := newFixture(t, signer.RS256)
	now := f.clock.Now()
	good := sign(t, f.s, claimsAt(now))
	kid := headerOf(t, good)["kid"].(string)
	_, payload, _ := strings.Cut(good, ".")
	payload, _, _ = strings.Cut(payload, ".")
	for _, hdr := range []string{
		`{"alg":"none","kid":"` + kid + `"}`,
		`{"alg":"none","kid":"` + kid + `","typ":"JWT"}`,
		`{"alg":"None","kid":"` + kid + `"}`,
	} {
		tok := base64.RawURLEncoding.EncodeToString([]byte(hdr)) + "." + payload + "."
		_, err := f.s.Verify(tok, now)
		if err == nil {
			t.Fatalf("Verify accepted %s", hdr)
		}
		wantRefused(t, err, behalf.ErrorMessage(err), tok)
	}
}

func TestVerifyRefusesHMACKeyConfusion(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			now := f.clock.Now()
			kid := headerOf(t, sign(t, f.s, claimsAt(now)))["kid"].(string)
			set := jwks(t, f.s)
			pub, _ := set.LookupKeyID(kid)
			jwkJSON, err := json.Marshal(pub)
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
			pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			jwksJSON, _ := f.s.PublicJWKS()
			for _, secret := range [][]byte{jwkJSON, pemBytes, der, jwksJSON} {
				tok := hmacToken(t, secret, kid, claimsAt(now))
				_, err := f.s.Verify(tok, now)
				wantRefused(t, err, "The token's signature is invalid.", tok)
			}
		})
	}
}

// hmacToken signs claims with HS256 under secret, claiming kid.
func hmacToken(t *testing.T, secret []byte, kid string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(map[string]any{"sub": claims["sub"], "exp": claims["exp"].(time.Time).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.HS256(), secret, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVerifyRefusesTampered(t *testing.T) {
	f := newFixture(t, signer.EdDSA)
	now := f.clock.Now()
	tok := sign(t, f.s, claimsAt(now))
	parts := strings.Split(tok, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	b = []byte(strings.Replace(string(b), "workload-1", "workload-2", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	bad := strings.Join(parts, ".")
	_, err := f.s.Verify(bad, now)
	wantRefused(t, err, "The token's signature is invalid.", bad)

	for _, junk := range []string{"", "a.b.c", "x", strings.Join(parts[:2], "."), tok + ".x"} {
		if _, err := f.s.Verify(junk, now); behalf.ErrorCode(err) != behalf.EUNAUTHORIZED {
			t.Errorf("Verify(%q) = %v, want an EUNAUTHORIZED error", junk, err)
		}
	}
}

func TestRestartUsesSameKey(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			now := f.clock.Now()
			tok := sign(t, f.s, claimsAt(now))
			s2 := f.open(t, alg)
			if _, err := s2.Verify(tok, now); err != nil {
				t.Fatalf("second Signer Verify: %v", err)
			}
			tok2 := sign(t, s2, claimsAt(now))
			if a, b := headerOf(t, tok)["kid"], headerOf(t, tok2)["kid"]; a != b {
				t.Errorf("second Signer signs with kid %v, want %v", b, a)
			}
			if _, err := f.s.Verify(tok2, now); err != nil {
				t.Errorf("first Signer Verify of second's token: %v", err)
			}
			if n := len(f.store.keys); n != 1 {
				t.Errorf("store has %d keys, want 1", n)
			}
		})
	}
}

func TestRotate(t *testing.T) {
	f := newFixture(t, signer.EdDSA)
	peer := f.open(t, signer.EdDSA) // another process, loaded before the rotation
	now := f.clock.Now()
	old := sign(t, f.s, claimsAt(now))
	if err := f.s.Rotate(context.Background()); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	tok := sign(t, f.s, claimsAt(now))
	oldKid, newKid := headerOf(t, old)["kid"].(string), headerOf(t, tok)["kid"].(string)
	if oldKid == newKid {
		t.Fatalf("new token has the old kid %s", oldKid)
	}
	for _, x := range []string{old, tok} {
		if _, err := f.s.Verify(x, now); err != nil {
			t.Errorf("Verify after Rotate: %v", err)
		}
	}
	set := jwks(t, f.s)
	_, okOld := set.LookupKeyID(oldKid)
	_, okNew := set.LookupKeyID(newKid)
	if set.Len() != 2 || !okOld || !okNew {
		t.Errorf("JWKS has %d keys (old %v, new %v), want both", set.Len(), okOld, okNew)
	}
	if s3 := f.open(t, signer.EdDSA); headerOf(t, sign(t, s3, claimsAt(now)))["kid"] != newKid {
		t.Errorf("a Signer started after Rotate does not sign with the new key")
	}

	// The peer learns the new kid by reloading, at most once per interval.
	lists := f.store.listCalls()
	_, err := peer.Verify(tok, now)
	wantRefused(t, err, "The token's signature is invalid.", tok)
	if got := f.store.listCalls(); got != lists {
		t.Errorf("unknown kid within the reload interval listed keys %d times", got-lists)
	}
	f.clock.Add(signer.ReloadInterval)
	if _, err := peer.Verify(tok, now); err != nil {
		t.Errorf("peer Verify after the reload interval: %v", err)
	}
	if got := f.store.listCalls(); got != lists+1 {
		t.Errorf("peer listed keys %d times, want 1", got-lists)
	}
	if headerOf(t, sign(t, peer, claimsAt(now)))["kid"] != newKid {
		t.Errorf("peer does not sign with the newest key after reloading")
	}
}

func TestMovedPrivateKeyFails(t *testing.T) {
	f := newFixture(t, signer.ES256)
	f.clock.Add(time.Second)
	if err := f.s.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Put the old key's sealed private half on the new (active) key.
	f.store.edit(func(keys []*behalf.SigningKey) { keys[1].Private = keys[0].Private })
	_, err := signer.New(context.Background(), f.store, f.sealer, "wat", signer.ES256, f.clock.Now)
	if err == nil {
		t.Fatal("New succeeded with a moved private key")
	}
	if behalf.ErrorCode(err) != behalf.EINTERNAL {
		t.Errorf("err = %v, want the sealer's EINTERNAL error", err)
	}
}

func TestMismatchedPublicKeyFails(t *testing.T) {
	f := newFixture(t, signer.EdDSA)
	if err := f.s.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.store.edit(func(keys []*behalf.SigningKey) { keys[1].PublicJWK = keys[0].PublicJWK })
	if _, err := signer.New(context.Background(), f.store, f.sealer, "wat", signer.EdDSA, f.clock.Now); err == nil {
		t.Fatal("New succeeded with a record whose public key is another key's")
	}
}

func TestTwoActiveKeysSignsWithNewest(t *testing.T) {
	f := newFixture(t, signer.EdDSA)
	f.clock.Add(time.Second)
	if err := f.s.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A creation race left both keys active.
	f.store.edit(func(keys []*behalf.SigningKey) { keys[0].Active = true })
	s := f.open(t, signer.EdDSA)
	now := f.clock.Now()
	if kid := headerOf(t, sign(t, s, claimsAt(now)))["kid"]; kid != f.store.keys[1].ID {
		t.Errorf("signs with %v, want the newest key %s", kid, f.store.keys[1].ID)
	}
	if jwks(t, s).Len() != 2 {
		t.Error("JWKS does not have both keys")
	}
}

func TestAlgorithmChange(t *testing.T) {
	f := newFixture(t, signer.EdDSA)
	now := f.clock.Now()
	old := sign(t, f.s, claimsAt(now))
	s := f.open(t, signer.RS256)
	tok := sign(t, s, claimsAt(now))
	if alg := headerOf(t, tok)["alg"]; alg != signer.RS256 {
		t.Errorf("alg = %v, want RS256", alg)
	}
	for _, x := range []string{old, tok} {
		if _, err := s.Verify(x, now); err != nil {
			t.Errorf("Verify: %v", err)
		}
	}
	// The EdDSA key's alg is pinned: an RS256 header naming it fails.
	oldKid := headerOf(t, old)["kid"].(string)
	forged := forge(t, oldKid, jwa.RS256())
	_, err := s.Verify(forged, now)
	wantRefused(t, err, "The token's signature is invalid.", forged)
}

func TestRetiredKeyNotPublished(t *testing.T) {
	f := newFixture(t, signer.EdDSA)
	now := f.clock.Now()
	old := sign(t, f.s, claimsAt(now))
	if err := f.s.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.store.edit(func(keys []*behalf.SigningKey) { keys[0].RetireAt = now.Add(time.Minute) })
	if err := f.s.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if jwks(t, f.s).Len() != 2 {
		t.Fatal("key retiring in the future is not published")
	}
	f.clock.Add(time.Minute)
	if n := jwks(t, f.s).Len(); n != 1 {
		t.Errorf("JWKS has %d keys after retirement, want 1", n)
	}
	_, err := f.s.Verify(old, now)
	wantRefused(t, err, "The token's signature is invalid.", old)
}

func TestNewValidates(t *testing.T) {
	ctx := context.Background()
	st, se := &memStore{}, newSealer()
	for _, tc := range []struct {
		name     string
		store    behalf.SigningKeyStore
		sealer   behalf.Sealer
		use, alg string
	}{
		{"bad alg", st, se, "wat", "HS256"},
		{"none alg", st, se, "wat", "none"},
		{"no use", st, se, "", signer.EdDSA},
		{"no store", nil, se, "wat", signer.EdDSA},
		{"no sealer", st, nil, "wat", signer.EdDSA},
	} {
		if _, err := signer.New(ctx, tc.store, tc.sealer, tc.use, tc.alg, nil); err == nil {
			t.Errorf("%s: New succeeded", tc.name)
		}
	}
}

func TestUsesAreSeparate(t *testing.T) {
	f := newFixture(t, signer.EdDSA)
	pool, err := signer.New(context.Background(), f.store, f.sealer, "pool-1", signer.EdDSA, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	tok := sign(t, pool, claimsAt(now))
	f.clock.Add(signer.ReloadInterval)
	_, err = f.s.Verify(tok, now)
	wantRefused(t, err, "The token's signature is invalid.", tok)
}

func TestConcurrentUse(t *testing.T) {
	f := newFixture(t, signer.ES256)
	now := f.clock.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 7 {
				if err := f.s.Rotate(context.Background()); err != nil {
					errs <- err
				}
			}
			tok, err := f.s.Sign(claimsAt(now))
			if err != nil {
				errs <- err
				return
			}
			if _, err := f.s.Verify(tok, now); err != nil {
				errs <- err
			}
			if _, err := f.s.PublicJWKS(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkSign(b *testing.B) {
	f := newFixture(b, signer.EdDSA)
	c := claimsAt(f.clock.Now())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.s.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	f := newFixture(b, signer.EdDSA)
	now := f.clock.Now()
	tok := sign(b, f.s, claimsAt(now))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.s.Verify(tok, now); err != nil {
			b.Fatal(err)
		}
	}
}

// Ensure RotateAndRetire signs with a new key, keeps the old ones verifying
// and published until now + grace, and then drops them.
func TestRotateAndRetire(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, signer.EdDSA)
	now := f.clock.Now()
	old := sign(t, f.s, claimsAt(now))
	oldKid := headerOf(t, old)["kid"].(string)
	f.clock.Add(time.Second)
	grace := signer.RetireGrace(5 * time.Minute)
	retired, err := f.s.RotateAndRetire(ctx, grace)
	if err != nil || len(retired) != 1 || retired[0] != oldKid {
		t.Fatalf("RotateAndRetire = %v, %v; want [%s]", retired, err, oldKid)
	}
	tok := sign(t, f.s, claimsAt(f.clock.Now()))
	if headerOf(t, tok)["kid"] == oldKid {
		t.Fatal("still signs with the old key")
	}
	want := f.clock.Now().Add(grace)
	for _, k := range f.store.keys {
		if k.ID == oldKid && !k.RetireAt.Equal(want) {
			t.Fatalf("old key RetireAt = %v, want %v", k.RetireAt, want)
		}
		if k.ID != oldKid && (!k.RetireAt.IsZero() || !k.Active) {
			t.Fatalf("new key = %+v", k)
		}
	}
	if _, err := f.s.Verify(old, f.clock.Now()); err != nil {
		t.Fatalf("old token after rotation: %v", err)
	}
	if n := jwks(t, f.s).Len(); n != 2 {
		t.Fatalf("JWKS has %d keys during the grace, want 2", n)
	}
	// A second rotation does not push the first key's retirement later.
	f.clock.Add(time.Minute)
	if retired, err := f.s.RotateAndRetire(ctx, grace); err != nil || len(retired) != 1 {
		t.Fatalf("second RotateAndRetire = %v, %v", retired, err)
	}
	for _, k := range f.store.keys {
		if k.ID == oldKid && !k.RetireAt.Equal(want) {
			t.Fatalf("old key RetireAt moved to %v", k.RetireAt)
		}
	}
	f.clock.Add(grace - 30*time.Second) // past the first key's retirement, not the second's
	if n := jwks(t, f.s).Len(); n != 2 {
		t.Fatalf("JWKS has %d keys after the first key retired, want 2", n)
	}
	_, err = f.s.Verify(old, now)
	wantRefused(t, err, "The token's signature is invalid.", old)

	// Grace 0 (a compromised key): the old key stops verifying at once.
	cur := sign(t, f.s, claimsAt(f.clock.Now()))
	if _, err := f.s.RotateAndRetire(ctx, 0); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.Verify(cur, f.clock.Now())
	wantRefused(t, err, "The token's signature is invalid.", cur)
	if n := jwks(t, f.s).Len(); n != 1 {
		t.Fatalf("JWKS has %d keys after an immediate retirement, want 1", n)
	}
}

// Ensure a Signer follows a rotation made by another process within
// RefreshInterval: Sign and PublicJWKS reload in the background.
func TestRefreshFollowsRotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, signer.EdDSA)
	peer := f.open(t, signer.EdDSA)
	oldKid := headerOf(t, sign(t, peer, claimsAt(f.clock.Now())))["kid"]
	if _, err := f.s.RotateAndRetire(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	lists := f.store.listCalls()
	if kid := headerOf(t, sign(t, peer, claimsAt(f.clock.Now())))["kid"]; kid != oldKid || f.store.listCalls() != lists {
		t.Fatal("peer reloaded before the refresh interval")
	}
	f.clock.Add(signer.RefreshInterval)
	deadline := time.Now().Add(5 * time.Second)
	for {
		// The Sign that notices the keys are stale still uses the old key;
		// a later one uses the new key once the background reload is done.
		kid := headerOf(t, sign(t, peer, claimsAt(f.clock.Now())))["kid"]
		if kid != oldKid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("peer never signed with the new key")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := jwks(t, peer).Len(); n != 2 {
		t.Fatalf("peer JWKS has %d keys, want old and new", n)
	}
	if got := f.store.listCalls() - lists; got != 1 {
		t.Errorf("peer listed keys %d times, want 1", got)
	}
}

// Ensure extra header parameters are signed in the protected header and
// cannot replace alg, kid or typ.
func TestSignWithHeaders(t *testing.T) {
	f := newFixture(t, signer.PS256)
	tok, err := f.s.SignWithHeaders(claimsAt(f.clock.Now()), map[string]string{"x5t#S256": "thumb"})
	if err != nil {
		t.Fatal(err)
	}
	h := headerOf(t, tok)
	if h["x5t#S256"] != "thumb" || h["alg"] != "PS256" || h["typ"] != "JWT" || h["kid"] == "" {
		t.Fatalf("header %v", h)
	}
	if _, err := f.s.Verify(tok, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alg", "kid", "typ"} {
		if _, err := f.s.SignWithHeaders(claimsAt(f.clock.Now()), map[string]string{name: "x"}); err == nil {
			t.Errorf("header %s replaced", name)
		}
	}
}
