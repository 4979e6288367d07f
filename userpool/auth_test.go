package userpool_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/userpool"
)

func TestUserPasswordAuth(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	tok := e.mustSignIn(t, c, "", "alice")
	if tok.AccessToken.IsZero() || tok.IDToken.IsZero() || tok.RefreshToken.IsZero() {
		t.Fatal("missing a token")
	}
	if tok.ExpiresIn != 3600 || tok.TokenType != "Bearer" {
		t.Errorf("ExpiresIn %d TokenType %q", tok.ExpiresIn, tok.TokenType)
	}
	if len(tok.RefreshToken.Reveal()) < 43 {
		t.Errorf("refresh token of %d chars is under 256 bits", len(tok.RefreshToken.Reveal()))
	}
	u, err := e.svc.GetUser(e.ctx, tok.AccessToken)
	if err != nil || u.Username != "alice" || u.PasswordHash != "" {
		t.Fatalf("GetUser = %+v, %v", u, err)
	}
}

func TestWrongPasswordAndUnknownUserIdentical(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	_, wrong := e.signIn(c, "", "alice", "Wrong-Password-1")
	_, unknown := e.signIn(c, "", "mallory", "Wrong-Password-1")
	wantCognito(t, wrong, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	wantCognito(t, unknown, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	if wrong.Error() != unknown.Error() {
		t.Fatalf("wrong password %q differs from unknown user %q", wrong, unknown)
	}
}

func TestLockout(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	for _, name := range []string{"alice", "ghost"} {
		t.Run(name, func(t *testing.T) {
			fail := func() error { _, err := e.signIn(c, "", name, "Wrong-Password-1"); return err }
			for range 5 {
				wantCognito(t, fail(), behalf.CognitoNotAuthorized, "Incorrect username or password.")
			}
			// Fifth failure: locked 2^0 = 1 s. Even the right password is refused.
			_, err := e.signIn(c, "", name, testPassword)
			wantCognito(t, err, behalf.CognitoNotAuthorized, "Password attempts exceeded")
			e.clock.Add(time.Second)
			wantCognito(t, fail(), behalf.CognitoNotAuthorized, "Incorrect username or password.") // 6th: 2 s
			e.clock.Add(1500 * time.Millisecond)
			wantCognito(t, fail(), behalf.CognitoNotAuthorized, "Password attempts exceeded")
			e.clock.Add(500 * time.Millisecond)
			wantCognito(t, fail(), behalf.CognitoNotAuthorized, "Incorrect username or password.") // 7th: 4 s
			e.clock.Add(3 * time.Second)
			wantCognito(t, fail(), behalf.CognitoNotAuthorized, "Password attempts exceeded")
			e.clock.Add(time.Second)
			if name == "alice" {
				if _, err := e.signIn(c, "", name, testPassword); err != nil {
					t.Fatalf("right password after the lock: %v", err)
				}
				// Success reset the count: four failures do not lock.
				for range 4 {
					wantCognito(t, fail(), behalf.CognitoNotAuthorized, "Incorrect username or password.")
				}
				if _, err := e.signIn(c, "", name, testPassword); err != nil {
					t.Fatalf("after four failures: %v", err)
				}
			}
		})
	}
}

func TestLockoutCapsAndResets(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	fail := func() error { _, err := e.signIn(c, "", "alice", "Wrong-Password-1"); return err }
	for range 20 { // n = 20: 2^15 s, capped at 15 minutes
		if err := fail(); behalf.CognitoException(err) != behalf.CognitoNotAuthorized {
			t.Fatal(err)
		}
		e.clock.Add(15 * time.Minute)
	}
	l := e.lockout(t, p.ID, "alice")
	if l.Failures != 1 {
		// Each failure came 15 idle minutes after the last: the count restarted.
		t.Fatalf("failures spaced 15 minutes apart: Failures = %d, want 1", l.Failures)
	}
	for range 20 {
		_ = fail()
		l = e.lockout(t, p.ID, "alice")
		if d := l.LockedUntil.Sub(e.clock.Now()); d > 15*time.Minute {
			t.Fatalf("locked for %v, cap is 15 minutes", d)
		}
		e.clock.Add(l.LockedUntil.Sub(e.clock.Now()))
	}
	if d := l.LockedUntil.Sub(e.clock.Now()); d != 0 {
		t.Fatalf("clock not at lock end: %v", d)
	}
	if l = e.lockout(t, p.ID, "alice"); l.Failures < 20 {
		t.Fatalf("failed attempts = %d", l.Failures)
	}
	e.clock.Add(15 * time.Minute) // idle for 15 minutes after the lock: start over
	wantCognito(t, fail(), behalf.CognitoNotAuthorized, "Incorrect username or password.")
	if l = e.lockout(t, p.ID, "alice"); l.Failures != 1 {
		t.Fatalf("after an idle reset Failures = %d, want 1", l.Failures)
	}
}

func TestSecretHash(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, secret := e.client(t, p.ID, true)
	e.user(t, p.ID, "alice", nil)
	params := map[string]behalf.Secret{"USERNAME": "alice", "PASSWORD": testPassword}
	_, err := e.svc.InitiateAuth(e.ctx, c.ID, behalf.AuthFlowUserPassword, params)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Client "+c.ID+" is configured with secret but SECRET_HASH was not received")

	params["SECRET_HASH"] = behalf.Secret(userpool.SecretHash("wrong-secret", "alice", c.ID))
	_, err = e.svc.InitiateAuth(e.ctx, c.ID, behalf.AuthFlowUserPassword, params)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Unable to verify secret hash for client "+c.ID)

	params["SECRET_HASH"] = behalf.Secret(userpool.SecretHash(secret, "bob", c.ID))
	_, err = e.svc.InitiateAuth(e.ctx, c.ID, behalf.AuthFlowUserPassword, params)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Unable to verify secret hash for client "+c.ID)

	params["SECRET_HASH"] = behalf.Secret(userpool.SecretHash(secret, "alice", c.ID))
	res, err := e.svc.InitiateAuth(e.ctx, c.ID, behalf.AuthFlowUserPassword, params)
	if err != nil || res.Tokens == nil {
		t.Fatalf("right SECRET_HASH: %v", err)
	}

	// Refresh needs it too.
	_, err = e.refresh(c, "", "alice", res.Tokens.RefreshToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	if _, err := e.refresh(c, secret, "alice", res.Tokens.RefreshToken); err != nil {
		t.Fatalf("refresh with SECRET_HASH: %v", err)
	}
	// A wrong SECRET_HASH does not count towards lockout.
	if l := e.lockout(t, p.ID, "alice"); l.Failures != 0 {
		t.Errorf("Failures = %d", l.Failures)
	}
}

func TestFlowNotEnabled(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	e.user(t, p.ID, "alice", nil)
	only := func(flows ...string) *behalf.AppClient {
		c, _, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{PoolID: p.ID, Name: "c", ExplicitAuthFlows: flows})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	noPassword := only(behalf.AllowRefreshTokenAuth, behalf.AllowAdminUserPasswordAuth)
	_, err := e.signIn(noPassword, "", "alice", testPassword)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "USER_PASSWORD_AUTH flow not enabled for this client")

	noAdmin := only(behalf.AllowUserPasswordAuth)
	params := map[string]behalf.Secret{"USERNAME": "alice", "PASSWORD": testPassword}
	_, err = e.svc.AdminInitiateAuth(e.ctx, p.ID, noAdmin.ID, behalf.AuthFlowAdminUserPassword, params)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "ADMIN_USER_PASSWORD_AUTH flow not enabled for this client")

	tok := e.mustSignIn(t, noAdmin, "", "alice")
	_, err = e.refresh(noAdmin, "", "alice", tok.RefreshToken)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "REFRESH_TOKEN_AUTH flow not enabled for this client")

	res, err := e.svc.AdminInitiateAuth(e.ctx, p.ID, noPassword.ID, behalf.AuthFlowAdminUserPassword, params)
	if err != nil || res.Tokens == nil {
		t.Fatalf("ADMIN_USER_PASSWORD_AUTH: %v", err)
	}
	// The admin flow is not accepted by InitiateAuth, nor the user flow by AdminInitiateAuth.
	_, err = e.svc.InitiateAuth(e.ctx, noPassword.ID, behalf.AuthFlowAdminUserPassword, params)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "Initiate Auth method not supported.")
	_, err = e.svc.InitiateAuth(e.ctx, noPassword.ID, "USER_SRP_AUTH", params)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	// AdminInitiateAuth checks the client is the pool's.
	other := e.pool(t)
	_, err = e.svc.AdminInitiateAuth(e.ctx, other.ID, noPassword.ID, behalf.AuthFlowAdminUserPassword, params)
	wantCognito(t, err, behalf.CognitoResourceNotFound, "")
	_, err = e.svc.InitiateAuth(e.ctx, "nosuchclient", behalf.AuthFlowUserPassword, params)
	wantCognito(t, err, behalf.CognitoResourceNotFound, "")
}

