package main

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// Ensure the M2M flow runs the client-credentials grant with a WAT that
// names no user, and caches the token per workload × provider × scopes.
func TestM2MFlow(t *testing.T) {
	google := fakeprovider.New(t, fakeprovider.Options{})
	s := mustRunMain(t, "", "--allow-private-endpoints")
	f := newFlowFixture(t, s, google)
	ctx := context.Background()
	wat, err := f.dp.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("drive-agent")})
	if err != nil {
		t.Fatal(err)
	}
	req := &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("google-drive-provider"),
		Scopes: []string{driveScope}, Oauth2Flow: dptypes.Oauth2FlowTypeM2m,
	}
	first, err := f.dp.GetResourceOauth2Token(ctx, req)
	if err != nil || first.AccessToken == nil {
		t.Fatalf("M2M: %+v %v", first, err)
	}
	second, err := f.dp.GetResourceOauth2Token(ctx, req)
	if err != nil || aws.ToString(second.AccessToken) != aws.ToString(first.AccessToken) {
		t.Fatalf("second M2M call: %+v %v", second, err)
	}
	if _, _, _, cc := google.Counts(); cc != 1 {
		t.Fatalf("client-credentials calls = %d, want 1 (cached)", cc)
	}
	req.Scopes = []string{fakeprovider.DriveScope}
	third, err := f.dp.GetResourceOauth2Token(ctx, req)
	if err != nil || aws.ToString(third.AccessToken) == aws.ToString(first.AccessToken) {
		t.Fatalf("other scopes reused the cached token: %+v %v", third, err)
	}
}

// Ensure GetResourceApiKey returns the sealed key to a workload, and only
// with a valid WAT.
func TestResourceAPIKey(t *testing.T) {
	s := mustRunMain(t, "")
	ctx := context.Background()
	control, data := s.client(t), s.dataPlane(t, s.KeyID, s.Secret)
	if _, err := control.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("serp"), ApiKey: aws.String("serp-key-123")}); err != nil {
		t.Fatal(err)
	}
	if _, err := control.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("agent")}); err != nil {
		t.Fatal(err)
	}
	wat, err := data.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("agent")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := data.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("serp")})
	if err != nil || aws.ToString(out.ApiKey) != "serp-key-123" {
		t.Fatalf("GetResourceApiKey: %+v %v", out, err)
	}
	_, err = data.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{WorkloadIdentityToken: aws.String("not-a-wat"), ResourceCredentialProviderName: aws.String("serp")})
	var unauthorized *dptypes.UnauthorizedException
	if !errors.As(err, &unauthorized) {
		t.Fatalf("bad WAT: %v, want UnauthorizedException", err)
	}
	_, err = data.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("missing")})
	var nf *dptypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("missing provider: %v, want ResourceNotFoundException", err)
	}
}
