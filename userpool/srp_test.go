package userpool_test

import (
	"context"
	"encoding/base64"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/srpclient"
	"github.com/behalf-dev/behalf/userpool"
)

// srpAppClient creates a public client allowing SRP and password sign-in.
func (e *env) srpAppClient(tb testing.TB, poolID string) *behalf.AppClient {
	tb.Helper()
	c, _, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{
		PoolID: poolID, Name: "spa",
		ExplicitAuthFlows: []string{behalf.AllowUserSRPAuth, behalf.AllowUserPasswordAuth, behalf.AllowRefreshTokenAuth},
	})
	if err != nil {
		tb.Fatalf("CreateUserPoolClient: %v", err)
	}
	return c
}

// srpStart runs SRP's first step and returns the client and the challenge.
func (e *env) srpStart(tb testing.TB, c *behalf.AppClient, name string) (*srpclient.Client, *behalf.AuthResult) {
	tb.Helper()
	cl := srpclient.New(c.PoolID)
	res, err := e.svc.InitiateAuth(e.ctx, c.ID, "USER_SRP_AUTH", map[string]behalf.Secret{
		"USERNAME": behalf.Secret(name), "SRP_A": behalf.Secret(cl.SRPA()),
	})
	if err != nil {
		tb.Fatalf("InitiateAuth USER_SRP_AUTH %s: %v", name, err)
	}
	if res.ChallengeName != "PASSWORD_VERIFIER" {
		tb.Fatalf("challenge %q, want PASSWORD_VERIFIER", res.ChallengeName)
	}
	return cl, res
}

// srpAnswer computes the responses to a PASSWORD_VERIFIER challenge.
func (e *env) srpAnswer(tb testing.TB, cl *srpclient.Client, ch *behalf.AuthResult, password behalf.Secret) map[string]behalf.Secret {
	tb.Helper()
	r, err := cl.Respond(ch.ChallengeParameters, password.Reveal(), e.clock.Now())
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]behalf.Secret{}
	for k, v := range r {
		out[k] = behalf.Secret(v)
	}
	return out
}

// srpSignIn runs both steps of SRP.
func (e *env) srpSignIn(tb testing.TB, c *behalf.AppClient, name string, password behalf.Secret) (*behalf.AuthResult, error) {
	tb.Helper()
	cl, ch := e.srpStart(tb, c, name)
	return e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", e.srpAnswer(tb, cl, ch, password))
}

