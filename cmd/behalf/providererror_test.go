package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/behalf-dev/behalf/api"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// Ensure every refusal of the provider's token endpoint reaches the agent
// (and, for a refused code, the app) in the provider's words, through the
// official clients on both backends, with nothing of what the request
// carried: the provider here echoes its request (client secret, code,
// PKCE verifier, refresh token) in its error_description, as some do.
func TestProviderRefusalsPassThrough(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			clock := &testClock{}
			google := fakeprovider.New(t, fakeprovider.Options{AccessTokenTTL: 10 * time.Minute, Now: clock.Now})
			s := startMain(t, serverOptions{database: dsn(t), now: clock.Now, args: []string{"--allow-private-endpoints"}})
			f := newFlowFixture(t, s, google)
			ctx := context.Background()

			// secretsOf are the secret values of the provider's last token request.
			secretsOf := func() []string {
				form := google.LastTokenRequest()
				out := []string{"csecret"}
				for _, k := range []string{"code", "code_verifier", "refresh_token", "client_secret"} {
					if v := form.Get(k); v != "" {
						out = append(out, v)
					}
				}
				return out
			}
			noSecrets := func(what, text string, secrets []string) {
				t.Helper()
				for _, sec := range secrets {
					if strings.Contains(text, sec) {
						t.Fatalf("%s echoes a secret of the request (%q): %s", what, sec, text)
					}
				}
			}
			refusalHeaders := func(md middleware.Metadata) (string, string) {
				raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
				if !ok {
					t.Fatal("no raw response")
				}
				return raw.Header.Get(api.ProviderErrorHeader), raw.Header.Get(api.ProviderErrorDescriptionHeader)
			}

			// 1. Client credentials (M2M) refused: ValidationException with
			// the provider's error and description.
			wat, err := f.dp.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("drive-agent")})
			if err != nil {
				t.Fatal(err)
			}
			google.RefuseTokenRequests("client_credentials", http.StatusUnauthorized, "invalid_client")
			_, err = f.dp.GetResourceOauth2Token(ctx, &dp.GetResourceOauth2TokenInput{
				WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("google-drive-provider"),
				Scopes: []string{driveScope}, Oauth2Flow: dptypes.Oauth2FlowTypeM2m,
			})
			var invalid *dptypes.ValidationException
			if !errors.As(err, &invalid) || !strings.Contains(invalid.ErrorMessage(), "client-credentials request (HTTP 401): invalid_client: Refused") {
				t.Fatalf("refused client credentials: %v, want ValidationException with the provider's invalid_client and description", err)
			}
			noSecrets("M2M refusal", invalid.ErrorMessage(), secretsOf())

			// 2. The authorization code refused at the callback: the app's
			// return URL gets error and error_description, the app's
			// CompleteResourceTokenAuth a ValidationException saying why,
			// the agent's poll FAILED with the provider's words in headers.
			google.RefuseTokenRequests("authorization_code", http.StatusBadRequest, "invalid_grant")
			first, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), ""))
			if err != nil || first.AuthorizationUrl == nil {
				t.Fatalf("first call: %+v %v", first, err)
			}
			resp, err := newBrowser(t).Get(aws.ToString(first.AuthorizationUrl))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			bound := <-f.bound
			secrets := secretsOf()
			if bound == nil || !strings.HasPrefix(bound.Error(), "provider error: invalid_grant: Refused ") || !strings.Contains(bound.Error(), "[REDACTED]") {
				t.Fatalf("the app's return URL: %v, want error=invalid_grant with the provider's description, redacted", bound)
			}
			noSecrets("the return URL's error_description", bound.Error(), secrets)
			_, err = f.dp.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{
				SessionUri: first.SessionUri, UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: "alice"},
			})
			if !errors.As(err, &invalid) || !strings.Contains(invalid.ErrorMessage(), "refused this authorization (invalid_grant: Refused") {
				t.Fatalf("CompleteResourceTokenAuth of the refused session: %v", err)
			}
			noSecrets("CompleteResourceTokenAuth", invalid.ErrorMessage(), secrets)
			// Someone else completing it learns nothing.
			_, err = f.dp.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{
				SessionUri: first.SessionUri, UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: "mallory"},
			})
			if err == nil || strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("CompleteResourceTokenAuth by another user: %v", err)
			}
			poll, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), aws.ToString(first.SessionUri)))
			if err != nil || poll.SessionStatus != dptypes.SessionStatusFailed {
				t.Fatalf("poll of the refused session: %+v %v", poll, err)
			}
			code, desc := refusalHeaders(poll.ResultMetadata)
			if code != "invalid_grant" || !strings.HasPrefix(desc, "Refused ") {
				t.Fatalf("poll headers: %q %q", code, desc)
			}
			noSecrets("the poll's headers", desc, secrets)
			google.RefuseTokenRequests("authorization_code", 0, "")

			// 3. A refresh refused for another reason than the grant: a
			// ValidationException, and the grant stays.
			f.consent(f.wat("alice"))
			clock.Advance(11 * time.Minute)
			google.RefuseTokenRequests("refresh_token", http.StatusUnauthorized, "invalid_client")
			_, err = f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), ""))
			if !errors.As(err, &invalid) || !strings.Contains(invalid.ErrorMessage(), "token refresh (HTTP 401): invalid_client: Refused") {
				t.Fatalf("refresh refused with invalid_client: %v", err)
			}
			secrets = secretsOf()
			noSecrets("refresh refusal", invalid.ErrorMessage(), secrets)

			// 4. invalid_grant on refresh: the grant is dropped, the agent
			// gets the authorization URL of a new consent, as in AWS, and
			// the provider's words in headers.
			google.RefuseTokenRequests("refresh_token", http.StatusBadRequest, "invalid_grant")
			out, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), ""))
			if err != nil || out.AuthorizationUrl == nil || out.SessionStatus != dptypes.SessionStatusInProgress {
				t.Fatalf("after invalid_grant: %+v %v", out, err)
			}
			code, desc = refusalHeaders(out.ResultMetadata)
			if code != "invalid_grant" || !strings.HasPrefix(desc, "Refused ") || !strings.Contains(desc, "[REDACTED]") {
				t.Fatalf("invalid_grant headers: %q %q", code, desc)
			}
			noSecrets("the invalid_grant headers", desc, secretsOf())
			// The next call is an ordinary new consent: nothing to report.
			again, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), ""))
			if err != nil || again.AuthorizationUrl == nil {
				t.Fatalf("next call: %+v %v", again, err)
			}
			if code, _ := refusalHeaders(again.ResultMetadata); code != "" {
				t.Fatalf("a new consent reports %q", code)
			}
			if strings.Contains(s.Log.String(), "csecret") {
				t.Fatal("the client secret reached the server's log")
			}
		})
	}
}
