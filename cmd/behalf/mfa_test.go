package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// totpCode is the TOTP code of a base32 secret at t (SHA1, 6 digits, 30 s).
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nextStep waits for the next TOTP step. Codes are single-use per step,
// and a step ±1 of now is accepted, so a test can use three codes (of
// the step before, this and the next) without waiting.
func nextStep() {
	time.Sleep(time.Until(time.Now().Truncate(30 * time.Second).Add(30*time.Second + 50*time.Millisecond)))
}

// Ensure TOTP MFA through the official Go SDK: the pool's configuration
// (SMS refused), MFA_SETUP answered with AssociateSoftwareToken and
// VerifySoftwareToken by Session, SOFTWARE_TOKEN_MFA on the next sign-in
// (USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH with SECRET_HASH, and
// USER_SRP_AUTH), a wrong code CodeMismatchException, and GetUser /
// AdminGetUser reporting the settings SetUserMFAPreference and
// AdminSetUserMFAPreference make; no response carries the secret except
// AssociateSoftwareToken's.
func TestUserPoolMFASDK(t *testing.T) {
	s := mustRunMain(t, "")
	ctx, c := context.Background(), s.cognito(t)
	f := newPoolFixture(t, ctx, c, "mfa")
	pool := aws.String(f.poolID)
	f.createUser(t, ctx, c, "alice", "Correct-Horse-9")

	_, err := c.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: pool, MfaConfiguration: types.UserPoolMfaTypeOn,
		SmsMfaConfiguration: &types.SmsMfaConfigType{SmsAuthenticationMessage: aws.String("code {####}")}})
	wantAPIError(t, err, "InvalidParameterException")
	_, err = c.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: pool, MfaConfiguration: types.UserPoolMfaTypeOn})
	wantAPIError(t, err, "InvalidParameterException")
	set, err := c.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: pool, MfaConfiguration: types.UserPoolMfaTypeOn,
		SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: true}})
	if err != nil || set.MfaConfiguration != types.UserPoolMfaTypeOn || !set.SoftwareTokenMfaConfiguration.Enabled {
		t.Fatalf("SetUserPoolMfaConfig = %+v, %v", set, err)
	}
	got, err := c.GetUserPoolMfaConfig(ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: pool})
	if err != nil || got.MfaConfiguration != types.UserPoolMfaTypeOn || !got.SoftwareTokenMfaConfiguration.Enabled {
		t.Fatalf("GetUserPoolMfaConfig = %+v, %v", got, err)
	}
	if d, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: pool}); err != nil || d.UserPool.MfaConfiguration != types.UserPoolMfaTypeOn {
		t.Fatalf("DescribeUserPool MfaConfiguration: %v", err)
	}

	// Leave at least 5 s of this step for the three codes below.
	if time.Until(time.Now().Truncate(30*time.Second).Add(30*time.Second)) < 5*time.Second {
		nextStep()
	}
	t0 := time.Now()

	// MFA_SETUP.
	ch, err := f.signIn(ctx, c, "alice", "Correct-Horse-9")
	if err != nil || ch.ChallengeName != types.ChallengeNameTypeMfaSetup || ch.ChallengeParameters["MFAS_CAN_SETUP"] != `["SOFTWARE_TOKEN_MFA"]` {
		t.Fatalf("sign-in = %+v, %v; want MFA_SETUP", ch, err)
	}
	assoc, err := c.AssociateSoftwareToken(ctx, &cip.AssociateSoftwareTokenInput{Session: ch.Session})
	if err != nil || len(aws.ToString(assoc.SecretCode)) < 16 || aws.ToString(assoc.Session) == "" {
		t.Fatalf("AssociateSoftwareToken = %+v, %v", assoc, err)
	}
	secret := aws.ToString(assoc.SecretCode)
	_, err = c.VerifySoftwareToken(ctx, &cip.VerifySoftwareTokenInput{Session: assoc.Session, UserCode: aws.String(totpCode(t, secret, time.Now().Add(-10*time.Minute)))})
	wantAPIError(t, err, "EnableSoftwareTokenMFAException")
	ver, err := c.VerifySoftwareToken(ctx, &cip.VerifySoftwareTokenInput{Session: assoc.Session, UserCode: aws.String(totpCode(t, secret, t0.Add(-30*time.Second))), FriendlyDeviceName: aws.String("phone")})
	if err != nil || ver.Status != types.VerifySoftwareTokenResponseTypeSuccess || aws.ToString(ver.Session) == "" {
		t.Fatalf("VerifySoftwareToken = %+v, %v", ver, err)
	}
	done, err := c.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId: aws.String(f.clientID), ChallengeName: types.ChallengeNameTypeMfaSetup, Session: ver.Session,
		ChallengeResponses: map[string]string{"USERNAME": "alice", "SECRET_HASH": secretHash(f.clientSecret, "alice", f.clientID)},
	})
	if err != nil || done.AuthenticationResult == nil {
		t.Fatalf("MFA_SETUP answer = %+v, %v", done, err)
	}
	access := done.AuthenticationResult.AccessToken
	user, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: access})
	if err != nil || aws.ToString(user.PreferredMfaSetting) != "SOFTWARE_TOKEN_MFA" || len(user.UserMFASettingList) != 1 || user.UserMFASettingList[0] != "SOFTWARE_TOKEN_MFA" {
		t.Fatalf("GetUser MFA settings = %+v, %v", user, err)
	}

	// SOFTWARE_TOKEN_MFA: a wrong code, then the right one.
	ch, err = f.signIn(ctx, c, "alice", "Correct-Horse-9")
	if err != nil || ch.ChallengeName != types.ChallengeNameTypeSoftwareTokenMfa {
		t.Fatalf("sign-in = %+v, %v; want SOFTWARE_TOKEN_MFA", ch, err)
	}
	answer := func(code string) (*cip.RespondToAuthChallengeOutput, error) {
		return c.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
			ClientId: aws.String(f.clientID), ChallengeName: types.ChallengeNameTypeSoftwareTokenMfa, Session: ch.Session,
			ChallengeResponses: map[string]string{"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code, "SECRET_HASH": secretHash(f.clientSecret, "alice", f.clientID)},
		})
	}
	_, err = answer("000000")
	wantAPIError(t, err, "CodeMismatchException")
	if done, err = answer(totpCode(t, secret, t0)); err != nil || done.AuthenticationResult == nil {
		t.Fatalf("SOFTWARE_TOKEN_MFA answer = %+v, %v", done, err)
	}

	// The admin flow and its admin answer.
	adm, err := c.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId: pool, ClientId: aws.String(f.clientID), AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "Correct-Horse-9", "SECRET_HASH": secretHash(f.clientSecret, "alice", f.clientID)},
	})
	if err != nil || adm.ChallengeName != types.ChallengeNameTypeSoftwareTokenMfa {
		t.Fatalf("AdminInitiateAuth = %+v, %v", adm, err)
	}
	admDone, err := c.AdminRespondToAuthChallenge(ctx, &cip.AdminRespondToAuthChallengeInput{
		UserPoolId: pool, ClientId: aws.String(f.clientID), ChallengeName: types.ChallengeNameTypeSoftwareTokenMfa, Session: adm.Session,
		ChallengeResponses: map[string]string{"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": totpCode(t, secret, t0.Add(30*time.Second)), "SECRET_HASH": secretHash(f.clientSecret, "alice", f.clientID)},
	})
	if err != nil || admDone.AuthenticationResult == nil {
		t.Fatalf("AdminRespondToAuthChallenge = %+v, %v", admDone, err)
	}

	// SRP, on a public client.
	spa, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: pool, ClientName: aws.String("spa")})
	if err != nil {
		t.Fatal(err)
	}
	spaID := aws.ToString(spa.UserPoolClient.ClientId)
	nextStep()
	srp, err := srpSignInSDK(t, ctx, c, f.poolID, spaID, "", "alice", "Correct-Horse-9")
	if err != nil || srp.ChallengeName != types.ChallengeNameTypeSoftwareTokenMfa {
		t.Fatalf("SRP = %+v, %v; want SOFTWARE_TOKEN_MFA", srp, err)
	}
	srpDone, err := c.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId: aws.String(spaID), ChallengeName: types.ChallengeNameTypeSoftwareTokenMfa, Session: srp.Session,
		ChallengeResponses: map[string]string{"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": totpCode(t, secret, time.Now().Add(30*time.Second))},
	})
	if err != nil || srpDone.AuthenticationResult == nil {
		t.Fatalf("SRP SOFTWARE_TOKEN_MFA answer = %+v, %v", srpDone, err)
	}

	// Preferences: SMS refused; the token disabled by the admin shows.
	_, err = c.SetUserMFAPreference(ctx, &cip.SetUserMFAPreferenceInput{AccessToken: access, SMSMfaSettings: &types.SMSMfaSettingsType{Enabled: true}})
	wantAPIError(t, err, "InvalidParameterException")
	if _, err := c.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: pool, MfaConfiguration: types.UserPoolMfaTypeOptional}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AdminSetUserMFAPreference(ctx, &cip.AdminSetUserMFAPreferenceInput{UserPoolId: pool, Username: aws.String("alice"),
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{}}); err != nil {
		t.Fatal(err)
	}
	au, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String("alice")})
	if err != nil || au.PreferredMfaSetting != nil || len(au.UserMFASettingList) != 0 {
		t.Fatalf("AdminGetUser after disabling = %+v, %v", au, err)
	}
	mustTokens(t)(f.signIn(ctx, c, "alice", "Correct-Horse-9"))
	if _, err := c.SetUserMFAPreference(ctx, &cip.SetUserMFAPreferenceInput{AccessToken: access,
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: true, PreferredMfa: true}}); err != nil {
		t.Fatal(err)
	}
	au, err = c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String("alice")})
	if err != nil || aws.ToString(au.PreferredMfaSetting) != "SOFTWARE_TOKEN_MFA" || len(au.UserMFASettingList) != 1 {
		t.Fatalf("AdminGetUser after enabling = %+v, %v", au, err)
	}
	// Signed in, a new token replaces the old one once verified.
	assoc, err = c.AssociateSoftwareToken(ctx, &cip.AssociateSoftwareTokenInput{AccessToken: access})
	if err != nil || assoc.Session != nil || aws.ToString(assoc.SecretCode) == secret {
		t.Fatalf("AssociateSoftwareToken(AccessToken) = %+v, %v", assoc, err)
	}
	if _, err := c.VerifySoftwareToken(ctx, &cip.VerifySoftwareTokenInput{AccessToken: access, UserCode: aws.String(totpCode(t, aws.ToString(assoc.SecretCode), time.Now()))}); err != nil {
		t.Fatal(err)
	}
	assertCleanResponses(t, s)
}

