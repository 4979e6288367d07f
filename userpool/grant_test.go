package userpool_test

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// resourceServer defines a resource server with the given scope names in
// a pool, unless it exists.
func (e *env) resourceServer(tb testing.TB, poolID, identifier string, names ...string) {
	tb.Helper()
	if _, err := e.svc.DescribeResourceServer(e.ctx, poolID, identifier); err == nil {
		return
	}
	in := behalf.ResourceServerInput{PoolID: poolID, Identifier: identifier, Name: "server"}
	for _, n := range names {
		in.Scopes = append(in.Scopes, behalf.ResourceServerScope{Name: n, Description: "the " + n + " scope"})
	}
	if _, err := e.svc.CreateResourceServer(e.ctx, in); err != nil {
		tb.Fatalf("CreateResourceServer: %v", err)
	}
}

// machineClient creates a client_credentials client with two of the three
// scopes of the resource server "agents".
func (e *env) machineClient(tb testing.TB, poolID string) (*behalf.AppClient, behalf.Secret) {
	tb.Helper()
	e.resourceServer(tb, poolID, "agents", "read", "write", "admin")
	c, s, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{
		PoolID: poolID, Name: "machine", GenerateSecret: true, AllowedOAuthFlowsUserPoolClient: true,
		AllowedOAuthFlows: []string{"client_credentials"}, AllowedOAuthScopes: []string{"agents/read", "agents/write"},
		AccessTokenValidity: 10, TokenValidityUnits: behalf.TokenValidityUnits{AccessToken: "minutes"},
	})
	if err != nil {
		tb.Fatalf("CreateUserPoolClient: %v", err)
	}
	return c, s
}

