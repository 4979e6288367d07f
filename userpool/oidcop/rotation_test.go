package oidcop_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/behalf-dev/behalf"
)

// Ensure the refresh_token grant rotates the refresh tokens of a client
// whose RefreshTokenRotation is on, as Cognito's token endpoint does: each
// refresh answers a new refresh token of the same sign-in, and the old one
// used again after the grace period (none here) is invalid_grant and kills
// the family, the newest token included.
func TestRefreshTokenGrantRotation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, secret, err := e.svc.CreateUserPoolClient(ctx, behalf.UserPoolClientInput{
		PoolID: e.pool.ID, Name: "Rotating Backend", GenerateSecret: true,
		AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid", "email"}, AllowedOAuthFlowsUserPoolClient: true,
		CallbackURLs: []string{e.callback}, LogoutURLs: []string{e.logoutURL}, SupportedIdentityProviders: []string{"COGNITO"},
		RotateRefreshTokens: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	code := e.login(e.browser(), authParams{client: c, scope: "openid email", state: "s", nonce: "n"})
	r, _ := e.post("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.callback}}, c.ID, secret)
	if r.Status != http.StatusOK || r.RefreshToken == "" {
		t.Fatalf("exchange: %+v", r)
	}
	first := claims(t, r.AccessToken)
	got, _ := e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.RefreshToken}}, c.ID, secret)
	if got.Status != http.StatusOK || got.RefreshToken == "" || got.RefreshToken == r.RefreshToken || got.IDToken == "" {
		t.Fatalf("rotating refresh: %+v, want new access, ID and refresh tokens", got)
	}
	at := claims(t, got.AccessToken)
	want(t, "origin_jti", at["origin_jti"], first["origin_jti"])
	want(t, "scope", at["scope"], any("openid email"))
	next, _ := e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {got.RefreshToken}}, c.ID, secret)
	if next.Status != http.StatusOK || next.RefreshToken == "" {
		t.Fatalf("second rotation: %+v", next)
	}
	// The first token again: a replay.
	replay, _ := e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.RefreshToken}}, c.ID, secret)
	want(t, "replayed token", replay.Error, "invalid_grant")
	dead, _ := e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.RefreshToken}}, c.ID, secret)
	want(t, "the family after a replay", dead.Error, "invalid_grant")
}