// Ensure amazon-cognito-identity-js and aws-amplify v6, unmodified, set up
// TOTP (signed in, and at sign-in under MFA ON) and answer the TOTP
// challenge (clients/js/mfa.test.js). The node test gets its codes from a
// loopback helper that computes them with pquerna/otp.
func TestJSClientsMFA(t *testing.T) {
	dir := jsClientsDir(t)
	s := startMain(t, serverOptions{})
	ctx, c := context.Background(), s.cognito(t)
	codes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		code, err := totp.GenerateCodeCustom(r.URL.Query().Get("secret"), time.Now().Add(time.Duration(offset)*time.Second),
			totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, code)
	}))
	t.Cleanup(codes.Close)
	const password = "Mfa-Js-Pass-4!"
	newPool := func(name string, mfa types.UserPoolMfaType) (string, string) {
		pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		id := pool.UserPool.Id
		if _, err := c.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: id, MfaConfiguration: mfa,
			SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: true}}); err != nil {
			t.Fatal(err)
		}
		client, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: id, ClientName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"ajs-user", "amplify-user"} {
			f := poolFixture{poolID: aws.ToString(id)}
			f.createUser(t, ctx, c, u, password)
		}
		return aws.ToString(id), aws.ToString(client.UserPoolClient.ClientId)
	}
	optPool, optClient := newPool("js-mfa-optional", types.UserPoolMfaTypeOptional)
	onPool, onClient := newPool("js-mfa-on", types.UserPoolMfaTypeOn)
	runNodeTest(t, dir, "mfa.test.js", map[string]string{
		"BEHALF_URL": s.URL, "CODE_URL": codes.URL, "PASSWORD": password,
		"POOL_OPT": optPool, "CLIENT_OPT": optClient, "USER_OPT": "ajs-user",
		"POOL_ON": onPool, "CLIENT_ON": onClient, "USER_ON": "ajs-user", "USER_AMPLIFY": "amplify-user",
	})
	if log := s.Log.String(); strings.Contains(log, "status=500") {
		t.Fatalf("a request answered 500:\n%s", log)
	}
}