func TestNewPasswordRequired(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, secret := e.client(t, p.ID, true)
	_, _, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{
		PoolID: p.ID, Username: "alice", TemporaryPassword: "Temporary-Pass-1",
		Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A wrong temporary password is refused before the status shows.
	_, err = e.signIn(c, secret, "alice", "Not-The-Temp-1")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")

	res, err := e.signIn(c, secret, "alice", "Temporary-Pass-1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens != nil || res.ChallengeName != "NEW_PASSWORD_REQUIRED" || res.Session.IsZero() {
		t.Fatalf("want a NEW_PASSWORD_REQUIRED challenge, got %+v", res)
	}
	var attrs map[string]string
	if err := json.Unmarshal([]byte(res.ChallengeParameters["userAttributes"]), &attrs); err != nil || attrs["email"] != "alice@example.com" {
		t.Errorf("userAttributes = %q", res.ChallengeParameters["userAttributes"])
	}
	if res.ChallengeParameters["USER_ID_FOR_SRP"] != "alice" || res.ChallengeParameters["requiredAttributes"] != "[]" {
		t.Errorf("challenge parameters %v", res.ChallengeParameters)
	}

	respond := func(session behalf.Secret, newPassword behalf.Secret) (*behalf.AuthResult, error) {
		return e.svc.RespondToAuthChallenge(e.ctx, c.ID, "NEW_PASSWORD_REQUIRED", session, map[string]behalf.Secret{
			"USERNAME": "alice", "NEW_PASSWORD": newPassword, "SECRET_HASH": behalf.Secret(userpool.SecretHash(secret, "alice", c.ID)),
			"userAttributes.name": "Alice",
		})
	}
	_, err = respond("bm90IGEgc2Vzc2lvbg", testPassword)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid session for the user, session is expired.")
	_, err = respond(res.Session, "weak")
	wantCognito(t, err, behalf.CognitoInvalidPassword, "")

	done, err := respond(res.Session, testPassword)
	if err != nil || done.Tokens == nil {
		t.Fatalf("answer challenge: %+v, %v", done, err)
	}
	u, _ := e.svc.AdminGetUser(e.ctx, p.ID, "alice")
	if u.Status != behalf.UserConfirmed || u.Attributes["name"] != "Alice" {
		t.Errorf("after the challenge: status %s, name %q", u.Status, u.Attributes["name"])
	}
	// The session works once.
	_, err = respond(res.Session, "Another-Pass-2")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid session for the user, session is expired.")
	e.mustSignIn(t, c, secret, "alice")
}

func TestChallengeSessionExpiresAndIsBound(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	other, _ := e.client(t, p.ID, false)
	if _, _, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "alice", TemporaryPassword: "Temporary-Pass-1"}); err != nil {
		t.Fatal(err)
	}
	res, err := e.signIn(c, "", "alice", "Temporary-Pass-1")
	if err != nil {
		t.Fatal(err)
	}
	answer := map[string]behalf.Secret{"USERNAME": "alice", "NEW_PASSWORD": testPassword}
	_, err = e.svc.RespondToAuthChallenge(e.ctx, other.ID, "NEW_PASSWORD_REQUIRED", res.Session, answer)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid session for the user, session is expired.")
	_, err = e.svc.RespondToAuthChallenge(e.ctx, c.ID, "NEW_PASSWORD_REQUIRED", res.Session, map[string]behalf.Secret{"USERNAME": "bob", "NEW_PASSWORD": testPassword})
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	e.clock.Add(3 * time.Minute)
	_, err = e.svc.AdminRespondToAuthChallenge(e.ctx, p.ID, c.ID, "NEW_PASSWORD_REQUIRED", res.Session, answer)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid session for the user, session is expired.")
}

