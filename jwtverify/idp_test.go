package jwtverify_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/jwtverify"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Audiences of the test issuer.
const (
	apiAudience     = "api://behalf"
	cognitoClient   = "cognito-client"
	testSubject     = "user-1"
	jwksPath        = "/jwks"
	discoveryPath   = "/.well-known/openid-configuration"
	untrustedIssuer = "https://untrusted.example"
)

// idp is a test OpenID provider serving a JWKS over httptest.
type idp struct {
	srv    *httptest.Server
	issuer string
	hits   atomic.Int64

	// Private signing keys with kids; rsa's JWK names alg RS256, ec's and
	// ed's name none (as Entra ID publishes).
	rsa, ec, ed jwk.Key

	mu     sync.Mutex
	served []jwk.Key // the private keys whose public halves are served
	delay  time.Duration
	status int // non-zero: JWKS answers with this status
}

func newIDP(t testing.TB) *idp {
	t.Helper()
	p := &idp{}
	p.rsa = privateJWK(t, newRSA(t), "rsa-1", "RS256")
	p.ec = privateJWK(t, newEC(t, elliptic.P256()), "ec-1", "")
	p.ed = privateJWK(t, newEd(t), "ed-1", "")
	p.served = []jwk.Key{p.rsa, p.ec, p.ed}
	mux := http.NewServeMux()
	mux.HandleFunc(jwksPath, p.serveJWKS)
	mux.HandleFunc(discoveryPath, func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": p.issuer, "jwks_uri": p.issuer + jwksPath})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	p.issuer = p.srv.URL
	return p
}

// serveJWKS serves the public halves of the served keys.
func (p *idp) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	p.hits.Add(1)
	p.mu.Lock()
	keys, delay, status := p.served, p.delay, p.status
	p.mu.Unlock()
	time.Sleep(delay)
	if status != 0 {
		http.Error(w, "down", status)
		return
	}
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := jwk.PublicKeyOf(k)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_ = set.AddKey(pub)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(set)
}

// serve replaces the served keys.
func (p *idp) serve(keys ...jwk.Key) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.served = keys
}

// setStatus makes the JWKS endpoint fail with status (0: serve normally).
func (p *idp) setStatus(status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = status
}

// verifier returns a Verifier trusting p with audiences, on clock c.
func (p *idp) verifier(c *clock, audiences ...string) *jwtverify.Verifier {
	return &jwtverify.Verifier{
		HTTPClient: safehttp.NewClient(safehttp.Options{AllowPrivate: true}),
		Now:        c.Now,
		Lookup: func(_ context.Context, iss string) (jwtverify.Issuer, error) {
			if iss != p.issuer {
				return jwtverify.Issuer{}, behalf.Errorf(behalf.ENOTFOUND, "issuer not found")
			}
			return jwtverify.Issuer{Issuer: p.issuer, JWKSURI: p.issuer + jwksPath, Audiences: audiences}, nil
		},
	}
}

// claims returns valid claims from p at now.
func (p *idp) claims(now time.Time) map[string]any {
	return map[string]any{
		"iss": p.issuer, "sub": testSubject, "aud": apiAudience,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"scope": "read write",
	}
}

// sign signs claims with key under alg.
func sign(t testing.TB, key jwk.Key, alg jwa.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return string(b)
}

// unsigned builds an alg:none token with header hdr and claims.
func unsigned(t testing.TB, hdr string, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(hdr)) + "." + enc(b) + "."
}

func privateJWK(t testing.TB, raw crypto.Signer, kid, alg string) jwk.Key {
	t.Helper()
	k, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Set(jwk.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	if alg != "" {
		if err := k.Set(jwk.AlgorithmKey, alg); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

var (
	rsaOnce sync.Once
	rsaPool []*rsa.PrivateKey
)

// newRSA returns a 2048-bit RSA key from a small pool (generation is slow;
// tests that need distinct keys get distinct pool members).
func newRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		for range 4 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaPool = append(rsaPool, k)
		}
	})
	return rsaPool[rsaNext.Add(1)%int64(len(rsaPool))]
}

var rsaNext atomic.Int64

func newEC(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEd(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// wantRefused checks err's code and message, and that it hides the token.
func wantRefused(t testing.TB, err error, code, msg, token string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Verify succeeded, want %q", msg)
	}
	if got := behalf.ErrorCode(err); got != code {
		t.Errorf("code = %q, want %q (err: %v)", got, code, err)
	}
	if got := behalf.ErrorMessage(err); got != msg {
		t.Errorf("message = %q, want %q (err: %v)", got, msg, err)
	}
	if len(token) > 20 && strings.Contains(err.Error(), token) {
		t.Error("error contains the token")
	}
}
