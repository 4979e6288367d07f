package main

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// Ensure GetTokensFromRefreshToken through the official client: without
// rotation it returns access and ID tokens only (with the client secret of
// a confidential client); a client created with RefreshTokenRotation
// ENABLED describes it back and rotates, the old token working within the
// retry grace period only, and refuses REFRESH_TOKEN_AUTH.
func TestGetTokensFromRefreshTokenSDK(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.cognito(t)
		f := newPoolFixture(t, ctx, c, "refresh")
		f.createUser(t, ctx, c, "alice", "Alice-Pass-1!")
		first := mustTokens(t)(f.signIn(ctx, c, "alice", "Alice-Pass-1!"))

		out, err := c.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{
			ClientId: aws.String(f.clientID), RefreshToken: first.RefreshToken, ClientSecret: aws.String(f.clientSecret),
		})
		if err != nil {
			t.Fatal(err)
		}
		if r := out.AuthenticationResult; r == nil || aws.ToString(r.AccessToken) == "" || aws.ToString(r.IdToken) == "" || r.RefreshToken != nil || r.ExpiresIn != 3600 {
			t.Fatalf("AuthenticationResult = %+v, want access and ID tokens only", out.AuthenticationResult)
		}
		_, err = c.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(f.clientID), RefreshToken: first.RefreshToken})
		wantErrorAs[*types.NotAuthorizedException](t, err)

		// A rotating public client.
		created, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
			UserPoolId: aws.String(f.poolID), ClientName: aws.String("rotating"),
			ExplicitAuthFlows:    []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
			RefreshTokenRotation: &types.RefreshTokenRotationType{Feature: types.FeatureTypeEnabled, RetryGracePeriodSeconds: aws.Int32(30)},
		})
		if err != nil {
			t.Fatal(err)
		}
		rotating := aws.ToString(created.UserPoolClient.ClientId)
		desc, err := c.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(f.poolID), ClientId: aws.String(rotating)})
		if err != nil {
			t.Fatal(err)
		}
		if r := desc.UserPoolClient.RefreshTokenRotation; r == nil || r.Feature != types.FeatureTypeEnabled || aws.ToInt32(r.RetryGracePeriodSeconds) != 30 {
			t.Fatalf("RefreshTokenRotation = %+v", desc.UserPoolClient.RefreshTokenRotation)
		}
		signedIn, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(rotating), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "Alice-Pass-1!"},
		})
		tok := mustTokens(t)(signedIn, err)
		_, err = c.InitiateAuth(ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(rotating), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
			AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(tok.RefreshToken)},
		})
		wantErrorAs[*types.NotAuthorizedException](t, err)
		rot, err := c.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(rotating), RefreshToken: tok.RefreshToken})
		if err != nil {
			t.Fatal(err)
		}
		next := aws.ToString(rot.AuthenticationResult.RefreshToken)
		if next == "" || next == aws.ToString(tok.RefreshToken) {
			t.Fatalf("rotation returned refresh token %q", next)
		}
		// Within the grace period the old one still refreshes.
		if _, err := c.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(rotating), RefreshToken: tok.RefreshToken}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: rot.AuthenticationResult.AccessToken}); err != nil {
			t.Fatal(err)
		}
		// An out-of-range grace period is refused.
		_, err = c.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{
			UserPoolId: aws.String(f.poolID), ClientId: aws.String(rotating),
			RefreshTokenRotation: &types.RefreshTokenRotationType{Feature: types.FeatureTypeEnabled, RetryGracePeriodSeconds: aws.Int32(61)},
		})
		wantErrorAs[*types.InvalidParameterException](t, err)
		assertCleanResponses(t, s)
	})
}
