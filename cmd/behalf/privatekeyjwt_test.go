package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/behalf-dev/behalf/internal/realidp"
)

// providerJWKS fetches a provider's published client-assertion keys.
func providerJWKS(t *testing.T, s *testServer, providerID string) jwk.Set {
	t.Helper()
	resp, err := http.Get(s.URL + "/identities/oauth2/providers/" + providerID + "/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("provider JWKS: %d %s", resp.StatusCode, b)
	}
	set, err := jwk.Parse(b)
	if err != nil || set.Len() == 0 {
		t.Fatalf("provider JWKS %s: %v", b, err)
	}
	for i := range set.Len() {
		k, _ := set.Key(i)
		if _, ok := k.KeyID(); !ok {
			t.Fatal("provider JWKS key without kid")
		}
		if priv, _ := jwk.IsPrivateKey(k); priv {
			t.Fatal("provider JWKS holds a private key")
		}
	}
	return set
}

// Ensure PRIVATE_KEY_JWT works end to end against zitadel/oidc's OP set to
// accept private_key_jwt for Behalf's client, with Behalf's published
// JWKS URL as the client's jwks_uri: the provider's configuration
// round-trips, its key is created with it and published, the consent
// flow's code is redeemed with a client assertion the OP verifies, and
// `behalf keys rotate --provider` adds a key that a replica publishes
// beside the old one. AWS_IAM_ID_TOKEN_JWT and a KMS key are refused with
// the reason and the alternative.
func TestPrivateKeyJWT(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			idp := realidp.Start(t)
			db := dsn(t)
			s, stop := startStoppable(t, serverOptions{database: db, args: []string{"--allow-private-endpoints"}})
			ctx := context.Background()
			control, data := s.client(t), s.dataPlane(t, s.KeyID, s.Secret)

			pkj := &types.PrivateKeyJwtConfig{SigningAlgorithm: types.SigningAlgorithmEs256,
				AdditionalPayloadClaims: map[string]string{"aud": idp.Issuer}} // the OP wants its issuer as aud
			input := &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: types.CustomOauth2ProviderConfigInput{
				OauthDiscovery: &types.Oauth2DiscoveryMemberDiscoveryUrl{Value: idp.DiscoveryURL},
				ClientId:       aws.String("behalf-pkj"), ClientAuthenticationMethod: types.ClientAuthenticationMethodTypePrivateKeyJwt,
				PrivateKeyJwtConfig: pkj,
			}}
			out, err := control.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
				Name: aws.String("zitadel-pkj"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2, Oauth2ProviderConfigInput: input,
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := control.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String("zitadel-pkj")})
			if err != nil {
				t.Fatal(err)
			}
			custom := got.Oauth2ProviderConfigOutput.(*types.Oauth2ProviderConfigOutputMemberCustomOauth2ProviderConfig).Value
			if custom.ClientAuthenticationMethod != types.ClientAuthenticationMethodTypePrivateKeyJwt || custom.PrivateKeyJwtConfig == nil ||
				custom.PrivateKeyJwtConfig.SigningAlgorithm != types.SigningAlgorithmEs256 || custom.PrivateKeyJwtConfig.AdditionalPayloadClaims["aud"] != idp.Issuer {
				t.Fatalf("Get: %+v %+v", custom, custom.PrivateKeyJwtConfig)
			}
			providerID := path.Base(aws.ToString(out.CallbackUrl))
			set := providerJWKS(t, s, providerID)
			if set.Len() != 1 {
				t.Fatalf("a new provider publishes %d keys", set.Len())
			}
			k, _ := set.Key(0)
			firstKid, _ := k.KeyID()
			if alg, _ := k.Algorithm(); alg.String() != "ES256" {
				t.Fatalf("key algorithm %v", alg)
			}
			jwksURL := s.URL + "/identities/oauth2/providers/" + providerID + "/jwks.json"
			idp.RegisterPrivateKeyJWTClient("behalf-pkj", jwksURL, aws.ToString(out.CallbackUrl))

			// The consent flow: the code is redeemed with a client assertion.
			if status, body := signedPost(t, s, "/behalf/CreateTrustedIssuer", fmt.Sprintf(`{"discoveryUrl":%q}`, idp.DiscoveryURL)); status != 201 {
				t.Fatalf("CreateTrustedIssuer: %d %s", status, body)
			}
			userJWT := userIDToken(t, idp)
			bound := make(chan error, 1)
			app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, err := data.CompleteResourceTokenAuth(r.Context(), &dp.CompleteResourceTokenAuthInput{
					SessionUri: aws.String(r.URL.Query().Get("session_id")), UserIdentifier: &dptypes.UserIdentifierMemberUserToken{Value: userJWT},
				})
				bound <- err
			}))
			defer app.Close()
			if _, err := control.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
				Name: aws.String("agent"), AllowedResourceOauth2ReturnUrls: []string{app.URL + "/cb"},
			}); err != nil {
				t.Fatal(err)
			}
			wat, err := data.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("agent"), UserToken: aws.String(userJWT)})
			if err != nil {
				t.Fatal(err)
			}
			req := &dp.GetResourceOauth2TokenInput{
				WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("zitadel-pkj"),
				Scopes: []string{"openid", "profile"}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation, ResourceOauth2ReturnUrl: aws.String(app.URL + "/cb"),
			}
			first, err := data.GetResourceOauth2Token(ctx, req)
			if err != nil || first.AuthorizationUrl == nil {
				t.Fatalf("first call: %+v %v", first, err)
			}
			browser := newBrowser(t)
			resp, err := idp.Login(ctx, browser, aws.ToString(first.AuthorizationUrl), realidp.TestUser, realidp.TestPassword)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, err := resp.Location()
			if err != nil {
				t.Fatal(err)
			}
			if resp, err = browser.Get(loc.String()); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if err := <-bound; err != nil {
				t.Fatalf("binding: %v", err)
			}
			req.SessionUri = first.SessionUri
			poll, err := data.GetResourceOauth2Token(ctx, req)
			if err != nil || poll.AccessToken == nil {
				t.Fatalf("poll: %+v %v", poll, err)
			}
			userinfoSub(t, idp, aws.ToString(poll.AccessToken))

			// Rotation: a replica publishes the new key and the old one.
			rot := mustCLI(t, "keys", "rotate", "--provider", "zitadel-pkj", "--data-dir", s.DataDir, "--database", db, "--output", "json")
			var rotated struct {
				Rotated []struct {
					KeyID   string   `json:"kid"`
					Retired []string `json:"retiredKids"`
				} `json:"rotated"`
			}
			if err := json.Unmarshal([]byte(rot), &rotated); err != nil || len(rotated.Rotated) != 1 ||
				rotated.Rotated[0].KeyID == firstKid || len(rotated.Rotated[0].Retired) != 1 || rotated.Rotated[0].Retired[0] != firstKid {
				t.Fatalf("rotate --provider: %s %v", rot, err)
			}
			if _, err := runCLI(t, "keys", "rotate", "--provider", "no-such", "--data-dir", s.DataDir, "--database", db); err == nil {
				t.Fatal("rotate --provider of an unknown provider")
			}

			// Refused: AWS's IAM-signed assertion, a KMS key, an unknown
			// provider's JWKS.
			for _, tc := range []struct {
				method types.ClientAuthenticationMethodType
				pkj    *types.PrivateKeyJwtConfig
				want   string
			}{
				{types.ClientAuthenticationMethodTypeAwsIamIdTokenJwt, nil, "PRIVATE_KEY_JWT"},
				{types.ClientAuthenticationMethodTypePrivateKeyJwt, &types.PrivateKeyJwtConfig{PrivateKeySource: &types.PrivateKeySourceMemberKmsKeySource{
					Value: types.KmsKeySourceType{KmsKeyArn: aws.String("arn:aws:kms:us-east-1:111122223333:key/abc")}}}, "privateKeySource"},
				{types.ClientAuthenticationMethodTypePrivateKeyJwt, &types.PrivateKeyJwtConfig{AdditionalPayloadClaims: map[string]string{"iss": "x"}}, "iss"},
				{types.ClientAuthenticationMethodTypeClientSecretBasic, &types.PrivateKeyJwtConfig{}, "privateKeyJwtConfig"},
			} {
				_, err := control.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
					Name: aws.String("refused"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
					Oauth2ProviderConfigInput: &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: types.CustomOauth2ProviderConfigInput{
						OauthDiscovery: &types.Oauth2DiscoveryMemberDiscoveryUrl{Value: idp.DiscoveryURL},
						ClientId:       aws.String("c"), ClientAuthenticationMethod: tc.method, PrivateKeyJwtConfig: tc.pkj,
					}},
				})
				if ae := wantAPIError(t, err, "ValidationException"); !strings.Contains(ae.ErrorMessage(), tc.want) {
					t.Fatalf("%s: %v, want the message to name %s", tc.method, err, tc.want)
				}
			}
			if resp, err := http.Get(s.URL + "/identities/oauth2/providers/no-such/jwks.json"); err != nil || resp.StatusCode != 404 {
				t.Fatalf("unknown provider's JWKS: %v %v", resp, err)
			}

			// A server started after the rotation publishes the new key and
			// the old one: a replica on PostgreSQL, the next server on
			// SQLite (one server per file).
			if db == "" {
				stop()
			}
			r := startMain(t, serverOptions{dataDir: s.DataDir, database: db, args: []string{"--allow-private-endpoints", "--public-url", s.URL}})
			set = providerJWKS(t, r, providerID)
			for _, kid := range []string{firstKid, rotated.Rotated[0].KeyID} {
				if _, ok := set.LookupKeyID(kid); !ok {
					t.Fatalf("the provider JWKS of a server started after the rotation lacks %s", kid)
				}
			}
		})
	}
}
