package main

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf/internal/realidp"
)

// included is an includedOauth2ProviderConfig.
func included(clientID, secret, issuer, authz, token string) types.Oauth2ProviderConfigInput {
	in := types.IncludedOauth2ProviderConfigInput{ClientId: aws.String(clientID), ClientSecret: aws.String(secret)}
	if issuer != "" {
		in.Issuer = aws.String(issuer)
	}
	if authz != "" {
		in.AuthorizationEndpoint = aws.String(authz)
	}
	if token != "" {
		in.TokenEndpoint = aws.String(token)
	}
	return &types.Oauth2ProviderConfigInputMemberIncludedOauth2ProviderConfig{Value: in}
}

// includedMetadata returns the endpoints a provider's Get reports.
func includedMetadata(t *testing.T, out types.Oauth2ProviderConfigOutput) types.Oauth2AuthorizationServerMetadata {
	t.Helper()
	inc, ok := out.(*types.Oauth2ProviderConfigOutputMemberIncludedOauth2ProviderConfig)
	if !ok {
		t.Fatalf("output member %T, want includedOauth2ProviderConfig", out)
	}
	md, ok := inc.Value.OauthDiscovery.(*types.Oauth2DiscoveryMemberAuthorizationServerMetadata)
	if !ok {
		t.Fatalf("oauthDiscovery %T", inc.Value.OauthDiscovery)
	}
	return md.Value
}

// Ensure every AgentCore vendor Behalf lacked is served through the
// official SDK: the fixed-endpoint ones report their built-in endpoints
// as oauthDiscovery, the tenant ones take theirs from
// includedOauth2ProviderConfig (or the issuer's discovery document), and a
// tenant vendor against zitadel/oidc's OP issues tokens (M2M).
func TestIncludedVendors(t *testing.T) {
	idp := realidp.Start(t)
	s := mustRunMain(t, "", "--allow-private-endpoints")
	ctx := context.Background()
	control := s.client(t)
	create := func(name string, vendor types.CredentialProviderVendorType, cfg types.Oauth2ProviderConfigInput) (*ctl.GetOauth2CredentialProviderOutput, error) {
		if _, err := control.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
			Name: aws.String(name), CredentialProviderVendor: vendor, Oauth2ProviderConfigInput: cfg,
		}); err != nil {
			return nil, err
		}
		return control.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String(name)})
	}

	for _, v := range []types.CredentialProviderVendorType{
		types.CredentialProviderVendorTypeXOauth2, types.CredentialProviderVendorTypeFacebookOauth2, types.CredentialProviderVendorTypeYandexOauth2,
		types.CredentialProviderVendorTypeRedditOauth2, types.CredentialProviderVendorTypeZoomOauth2, types.CredentialProviderVendorTypeTwitchOauth2,
		types.CredentialProviderVendorTypeSpotifyOauth2, types.CredentialProviderVendorTypeDropboxOauth2, types.CredentialProviderVendorTypeNotionOauth2,
		types.CredentialProviderVendorTypeHubspotOauth2,
	} {
		got, err := create("p-"+string(v), v, included("cid", "csecret", "", "", ""))
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		md := includedMetadata(t, got.Oauth2ProviderConfigOutput)
		if got.CredentialProviderVendor != v || aws.ToString(md.AuthorizationEndpoint) == "" || aws.ToString(md.TokenEndpoint) == "" {
			t.Fatalf("%s: %+v %+v", v, got, md)
		}
		// Built-in endpoints cannot be replaced.
		_, err = create("q-"+string(v), v, included("cid", "csecret", "", "", "https://elsewhere.example/token"))
		assertValidation(t, err, "oauth2ProviderConfigInput.includedOauth2ProviderConfig.issuer")
	}

	// A tenant vendor by its endpoints.
	okta, err := create("okta", types.CredentialProviderVendorTypeOktaOauth2, included("cid", "csecret",
		"https://acme.okta.com/oauth2/default", "https://acme.okta.com/oauth2/default/v1/authorize", "https://acme.okta.com/oauth2/default/v1/token"))
	if err != nil {
		t.Fatal(err)
	}
	if md := includedMetadata(t, okta.Oauth2ProviderConfigOutput); aws.ToString(md.Issuer) != "https://acme.okta.com/oauth2/default" ||
		aws.ToString(md.TokenEndpoint) != "https://acme.okta.com/oauth2/default/v1/token" {
		t.Fatalf("Okta: %+v", md)
	}
	// Without endpoints or issuer: refused, naming the member.
	_, err = create("pingone", types.CredentialProviderVendorTypePingOneOauth2, included("cid", "csecret", "", "", ""))
	assertValidation(t, err, "oauth2ProviderConfigInput.includedOauth2ProviderConfig.tokenEndpoint")

	// A tenant vendor by its issuer alone (the OP's discovery document),
	// used for an M2M token of the OP's service user.
	auth0, err := create("auth0", types.CredentialProviderVendorTypeAuth0Oauth2, included("sid1", "verysecret", idp.Issuer, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	if md := includedMetadata(t, auth0.Oauth2ProviderConfigOutput); aws.ToString(md.TokenEndpoint) != idp.Issuer+"/oauth/token" {
		t.Fatalf("Auth0 by discovery: %+v", md)
	}
	if _, err := control.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("agent")}); err != nil {
		t.Fatal(err)
	}
	data := s.dataPlane(t, s.KeyID, s.Secret)
	wat, err := data.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("agent")})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := data.GetResourceOauth2Token(ctx, &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("auth0"),
		Scopes: []string{"openid"}, Oauth2Flow: dptypes.Oauth2FlowTypeM2m,
	})
	if err != nil || aws.ToString(tok.AccessToken) == "" {
		t.Fatalf("M2M token of a tenant vendor: %+v %v", tok, err)
	}
}
