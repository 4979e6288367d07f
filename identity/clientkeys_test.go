package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/behalf-dev/behalf"
)

// Ensure client assertions carry what RFC 7523 and private_key_jwt ask:
// iss and sub the client_id, aud the token endpoint unless configured, a
// unique jti, a short exp, the signing key's kid (published in the
// provider's JWKS, which verifies them), the configured extra claims; and
// that a rotation publishes the new key beside the old.
func TestClientAssertion(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	keys := &ClientKeys{Store: h.db, Sealer: h.cfg.Sealer, Now: h.clock.Now}
	h.addProvider("pkj", behalf.AuthServerMetadata{Issuer: "https://idp.example", TokenEndpoint: "https://idp.example/token"})
	p, err := h.db.UpdateOAuth2Provider(ctx, "pkj", func(p *behalf.OAuth2Provider) error {
		p.ClientAuthMethod = behalf.ClientPrivateKeyJWT
		p.PrivateKeyJWT = &behalf.PrivateKeyJWTConfig{SigningAlgorithm: "PS256", HeaderClaims: map[string]string{"x5t#S256": "thumb"}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a1, err := keys.Assertion(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := keys.Assertion(ctx, p)
	head, claims := decodeJWT(t, a1)
	_, claims2 := decodeJWT(t, a2)
	if head["alg"] != "PS256" || head["typ"] != "JWT" || head["kid"] == nil || head["x5t#S256"] != "thumb" {
		t.Fatalf("header %v", head)
	}
	now := float64(h.clock.Now().Unix())
	if claims["iss"] != "cid" || claims["sub"] != "cid" || claims["aud"] != "https://idp.example/token" ||
		claims["iat"] != now || claims["nbf"] != now || claims["exp"] != now+AssertionLifetime.Seconds() {
		t.Fatalf("claims %v", claims)
	}
	if claims["jti"] == nil || claims["jti"] == claims2["jti"] {
		t.Fatal("jti missing or repeated")
	}
	b, err := keys.ProviderJWKS(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwk.Parse(b)
	if err != nil || set.Len() != 1 {
		t.Fatalf("JWKS %s: %v", b, err)
	}
	if _, err := jws.Verify([]byte(a1), jws.WithKeySet(set, jws.WithRequireKid(true))); err != nil {
		t.Fatalf("the published key does not verify the assertion: %v", err)
	}

	// aud configured (servers that want their issuer).
	p.PrivateKeyJWT.PayloadClaims = map[string]string{"aud": "https://idp.example", "tenant": "t1"}
	a3, _ := keys.Assertion(ctx, p)
	if _, c := decodeJWT(t, a3); c["aud"] != "https://idp.example" || c["tenant"] != "t1" {
		t.Fatalf("claims %v", c)
	}

	kid, retired, err := keys.Rotate(ctx, p, AssertionLifetime)
	if err != nil || len(retired) != 1 || retired[0] != head["kid"] || kid == head["kid"] {
		t.Fatalf("Rotate: %s %v %v", kid, retired, err)
	}
	b, _ = keys.ProviderJWKS(ctx, p.ID)
	if set, _ := jwk.Parse(b); set.Len() != 2 {
		t.Fatalf("JWKS after rotation: %s", b)
	}
	if a4, _ := keys.Assertion(ctx, p); !strings.Contains(string(mustJSON(decodeJWT(t, a4))), kid) {
		t.Fatal("the new key does not sign")
	}
	if _, err := keys.ProviderJWKS(ctx, "no-such"); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("unknown provider: %v", err)
	}
}

func decodeJWT(t *testing.T, tok string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	var head, claims map[string]any
	for i, v := range []*map[string]any{&head, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	return head, claims
}

func mustJSON(head, _ map[string]any) []byte {
	b, _ := json.Marshal(head)
	return b
}
