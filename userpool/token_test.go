package userpool_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/signer"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// claimsOf verifies token against the pool's published JWKS with jwx,
// independently of the service, and returns its claims.
func claimsOf(tb testing.TB, e *env, poolID string, token behalf.Secret) map[string]any {
	tb.Helper()
	raw, err := e.svc.JWKS(e.ctx, poolID)
	if err != nil {
		tb.Fatalf("JWKS: %v", err)
	}
	set, err := jwk.Parse(raw)
	if err != nil {
		tb.Fatalf("parse JWKS: %v", err)
	}
	if _, err := jwt.ParseString(token.Reveal(), jwt.WithKeySet(set), jwt.WithValidate(true), jwt.WithClock(jwt.ClockFunc(e.clock.Now))); err != nil {
		tb.Fatalf("token does not verify with the pool's JWKS: %v", err)
	}
	payload, err := jws.Verify([]byte(token.Reveal()), jws.WithKeySet(set))
	if err != nil {
		tb.Fatalf("jws.Verify: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		tb.Fatal(err)
	}
	return claims
}

// header decodes a compact JWS's protected header.
func header(tb testing.TB, token behalf.Secret) map[string]any {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token.Reveal(), ".")[0])
	if err != nil {
		tb.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		tb.Fatal(err)
	}
	return h
}

