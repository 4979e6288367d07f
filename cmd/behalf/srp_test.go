package main

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/behalf-dev/behalf/internal/srpclient"
)

// srpSignInSDK runs USER_SRP_AUTH through the official client: InitiateAuth
// with SRP_A, then RespondToAuthChallenge PASSWORD_VERIFIER with the
// claim; secret is the client secret ("" for a public client).
func srpSignInSDK(t *testing.T, ctx context.Context, c *cip.Client, poolID, clientID, secret, name, password string) (*cip.RespondToAuthChallengeOutput, error) {
	t.Helper()
	cl := srpclient.New(poolID)
	params := map[string]string{"USERNAME": name, "SRP_A": cl.SRPA()}
	if secret != "" {
		params["SECRET_HASH"] = secretHash(secret, name, clientID)
	}
	ch, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserSrpAuth, AuthParameters: params})
	if err != nil {
		return nil, err
	}
	if ch.ChallengeName != types.ChallengeNameTypePasswordVerifier {
		t.Fatalf("challenge %q, want PASSWORD_VERIFIER", ch.ChallengeName)
	}
	answer, err := cl.Respond(ch.ChallengeParameters, password, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		answer["SECRET_HASH"] = secretHash(secret, answer["USERNAME"], clientID)
	}
	return c.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId: aws.String(clientID), ChallengeName: types.ChallengeNameTypePasswordVerifier,
		ChallengeResponses: answer, Session: ch.Session,
	})
}

// Ensure USER_SRP_AUTH end to end through the official Go SDK: a user
// with a temporary password signs in by SRP, answers NEW_PASSWORD_REQUIRED,
// signs in again by SRP with the new password (public client, and a
// confidential one with SECRET_HASH; InitiateAuth and AdminInitiateAuth)
// and refreshes with
// GetTokensFromRefreshToken; a wrong password and an unknown user both get
// NotAuthorizedException after a PASSWORD_VERIFIER challenge.
func TestUserPoolSRPSDK(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.cognito(t)
		f := newPoolFixture(t, ctx, c, "srp")
		pool := aws.String(f.poolID)
		spa, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: pool, ClientName: aws.String("spa")})
		if err != nil {
			t.Fatal(err)
		}
		public := aws.ToString(spa.UserPoolClient.ClientId)
		if _, err := c.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{
			UserPoolId: pool, ClientId: aws.String(f.clientID), ClientName: aws.String("srp-app"),
			ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserSrpAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
			UserPoolId: pool, Username: aws.String("alice"), TemporaryPassword: aws.String("Temp-Pass-1!"), MessageAction: types.MessageActionTypeSuppress,
		}); err != nil {
			t.Fatal(err)
		}

		// The default ExplicitAuthFlows allow SRP: the temporary password
		// leads to NEW_PASSWORD_REQUIRED.
		out, err := srpSignInSDK(t, ctx, c, f.poolID, public, "", "alice", "Temp-Pass-1!")
		if err != nil {
			t.Fatal(err)
		}
		if out.ChallengeName != types.ChallengeNameTypeNewPasswordRequired || out.ChallengeParameters["USER_ID_FOR_SRP"] != "alice" {
			t.Fatalf("after PASSWORD_VERIFIER: %q %v", out.ChallengeName, out.ChallengeParameters)
		}
		done, err := c.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
			ClientId: aws.String(public), ChallengeName: types.ChallengeNameTypeNewPasswordRequired, Session: out.Session,
			ChallengeResponses: map[string]string{"USERNAME": "alice", "NEW_PASSWORD": "Alice-Pass-2!"},
		})
		if err != nil || done.AuthenticationResult == nil {
			t.Fatalf("NEW_PASSWORD_REQUIRED: %+v %v", done, err)
		}

		out, err = srpSignInSDK(t, ctx, c, f.poolID, public, "", "alice", "Alice-Pass-2!")
		if err != nil || out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.RefreshToken) == "" {
			t.Fatalf("SRP sign-in: %+v %v", out, err)
		}
		pf := f
		pf.clientID = public
		verifyPoolTokens(t, s, pf, aws.ToString(out.AuthenticationResult.AccessToken), aws.ToString(out.AuthenticationResult.IdToken), "alice")
		if _, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: out.AuthenticationResult.AccessToken}); err != nil {
			t.Fatal(err)
		}
		refreshed, err := c.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(public), RefreshToken: out.AuthenticationResult.RefreshToken})
		if err != nil || aws.ToString(refreshed.AuthenticationResult.AccessToken) == "" {
			t.Fatalf("refresh after SRP: %+v %v", refreshed, err)
		}

		// The confidential client, with SECRET_HASH at both steps.
		out, err = srpSignInSDK(t, ctx, c, f.poolID, f.clientID, f.clientSecret, "alice", "Alice-Pass-2!")
		if err != nil || out.AuthenticationResult == nil {
			t.Fatalf("SRP with SECRET_HASH: %+v %v", out, err)
		}

		// AdminInitiateAuth and AdminRespondToAuthChallenge (SigV4).
		cl := srpclient.New(f.poolID)
		ach, err := c.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
			UserPoolId: pool, ClientId: aws.String(public), AuthFlow: types.AuthFlowTypeUserSrpAuth,
			AuthParameters: map[string]string{"USERNAME": "alice", "SRP_A": cl.SRPA()},
		})
		if err != nil || ach.ChallengeName != types.ChallengeNameTypePasswordVerifier {
			t.Fatalf("AdminInitiateAuth USER_SRP_AUTH: %+v %v", ach, err)
		}
		answer, err := cl.Respond(ach.ChallengeParameters, "Alice-Pass-2!", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		adone, err := c.AdminRespondToAuthChallenge(ctx, &cip.AdminRespondToAuthChallengeInput{
			UserPoolId: pool, ClientId: aws.String(public), ChallengeName: types.ChallengeNameTypePasswordVerifier,
			ChallengeResponses: answer,
		})
		if err != nil || adone.AuthenticationResult == nil {
			t.Fatalf("AdminRespondToAuthChallenge PASSWORD_VERIFIER: %+v %v", adone, err)
		}

		_, err = srpSignInSDK(t, ctx, c, f.poolID, public, "", "alice", "Wrong-Pass-3!")
		ae := wantErrorAs[*types.NotAuthorizedException](t, err)
		if aws.ToString(ae.Message) != "Incorrect username or password." {
			t.Fatalf("wrong password: %q", aws.ToString(ae.Message))
		}
		_, err = srpSignInSDK(t, ctx, c, f.poolID, public, "", "nobody", "Alice-Pass-2!")
		ae = wantErrorAs[*types.NotAuthorizedException](t, err)
		if aws.ToString(ae.Message) != "Incorrect username or password." {
			t.Fatalf("unknown user: %q", aws.ToString(ae.Message))
		}
		assertCleanResponses(t, s, "Alice-Pass-2!")
	})
}