var (
	hexPattern  = regexp.MustCompile(`^[0-9a-f]+$`)
	uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// Ensure USER_SRP_AUTH signs in with the right password: the challenge has
// Cognito's parameters, the tokens are those of a password sign-in, and
// the flow must be allowed by the client.
func TestSRPSignIn(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c := e.srpAppClient(t, p.ID)
	e.user(t, p.ID, "alice", map[string]string{"email": "alice@example.com"})

	cl, ch := e.srpStart(t, c, "alice")
	cp := ch.ChallengeParameters
	if cp["USER_ID_FOR_SRP"] != "alice" || cp["USERNAME"] != "alice" || !hexPattern.MatchString(cp["SALT"]) || !hexPattern.MatchString(cp["SRP_B"]) || ch.Session != "" {
		t.Fatalf("challenge = %+v", ch)
	}
	if _, err := base64.StdEncoding.DecodeString(cp["SECRET_BLOCK"]); err != nil {
		t.Fatalf("SECRET_BLOCK is not base64: %v", err)
	}
	// The salt is the user's: the same at every sign-in.
	_, ch2 := e.srpStart(t, c, "alice")
	if ch2.ChallengeParameters["SALT"] != cp["SALT"] || ch2.ChallengeParameters["SRP_B"] == cp["SRP_B"] {
		t.Fatal("a second challenge must have the same SALT and another SRP_B")
	}
	res, err := e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", e.srpAnswer(t, cl, ch, testPassword))
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens == nil || res.Tokens.RefreshToken == "" {
		t.Fatalf("result %+v, want tokens", res)
	}
	claims := claimsOf(t, e, p.ID, res.Tokens.AccessToken)
	if claims["username"] != "alice" || claims["scope"] != "aws.cognito.signin.user.admin" {
		t.Fatalf("claims = %v", claims)
	}
	if _, err := e.svc.GetUser(e.ctx, res.Tokens.AccessToken); err != nil {
		t.Fatal(err)
	}

	// AdminInitiateAuth and AdminRespondToAuthChallenge serve it too.
	cl = srpclient.New(p.ID)
	ach, err := e.svc.AdminInitiateAuth(e.ctx, p.ID, c.ID, "USER_SRP_AUTH", map[string]behalf.Secret{"USERNAME": "alice", "SRP_A": behalf.Secret(cl.SRPA())})
	if err != nil {
		t.Fatal(err)
	}
	ares, err := e.svc.AdminRespondToAuthChallenge(e.ctx, p.ID, c.ID, "PASSWORD_VERIFIER", "", e.srpAnswer(t, cl, ach, testPassword))
	if err != nil || ares.Tokens == nil {
		t.Fatalf("admin SRP: %+v %v", ares, err)
	}

	// A client without ALLOW_USER_SRP_AUTH refuses it.
	pw, _ := e.client(t, p.ID, false)
	_, err = e.svc.InitiateAuth(e.ctx, pw.ID, "USER_SRP_AUTH", map[string]behalf.Secret{"USERNAME": "alice", "SRP_A": behalf.Secret(cl.SRPA())})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "USER_SRP_AUTH flow not enabled for this client")
	// Parameters are checked.
	for _, params := range []map[string]behalf.Secret{
		{"USERNAME": "alice"}, {"SRP_A": "02"}, {"USERNAME": "alice", "SRP_A": "0"}, {"USERNAME": "alice", "SRP_A": "xyz"},
	} {
		_, err = e.svc.InitiateAuth(e.ctx, c.ID, "USER_SRP_AUTH", params)
		wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	}
}

// Ensure a pool that signs in with email answers SRP for the email typed
// with the user's actual username (its sub) as USER_ID_FOR_SRP, and a user
// with a temporary password gets NEW_PASSWORD_REQUIRED after the verifier,
// whose new password then works with SRP.
func TestSRPAliasAndNewPassword(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t, "email")
	c := e.srpAppClient(t, p.ID)
	u, _, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "bob@example.com", TemporaryPassword: "Temp-Pass-1!", MessageAction: "SUPPRESS"})
	if err != nil {
		t.Fatal(err)
	}
	cl, ch := e.srpStart(t, c, "bob@example.com")
	if ch.ChallengeParameters["USER_ID_FOR_SRP"] != u.Username || !uuidPattern.MatchString(u.Username) {
		t.Fatalf("USER_ID_FOR_SRP = %q, want the username %q", ch.ChallengeParameters["USER_ID_FOR_SRP"], u.Username)
	}
	res, err := e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", e.srpAnswer(t, cl, ch, "Temp-Pass-1!"))
	if err != nil {
		t.Fatal(err)
	}
	if res.ChallengeName != behalf.ChallengeNewPasswordRequired || res.Session == "" {
		t.Fatalf("result %+v, want NEW_PASSWORD_REQUIRED", res)
	}
	done, err := e.svc.RespondToAuthChallenge(e.ctx, c.ID, behalf.ChallengeNewPasswordRequired, res.Session, map[string]behalf.Secret{
		"USERNAME": behalf.Secret(u.Username), "NEW_PASSWORD": "New-Pass-2!",
	})
	if err != nil || done.Tokens == nil {
		t.Fatalf("NEW_PASSWORD_REQUIRED: %+v %v", done, err)
	}
	if res, err := e.srpSignIn(t, c, "bob@example.com", "New-Pass-2!"); err != nil || res.Tokens == nil {
		t.Fatalf("SRP with the new password: %+v %v", res, err)
	}
	_, err = e.srpSignIn(t, c, "bob@example.com", "Temp-Pass-1!")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
}

