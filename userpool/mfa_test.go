package userpool_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/userpool"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// code is the TOTP code of secret at t.
func code(tb testing.TB, secret behalf.Secret, t time.Time) behalf.Secret {
	tb.Helper()
	c, err := totp.GenerateCodeCustom(secret.Reveal(), t, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		tb.Fatal(err)
	}
	return behalf.Secret(c)
}

// mfaPool creates a pool with software token MFA and configuration mfa.
func (e *env) mfaPool(tb testing.TB, mfa string) *behalf.UserPool {
	tb.Helper()
	p := e.pool(tb)
	on := true
	cfg, err := e.svc.SetUserPoolMfaConfig(e.ctx, behalf.PoolMFAConfig{PoolID: p.ID, MFAConfiguration: mfa, SoftwareTokenMFA: &on})
	if err != nil {
		tb.Fatalf("SetUserPoolMfaConfig: %v", err)
	}
	if cfg.MFAConfiguration != mfa || !*cfg.SoftwareTokenMFA {
		tb.Fatalf("SetUserPoolMfaConfig = %+v", cfg)
	}
	return p
}

// enrol gives a signed-in user (its access token) a verified, enabled
// software token and returns the secret. The clock moves to the next step,
// so that the code verification spent is not the one a test uses next.
func (e *env) enrol(tb testing.TB, access behalf.Secret) behalf.Secret {
	tb.Helper()
	secret, session, err := e.svc.AssociateSoftwareToken(e.ctx, access, "")
	if err != nil || session != "" {
		tb.Fatalf("AssociateSoftwareToken = session %q, %v", session, err)
	}
	if len(secret.Reveal()) != 32 || strings.Trim(secret.Reveal(), "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		tb.Fatalf("SecretCode %q: want 32 base32 characters", secret.Reveal())
	}
	if _, err := e.svc.VerifySoftwareToken(e.ctx, access, "", code(tb, secret, e.clock.Now()), "phone"); err != nil {
		tb.Fatalf("VerifySoftwareToken: %v", err)
	}
	if err := e.svc.SetUserMFAPreference(e.ctx, access, behalf.MFAPreference{SoftwareToken: &behalf.MFASetting{Enabled: true, Preferred: true}}); err != nil {
		tb.Fatalf("SetUserMFAPreference: %v", err)
	}
	e.clock.Add(30 * time.Second)
	return secret
}

// answerMFA answers SOFTWARE_TOKEN_MFA.
func (e *env) answerMFA(c *behalf.AppClient, ch *behalf.AuthResult, username string, code behalf.Secret) (*behalf.AuthResult, error) {
	return e.svc.RespondToAuthChallenge(e.ctx, c.ID, "SOFTWARE_TOKEN_MFA", ch.Session, map[string]behalf.Secret{
		"USERNAME": behalf.Secret(username), "SOFTWARE_TOKEN_MFA_CODE": code,
	})
}

// wantChallenge fails unless res is challenge name.
func wantChallenge(tb testing.TB, res *behalf.AuthResult, err error, name string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("want %s: %v", name, err)
	}
	if res.ChallengeName != name || res.Tokens != nil || res.Session.IsZero() {
		tb.Fatalf("result %+v, want challenge %s with a session", res, name)
	}
}

// wantTokens fails unless res has tokens.
func wantTokens(tb testing.TB, res *behalf.AuthResult, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("want tokens: %v", err)
	}
	if res.Tokens == nil || res.Tokens.AccessToken.IsZero() {
		tb.Fatalf("result %+v, want tokens", res)
	}
}