// Ensure IssueTokens with no username mints Cognito's client_credentials
// token for a client that allows the flow: access token only, sub = the
// client id, the granted scopes; and that VerifyAccessToken takes it as a
// client's token, with no user.
func TestIssueClientTokens(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	m, _ := e.machineClient(t, p.ID)
	now := e.clock.Now()
	tok, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: m.ID, Scopes: []string{"agents/read"}, RefreshToken: true, Nonce: "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	if !tok.IDToken.IsZero() || !tok.RefreshToken.IsZero() || tok.ExpiresIn != 600 || tok.TokenType != "Bearer" ||
		len(tok.Scopes) != 1 || tok.Scopes[0] != "agents/read" {
		t.Errorf("tokens = %+v, want an access token only, for 10 minutes, with agents/read", tok)
	}
	a := claimsOf(t, e, p.ID, tok.AccessToken)
	want := map[string]any{
		"sub": m.ID, "client_id": m.ID, "iss": e.svc.Issuer(p.ID), "token_use": "access", "scope": "agents/read",
		"auth_time": float64(now.Unix()), "iat": float64(now.Unix()), "exp": float64(now.Add(10 * time.Minute).Unix()),
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%s = %v, want %v", k, a[k], v)
		}
	}
	for _, k := range []string{"username", "aud", "origin_jti", "cognito:groups", "nonce"} {
		if _, ok := a[k]; ok {
			t.Errorf("a client's token has %s: %v", k, a)
		}
	}
	if s, _ := a["jti"].(string); s == "" {
		t.Error("no jti")
	}
	c, err := e.svc.VerifyAccessToken(e.ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != m.ID || c.Sub != m.ID || c.Username != "" || c.User != nil || c.PoolID != p.ID {
		t.Errorf("VerifyAccessToken = %+v", c)
	}
	// It names no user: the user APIs refuse it.
	_, err = e.svc.GetUser(e.ctx, tok.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Access Token does not have required scopes")

	both, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: m.ID, Scopes: []string{"agents/read", "agents/write"}})
	if err != nil || claimsOf(t, e, p.ID, both.AccessToken)["scope"] != "agents/read agents/write" {
		t.Errorf("two scopes: %v", err)
	}

	// No scope is every scope the client is allowed, as in Cognito.
	all, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: m.ID})
	if err != nil || claimsOf(t, e, p.ID, all.AccessToken)["scope"] != "agents/read agents/write" {
		t.Errorf("no scope: %v", err)
	}

	// Refusals: a scope the client is not allowed (though defined).
	_, err = e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: m.ID, Scopes: []string{"agents/admin"}})
	wantCognito(t, err, behalf.CognitoScopeDoesNotExist, "")
	userClient, _ := e.client(t, p.ID, false)
	_, err = e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: userClient.ID, Scopes: []string{"openid"}})
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	other := e.pool(t)
	_, err = e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: other.ID, ClientID: m.ID, Scopes: []string{"agents/read"}})
	wantCognito(t, err, behalf.CognitoResourceNotFound, "")

	// A client that no longer allows the flow, or no longer exists, loses
	// its tokens.
	if _, _, err := e.svc.UpdateUserPoolClient(e.ctx, behalf.UserPoolClientInput{PoolID: p.ID, ClientID: m.ID, Name: "machine"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.VerifyAccessToken(e.ctx, tok.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid Access Token")
	m2, _ := e.machineClient(t, p.ID)
	tok2, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: m2.ID, Scopes: []string{"agents/write"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteUserPoolClient(e.ctx, p.ID, m2.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.VerifyAccessToken(e.ctx, tok2.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid Access Token")
}

// Ensure RefreshTokens, the token endpoint's refresh_token grant: a
// confidential client needs no SECRET_HASH (the endpoint authenticated
// it), and REFRESH_TOKEN_AUTH's other rules hold.
func TestRefreshTokens(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, secret := e.client(t, p.ID, true)
	e.user(t, p.ID, "alice", map[string]string{"email": "alice@example.com"})
	e.user(t, p.ID, "bob", nil)
	signIn := func(name string) *behalf.PoolTokens {
		t.Helper()
		tok, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{
			PoolID: p.ID, ClientID: c.ID, Username: name, Scopes: []string{"openid", "email"}, RefreshToken: true,
			AuthTime: e.clock.Now().Add(-time.Minute),
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tok := signIn("alice")
	e.clock.Add(time.Minute)
	got, err := e.svc.RefreshTokens(e.ctx, p.ID, c.ID, tok.RefreshToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken.IsZero() || got.IDToken.IsZero() || !got.RefreshToken.IsZero() {
		t.Fatalf("RefreshTokens = %+v, want access and ID tokens, no new refresh token", got)
	}
	before, after := claimsOf(t, e, p.ID, tok.AccessToken), claimsOf(t, e, p.ID, got.AccessToken)
	for _, k := range []string{"sub", "username", "client_id", "scope", "auth_time", "origin_jti"} {
		if before[k] != after[k] {
			t.Errorf("refreshed %s = %v, want %v", k, after[k], before[k])
		}
	}
	if after["iat"] == before["iat"] {
		t.Error("the refreshed token has the old iat")
	}
	if id := claimsOf(t, e, p.ID, got.IDToken); id["email"] != "alice@example.com" {
		t.Errorf("refreshed ID token: %v", id)
	}
	// REFRESH_TOKEN_AUTH still wants the SECRET_HASH.
	_, err = e.refresh(c, "", "alice", tok.RefreshToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	if _, err := e.refresh(c, secret, "alice", tok.RefreshToken); err != nil {
		t.Errorf("REFRESH_TOKEN_AUTH with SECRET_HASH: %v", err)
	}

	// The token must be the client's, in the pool.
	other, _ := e.client(t, p.ID, true)
	_, err = e.svc.RefreshTokens(e.ctx, p.ID, other.ID, tok.RefreshToken, nil)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid Refresh Token")
	_, err = e.svc.RefreshTokens(e.ctx, e.pool(t).ID, c.ID, tok.RefreshToken, nil)
	wantCognito(t, err, behalf.CognitoResourceNotFound, "")
	_, err = e.svc.RefreshTokens(e.ctx, p.ID, c.ID, "unknown", nil)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid Refresh Token")
	_, err = e.svc.RefreshTokens(e.ctx, p.ID, c.ID, "", nil)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")

	// The client must allow the refresh flow.
	noRefresh, _, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{
		PoolID: p.ID, Name: "no refresh", GenerateSecret: true, ExplicitAuthFlows: []string{behalf.AllowUserPasswordAuth},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.RefreshTokens(e.ctx, p.ID, noRefresh.ID, tok.RefreshToken, nil)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "REFRESH_TOKEN_AUTH flow not enabled for this client")

	// Revoked.
	revoked := signIn("alice")
	if err := e.svc.RevokeToken(e.ctx, revoked.RefreshToken, c.ID, secret); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.RefreshTokens(e.ctx, p.ID, c.ID, revoked.RefreshToken, nil)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Refresh Token has been revoked")

	// Disabled user: the token is refused, and stays refused once enabled
	// (disabling signed the user out).
	bob := signIn("bob")
	if err := e.svc.AdminDisableUser(e.ctx, p.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.RefreshTokens(e.ctx, p.ID, c.ID, bob.RefreshToken, nil)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	if err := e.svc.AdminEnableUser(e.ctx, p.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.RefreshTokens(e.ctx, p.ID, c.ID, bob.RefreshToken, nil)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Refresh Token has been revoked")
	// A disabled user whose token was not revoked (a store edited by hand)
	// is refused as disabled.
	e.clock.Add(time.Millisecond)
	bob = signIn("bob")
	if _, err := e.store.UpdatePoolUser(e.ctx, p.ID, "bob", func(u *behalf.PoolUser) error {
		u.Enabled = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.RefreshTokens(e.ctx, p.ID, c.ID, bob.RefreshToken, nil)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "User is disabled.")

	// Expired.
	e.clock.Add(30*24*time.Hour + time.Second)
	_, err = e.svc.RefreshTokens(e.ctx, p.ID, c.ID, tok.RefreshToken, nil)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Refresh Token has expired")
}

// Ensure a sign-in right after a sign-out, in the same second, gets a
// usable access token, whichever way the token is checked against the
// sign-out (refresh-token family row, or issue time), and that a token
// issued just before the sign-out, in that same second, is refused.
func TestSignInRightAfterSignOut(t *testing.T) {
	type signInFunc func(t *testing.T, e *env, p *behalf.UserPool) behalf.Secret
	apiSignIn := func(revocation bool) signInFunc {
		return func(t *testing.T, e *env, p *behalf.UserPool) behalf.Secret {
			t.Helper()
			c, _, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{
				PoolID: p.ID, Name: "app", EnableTokenRevocation: &revocation,
				ExplicitAuthFlows: []string{behalf.AllowUserPasswordAuth, behalf.AllowRefreshTokenAuth},
			})
			if err != nil {
				t.Fatal(err)
			}
			return e.mustSignIn(t, c, "", "alice").AccessToken
		}
	}
	signIns := map[string]signInFunc{
		"password sign-in":                    apiSignIn(true),
		"password sign-in without revocation": apiSignIn(false),
		"hosted login without refresh token": func(t *testing.T, e *env, p *behalf.UserPool) behalf.Secret {
			t.Helper()
			c, _ := e.client(t, p.ID, false)
			tok, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: c.ID, Username: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			return tok.AccessToken
		},
	}
	signOuts := map[string]func(e *env, p *behalf.UserPool, tok behalf.Secret) error{
		"AdminUserGlobalSignOut": func(e *env, p *behalf.UserPool, _ behalf.Secret) error {
			return e.svc.AdminUserGlobalSignOut(e.ctx, p.ID, "alice")
		},
		"GlobalSignOut": func(e *env, _ *behalf.UserPool, tok behalf.Secret) error {
			return e.svc.GlobalSignOut(e.ctx, tok)
		},
		"AdminDisableUser then AdminEnableUser": func(e *env, p *behalf.UserPool, _ behalf.Secret) error {
			if err := e.svc.AdminDisableUser(e.ctx, p.ID, "alice"); err != nil {
				return err
			}
			return e.svc.AdminEnableUser(e.ctx, p.ID, "alice")
		},
	}
	for signInName, signIn := range signIns {
		for signOutName, signOut := range signOuts {
			t.Run(signInName+"/"+signOutName, func(t *testing.T) {
				e := newEnv(t)
				p := e.pool(t)
				e.user(t, p.ID, "alice", nil)
				e.clock.Add(400 * time.Millisecond) // mid-second: t = hh:mm:05.4
				old := signIn(t, e, p)
				e.clock.Add(time.Millisecond)
				if err := signOut(e, p, old); err != nil {
					t.Fatal(err)
				}
				_, err := e.svc.GetUser(e.ctx, old)
				wantCognito(t, err, behalf.CognitoNotAuthorized, "Access Token has been revoked")
				e.clock.Add(time.Millisecond) // the same second
				fresh := signIn(t, e, p)
				if _, err := e.svc.GetUser(e.ctx, fresh); err != nil {
					t.Fatalf("GetUser with a token issued 1ms after the sign-out: %v", err)
				}
				if _, err := e.svc.VerifyAccessToken(e.ctx, fresh); err != nil {
					t.Errorf("VerifyAccessToken: %v", err)
				}
				_, err = e.svc.GetUser(e.ctx, old)
				wantCognito(t, err, behalf.CognitoNotAuthorized, "Access Token has been revoked")
			})
		}
	}
}