// Ensure a wrong password and a name that is no user fail alike, after a
// challenge of the same shape, and count toward the same lockout; the
// simulated SALT and USER_ID_FOR_SRP of a name are stable, across
// replicas too.
func TestSRPWrongPasswordAndUnknownUser(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t, "email")
	c := e.srpAppClient(t, p.ID)
	e.user(t, p.ID, "carol@example.com", nil)

	_, err := e.srpSignIn(t, c, "carol@example.com", "Wrong-Pass-1!")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")

	_, ch := e.srpStart(t, c, "nobody@example.com")
	cp := ch.ChallengeParameters
	if !uuidPattern.MatchString(cp["USER_ID_FOR_SRP"]) || cp["USERNAME"] != cp["USER_ID_FOR_SRP"] || !hexPattern.MatchString(cp["SALT"]) || !hexPattern.MatchString(cp["SRP_B"]) {
		t.Fatalf("simulated challenge %+v", cp)
	}
	_, again := e.replica(t).srpStart(t, c, "nobody@example.com")
	if again.ChallengeParameters["SALT"] != cp["SALT"] || again.ChallengeParameters["USER_ID_FOR_SRP"] != cp["USER_ID_FOR_SRP"] {
		t.Fatal("a simulated challenge must be the same for the same name, on every replica")
	}
	_, other := e.srpStart(t, c, "other@example.com")
	if other.ChallengeParameters["SALT"] == cp["SALT"] {
		t.Fatal("two names got the same simulated salt")
	}
	_, err = e.srpSignIn(t, c, "nobody@example.com", testPassword)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	if got := e.lockout(t, p.ID, "nobody@example.com").Failures; got != 1 {
		t.Fatalf("failures of the unknown name = %d, want 1", got)
	}

	// In a pool of free-form usernames an unknown name is its own
	// USER_ID_FOR_SRP, as a real user's username is.
	p2 := e.pool(t)
	c2 := e.srpAppClient(t, p2.ID)
	_, ch2 := e.srpStart(t, c2, "ghost")
	if ch2.ChallengeParameters["USER_ID_FOR_SRP"] != "ghost" {
		t.Fatalf("USER_ID_FOR_SRP = %q, want ghost", ch2.ChallengeParameters["USER_ID_FOR_SRP"])
	}
}

// Ensure SRP failures count toward the lockout shared with password
// sign-in: after five, both flows are refused for the user, SRP at its
// first step without a challenge, until the lock ends; a success resets.
func TestSRPLockout(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c := e.srpAppClient(t, p.ID)
	e.user(t, p.ID, "dave", nil)
	for i := range 4 {
		_, err := e.srpSignIn(t, c, "dave", "Wrong-Pass-1!")
		wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
		if got := e.lockout(t, p.ID, "dave").Failures; got != i+1 {
			t.Fatalf("failures = %d, want %d", got, i+1)
		}
	}
	// Challenges obtained before the lock cannot be used to guess on.
	cl, ch := e.srpStart(t, c, "dave")
	_, err := e.signIn(c, "", "dave", "Wrong-Pass-1!") // the fifth failure, by password
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	_, err = e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", e.srpAnswer(t, cl, ch, testPassword))
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Password attempts exceeded")
	_, err = e.svc.InitiateAuth(e.ctx, c.ID, "USER_SRP_AUTH", map[string]behalf.Secret{"USERNAME": "dave", "SRP_A": behalf.Secret(cl.SRPA())})
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Password attempts exceeded")
	_, err = e.signIn(c, "", "dave", testPassword)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Password attempts exceeded")
	e.clock.Add(2 * time.Second)
	if res, err := e.srpSignIn(t, c, "dave", testPassword); err != nil || res.Tokens == nil {
		t.Fatalf("after the lock: %+v %v", res, err)
	}
	if got := e.lockout(t, p.ID, "dave").Failures; got != 0 {
		t.Fatalf("failures after a success = %d, want 0 (no record)", got)
	}
}

