package userpool_test

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// rotatingClient creates a public client that rotates refresh tokens with
// the given retry grace.
func (e *env) rotatingClient(tb testing.TB, poolID string, grace time.Duration) *behalf.AppClient {
	tb.Helper()
	c, _, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{
		PoolID: poolID, Name: "rotating",
		ExplicitAuthFlows:   []string{behalf.AllowUserPasswordAuth, behalf.AllowRefreshTokenAuth},
		RotateRefreshTokens: true, RefreshRetryGrace: grace,
	})
	if err != nil {
		tb.Fatalf("CreateUserPoolClient: %v", err)
	}
	return c
}

// Ensure GetTokensFromRefreshToken without rotation refreshes like
// REFRESH_TOKEN_AUTH: new access and ID tokens of the same sign-in
// (auth_time, origin_jti), no refresh token; and that a confidential
// client must send its secret.
func TestGetTokensFromRefreshTokenNoRotation(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, secret := e.client(t, p.ID, true)
	e.user(t, p.ID, "alice", nil)
	tok := e.mustSignIn(t, c, secret, "alice")
	e.clock.Add(time.Minute)

	_, err := e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok.RefreshToken, "")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Unable to verify client secret for client "+c.ID)
	_, err = e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok.RefreshToken, "wrong")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")

	got, err := e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok.RefreshToken, secret)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken != "" || got.AccessToken == "" || got.IDToken == "" {
		t.Fatalf("tokens = %+v, want access and ID only", got)
	}
	before, after := claimsOf(t, e, p.ID, tok.AccessToken), claimsOf(t, e, p.ID, got.AccessToken)
	if before["origin_jti"] != after["origin_jti"] || before["auth_time"] != after["auth_time"] {
		t.Fatalf("refreshed claims %v, want the sign-in's origin_jti and auth_time %v", after, before)
	}
	// The token still works, as often as wanted.
	if _, err := e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok.RefreshToken, secret); err != nil {
		t.Fatal(err)
	}
	// Errors: unknown token, another client's, empty.
	_, err = e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, "nope", secret)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid Refresh Token")
	other, _ := e.client(t, p.ID, false)
	_, err = e.svc.GetTokensFromRefreshToken(e.ctx, other.ID, tok.RefreshToken, "")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid Refresh Token")
	_, err = e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, "", secret)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	// Revoked by a global sign-out.
	if err := e.svc.AdminUserGlobalSignOut(e.ctx, p.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok.RefreshToken, secret)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Refresh Token has been revoked")
}

// Ensure rotation: each refresh returns a new refresh token of the same
// family and expiry; the old one works again only within the grace
// period; a use after it revokes the whole family (access tokens too) with
// RefreshTokenReuseException; REFRESH_TOKEN_AUTH is refused.
func TestRefreshTokenRotation(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c := e.rotatingClient(t, p.ID, 10*time.Second)
	e.user(t, p.ID, "alice", nil)
	tok := e.mustSignIn(t, c, "", "alice")

	_, err := e.refresh(c, "", "alice", tok.RefreshToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")

	e.clock.Add(time.Minute)
	r1, err := e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok.RefreshToken, "")
	if err != nil {
		t.Fatal(err)
	}
	if r1.RefreshToken == "" || r1.RefreshToken == tok.RefreshToken {
		t.Fatalf("rotation returned refresh token %q", r1.RefreshToken)
	}
	first, rotated := claimsOf(t, e, p.ID, tok.AccessToken), claimsOf(t, e, p.ID, r1.AccessToken)
	if first["origin_jti"] != rotated["origin_jti"] || first["auth_time"] != rotated["auth_time"] {
		t.Fatalf("rotated claims %v, want the family's origin_jti and auth_time of %v", rotated, first)
	}
	// Within the grace period the old token works again (a retry).
	e.clock.Add(5 * time.Second)
	r2, err := e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok.RefreshToken, "")
	if err != nil {
		t.Fatalf("retry within the grace period: %v", err)
	}
	// The newest token rotates on.
	r3, err := e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, r1.RefreshToken, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VerifyAccessToken(e.ctx, r3.AccessToken); err != nil {
		t.Fatalf("access token of a rotated token: %v", err)
	}
	// After the grace period the old token is a replay: the family dies.
	e.clock.Add(6 * time.Second)
	_, err = e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok.RefreshToken, "")
	wantCognito(t, err, behalf.CognitoRefreshTokenReuse, "")
	for _, rt := range []behalf.Secret{r2.RefreshToken, r3.RefreshToken} {
		_, err = e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, rt, "")
		wantCognito(t, err, behalf.CognitoNotAuthorized, "Refresh Token has been revoked")
	}
	for _, at := range []behalf.Secret{tok.AccessToken, r1.AccessToken, r3.AccessToken} {
		_, err = e.svc.VerifyAccessToken(e.ctx, at)
		wantCognito(t, err, behalf.CognitoNotAuthorized, "Access Token has been revoked")
	}
	// Another sign-in is another family, unaffected.
	tok2 := e.mustSignIn(t, c, "", "alice")
	if _, err := e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok2.RefreshToken, ""); err != nil {
		t.Fatal(err)
	}
}

// Ensure a rotated token keeps its family's expiry, grace 0 allows no
// second use, and RevokeToken on a rotated token revokes the family.
func TestRefreshTokenRotationExpiryAndRevoke(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c := e.rotatingClient(t, p.ID, 0)
	e.user(t, p.ID, "alice", nil)
	tok := e.mustSignIn(t, c, "", "alice")
	e.clock.Add(29 * 24 * time.Hour)
	_, err := e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok.RefreshToken, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok.RefreshToken, "")
	wantCognito(t, err, behalf.CognitoRefreshTokenReuse, "")

	tok = e.mustSignIn(t, c, "", "alice")
	r1, err := e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok.RefreshToken, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RevokeToken(e.ctx, r1.RefreshToken, c.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.VerifyAccessToken(e.ctx, tok.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Access Token has been revoked")
	_, err = e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, r1.RefreshToken, "")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Refresh Token has been revoked")

	// Expiry: a token rotated a day before its family expires dies with it.
	tok = e.mustSignIn(t, c, "", "alice")
	e.clock.Add(29 * 24 * time.Hour)
	r1, err = e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, tok.RefreshToken, "")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(24 * time.Hour)
	_, err = e.svc.GetTokensFromRefreshToken(e.ctx, c.ID, r1.RefreshToken, "")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Refresh Token has expired")

	// Settings are validated.
	_, _, err = e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{PoolID: p.ID, Name: "x", RotateRefreshTokens: true, RefreshRetryGrace: 61 * time.Second})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
}
