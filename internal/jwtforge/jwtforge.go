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
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
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