// Ensure a SECRET_BLOCK cannot be replayed, forged, moved to another
// client or used late, and that the signature covers USERNAME and
// TIMESTAMP as the clients compute them.
func TestSRPSecretBlock(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c := e.srpAppClient(t, p.ID)
	other := e.srpAppClient(t, p.ID)
	e.user(t, p.ID, "erin", nil)

	cl, ch := e.srpStart(t, c, "erin")
	answer := e.srpAnswer(t, cl, ch, testPassword)
	res, err := e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", answer)
	if err != nil || res.Tokens == nil {
		t.Fatalf("first use: %+v %v", res, err)
	}
	_, err = e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", answer)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	_, err = e.replica(t).svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", answer)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")

	cl, ch = e.srpStart(t, c, "erin")
	answer = e.srpAnswer(t, cl, ch, testPassword)
	tamper := func(key, value string) map[string]behalf.Secret {
		m := map[string]behalf.Secret{}
		for k, v := range answer {
			m[k] = v
		}
		m[key] = behalf.Secret(value)
		return m
	}
	block, _ := base64.StdEncoding.DecodeString(answer["PASSWORD_CLAIM_SECRET_BLOCK"].Reveal())
	block[len(block)/2] ^= 1
	forged := base64.StdEncoding.EncodeToString(block)
	ts := e.clock.Now().UTC()
	for name, responses := range map[string]map[string]behalf.Secret{
		"forged block":      tamper("PASSWORD_CLAIM_SECRET_BLOCK", forged),
		"not base64":        tamper("PASSWORD_CLAIM_SECRET_BLOCK", "%%%"),
		"other username":    tamper("USERNAME", "mallory"),
		"padded day":        tamper("TIMESTAMP", ts.Format("Mon Jan 02 15:04:05 UTC 2006")),
		"other timestamp":   tamper("TIMESTAMP", ts.Add(time.Second).Format(srpclient.TimestampLayout)),
		"bad signature":     tamper("PASSWORD_CLAIM_SIGNATURE", base64.StdEncoding.EncodeToString(make([]byte, 32))),
		"garbage signature": tamper("PASSWORD_CLAIM_SIGNATURE", "!!"),
	} {
		_, err := e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", responses)
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	}
	_, err = e.svc.RespondToAuthChallenge(e.ctx, other.ID, "PASSWORD_VERIFIER", "", answer)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	_, err = e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", tamper("TIMESTAMP", ""))
	wantCognito(t, err, behalf.CognitoInvalidParameter, "Missing required parameter TIMESTAMP")
	// Late: the block expires with the session validity.
	e.clock.Add(userpool.DefaultSessionValidity)
	_, err = e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", e.srpAnswer(t, cl, ch, testPassword))
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Invalid session for the user, session is expired.")
}

