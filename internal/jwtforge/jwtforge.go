// Package jwtforge builds JSON Web Tokens by hand for attack tests: tokens
// a correct library would never produce (alg none, HS256 keyed with a
// public key, tampered segments), signed or not, and a loopback OpenID
// issuer to present them from. It is test support: nothing in the server
// imports it.
package jwtforge

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// With returns a copy of m with the keys of over replaced.
func With(m, over map[string]any) map[string]any {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]any{}
	}
	maps.Copy(out, over)
	return out
}

// Segment is v as JSON, base64url without padding: one segment of a
// compact JWS.
func Segment(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeSegment decodes one segment of a compact JWS into v.
func DecodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("segment %q: %w", seg, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("segment %s: %w", b, err)
	}
	return nil
}

// HS256 is header.claims signed with HMAC-SHA256 under key, whatever the
// header says.
func HS256(header, claims map[string]any, key []byte) string {
	input := Segment(header) + "." + Segment(claims)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// RS256 is header.claims signed with RSASSA-PKCS1-v1_5 SHA-256 under key,
// whatever the header says.
func RS256(header, claims map[string]any, key *rsa.PrivateKey) string {
	input := Segment(header) + "." + Segment(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// RSAJWK is pub as a JWK for RS256 signatures, with kid.
func RSAJWK(kid string, pub *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// Issuer starts an OpenID issuer on loopback (discovery document and
// JWKS) with one new 2048-bit RS256 key, kid "k1", closed when the test
// ends. Its URL is the issuer.
func Issuer(t testing.TB) (*httptest.Server, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks", "authorization_endpoint": srv.URL + "/authorize",
				"token_endpoint": srv.URL + "/token", "response_types_supported": []string{"code"},
				"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
			})
		case "/jwks":
			json.NewEncoder(w).Encode(map[string]any{"keys": []any{RSAJWK("k1", &key.PublicKey)}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, key
}

// Claims are the claims of a user JWT of issuer iss for sub, valid for 30
// minutes from now, with audience "behalf-test" and a "canary" claim
// ("CANARY-"+sub) that must never be echoed.
func Claims(iss, sub string, now time.Time) map[string]any {
	return map[string]any{"iss": iss, "sub": sub, "aud": "behalf-test", "iat": now.Unix(), "exp": now.Add(30 * time.Minute).Unix(), "canary": "CANARY-" + sub}
}

// Forgery is one forged or untrusted user JWT and the values in it that a
// refusal must not echo.
type Forgery struct {
	Name, Token string
	Secrets     []string
}

// Forgeries are the user JWTs a verifier trusting issuer (key, kid "k1")
// must refuse: alg none, random parts, HS256 from an untrusted issuer or
// from own (Behalf's issuer URL), HS256 keyed with the issuer's public key
// (PEM or modulus) or an empty key, RS256 under another key, an embedded
// JWK or a jku header, an expired and an expiry-less token the issuer
// really signed. Each subject is new (sub-NAME-random).
func Forgeries(issuer, own string, key *rsa.PrivateKey, now time.Time) ([]Forgery, error) {
	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	const hsSecret = "hs256-secret-CANARY-0123456789"
	var out []Forgery
	add := func(name, sub, token string, secrets ...string) {
		out = append(out, Forgery{name, token, append(secrets, sub, "CANARY-"+sub)})
	}
	sub := func(name string) string { return "sub-" + name + "-" + rand.Text()[:10] }
	claims := func(iss, sub string) map[string]any { return Claims(iss, sub, now) }
	s := sub("none")
	add("AlgNoneTrustedIssuer", s, Segment(map[string]any{"alg": "none", "typ": "JWT"})+"."+Segment(claims(issuer, s))+".")
	s = sub("nonecase")
	add("AlgNONETrustedIssuer", s, Segment(map[string]any{"alg": "NONE", "kid": "k1"})+"."+Segment(claims(issuer, s))+".")
	s = sub("random")
	add("RandomThreeParts", s, rand.Text()+"."+rand.Text()+rand.Text()+"."+rand.Text())
	s = sub("hsuntrusted")
	add("HS256UntrustedIssuer", s, HS256(map[string]any{"alg": "HS256", "typ": "JWT"}, claims("https://attacker.example", s), []byte(hsSecret)), hsSecret)
	s = sub("hsown")
	add("HS256IssuerIsBehalf", s, HS256(map[string]any{"alg": "HS256", "typ": "JWT"}, claims(own, s), []byte(hsSecret)), hsSecret)
	s = sub("hsconfusion")
	add("HS256KeyedWithIssuerPublicKey", s, HS256(map[string]any{"alg": "HS256", "kid": "k1"}, claims(issuer, s), pubPEM))
	s = sub("hsnkey")
	add("HS256KeyedWithModulus", s, HS256(map[string]any{"alg": "HS256", "kid": "k1"}, claims(issuer, s), key.PublicKey.N.Bytes()))
	s = sub("hsempty")
	add("HS256UnknownKidEmptyKey", s, HS256(map[string]any{"alg": "HS256", "kid": "no-such-kid"}, claims(issuer, s), nil))
	s = sub("otherkey")
	add("RS256AttackerKey", s, RS256(map[string]any{"alg": "RS256", "kid": "k1"}, claims(issuer, s), attacker))
	s = sub("jwk")
	add("EmbeddedJWK", s, RS256(map[string]any{"alg": "RS256", "kid": "attacker", "jwk": RSAJWK("attacker", &attacker.PublicKey)}, claims(issuer, s), attacker))
	s = sub("jku")
	add("JKUHeader", s, RS256(map[string]any{"alg": "RS256", "kid": "attacker", "jku": "http://127.0.0.1:1/jwks"}, claims(issuer, s), attacker))
	s = sub("expired")
	expired := claims(issuer, s)
	expired["exp"], expired["iat"] = now.Add(-time.Hour).Unix(), now.Add(-2*time.Hour).Unix()
	add("ExpiredGenuineSignature", s, RS256(map[string]any{"alg": "RS256", "kid": "k1"}, expired, key))
	s = sub("noexp")
	noExp := claims(issuer, s)
	delete(noExp, "exp")
	add("NoExpiryGenuineSignature", s, RS256(map[string]any{"alg": "RS256", "kid": "k1"}, noExp, key))
	return out, nil
}
