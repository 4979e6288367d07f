package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

func googleConfig(id, secret string) types.Oauth2ProviderConfigInput {
	return &types.Oauth2ProviderConfigInputMemberGoogleOauth2ProviderConfig{Value: types.GoogleOauth2ProviderConfigInput{
		ClientId: aws.String(id), ClientSecret: aws.String(secret)}}
}

var callbackPattern = regexp.MustCompile(`^http://127\.0\.0\.1:\d+/identities/oauth2/callback/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Ensure a built-in vendor's provider round-trips, reports its endpoints as
// oauthDiscovery, and keeps its callback URL across updates.
func TestOAuth2ProviderBuiltIn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.client(t)
		created, err := c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
			Name: aws.String("google-drive-provider"), CredentialProviderVendor: types.CredentialProviderVendorTypeGoogleOauth2,
			Oauth2ProviderConfigInput: googleConfig("client-1", "secret-1"),
		})
		if err != nil {
			t.Fatal(err)
		}
		callback := aws.ToString(created.CallbackUrl)
		if !callbackPattern.MatchString(callback) || !strings.HasPrefix(callback, s.URL) {
			t.Fatalf("callbackUrl=%q", callback)
		}
		if got, want := aws.ToString(created.CredentialProviderArn), "arn:aws:bedrock-agentcore:us-east-1:000000000000:token-vault/default/oauth2credentialprovider/google-drive-provider"; got != want {
			t.Fatalf("ARN=%s, want %s", got, want)
		}
		if created.ClientSecretArn == nil || !strings.Contains(aws.ToString(created.ClientSecretArn.SecretArn), ":secret:bedrock-agentcore-identity!default/oauth2/google-drive-provider") {
			t.Fatalf("clientSecretArn=%+v", created.ClientSecretArn)
		}

		got, err := c.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String("google-drive-provider")})
		if err != nil {
			t.Fatal(err)
		}
		g, ok := got.Oauth2ProviderConfigOutput.(*types.Oauth2ProviderConfigOutputMemberGoogleOauth2ProviderConfig)
		if !ok {
			t.Fatalf("config output %T", got.Oauth2ProviderConfigOutput)
		}
		md, ok := g.Value.OauthDiscovery.(*types.Oauth2DiscoveryMemberAuthorizationServerMetadata)
		if !ok || !strings.HasPrefix(aws.ToString(md.Value.AuthorizationEndpoint), "https://accounts.google.com/") || aws.ToString(g.Value.ClientId) != "client-1" {
			t.Fatalf("oauthDiscovery=%+v clientId=%v", g.Value.OauthDiscovery, aws.ToString(g.Value.ClientId))
		}
		if got.CredentialProviderVendor != types.CredentialProviderVendorTypeGoogleOauth2 || got.CreatedTime == nil {
			t.Fatalf("Get=%+v", got)
		}

		up, err := c.UpdateOauth2CredentialProvider(ctx, &ctl.UpdateOauth2CredentialProviderInput{
			Name: aws.String("google-drive-provider"), CredentialProviderVendor: types.CredentialProviderVendorTypeGoogleOauth2,
			Oauth2ProviderConfigInput: googleConfig("client-2", "secret-2"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(up.CallbackUrl) != callback {
			t.Fatalf("callback changed on update: %s -> %s", callback, aws.ToString(up.CallbackUrl))
		}

		_, err = c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
			Name: aws.String("google-drive-provider"), CredentialProviderVendor: types.CredentialProviderVendorTypeGoogleOauth2,
			Oauth2ProviderConfigInput: googleConfig("client-1", "secret-1"),
		})
		var conflict *types.ConflictException
		if !errors.As(err, &conflict) {
			t.Fatalf("duplicate: err=%v", err)
		}

		list, err := c.ListOauth2CredentialProviders(ctx, &ctl.ListOauth2CredentialProvidersInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.CredentialProviders) != 1 || list.CredentialProviders[0].CredentialProviderVendor != types.CredentialProviderVendorTypeGoogleOauth2 {
			t.Fatalf("List=%+v", list.CredentialProviders)
		}
		if _, err := c.DeleteOauth2CredentialProvider(ctx, &ctl.DeleteOauth2CredentialProviderInput{Name: aws.String("google-drive-provider")}); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String("google-drive-provider")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("get after delete: %v", err)
		}
	})
}

// Ensure every built-in vendor named in the issue can be created.
func TestOAuth2ProviderVendors(t *testing.T) {
	s := mustRunMain(t, "")
	ctx, c := context.Background(), s.client(t)
	id, secret := aws.String("id"), aws.String("secret")
	for _, tc := range []struct {
		vendor types.CredentialProviderVendorType
		cfg    types.Oauth2ProviderConfigInput
	}{
		{types.CredentialProviderVendorTypeGithubOauth2, &types.Oauth2ProviderConfigInputMemberGithubOauth2ProviderConfig{Value: types.GithubOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}},
		{types.CredentialProviderVendorTypeSlackOauth2, &types.Oauth2ProviderConfigInputMemberSlackOauth2ProviderConfig{Value: types.SlackOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}},
		{types.CredentialProviderVendorTypeSalesforceOauth2, &types.Oauth2ProviderConfigInputMemberSalesforceOauth2ProviderConfig{Value: types.SalesforceOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}},
		{types.CredentialProviderVendorTypeAtlassianOauth2, &types.Oauth2ProviderConfigInputMemberAtlassianOauth2ProviderConfig{Value: types.AtlassianOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}},
		{types.CredentialProviderVendorTypeLinkedinOauth2, &types.Oauth2ProviderConfigInputMemberLinkedinOauth2ProviderConfig{Value: types.LinkedinOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}},
		{types.CredentialProviderVendorTypeMicrosoftOauth2, &types.Oauth2ProviderConfigInputMemberMicrosoftOauth2ProviderConfig{Value: types.MicrosoftOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret, TenantId: aws.String("contoso.onmicrosoft.com")}}},
	} {
		t.Run(string(tc.vendor), func(t *testing.T) {
			name := strings.ToLower(string(tc.vendor))
			if _, err := c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
				Name: aws.String(name), CredentialProviderVendor: tc.vendor, Oauth2ProviderConfigInput: tc.cfg,
			}); err != nil {
				t.Fatal(err)
			}
			got, err := c.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if got.CredentialProviderVendor != tc.vendor || got.Oauth2ProviderConfigOutput == nil {
				t.Fatalf("Get=%+v", got)
			}
		})
	}
}

// discoveryServer serves an OIDC discovery document on loopback.
func discoveryServer(t *testing.T, authMethods []string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/jwks", "response_types_supported": []string{"code"},
			"token_endpoint_auth_methods_supported": authMethods,
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func customDiscovery(url, method string) types.Oauth2ProviderConfigInput {
	return &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: types.CustomOauth2ProviderConfigInput{
		OauthDiscovery: &types.Oauth2DiscoveryMemberDiscoveryUrl{Value: url},
		ClientId:       aws.String("cid"), ClientSecret: aws.String("csecret"),
		ClientAuthenticationMethod: types.ClientAuthenticationMethodType(method),
	}}
}

// Ensure a custom provider by discovery URL is fetched and checked at
// create time, with the client authentication method chosen as documented.
func TestOAuth2ProviderCustomDiscovery(t *testing.T) {
	s := mustRunMain(t, "", "--allow-private-endpoints")
	ctx, c := context.Background(), s.client(t)

	idp := discoveryServer(t, []string{"private_key_jwt", "client_secret_post"})
	discovery := idp.URL + "/.well-known/openid-configuration"
	create := func(name, method, url string) (*ctl.CreateOauth2CredentialProviderOutput, error) {
		return c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
			Name: aws.String(name), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
			Oauth2ProviderConfigInput: customDiscovery(url, method),
		})
	}
	for _, tc := range []struct{ name, method, want string }{
		{"advertised", "", "CLIENT_SECRET_POST"},
		{"configured", "CLIENT_SECRET_BASIC", "CLIENT_SECRET_BASIC"},
	} {
		out, err := create("custom-"+tc.name, tc.method, discovery)
		if err != nil {
			t.Fatal(err)
		}
		cfg := out.Oauth2ProviderConfigOutput.(*types.Oauth2ProviderConfigOutputMemberCustomOauth2ProviderConfig).Value
		if string(cfg.ClientAuthenticationMethod) != tc.want {
			t.Fatalf("%s: clientAuthenticationMethod=%s, want %s", tc.name, cfg.ClientAuthenticationMethod, tc.want)
		}
		if d, ok := cfg.OauthDiscovery.(*types.Oauth2DiscoveryMemberDiscoveryUrl); !ok || d.Value != discovery {
			t.Fatalf("oauthDiscovery=%+v", cfg.OauthDiscovery)
		}
	}

	_, err := create("custom-404", "", idp.URL+"/missing/.well-known/openid-configuration")
	assertValidation(t, err, "oauth2ProviderConfigInput.customOauth2ProviderConfig.oauthDiscovery")
	_, err = create("custom-bad-suffix", "", idp.URL+"/config.json")
	assertValidation(t, err, "oauth2ProviderConfigInput.customOauth2ProviderConfig.oauthDiscovery")
	_, err = create("custom-jwt", "AWS_IAM_ID_TOKEN_JWT", discovery)
	assertValidation(t, err, "")

	// Without --allow-private-endpoints a loopback discovery URL is refused.
	strict := mustRunMain(t, "")
	_, err = strict.client(t).CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("custom"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: customDiscovery(discovery, ""),
	})
	assertValidation(t, err, "oauth2ProviderConfigInput.customOauth2ProviderConfig.oauthDiscovery")
	if !strings.Contains(err.Error(), "allow-private-endpoints") && !strings.Contains(err.Error(), "https") {
		t.Fatalf("error does not say why: %v", err)
	}
}

// Ensure union misuse and unsupported features are refused clearly.
func TestOAuth2ProviderValidation(t *testing.T) {
	s := mustRunMain(t, "")
	ctx, c := context.Background(), s.client(t)
	for _, tc := range []struct {
		name   string
		vendor types.CredentialProviderVendorType
		cfg    types.Oauth2ProviderConfigInput
		field  string
	}{
		{"WrongMember", types.CredentialProviderVendorTypeGithubOauth2, googleConfig("id", "secret"), "oauth2ProviderConfigInput"},
		{"UnknownVendor", "FooOauth2", googleConfig("id", "secret"), "credentialProviderVendor"},
		{"TenantVendorWithoutEndpoints", types.CredentialProviderVendorTypeOktaOauth2, &types.Oauth2ProviderConfigInputMemberIncludedOauth2ProviderConfig{Value: types.IncludedOauth2ProviderConfigInput{ClientId: aws.String("id"), ClientSecret: aws.String("s")}}, "oauth2ProviderConfigInput.includedOauth2ProviderConfig.tokenEndpoint"},
		{"IncludedMemberForGoogle", types.CredentialProviderVendorTypeGoogleOauth2, &types.Oauth2ProviderConfigInputMemberIncludedOauth2ProviderConfig{Value: types.IncludedOauth2ProviderConfigInput{ClientId: aws.String("id"), ClientSecret: aws.String("s")}}, "oauth2ProviderConfigInput"},
		{"NoSecret", types.CredentialProviderVendorTypeGoogleOauth2, &types.Oauth2ProviderConfigInputMemberGoogleOauth2ProviderConfig{Value: types.GoogleOauth2ProviderConfigInput{ClientId: aws.String("id")}}, "oauth2ProviderConfigInput.googleOauth2ProviderConfig.clientSecret"},
		{"ExternalSecret", types.CredentialProviderVendorTypeGoogleOauth2, &types.Oauth2ProviderConfigInputMemberGoogleOauth2ProviderConfig{Value: types.GoogleOauth2ProviderConfigInput{ClientId: aws.String("id"), ClientSecretSource: types.SecretSourceTypeExternal}}, "oauth2ProviderConfigInput.googleOauth2ProviderConfig"},
		{"BadTenant", types.CredentialProviderVendorTypeMicrosoftOauth2, &types.Oauth2ProviderConfigInputMemberMicrosoftOauth2ProviderConfig{Value: types.MicrosoftOauth2ProviderConfigInput{ClientId: aws.String("id"), ClientSecret: aws.String("s"), TenantId: aws.String("../evil")}}, "oauth2ProviderConfigInput.microsoftOauth2ProviderConfig.tenantId"},
		{"MetadataHTTP", types.CredentialProviderVendorTypeCustomOauth2, &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: types.CustomOauth2ProviderConfigInput{
			ClientId: aws.String("id"), OauthDiscovery: &types.Oauth2DiscoveryMemberAuthorizationServerMetadata{Value: types.Oauth2AuthorizationServerMetadata{
				Issuer: aws.String("https://idp.example"), AuthorizationEndpoint: aws.String("http://idp.example/auth"), TokenEndpoint: aws.String("https://idp.example/token")}}}}, "oauth2ProviderConfigInput.customOauth2ProviderConfig.oauthDiscovery.authorizationServerMetadata.authorizationEndpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
				Name: aws.String("p"), CredentialProviderVendor: tc.vendor, Oauth2ProviderConfigInput: tc.cfg,
			})
			assertValidation(t, err, tc.field)
		})
	}
	// Explicit metadata with https endpoints needs no fetch and is accepted.
	out, err := c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("explicit"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: types.CustomOauth2ProviderConfigInput{
			ClientId: aws.String("id"), ClientSecret: aws.String("s"), OauthDiscovery: &types.Oauth2DiscoveryMemberAuthorizationServerMetadata{Value: types.Oauth2AuthorizationServerMetadata{
				Issuer: aws.String("https://idp.example"), AuthorizationEndpoint: aws.String("https://idp.example/auth"), TokenEndpoint: aws.String("https://idp.example/token"),
				TokenEndpointAuthMethods: []string{"client_secret_post"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := out.Oauth2ProviderConfigOutput.(*types.Oauth2ProviderConfigOutputMemberCustomOauth2ProviderConfig).Value
	if cfg.ClientAuthenticationMethod != types.ClientAuthenticationMethodTypeClientSecretPost {
		t.Fatalf("clientAuthenticationMethod=%s", cfg.ClientAuthenticationMethod)
	}
	list, err := c.ListOauth2CredentialProviders(ctx, &ctl.ListOauth2CredentialProvidersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.CredentialProviders) != 1 {
		t.Fatalf("invalid input stored providers: %+v", list.CredentialProviders)
	}
}

// Ensure API-key providers round-trip and never return the key.
func TestAPIKeyProvider(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.client(t)
		out, err := c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("serp"), ApiKey: aws.String("key-one")})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := aws.ToString(out.CredentialProviderArn), "arn:aws:bedrock-agentcore:us-east-1:000000000000:token-vault/default/apikeycredentialprovider/serp"; got != want {
			t.Fatalf("ARN=%s, want %s", got, want)
		}
		_, err = c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("serp"), ApiKey: aws.String("key-one")})
		var conflict *types.ConflictException
		if !errors.As(err, &conflict) {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := c.UpdateApiKeyCredentialProvider(ctx, &ctl.UpdateApiKeyCredentialProviderInput{Name: aws.String("serp"), ApiKey: aws.String("key-two")}); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetApiKeyCredentialProvider(ctx, &ctl.GetApiKeyCredentialProviderInput{Name: aws.String("serp")})
		if err != nil {
			t.Fatal(err)
		}
		if got.ApiKeySecretArn == nil || got.CreatedTime == nil {
			t.Fatalf("Get=%+v", got)
		}
		_, err = c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("empty"), ApiKey: aws.String("")})
		assertValidation(t, err, "apiKey")
		list, err := c.ListApiKeyCredentialProviders(ctx, &ctl.ListApiKeyCredentialProvidersInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.CredentialProviders) != 1 {
			t.Fatalf("List=%+v", list.CredentialProviders)
		}
		if _, err := c.DeleteApiKeyCredentialProvider(ctx, &ctl.DeleteApiKeyCredentialProviderInput{Name: aws.String("serp")}); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetApiKeyCredentialProvider(ctx, &ctl.GetApiKeyCredentialProviderInput{Name: aws.String("serp")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("get after delete: %v", err)
		}
		if strings.Contains(s.Captured.String(), "key-one") || strings.Contains(s.Captured.String(), "key-two") {
			t.Fatal("an API key appeared in a response body")
		}
	})
}

// Ensure the token vault is reported.
func TestTokenVault(t *testing.T) {
	s := mustRunMain(t, "")
	out, err := s.client(t).GetTokenVault(context.Background(), &ctl.GetTokenVaultInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.TokenVaultId) != "default" || out.KmsConfiguration == nil || out.KmsConfiguration.KeyType != types.KeyTypeServiceManagedKey || out.LastModifiedDate == nil {
		t.Fatalf("GetTokenVault=%+v", out)
	}
	_, err = s.client(t).GetTokenVault(context.Background(), &ctl.GetTokenVaultInput{TokenVaultId: aws.String("other")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("other vault: %v", err)
	}
}

// Ensure the server checks what the SDK would check client-side, for
// callers that send raw requests.
func TestOAuth2ProviderRawValidation(t *testing.T) {
	s := mustRunMain(t, "")
	for _, tc := range []struct{ name, body, field string }{
		{"NoClientID", `{"name":"p","credentialProviderVendor":"GoogleOauth2","oauth2ProviderConfigInput":{"googleOauth2ProviderConfig":{"clientSecret":"s"}}}`,
			"oauth2ProviderConfigInput.googleOauth2ProviderConfig.clientId"},
		{"MetadataMissingToken", `{"name":"p","credentialProviderVendor":"CustomOauth2","oauth2ProviderConfigInput":{"customOauth2ProviderConfig":{"clientId":"c",
			"oauthDiscovery":{"authorizationServerMetadata":{"issuer":"https://idp.example","authorizationEndpoint":"https://idp.example/a"}}}}}`,
			"oauth2ProviderConfigInput.customOauth2ProviderConfig.oauthDiscovery.authorizationServerMetadata.tokenEndpoint"},
		{"TwoMembers", `{"name":"p","credentialProviderVendor":"GoogleOauth2","oauth2ProviderConfigInput":{"googleOauth2ProviderConfig":{"clientId":"c","clientSecret":"s"},"githubOauth2ProviderConfig":{"clientId":"c","clientSecret":"s"}}}`,
			"oauth2ProviderConfigInput"},
		{"BothDiscoveryForms", `{"name":"p","credentialProviderVendor":"CustomOauth2","oauth2ProviderConfigInput":{"customOauth2ProviderConfig":{"clientId":"c",
			"oauthDiscovery":{"discoveryUrl":"https://idp.example/.well-known/openid-configuration","authorizationServerMetadata":{"issuer":"https://idp.example","authorizationEndpoint":"https://idp.example/a","tokenEndpoint":"https://idp.example/t"}}}}}`,
			"oauth2ProviderConfigInput.customOauth2ProviderConfig.oauthDiscovery"},
		{"NoName", `{"credentialProviderVendor":"GoogleOauth2","oauth2ProviderConfigInput":{"googleOauth2ProviderConfig":{"clientId":"c","clientSecret":"s"}}}`, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(signedRequest(t, s, "/identities/CreateOauth2CredentialProvider", []byte(tc.body), s.KeyID, s.Secret, time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Type      string                  `json:"__type"`
				FieldList []struct{ Name string } `json:"fieldList"`
			}
			json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != 400 || body.Type != "ValidationException" || len(body.FieldList) != 1 || body.FieldList[0].Name != tc.field {
				t.Fatalf("%d %+v, want ValidationException naming %s", resp.StatusCode, body, tc.field)
			}
		})
	}
}