// Ensure a user whose password was set without a verifier (before
// verifiers were kept) is answered as a name that is no user, gets a
// verifier at its next password sign-in, and can then use SRP; and that a
// verifier made for another password hash is never used.
func TestSRPVerifierBackfill(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c := e.srpAppClient(t, p.ID)
	e.user(t, p.ID, "frank", nil)
	if _, err := e.store.UpdatePoolUser(e.ctx, p.ID, "frank", func(u *behalf.PoolUser) error { u.SRPVerifier = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	_, err := e.srpSignIn(t, c, "frank", testPassword)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	e.mustSignIn(t, c, "", "frank")
	if res, err := e.srpSignIn(t, c, "frank", testPassword); err != nil || res.Tokens == nil {
		t.Fatalf("SRP after a password sign-in: %+v %v", res, err)
	}

	// A password hash changed behind the service's back (a previous
	// release, or a code path without verifiers) voids the verifier.
	other, err := userpool.HashPassword("Other-Pass-3!", userpool.HashParams{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdatePoolUser(e.ctx, p.ID, "frank", func(u *behalf.PoolUser) error { u.PasswordHash = other; return nil }); err != nil {
		t.Fatal(err)
	}
	_, err = e.srpSignIn(t, c, "frank", testPassword)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	_, err = e.srpSignIn(t, c, "frank", "Other-Pass-3!")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	// Every way of setting a password keeps one.
	if err := e.svc.AdminSetUserPassword(e.ctx, p.ID, "frank", "Admin-Set-4!", true); err != nil {
		t.Fatal(err)
	}
	res, err := e.srpSignIn(t, c, "frank", "Admin-Set-4!")
	if err != nil || res.Tokens == nil {
		t.Fatalf("after AdminSetUserPassword: %+v %v", res, err)
	}
	if err := e.svc.ChangePassword(e.ctx, res.Tokens.AccessToken, "Admin-Set-4!", "Changed-5!x"); err != nil {
		t.Fatal(err)
	}
	if res, err := e.srpSignIn(t, c, "frank", "Changed-5!x"); err != nil || res.Tokens == nil {
		t.Fatalf("after ChangePassword: %+v %v", res, err)
	}
	// A disabled user is told so only after the password is proven.
	if err := e.svc.AdminDisableUser(e.ctx, p.ID, "frank"); err != nil {
		t.Fatal(err)
	}
	_, err = e.srpSignIn(t, c, "frank", "Wrong-Pass-9!")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
	_, err = e.srpSignIn(t, c, "frank", "Changed-5!x")
	wantCognito(t, err, behalf.CognitoNotAuthorized, "User is disabled.")
}

func (r *recorder) UsePoolNonce(ctx context.Context, poolID, nonce string, expiresAt time.Time) error {
	r.add("UsePoolNonce")
	return r.Store.UsePoolNonce(ctx, poolID, nonce, expiresAt)
}

func (r *recorder) EnsurePoolSecret(ctx context.Context, poolID, name string, sealed behalf.Sealed) (behalf.Sealed, error) {
	r.add("EnsurePoolSecret")
	return r.Store.EnsurePoolSecret(ctx, poolID, name, sealed)
}

// Ensure a user's wrong password and a name that is no user cost the same
// store calls at both steps of SRP, attempt after attempt, until both are
// locked out and refused at the first step without more.
func TestSRPSameStoreWork(t *testing.T) {
	for _, tc := range []struct {
		name       string
		attrs      []string
		user, none string
	}{
		{"username", nil, "alice", "mallory"},
		{"email", []string{"email"}, "alice@example.com", "mallory@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			rec := &recorder{Store: e.store}
			e.svc.Store = rec
			p := e.pool(t, tc.attrs...)
			c := e.srpAppClient(t, p.ID)
			var attrs map[string]string
			if tc.attrs != nil {
				attrs = map[string]string{"email": tc.user}
			}
			e.user(t, p.ID, tc.user, attrs)
			e.srpStart(t, c, tc.none) // the pool's simulation key is made once
			rec.take()
			steps := func(name string) (initiate, respond []string) {
				cl := srpclient.New(p.ID)
				ch, err := e.svc.InitiateAuth(e.ctx, c.ID, "USER_SRP_AUTH", map[string]behalf.Secret{"USERNAME": behalf.Secret(name), "SRP_A": behalf.Secret(cl.SRPA())})
				initiate = rec.take()
				if err != nil {
					return initiate, nil
				}
				_, err = e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", e.srpAnswer(t, cl, ch, "Wrong-Pass-1!"))
				wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
				respond = rec.take()
				slices.Sort(respond) // the nonce is spent concurrently
				return initiate, respond
			}
			for attempt := 1; attempt <= 6; attempt++ {
				ui, ur := steps(tc.user)
				ni, nr := steps(tc.none)
				if !slices.Equal(ui, ni) || !slices.Equal(ur, nr) {
					t.Fatalf("attempt %d: the user's wrong password made %v then %v, the unknown name %v then %v", attempt, ui, ur, ni, nr)
				}
				want := []string{"FailPoolLockout", "UsePoolNonce"}
				if attempt == 6 { // locked at the first step
					want = nil
				}
				if w := writes(ur); !slices.Equal(w, want) {
					t.Fatalf("attempt %d wrote %v, want %v", attempt, w, want)
				}
			}
		})
	}
}