func TestTokenClaims(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	u := e.user(t, p.ID, "alice", map[string]string{"email": "alice@example.com", "email_verified": "true", "custom:team": "blue"})
	if _, err := e.svc.CreateGroup(e.ctx, behalf.GroupInput{PoolID: p.ID, Name: "admins"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AdminAddUserToGroup(e.ctx, p.ID, "alice", "admins"); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	tok := e.mustSignIn(t, c, "", "alice")
	iss := "https://behalf.example/" + p.ID
	if e.svc.Issuer(p.ID) != iss {
		t.Fatalf("Issuer = %s", e.svc.Issuer(p.ID))
	}

	for _, tk := range []behalf.Secret{tok.AccessToken, tok.IDToken} {
		h := header(t, tk)
		if h["alg"] != "RS256" || h["kid"] == nil {
			t.Errorf("header %v, want RS256 with a kid", h)
		}
	}
	a := claimsOf(t, e, p.ID, tok.AccessToken)
	want := map[string]any{
		"sub": u.Sub, "iss": iss, "client_id": c.ID, "token_use": "access",
		"scope": "aws.cognito.signin.user.admin", "username": "alice",
		"auth_time": float64(now.Unix()), "iat": float64(now.Unix()), "exp": float64(now.Add(time.Hour).Unix()),
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("access %s = %v, want %v", k, a[k], v)
		}
	}
	for _, k := range []string{"jti", "origin_jti", "event_id"} {
		if s, _ := a[k].(string); s == "" {
			t.Errorf("access token has no %s", k)
		}
	}
	if _, ok := a["aud"]; ok {
		t.Error("access token has aud")
	}
	if g, _ := a["cognito:groups"].([]any); len(g) != 1 || g[0] != "admins" {
		t.Errorf("cognito:groups = %v", a["cognito:groups"])
	}

	id := claimsOf(t, e, p.ID, tok.IDToken)
	wantID := map[string]any{
		"sub": u.Sub, "iss": iss, "token_use": "id", "cognito:username": "alice",
		"email": "alice@example.com", "email_verified": true, "custom:team": "blue",
		"auth_time": float64(now.Unix()), "event_id": a["event_id"], "origin_jti": a["origin_jti"],
	}
	for k, v := range wantID {
		if id[k] != v {
			t.Errorf("ID %s = %v, want %v", k, id[k], v)
		}
	}
	// signer (jwx) encodes aud as a one-element array; Cognito sends a
	// string. Both are valid JWT; accept either.
	if aud, ok := id["aud"].([]any); !(id["aud"] == c.ID || ok && len(aud) == 1 && aud[0] == c.ID) {
		t.Errorf("ID aud = %v, want %s", id["aud"], c.ID)
	}
	if id["jti"] == a["jti"] {
		t.Error("ID and access tokens share a jti")
	}
	if _, ok := id["client_id"]; ok {
		t.Error("ID token has client_id")
	}

	claims, err := e.svc.VerifyAccessToken(e.ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if claims.PoolID != p.ID || claims.ClientID != c.ID || claims.Sub != u.Sub || claims.User == nil || claims.User.Username != "alice" {
		t.Errorf("VerifyAccessToken = %+v", claims)
	}
}

func TestForeignAndForgedTokensRefused(t *testing.T) {
	e := newEnv(t)
	a := e.pool(t)
	b := e.pool(t)
	ca, _ := e.client(t, a.ID, false)
	cb, _ := e.client(t, b.ID, false)
	e.user(t, a.ID, "alice", nil)
	e.user(t, b.ID, "alice", nil)
	tokA := e.mustSignIn(t, ca, "", "alice")
	tokB := e.mustSignIn(t, cb, "", "alice")
	claimsA := claimsOf(t, e, a.ID, tokA.AccessToken)
	claimsB := claimsOf(t, e, b.ID, tokB.AccessToken)

	// Pool A's key, signing a token that names pool B (and B's client and user).
	signerA, err := signer.New(e.ctx, e.store, e.seal, a.ID, signer.RS256, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	renamed := copyClaims(claimsB)
	renamed["exp"] = e.clock.Now().Add(time.Hour)
	crossPool, err := signerA.Sign(renamed)
	if err != nil {
		t.Fatal(err)
	}

	// A fresh RSA key claiming pool B's kid.
	kidB := header(t, tokB.AccessToken)["kid"].(string)
	forged := forgeRSA(t, kidB, claimsB, e.clock.Now())

	// alg none.
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		strings.Split(tokB.AccessToken.Reveal(), ".")[1] + "."

	// Pool A's token with a tampered payload (iss of B), signature of A.
	parts := strings.Split(tokA.AccessToken.Reveal(), ".")
	tampered := copyClaims(claimsA)
	tampered["iss"] = claimsB["iss"]
	pb, _ := json.Marshal(tampered)
	spliced := parts[0] + "." + base64.RawURLEncoding.EncodeToString(pb) + "." + parts[2]

	// Right key, but an issuer of another host or of no pool.
	otherHost := copyClaims(claimsA)
	otherHost["iss"] = "https://evil.example/" + a.ID
	otherHost["exp"] = e.clock.Now().Add(time.Hour)
	otherHostTok, _ := signerA.Sign(otherHost)
	noPool := copyClaims(claimsA)
	noPool["iss"] = "https://behalf.example/us-east-1_Nonexist1"
	noPool["exp"] = e.clock.Now().Add(time.Hour)
	noPoolTok, _ := signerA.Sign(noPool)

	for name, tok := range map[string]behalf.Secret{
		"pool A key, iss B": behalf.Secret(crossPool),
		"forged with B kid": behalf.Secret(forged),
		"alg none":          behalf.Secret(none),
		"spliced payload":   behalf.Secret(spliced),
		"other host":        behalf.Secret(otherHostTok),
		"unknown pool":      behalf.Secret(noPoolTok),
		"ID token":          tokB.IDToken,
		"refresh token":     tokB.RefreshToken,
		"garbage":           "not.a.jwt",
		"empty":             "",
	} {
		_, err := e.svc.GetUser(e.ctx, tok)
		wantCognito(t, err, behalf.CognitoNotAuthorized, "")
		if _, err := e.svc.VerifyAccessToken(e.ctx, tok); err == nil {
			t.Errorf("%s: VerifyAccessToken accepted it", name)
		}
	}
	// The genuine tokens work, each for its own pool.
	for _, tok := range []behalf.Secret{tokA.AccessToken, tokB.AccessToken} {
		if _, err := e.svc.GetUser(e.ctx, tok); err != nil {
			t.Errorf("genuine token: %v", err)
		}
	}
	e.clock.Add(time.Hour + signer.Skew + time.Second)
	_, err = e.svc.GetUser(e.ctx, tokA.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Access Token has expired")
}

func TestDeletedPoolClientUserTokensRefused(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	e.user(t, p.ID, "bob", nil)
	alice := e.mustSignIn(t, c, "", "alice")
	if err := e.svc.AdminDeleteUser(e.ctx, p.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.GetUser(e.ctx, alice.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	e.user(t, p.ID, "alice", nil) // same username, new sub
	_, err = e.svc.GetUser(e.ctx, alice.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	_, err = e.refresh(c, "", "alice", alice.RefreshToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")

	bob := e.mustSignIn(t, c, "", "bob")
	if err := e.svc.DeleteUserPoolClient(e.ctx, p.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.GetUser(e.ctx, bob.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")

	c2, _ := e.client(t, p.ID, false)
	bob = e.mustSignIn(t, c2, "", "bob")
	if err := e.svc.DeleteUserPool(e.ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.GetUser(e.ctx, bob.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	_, err = e.svc.JWKS(e.ctx, p.ID)
	wantCognito(t, err, behalf.CognitoResourceNotFound, "")
}

func TestJWKSPerPool(t *testing.T) {
	e := newEnv(t)
	a, b := e.pool(t), e.pool(t)
	ja, err := e.svc.JWKS(e.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	jb, _ := e.svc.JWKS(e.ctx, b.ID)
	setA, err := jwk.Parse(ja)
	if err != nil || setA.Len() != 1 {
		t.Fatalf("pool A JWKS: %d keys, %v", setA.Len(), err)
	}
	if string(ja) == string(jb) {
		t.Error("two pools share a key set")
	}
	k, _ := setA.Key(0)
	if alg, _ := k.Algorithm(); alg.String() != "RS256" {
		t.Errorf("alg %v", alg)
	}
	if strings.Contains(string(ja), `"d"`) {
		t.Error("JWKS has a private parameter")
	}
}

// copyClaims copies a claim map.
func copyClaims(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// forgeRSA signs claims with a new RSA key under kid.
func forgeRSA(tb testing.TB, kid string, claims map[string]any, now time.Time) string {
	tb.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := jwk.Import(raw)
	if err != nil {
		tb.Fatal(err)
	}
	if err := key.Set(jwk.KeyIDKey, kid); err != nil {
		tb.Fatal(err)
	}
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tok.Set(jwt.ExpirationKey, now.Add(time.Hour)); err != nil {
		tb.Fatal(err)
	}
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), key))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