// Ensure a pool's MFA configuration is set and read back, that MFA needs
// the software token factor, and that CreateUserPool and UpdateUserPool
// keep to the same rules.
func TestMFAPoolConfig(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	cfg, err := e.svc.GetUserPoolMfaConfig(e.ctx, p.ID)
	if err != nil || cfg.MFAConfiguration != "OFF" || *cfg.SoftwareTokenMFA {
		t.Fatalf("new pool: %+v, %v", cfg, err)
	}
	_, err = e.svc.SetUserPoolMfaConfig(e.ctx, behalf.PoolMFAConfig{PoolID: p.ID, MFAConfiguration: "ON"})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	_, err = e.svc.SetUserPoolMfaConfig(e.ctx, behalf.PoolMFAConfig{PoolID: p.ID, MFAConfiguration: "SOMETIMES"})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	_, err = e.svc.UpdateUserPool(e.ctx, behalf.UpdateUserPoolInput{PoolID: p.ID, MFAConfiguration: "OPTIONAL"})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	_, err = e.svc.SetUserPoolMfaConfig(e.ctx, behalf.PoolMFAConfig{PoolID: "us-east-1_nopool", MFAConfiguration: "OFF"})
	wantCognito(t, err, behalf.CognitoResourceNotFound, "")
	_, err = e.svc.CreateUserPool(e.ctx, behalf.CreateUserPoolInput{Name: "p", MFAConfiguration: "ON"})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")

	on := true
	if _, err := e.svc.SetUserPoolMfaConfig(e.ctx, behalf.PoolMFAConfig{PoolID: p.ID, MFAConfiguration: "OPTIONAL", SoftwareTokenMFA: &on}); err != nil {
		t.Fatal(err)
	}
	// UpdateUserPool without MfaConfiguration leaves it; with one, sets it.
	if _, err := e.svc.UpdateUserPool(e.ctx, behalf.UpdateUserPoolInput{PoolID: p.ID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.DescribeUserPool(e.ctx, p.ID); got.MFAConfiguration != "OPTIONAL" || !got.SoftwareTokenMFA {
		t.Fatalf("after UpdateUserPool: %+v", got)
	}
	if _, err := e.svc.UpdateUserPool(e.ctx, behalf.UpdateUserPoolInput{PoolID: p.ID, MFAConfiguration: "ON"}); err != nil {
		t.Fatal(err)
	}
	// The factor cannot be turned off under MFA, and unchanged members stay.
	off := false
	_, err = e.svc.SetUserPoolMfaConfig(e.ctx, behalf.PoolMFAConfig{PoolID: p.ID, SoftwareTokenMFA: &off})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	cfg, err = e.svc.GetUserPoolMfaConfig(e.ctx, p.ID)
	if err != nil || cfg.MFAConfiguration != "ON" || !*cfg.SoftwareTokenMFA {
		t.Fatalf("after refused update: %+v, %v", cfg, err)
	}
	if cfg, err = e.svc.SetUserPoolMfaConfig(e.ctx, behalf.PoolMFAConfig{PoolID: p.ID, MFAConfiguration: "OFF", SoftwareTokenMFA: &off}); err != nil || cfg.MFAConfiguration != "OFF" {
		t.Fatalf("OFF: %+v, %v", cfg, err)
	}
}

// Ensure MFA ON asks a user without a token to set one up (MFA_SETUP):
// AssociateSoftwareToken and VerifySoftwareToken with the session, then
// MFA_SETUP with the verified session signs in, once; the next sign-in
// asks for a code.
func TestMFASetupChallenge(t *testing.T) {
	e := newEnv(t)
	p := e.mfaPool(t, "ON")
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)

	res, err := e.signIn(c, "", "alice", testPassword)
	wantChallenge(t, res, err, "MFA_SETUP")
	if got := res.ChallengeParameters["MFAS_CAN_SETUP"]; got != `["SOFTWARE_TOKEN_MFA"]` {
		t.Fatalf("MFAS_CAN_SETUP = %q", got)
	}
	// MFA_SETUP cannot be answered before a token is verified.
	_, err = e.svc.RespondToAuthChallenge(e.ctx, c.ID, "MFA_SETUP", res.Session, map[string]behalf.Secret{"USERNAME": "alice"})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")

	secret, s2, err := e.svc.AssociateSoftwareToken(e.ctx, "", res.Session)
	if err != nil || s2.IsZero() || secret.IsZero() {
		t.Fatalf("AssociateSoftwareToken(Session) = %q, %v", s2, err)
	}
	_, _, err = e.svc.AssociateSoftwareToken(e.ctx, "", "")
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	_, err = e.svc.VerifySoftwareToken(e.ctx, "", s2, "12345", "")
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	wrong := code(t, secret, e.clock.Now().Add(-5*time.Minute))
	_, err = e.svc.VerifySoftwareToken(e.ctx, "", s2, wrong, "")
	wantCognito(t, err, behalf.CognitoEnableSoftwareTokenMFA, "")
	if got := e.lockout(t, p.ID, "alice").Failures; got != 1 {
		t.Fatalf("failures after a wrong setup code = %d, want 1", got)
	}
	s3, err := e.svc.VerifySoftwareToken(e.ctx, "", s2, code(t, secret, e.clock.Now()), "phone")
	if err != nil || s3.IsZero() {
		t.Fatalf("VerifySoftwareToken(Session) = %q, %v", s3, err)
	}
	// A verified session cannot associate again.
	_, _, err = e.svc.AssociateSoftwareToken(e.ctx, "", s3)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	// The session answers MFA_SETUP for this client and this user only.
	other, _ := e.client(t, p.ID, false)
	_, err = e.svc.RespondToAuthChallenge(e.ctx, other.ID, "MFA_SETUP", s3, map[string]behalf.Secret{"USERNAME": "alice"})
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	_, err = e.svc.RespondToAuthChallenge(e.ctx, c.ID, "MFA_SETUP", s3, map[string]behalf.Secret{"USERNAME": "bob"})
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	_, err = e.svc.RespondToAuthChallenge(e.ctx, c.ID, "SOFTWARE_TOKEN_MFA", s3, map[string]behalf.Secret{"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": "123456"})
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	done, err := e.svc.RespondToAuthChallenge(e.ctx, c.ID, "MFA_SETUP", s3, map[string]behalf.Secret{"USERNAME": "alice"})
	wantTokens(t, done, err)
	if got := e.lockout(t, p.ID, "alice").Failures; got != 0 {
		t.Fatalf("failures after signing in = %d, want 0", got)
	}
	// Single use.
	_, err = e.svc.RespondToAuthChallenge(e.ctx, c.ID, "MFA_SETUP", s3, map[string]behalf.Secret{"USERNAME": "alice"})
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid session for the user, session can only be used once.")

	u, err := e.svc.AdminGetUser(e.ctx, p.ID, "alice")
	if err != nil || !u.SoftwareTokenMFAEnabled || u.PreferredMFA != "SOFTWARE_TOKEN_MFA" || u.SoftwareToken != nil {
		t.Fatalf("AdminGetUser after setup: %+v, %v", u, err)
	}
	e.clock.Add(30 * time.Second)
	res, err = e.signIn(c, "", "alice", testPassword)
	wantChallenge(t, res, err, "SOFTWARE_TOKEN_MFA")
	done, err = e.answerMFA(c, res, "alice", code(t, secret, e.clock.Now()))
	wantTokens(t, done, err)
}

// Ensure SOFTWARE_TOKEN_MFA in an OPTIONAL pool: only users who enabled a
// token are asked; a wrong code is CodeMismatchException and may be
// retried; a code works once (a second sign-in with it fails); codes one
// step early or late work, two do not; the session expires after three
// minutes.
func TestSoftwareTokenMFA(t *testing.T) {
	e := newEnv(t)
	p := e.mfaPool(t, "OPTIONAL")
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	e.user(t, p.ID, "bob", nil)
	// Bob has no token: no MFA.
	e.mustSignIn(t, c, "", "bob")
	access := e.mustSignIn(t, c, "", "alice").AccessToken
	// Enabling a token before verifying one is refused.
	err := e.svc.SetUserMFAPreference(e.ctx, access, behalf.MFAPreference{SoftwareToken: &behalf.MFASetting{Enabled: true}})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "User has not verified software token mfa")
	secret := e.enrol(t, access)
	u, _ := e.svc.GetUser(e.ctx, access)
	if !u.SoftwareTokenMFAEnabled || u.PreferredMFA != "SOFTWARE_TOKEN_MFA" {
		t.Fatalf("GetUser after enrolling: %+v", u)
	}

	res, err := e.signIn(c, "", "alice", testPassword)
	wantChallenge(t, res, err, "SOFTWARE_TOKEN_MFA")
	if res.ChallengeParameters["USER_ID_FOR_SRP"] != "alice" {
		t.Fatalf("ChallengeParameters = %v", res.ChallengeParameters)
	}
	_, err = e.answerMFA(c, res, "alice", "")
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	for _, bad := range []behalf.Secret{"000000", "12345", "abcdef", code(t, secret, e.clock.Now().Add(-time.Minute)), code(t, secret, e.clock.Now().Add(time.Minute))} {
		_, err = e.answerMFA(c, res, "alice", bad)
		wantCognito(t, err, behalf.CognitoCodeMismatch, "Invalid code received for user")
	}
	if got := e.lockout(t, p.ID, "alice").Failures; got != 5 {
		t.Fatalf("failures = %d, want 5", got)
	}
	e.clock.Add(time.Minute) // past the lock of the 5th failure
	now := e.clock.Now()
	done, err := e.answerMFA(c, res, "alice", code(t, secret, now.Add(-30*time.Second)))
	wantTokens(t, done, err)
	if got := e.lockout(t, p.ID, "alice").Failures; got != 0 {
		t.Fatalf("failures after the right code = %d, want 0", got)
	}
	// The session signed in once.
	_, err = e.answerMFA(c, res, "alice", code(t, secret, now.Add(30*time.Second)))
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid session for the user, session can only be used once.")

	// A code is single-use: the step just used, and earlier ones, are
	// spent. (The code given with the spent session was right, and is
	// spent too.)
	e.clock.Add(30 * time.Second)
	res, err = e.signIn(c, "", "alice", testPassword)
	wantChallenge(t, res, err, "SOFTWARE_TOKEN_MFA")
	for _, spent := range []time.Time{now.Add(-30 * time.Second), now.Add(30 * time.Second)} {
		_, err = e.answerMFA(c, res, "alice", code(t, secret, spent))
		wantCognito(t, err, behalf.CognitoCodeMismatch, "")
	}
	// One step late works.
	done, err = e.answerMFA(c, res, "alice", code(t, secret, e.clock.Now().Add(30*time.Second)))
	wantTokens(t, done, err)

	// Sessions expire.
	e.clock.Add(2 * time.Minute)
	res, err = e.signIn(c, "", "alice", testPassword)
	wantChallenge(t, res, err, "SOFTWARE_TOKEN_MFA")
	e.clock.Add(3 * time.Minute)
	_, err = e.answerMFA(c, res, "alice", code(t, secret, e.clock.Now()))
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid session for the user, session is expired.")

	// Disabled, it is not asked for.
	access = e.mustSignInMFA(t, c, "alice", secret)
	if err := e.svc.SetUserMFAPreference(e.ctx, access, behalf.MFAPreference{SoftwareToken: &behalf.MFASetting{}}); err != nil {
		t.Fatal(err)
	}
	e.mustSignIn(t, c, "", "alice")
	// SMS and email MFA cannot be enabled.
	err = e.svc.SetUserMFAPreference(e.ctx, access, behalf.MFAPreference{SMS: &behalf.MFASetting{Enabled: true}})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	err = e.svc.AdminSetUserMFAPreference(e.ctx, p.ID, "alice", behalf.MFAPreference{Email: &behalf.MFASetting{Enabled: true, Preferred: true}})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	// Turning them off is accepted; the admin form re-enables the token.
	if err := e.svc.AdminSetUserMFAPreference(e.ctx, p.ID, "alice", behalf.MFAPreference{
		SMS: &behalf.MFASetting{}, SoftwareToken: &behalf.MFASetting{Enabled: true},
	}); err != nil {
		t.Fatal(err)
	}
	res, err = e.signIn(c, "", "alice", testPassword)
	wantChallenge(t, res, err, "SOFTWARE_TOKEN_MFA")
}

