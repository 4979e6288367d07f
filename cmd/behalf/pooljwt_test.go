package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/behalf-dev/behalf/identity"
	"github.com/behalf-dev/behalf/userpool"
)

// Ensure every user pool is a trusted issuer for the data plane without
// further setup: a pool user's access and ID tokens mint WATs, a deleted
// pool's tokens do not.
func TestUserPoolIsTrustedIssuer(t *testing.T) {
	s := mustRunMain(t, "")
	ctx := context.Background()
	cog, data := s.cognito(t), s.dataPlane(t, s.KeyID, s.Secret)
	f := newPoolFixture(t, ctx, cog, "agents")
	f.createUser(t, ctx, cog, "alice", "Corr3ct-Horse!")
	tokens := mustTokens(t)(f.signIn(ctx, cog, "alice", "Corr3ct-Horse!"))
	if _, err := s.client(t).CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("agent")}); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]*string{"access": tokens.AccessToken, "id": tokens.IdToken} {
		if _, err := data.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("agent"), UserToken: tok}); err != nil {
			t.Fatalf("%s token of a pool user: %v", name, err)
		}
	}
	if _, err := cog.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: aws.String(f.poolID)}); err != nil {
		t.Fatal(err)
	}
	// Trusted issuers are cached for at most identity.IssuerCacheTTL.
	deadline := time.Now().Add(identity.IssuerCacheTTL + time.Second)
	for {
		_, err := data.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("agent"), UserToken: tokens.AccessToken})
		var unauthorized *dptypes.UnauthorizedException
		if errors.As(err, &unauthorized) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("token of a pool deleted %v ago: %v, want UnauthorizedException", identity.IssuerCacheTTL, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Ensure a disabled pool user's still-valid token stops minting WATs within
// userpool.TokenUserCacheTTL.
func TestDisabledPoolUserRefused(t *testing.T) {
	s := mustRunMain(t, "")
	ctx := context.Background()
	cog, data := s.cognito(t), s.dataPlane(t, s.KeyID, s.Secret)
	f := newPoolFixture(t, ctx, cog, "agents")
	f.createUser(t, ctx, cog, "alice", "Corr3ct-Horse!")
	tokens := mustTokens(t)(f.signIn(ctx, cog, "alice", "Corr3ct-Horse!"))
	if _, err := s.client(t).CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("agent")}); err != nil {
		t.Fatal(err)
	}
	forJWT := func() error {
		_, err := data.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("agent"), UserToken: tokens.IdToken})
		return err
	}
	if err := forJWT(); err != nil {
		t.Fatal(err)
	}
	if _, err := cog.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(f.poolID), Username: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(userpool.TokenUserCacheTTL + time.Second)
	for {
		var unauthorized *dptypes.UnauthorizedException
		if err := forJWT(); errors.As(err, &unauthorized) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("a disabled user's token %v later: %v, want UnauthorizedException", userpool.TokenUserCacheTTL, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
