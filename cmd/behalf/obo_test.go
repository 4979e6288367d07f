package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf/internal/realidp"
)

// idTokenType is RFC 8693's token type of an OpenID Connect ID token: the
// user JWTs of these tests are the OP's ID tokens, which is what its token
// exchange accepts as a subject token.
const idTokenType = "urn:ietf:params:oauth:token-type:id_token"

// oboProviderInput is a custom provider at the OP with the given
// on-behalf-of configuration.
func oboProviderInput(idp *realidp.Server, clientID, secret string, obo *types.OnBehalfOfTokenExchangeConfigType) types.Oauth2ProviderConfigInput {
	return &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: types.CustomOauth2ProviderConfigInput{
		OauthDiscovery: &types.Oauth2DiscoveryMemberDiscoveryUrl{Value: idp.DiscoveryURL},
		ClientId:       aws.String(clientID), ClientSecret: aws.String(secret),
		OnBehalfOfTokenExchangeConfig: obo,
	}}
}

// userinfoSub returns the sub the OP's userinfo endpoint gives for an
// access token, failing t unless the OP accepts it.
func userinfoSub(t *testing.T, idp *realidp.Server, accessToken string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", idp.Issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var ui struct {
		Sub string `json:"sub"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &ui) != nil || ui.Sub == "" {
		t.Fatalf("userinfo with the exchanged token: %d %s", resp.StatusCode, body)
	}
	return ui.Sub
}

// jwtSub reads the sub of a JWT without verifying it (the test's own token).
func jwtSub(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.Sub
}

// Ensure ON_BEHALF_OF_TOKEN_EXCHANGE works end to end through the official
// SDK clients against a real RFC 8693 server nobody here wrote (zitadel/oidc's
// example OP), on every backend: the provider's on-behalf-of configuration
// round-trips through Create/Get/Update; GetResourceOauth2Token exchanges
// the user's JWT behind a WAT from GetWorkloadAccessTokenForJWT for a token
// the OP accepts as the same user; the result is vaulted per workload ×
// user × provider × what was asked; the OP's refusal reaches the agent
// without the user's token; and WATs that hold no user JWT are refused.
func TestOnBehalfOfTokenExchange(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			idp := realidp.Start(t)
			s := mustRunMain(t, dsn(t), "--allow-private-endpoints")
			ctx := context.Background()
			control, data := s.client(t), s.dataPlane(t, s.KeyID, s.Secret)

			idp.RegisterClient("behalf-obo", "obo-secret", s.URL+"/unused")
			obo := &types.OnBehalfOfTokenExchangeConfigType{
				GrantType:                    types.OnBehalfOfTokenExchangeGrantTypeTypeTokenExchange,
				TokenExchangeGrantTypeConfig: &types.TokenExchangeGrantTypeConfigType{ActorTokenContent: types.ActorTokenContentTypeNone},
			}
			created, err := control.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
				Name: aws.String("obo"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
				Oauth2ProviderConfigInput: oboProviderInput(idp, "behalf-obo", "obo-secret", obo),
			})
			if err != nil {
				t.Fatal(err)
			}
			wantOBOConfig(t, "Create", created.Oauth2ProviderConfigOutput, obo)
			got, err := control.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String("obo")})
			if err != nil {
				t.Fatal(err)
			}
			wantOBOConfig(t, "Get", got.Oauth2ProviderConfigOutput, obo)

			if status, body := signedPost(t, s, "/behalf/CreateTrustedIssuer", fmt.Sprintf(`{"discoveryUrl":%q}`, idp.DiscoveryURL)); status != 201 {
				t.Fatalf("CreateTrustedIssuer: %d %s", status, body)
			}
			if _, err := control.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("agent")}); err != nil {
				t.Fatal(err)
			}
			userJWT := userIDToken(t, idp)
			watOut, err := data.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("agent"), UserToken: aws.String(userJWT)})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(aws.ToString(watOut.WorkloadAccessToken), userJWT) {
				t.Fatal("the WAT carries the user's JWT")
			}
			req := func(scopes ...string) *dp.GetResourceOauth2TokenInput {
				return &dp.GetResourceOauth2TokenInput{
					WorkloadIdentityToken: watOut.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("obo"),
					Scopes: scopes, Oauth2Flow: dptypes.Oauth2FlowTypeOnBehalfOfTokenExchange,
					CustomParameters: map[string]string{"subject_token_type": idTokenType},
				}
			}
			first, err := data.GetResourceOauth2Token(ctx, req("openid", "profile"))
			if err != nil {
				t.Fatal(err)
			}
			if first.AccessToken == nil || first.AuthorizationUrl != nil || first.SessionUri != nil {
				t.Fatalf("OBO answer %+v, want only an access token", first)
			}
			if sub, want := userinfoSub(t, idp, aws.ToString(first.AccessToken)), jwtSub(t, userJWT); sub != want {
				t.Fatalf("the exchanged token is for %q, want the user %q", sub, want)
			}

			// Vaulted: the same request answers from the vault; other
			// scopes make another exchange.
			again, err := data.GetResourceOauth2Token(ctx, req("profile", "openid"))
			if err != nil || aws.ToString(again.AccessToken) != aws.ToString(first.AccessToken) {
				t.Fatalf("second call: %v, same token %v", err, aws.ToString(again.AccessToken) == aws.ToString(first.AccessToken))
			}
			other, err := data.GetResourceOauth2Token(ctx, req("openid"))
			if err != nil || aws.ToString(other.AccessToken) == aws.ToString(first.AccessToken) {
				t.Fatalf("other scopes: %v, same token %v", err, aws.ToString(other.AccessToken) == aws.ToString(first.AccessToken))
			}
			userinfoSub(t, idp, aws.ToString(other.AccessToken))

			// The OP's refusal passes through, without the user's token.
			bad := req("openid")
			bad.CustomParameters = map[string]string{"subject_token_type": "urn:ietf:params:oauth:token-type:refresh_token"}
			_, err = data.GetResourceOauth2Token(ctx, bad)
			ae := wantAPIError(t, err, "ValidationException")
			if !strings.Contains(ae.ErrorMessage(), "invalid_request") || strings.Contains(err.Error(), userJWT) {
				t.Fatalf("refused exchange: %v", err)
			}

			// A WAT for a user id holds no user JWT to exchange.
			byID, err := data.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{WorkloadName: aws.String("agent"), UserId: aws.String("alice")})
			if err != nil {
				t.Fatal(err)
			}
			r := req("openid")
			r.WorkloadIdentityToken = byID.WorkloadAccessToken
			_, err = data.GetResourceOauth2Token(ctx, r)
			wantAPIError(t, err, "ValidationException")

			// A provider without the configuration refuses the flow;
			// Update without it removes it.
			if _, err := control.UpdateOauth2CredentialProvider(ctx, &ctl.UpdateOauth2CredentialProviderInput{
				Name: aws.String("obo"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
				Oauth2ProviderConfigInput: oboProviderInput(idp, "behalf-obo", "obo-secret", nil),
			}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2100 * time.Millisecond) // identity.ConfigCacheTTL
			_, err = data.GetResourceOauth2Token(ctx, req("openid", "profile"))
			wantAPIError(t, err, "ValidationException")

			// NO_CLIENT round-trips; the OP requires client
			// authentication, so the exchange without it is refused.
			noClient := &types.OnBehalfOfTokenExchangeConfigType{
				GrantType:                      types.OnBehalfOfTokenExchangeGrantTypeTypeTokenExchange,
				OnBehalfOfAuthenticationConfig: &types.OnBehalfOfAuthenticationConfig{ClientAuthenticationMethod: types.OnBehalfOfClientAuthenticationMethodNoClient},
			}
			updated, err := control.UpdateOauth2CredentialProvider(ctx, &ctl.UpdateOauth2CredentialProviderInput{
				Name: aws.String("obo"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
				Oauth2ProviderConfigInput: oboProviderInput(idp, "behalf-obo", "obo-secret", noClient),
			})
			if err != nil {
				t.Fatal(err)
			}
			wantOBOConfig(t, "Update", updated.Oauth2ProviderConfigOutput, noClient)
			time.Sleep(2100 * time.Millisecond)
			_, err = data.GetResourceOauth2Token(ctx, req("email"))
			wantAPIError(t, err, "ValidationException")

			if strings.Contains(s.Captured.String(), "obo-secret") || strings.Contains(s.Log.String(), userJWT) {
				t.Fatal("a secret or the user's JWT appeared in a response body or the log")
			}
		})
	}
}

// wantOBOConfig checks the onBehalfOfTokenExchangeConfig of a provider's
// output.
func wantOBOConfig(t *testing.T, what string, out types.Oauth2ProviderConfigOutput, want *types.OnBehalfOfTokenExchangeConfigType) {
	t.Helper()
	custom, ok := out.(*types.Oauth2ProviderConfigOutputMemberCustomOauth2ProviderConfig)
	if !ok {
		t.Fatalf("%s: output %T", what, out)
	}
	got := custom.Value.OnBehalfOfTokenExchangeConfig
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: onBehalfOfTokenExchangeConfig %+v, want %+v", what, got, want)
	}
}

// Ensure bad on-behalf-of configurations are refused with a
// ValidationException naming the member, AWS_IAM_ID_TOKEN_JWT with the why
// and the alternative.
func TestOnBehalfOfConfigValidation(t *testing.T) {
	s := mustRunMain(t, "")
	const prefix = "oauth2ProviderConfigInput.customOauth2ProviderConfig.onBehalfOfTokenExchangeConfig"
	custom := func(obo string) string {
		return `{"name":"p","credentialProviderVendor":"CustomOauth2","oauth2ProviderConfigInput":{"customOauth2ProviderConfig":{"clientId":"c","clientSecret":"s",
			"oauthDiscovery":{"authorizationServerMetadata":{"issuer":"https://idp.example","authorizationEndpoint":"https://idp.example/a","tokenEndpoint":"https://idp.example/t"}},
			"onBehalfOfTokenExchangeConfig":` + obo + `}}}`
	}
	for _, tc := range []struct{ name, body, field, message string }{
		{"NoGrantType", custom(`{}`), prefix + ".grantType", ""},
		{"BadGrantType", custom(`{"grantType":"PASSWORD"}`), prefix + ".grantType", ""},
		{"NoActorContent", custom(`{"grantType":"TOKEN_EXCHANGE","tokenExchangeGrantTypeConfig":{}}`), prefix + ".tokenExchangeGrantTypeConfig.actorTokenContent", ""},
		{"AWSIAM", custom(`{"grantType":"TOKEN_EXCHANGE","tokenExchangeGrantTypeConfig":{"actorTokenContent":"AWS_IAM_ID_TOKEN_JWT"}}`),
			prefix + ".tokenExchangeGrantTypeConfig.actorTokenContent", "Use M2M"},
		{"ScopesWithoutM2M", custom(`{"grantType":"TOKEN_EXCHANGE","tokenExchangeGrantTypeConfig":{"actorTokenContent":"NONE","actorTokenScopes":["a"]}}`),
			prefix + ".tokenExchangeGrantTypeConfig.actorTokenScopes", ""},
		{"BadActorScope", custom(`{"grantType":"TOKEN_EXCHANGE","tokenExchangeGrantTypeConfig":{"actorTokenContent":"M2M","actorTokenScopes":["a b"]}}`),
			prefix + ".tokenExchangeGrantTypeConfig.actorTokenScopes", ""},
		{"ExchangeConfigOnJWTGrant", custom(`{"grantType":"JWT_AUTHORIZATION_GRANT","tokenExchangeGrantTypeConfig":{"actorTokenContent":"NONE"}}`),
			prefix + ".tokenExchangeGrantTypeConfig", ""},
		{"BadAuthMethod", custom(`{"grantType":"TOKEN_EXCHANGE","onBehalfOfAuthenticationConfig":{"clientAuthenticationMethod":"CLIENT_SECRET_POST"}}`),
			prefix + ".onBehalfOfAuthenticationConfig.clientAuthenticationMethod", ""},
		{"BuiltInVendor", `{"name":"p","credentialProviderVendor":"GoogleOauth2","oauth2ProviderConfigInput":{"googleOauth2ProviderConfig":{"clientId":"c","clientSecret":"s",
			"onBehalfOfTokenExchangeConfig":{"grantType":"TOKEN_EXCHANGE"}}}}`, "oauth2ProviderConfigInput.googleOauth2ProviderConfig.onBehalfOfTokenExchangeConfig", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := signedPost(t, s, "/identities/CreateOauth2CredentialProvider", tc.body)
			var body struct {
				Type      string                  `json:"__type"`
				Message   string                  `json:"message"`
				FieldList []struct{ Name string } `json:"fieldList"`
			}
			json.Unmarshal([]byte(raw), &body)
			if status != 400 || body.Type != "ValidationException" || len(body.FieldList) != 1 || body.FieldList[0].Name != tc.field ||
				!strings.Contains(body.Message, tc.message) {
				t.Fatalf("%d %s, want ValidationException naming %s", status, raw, tc.field)
			}
		})
	}

	// A bad oauth2Flow names the member.
	status, raw := signedPost(t, s, "/identities/oauth2/token", `{"workloadIdentityToken":"x","resourceCredentialProviderName":"p","scopes":[],"oauth2Flow":"ON_BEHALF_OF"}`)
	if status != 400 || !strings.Contains(raw, "oauth2Flow") {
		t.Fatalf("bad oauth2Flow: %d %s", status, raw)
	}
}