// mustSignInMFA signs in with the password and the current code.
func (e *env) mustSignInMFA(tb testing.TB, c *behalf.AppClient, name string, secret behalf.Secret) behalf.Secret {
	tb.Helper()
	e.clock.Add(30 * time.Second)
	res, err := e.signIn(c, "", name, testPassword)
	wantChallenge(tb, res, err, "SOFTWARE_TOKEN_MFA")
	done, err := e.answerMFA(c, res, name, code(tb, secret, e.clock.Now()))
	wantTokens(tb, done, err)
	return done.Tokens.AccessToken
}

// Ensure wrong codes count toward the lockout across sessions: proving the
// password again does not clear the failures while MFA is pending, a
// locked user's password and right code are refused, and the right code
// after the lock clears it.
func TestMFALockoutAcrossSessions(t *testing.T) {
	e := newEnv(t)
	p := e.mfaPool(t, "OPTIONAL")
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	secret := e.enrol(t, e.mustSignIn(t, c, "", "alice").AccessToken)
	for i := range 5 {
		res, err := e.signIn(c, "", "alice", testPassword)
		wantChallenge(t, res, err, "SOFTWARE_TOKEN_MFA")
		_, err = e.answerMFA(c, res, "alice", "000000")
		wantCognito(t, err, behalf.CognitoCodeMismatch, "")
		if got := e.lockout(t, p.ID, "alice").Failures; got != i+1 {
			t.Fatalf("failures after %d sessions = %d", i+1, got)
		}
	}
	res, err := e.signIn(c, "", "alice", testPassword)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Password attempts exceeded")
	_ = res
	e.clock.Add(1500 * time.Millisecond)
	res, err = e.signIn(c, "", "alice", testPassword)
	wantChallenge(t, res, err, "SOFTWARE_TOKEN_MFA")
	_, err = e.answerMFA(c, res, "alice", "000000")
	wantCognito(t, err, behalf.CognitoCodeMismatch, "")
	// Locked (6th failure: 2 s): the right code is refused unchecked.
	_, err = e.answerMFA(c, res, "alice", code(t, secret, e.clock.Now()))
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Password attempts exceeded")
	e.clock.Add(3 * time.Second)
	done, err := e.answerMFA(c, res, "alice", code(t, secret, e.clock.Now()))
	wantTokens(t, done, err)
}