func TestTemporaryPasswordExpires(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	if _, _, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "alice", TemporaryPassword: "Temporary-Pass-1"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(7*24*time.Hour - time.Second)
	if _, err := e.signIn(c, "", "alice", "Temporary-Pass-1"); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	e.clock.Add(time.Second)
	_, err := e.signIn(c, "", "alice", "Temporary-Pass-1")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Temporary password has expired and must be reset by an administrator.")
	// RESEND issues a new one.
	_, temp, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "alice", MessageAction: "RESEND"})
	if err != nil || temp.IsZero() {
		t.Fatalf("RESEND: %v", err)
	}
	if res, err := e.signIn(c, "", "alice", temp); err != nil || res.ChallengeName != "NEW_PASSWORD_REQUIRED" {
		t.Fatalf("after RESEND: %+v, %v", res, err)
	}
}

func TestRefresh(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	tok := e.mustSignIn(t, c, "", "alice")
	first := claimsOf(t, e, p.ID, tok.AccessToken)
	e.clock.Add(10 * time.Minute)
	res, err := e.refresh(c, "", "alice", tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens.AccessToken.IsZero() || res.Tokens.IDToken.IsZero() || !res.Tokens.RefreshToken.IsZero() {
		t.Fatal("refresh must return access and ID tokens and no refresh token")
	}
	again := claimsOf(t, e, p.ID, res.Tokens.AccessToken)
	if again["auth_time"] != first["auth_time"] || again["origin_jti"] != first["origin_jti"] || again["jti"] == first["jti"] {
		t.Errorf("refresh claims: auth_time %v/%v origin_jti %v/%v", first["auth_time"], again["auth_time"], first["origin_jti"], again["origin_jti"])
	}
	if _, err := e.svc.GetUser(e.ctx, res.Tokens.AccessToken); err != nil {
		t.Errorf("GetUser with refreshed token: %v", err)
	}
	// REFRESH_TOKEN is a synonym; tokens do not rotate, so the same one works again.
	_, err = e.svc.InitiateAuth(e.ctx, c.ID, behalf.AuthFlowRefresh, map[string]behalf.Secret{"REFRESH_TOKEN": tok.RefreshToken})
	if err != nil {
		t.Errorf("REFRESH_TOKEN: %v", err)
	}
	_, err = e.refresh(c, "", "alice", "bogus")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid Refresh Token")
	other, _ := e.client(t, p.ID, false)
	_, err = e.refresh(other, "", "alice", tok.RefreshToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid Refresh Token")
	e.clock.Add(30 * 24 * time.Hour)
	_, err = e.refresh(c, "", "alice", tok.RefreshToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Refresh Token has expired")
}

func TestRevokeToken(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, secret := e.client(t, p.ID, true)
	e.user(t, p.ID, "alice", nil)
	tok := e.mustSignIn(t, c, secret, "alice")
	keep := e.mustSignIn(t, c, secret, "alice")
	refreshed, err := e.refresh(c, secret, "alice", tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	wantCognito(t, e.svc.RevokeToken(e.ctx, tok.RefreshToken, c.ID, "wrong"), behalf.CognitoNotAuthorized, "")
	other, otherSecret := e.client(t, p.ID, true)
	wantCognito(t, e.svc.RevokeToken(e.ctx, tok.RefreshToken, other.ID, otherSecret), behalf.CognitoNotAuthorized, "")
	if err := e.svc.RevokeToken(e.ctx, tok.RefreshToken, c.ID, secret); err != nil {
		t.Fatal(err)
	}
	_, err = e.refresh(c, secret, "alice", tok.RefreshToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Refresh Token has been revoked")
	// Access tokens of the family are refused, those of other sign-ins are not.
	for _, at := range []behalf.Secret{tok.AccessToken, refreshed.Tokens.AccessToken} {
		_, err = e.svc.GetUser(e.ctx, at)
		wantCognito(t, err, behalf.CognitoNotAuthorized, "Access Token has been revoked")
	}
	if _, err := e.svc.GetUser(e.ctx, keep.AccessToken); err != nil {
		t.Errorf("other sign-in's access token: %v", err)
	}
	if _, err := e.refresh(c, secret, "alice", keep.RefreshToken); err != nil {
		t.Errorf("other sign-in's refresh token: %v", err)
	}
	// Unknown tokens revoke silently (RFC 7009).
	if err := e.svc.RevokeToken(e.ctx, "unknown", c.ID, secret); err != nil {
		t.Errorf("unknown token: %v", err)
	}
	off := false
	noRevoke, _, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{PoolID: p.ID, Name: "n", EnableTokenRevocation: &off, ExplicitAuthFlows: []string{behalf.AllowUserPasswordAuth}})
	if err != nil {
		t.Fatal(err)
	}
	wantCognito(t, e.svc.RevokeToken(e.ctx, "x", noRevoke.ID, ""), behalf.CognitoUnsupportedOperation, "")
}

func TestGlobalSignOut(t *testing.T) {
	for _, admin := range []bool{false, true} {
		e := newEnv(t)
		p := e.pool(t)
		c, _ := e.client(t, p.ID, false)
		e.user(t, p.ID, "alice", nil)
		a := e.mustSignIn(t, c, "", "alice")
		b := e.mustSignIn(t, c, "", "alice")
		e.clock.Add(time.Millisecond)
		var err error
		if admin {
			err = e.svc.AdminUserGlobalSignOut(e.ctx, p.ID, "alice")
		} else {
			err = e.svc.GlobalSignOut(e.ctx, a.AccessToken)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []*behalf.PoolTokens{a, b} {
			_, err := e.svc.GetUser(e.ctx, tok.AccessToken)
			wantCognito(t, err, behalf.CognitoNotAuthorized, "Access Token has been revoked")
			_, err = e.refresh(c, "", "alice", tok.RefreshToken)
			wantCognito(t, err, behalf.CognitoNotAuthorized, "Refresh Token has been revoked")
			_, err = e.svc.VerifyAccessToken(e.ctx, tok.AccessToken)
			wantCognito(t, err, behalf.CognitoNotAuthorized, "Access Token has been revoked")
		}
		// A sign-in right after the sign-out (same second) is not caught by it.
		e.clock.Add(time.Microsecond)
		fresh := e.mustSignIn(t, c, "", "alice")
		if _, err := e.svc.GetUser(e.ctx, fresh.AccessToken); err != nil {
			t.Errorf("admin=%v: a new sign-in after the sign-out: %v", admin, err)
		}
	}
}

func TestDisabledUser(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	tok := e.mustSignIn(t, c, "", "alice")
	if err := e.svc.AdminDisableUser(e.ctx, p.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	_, err := e.signIn(c, "", "alice", testPassword)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "User is disabled.")
	// The wrong password still gets the generic answer: status is not revealed.
	_, err = e.signIn(c, "", "alice", "Wrong-Password-1")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	_, err = e.refresh(c, "", "alice", tok.RefreshToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	_, err = e.svc.GetUser(e.ctx, tok.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	_, err = e.svc.AuthenticatePassword(e.ctx, p.ID, "alice", testPassword)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "User is disabled.")
	if err := e.svc.AdminEnableUser(e.ctx, p.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Second)
	e.mustSignIn(t, c, "", "alice")
	// Disabling revoked the tokens: enabling does not bring them back.
	_, err = e.svc.GetUser(e.ctx, tok.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Access Token has been revoked")
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	tok := e.mustSignIn(t, c, "", "alice")
	err := e.svc.ChangePassword(e.ctx, tok.AccessToken, "Wrong-Password-1", "Brand-New-Pass-2")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	err = e.svc.ChangePassword(e.ctx, tok.AccessToken, testPassword, "weak")
	wantCognito(t, err, behalf.CognitoInvalidPassword, "")
	if err := e.svc.ChangePassword(e.ctx, tok.AccessToken, testPassword, "Brand-New-Pass-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.signIn(c, "", "alice", "Brand-New-Pass-2"); err != nil {
		t.Fatalf("sign in with the new password: %v", err)
	}
	_, err = e.signIn(c, "", "alice", testPassword)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
}

func TestAuthenticatePasswordAndIssueTokens(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", map[string]string{"email": "alice@example.com", "email_verified": "true"})
	_, err := e.svc.AuthenticatePassword(e.ctx, p.ID, "nobody", testPassword)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	u, err := e.svc.AuthenticatePassword(e.ctx, p.ID, "alice", testPassword)
	if err != nil || u.Username != "alice" || u.PasswordHash != "" {
		t.Fatalf("AuthenticatePassword = %+v, %v", u, err)
	}
	authTime := e.clock.Now().Add(-time.Minute)
	tok, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{
		PoolID: p.ID, ClientID: c.ID, Username: "alice", Scopes: []string{"openid", "email"},
		Nonce: "n-0S6_WzA2Mj", AuthTime: authTime, RefreshToken: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	id := claimsOf(t, e, p.ID, tok.IDToken)
	if id["nonce"] != "n-0S6_WzA2Mj" || id["at_hash"] == nil || id["auth_time"] != float64(authTime.Unix()) {
		t.Errorf("ID token claims %v", id)
	}
	access := claimsOf(t, e, p.ID, tok.AccessToken)
	if access["scope"] != "openid email" {
		t.Errorf("scope = %v", access["scope"])
	}
	// OAuth tokens without aws.cognito.signin.user.admin cannot call GetUser.
	_, err = e.svc.GetUser(e.ctx, tok.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Access Token does not have required scopes")
	if _, err := e.svc.VerifyAccessToken(e.ctx, tok.AccessToken); err != nil {
		t.Errorf("VerifyAccessToken: %v", err)
	}
	// The refresh keeps the OAuth scopes.
	res, err := e.refresh(c, "", "alice", tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if got := claimsOf(t, e, p.ID, res.Tokens.AccessToken)["scope"]; got != "openid email" {
		t.Errorf("refreshed scope = %v", got)
	}
	// Without openid there is no ID token.
	noID, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: c.ID, Username: "alice", Scopes: []string{"email"}})
	if err != nil || !noID.IDToken.IsZero() || !noID.RefreshToken.IsZero() {
		t.Errorf("scopes without openid: ID token %v, refresh %v, %v", !noID.IDToken.IsZero(), !noID.RefreshToken.IsZero(), err)
	}
}

func TestGlobalSignOutWithoutTokenRevocation(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	off := false
	c, _, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{
		PoolID: p.ID, Name: "legacy", EnableTokenRevocation: &off,
		ExplicitAuthFlows: []string{behalf.AllowUserPasswordAuth, behalf.AllowRefreshTokenAuth},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.user(t, p.ID, "alice", nil)
	tok := e.mustSignIn(t, c, "", "alice")
	if _, ok := claimsOf(t, e, p.ID, tok.AccessToken)["origin_jti"]; ok {
		t.Error("origin_jti on a client without token revocation")
	}
	e.clock.Add(time.Second)
	if err := e.svc.AdminUserGlobalSignOut(e.ctx, p.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.GetUser(e.ctx, tok.AccessToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Access Token has been revoked")
	_, err = e.refresh(c, "", "alice", tok.RefreshToken)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Refresh Token has been revoked")
	e.clock.Add(time.Second)
	fresh := e.mustSignIn(t, c, "", "alice")
	if _, err := e.svc.GetUser(e.ctx, fresh.AccessToken); err != nil {
		t.Errorf("new sign-in: %v", err)
	}
}

// Ensure a password check that finds no hashing slot within HashQueueWait
// is refused with TooManyRequestsException and a Retry-After, instead of
// waiting without bound (issue 11, reliability 1: at 10× the sustainable
// sign-in rate RSS reached 575 MB); the refusal is not a failed attempt,
// and once a slot is free the user signs in.
func TestHashSlotsBusy(t *testing.T) {
	e := newEnv(t)
	e.svc.MaxConcurrentHashes = 1
	e.svc.HashQueueWait = time.Millisecond
	p := e.pool(t)
	c, secret := e.client(t, p.ID, true)
	e.user(t, p.ID, "alice", nil)
	release, err := userpool.HoldHashSlot(e.ctx, e.svc)
	if err != nil {
		t.Fatal(err)
	}
	// A guard only: a check that waited for the slot would end here.
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	e.ctx = ctx
	busy := func(what string, err error) {
		t.Helper()
		var ra behalf.RetryAfterError
		if behalf.CognitoException(err) != behalf.CognitoTooManyRequests || !errors.As(err, &ra) || ra.RetryAfter() < time.Second {
			t.Fatalf("%s with every hashing slot taken: %v, want TooManyRequestsException with a Retry-After", what, err)
		}
	}
	for range 10 { // more than the lockout allows
		_, err := e.signIn(c, secret, "alice", "Wrong-Horse-9")
		busy("sign-in", err)
	}
	_, err = e.signIn(c, secret, "nobody", testPassword)
	busy("sign-in of an unknown user", err)
	busy("AdminSetUserPassword", e.svc.AdminSetUserPassword(e.ctx, p.ID, "alice", "Other-Horse-9", true))
	release()
	e.mustSignIn(t, c, secret, "alice")
}