// Ensure MFA follows every password path: ADMIN_USER_PASSWORD_AUTH with
// a client secret (SECRET_HASH on the answer), USER_SRP_AUTH after
// PASSWORD_VERIFIER, and NEW_PASSWORD_REQUIRED; and that a pool without
// software tokens refuses to associate one.
func TestMFAEverySignInPath(t *testing.T) {
	e := newEnv(t)
	p := e.mfaPool(t, "ON")
	sc, secretKey := e.client(t, p.ID, true)
	srp := e.srpAppClient(t, p.ID)
	e.user(t, p.ID, "alice", nil)
	// Set up through the admin flow with a secret client.
	params := map[string]behalf.Secret{"USERNAME": "alice", "PASSWORD": testPassword, "SECRET_HASH": behalf.Secret(userpool.SecretHash(secretKey, "alice", sc.ID))}
	res, err := e.svc.AdminInitiateAuth(e.ctx, p.ID, sc.ID, "ADMIN_USER_PASSWORD_AUTH", params)
	wantChallenge(t, res, err, "MFA_SETUP")
	secret, s2, err := e.svc.AssociateSoftwareToken(e.ctx, "", res.Session)
	if err != nil {
		t.Fatal(err)
	}
	s3, err := e.svc.VerifySoftwareToken(e.ctx, "", s2, code(t, secret, e.clock.Now()), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AdminRespondToAuthChallenge(e.ctx, p.ID, sc.ID, "MFA_SETUP", s3, map[string]behalf.Secret{"USERNAME": "alice"})
	wantCognito(t, err, behalf.CognitoNotAuthorized, "") // no SECRET_HASH
	done, err := e.svc.AdminRespondToAuthChallenge(e.ctx, p.ID, sc.ID, "MFA_SETUP", s3, map[string]behalf.Secret{"USERNAME": "alice", "SECRET_HASH": params["SECRET_HASH"]})
	wantTokens(t, done, err)

	e.clock.Add(30 * time.Second)
	res, err = e.svc.AdminInitiateAuth(e.ctx, p.ID, sc.ID, "ADMIN_USER_PASSWORD_AUTH", params)
	wantChallenge(t, res, err, "SOFTWARE_TOKEN_MFA")
	done, err = e.svc.AdminRespondToAuthChallenge(e.ctx, p.ID, sc.ID, "SOFTWARE_TOKEN_MFA", res.Session, map[string]behalf.Secret{
		"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code(t, secret, e.clock.Now()), "SECRET_HASH": params["SECRET_HASH"],
	})
	wantTokens(t, done, err)

	// SRP: PASSWORD_VERIFIER leads to SOFTWARE_TOKEN_MFA.
	e.clock.Add(30 * time.Second)
	res, err = e.srpSignIn(t, srp, "alice", testPassword)
	wantChallenge(t, res, err, "SOFTWARE_TOKEN_MFA")
	done, err = e.answerMFA(srp, res, "alice", code(t, secret, e.clock.Now()))
	wantTokens(t, done, err)

	// NEW_PASSWORD_REQUIRED, then MFA_SETUP.
	if _, _, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "carol", TemporaryPassword: testPassword}); err != nil {
		t.Fatal(err)
	}
	res, err = e.srpSignIn(t, srp, "carol", testPassword)
	wantChallenge(t, res, err, "NEW_PASSWORD_REQUIRED")
	res, err = e.svc.RespondToAuthChallenge(e.ctx, srp.ID, "NEW_PASSWORD_REQUIRED", res.Session, map[string]behalf.Secret{"USERNAME": "carol", "NEW_PASSWORD": "Another-Horse-8"})
	wantChallenge(t, res, err, "MFA_SETUP")

	// No software tokens in the pool: nothing to associate.
	q := e.pool(t)
	qc, _ := e.client(t, q.ID, false)
	e.user(t, q.ID, "dave", nil)
	access := e.mustSignIn(t, qc, "", "dave").AccessToken
	_, _, err = e.svc.AssociateSoftwareToken(e.ctx, access, "")
	wantCognito(t, err, behalf.CognitoSoftwareTokenMFANotFound, "")
	_, err = e.svc.VerifySoftwareToken(e.ctx, access, "", "123456", "")
	wantCognito(t, err, behalf.CognitoSoftwareTokenMFANotFound, "")
}

// Ensure two sign-ins answered with the same code at the same time, on
// two replicas, get tokens once: the step is spent atomically in the
// store, on SQLite and PostgreSQL.
func TestMFAConcurrentSameCode(t *testing.T) {
	lockoutBackends(t, func(t *testing.T, e *env) {
		p := e.mfaPool(t, "OPTIONAL")
		c, _ := e.client(t, p.ID, false)
		e.user(t, p.ID, "alice", nil)
		secret := e.enrol(t, e.mustSignIn(t, c, "", "alice").AccessToken)
		r := e.replica(t)
		const n = 6
		var sessions [n]*behalf.AuthResult
		for i := range sessions {
			res, err := e.signIn(c, "", "alice", testPassword)
			wantChallenge(t, res, err, "SOFTWARE_TOKEN_MFA")
			sessions[i] = res
		}
		same := code(t, secret, e.clock.Now())
		var wg sync.WaitGroup
		wins := make(chan struct{}, n)
		errs := make(chan error, n)
		for i, res := range sessions {
			svc := e
			if i%2 == 1 {
				svc = r
			}
			wg.Go(func() {
				done, err := svc.answerMFA(c, res, "alice", same)
				if err == nil && done.Tokens != nil {
					wins <- struct{}{}
				} else {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		if len(wins) != 1 {
			t.Fatalf("%d sign-ins won with one code, want 1", len(wins))
		}
		for err := range errs {
			wantCognito(t, err, behalf.CognitoCodeMismatch, "")
		}
	})
}
