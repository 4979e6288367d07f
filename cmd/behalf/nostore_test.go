package main

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// headerRecorder keeps the response headers of every call, by X-Amz-Target
// (Cognito) or path (AgentCore).
type headerRecorder struct {
	mu  sync.Mutex
	got map[string]http.Header
}

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	key := r.Header.Get("X-Amz-Target")
	if key == "" {
		key = r.URL.Path
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got[key] = resp.Header.Clone()
	return resp, nil
}

// Ensure every answer that carries a token, an API key or a secret says
// Cache-Control: no-store and Pragma: no-cache (RFC 6749 section 5.1,
// issue 11, Security 7): the AgentCore data plane's token operations, the
// Cognito API's sign-in operations and app-client secrets, and
// CreateAccessKey; other answers do not.
func TestTokenResponsesNotStored(t *testing.T) {
	google := fakeprovider.New(t, fakeprovider.Options{})
	s := startMain(t, serverOptions{args: []string{"--allow-private-endpoints"}})
	f := newFlowFixture(t, s, google)
	ctx := context.Background()
	rec := &headerRecorder{got: map[string]http.Header{}}
	creds := credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, "")
	data := dp.New(dp.Options{BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1, Credentials: creds, HTTPClient: &http.Client{Transport: rec}})
	control := ctl.New(ctl.Options{BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1, Credentials: creds, HTTPClient: &http.Client{Transport: rec}})
	cog := cip.New(cip.Options{BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1, Credentials: creds, HTTPClient: &http.Client{Transport: rec}})
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// The user pool: an app client (its secret), a user with a temporary
	// password (a challenge), sign-ins.
	pool := newPoolFixture(t, ctx, cog, "nostore")
	must(cog.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(pool.poolID), ClientId: aws.String(pool.clientID)}))
	must(cog.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(pool.poolID), Username: aws.String("alice"), MessageAction: ciptypes.MessageActionTypeSuppress,
		TemporaryPassword: aws.String("Temp-Pass-1!"),
	}))
	first, err := pool.signIn(ctx, cog, "alice", "Temp-Pass-1!")
	if err != nil || first.Session == nil {
		t.Fatalf("InitiateAuth: %+v %v", first, err)
	}
	answered, err := cog.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId: aws.String(pool.clientID), ChallengeName: ciptypes.ChallengeNameTypeNewPasswordRequired, Session: first.Session,
		ChallengeResponses: map[string]string{"USERNAME": "alice", "NEW_PASSWORD": "Perm-Pass-1!", "SECRET_HASH": secretHash(pool.clientSecret, "alice", pool.clientID)},
	})
	if err != nil || answered.AuthenticationResult == nil {
		t.Fatalf("RespondToAuthChallenge: %+v %v", answered, err)
	}
	must(cog.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId: aws.String(pool.poolID), ClientId: aws.String(pool.clientID), AuthFlow: ciptypes.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "Perm-Pass-1!", "SECRET_HASH": secretHash(pool.clientSecret, "alice", pool.clientID)},
	}))

	// The data plane: WATs three ways, an OAuth token (a vault hit after
	// consent), an API key; and a scoped access key.
	must(data.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("drive-agent")}))
	must(data.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("drive-agent"), UserToken: answered.AuthenticationResult.AccessToken}))
	f.consent(f.wat("alice"))
	out, err := data.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), ""))
	if err != nil || out.AccessToken == nil {
		t.Fatalf("vault hit: %+v %v", out, err)
	}
	must(control.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("serp"), ApiKey: aws.String("serp-key-123456")}))
	wat, err := data.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{WorkloadName: aws.String("drive-agent"), UserId: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	must(data.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("serp")}))
	resp, err := http.DefaultClient.Do(signedRequest(t, s, "/behalf/CreateAccessKey", []byte(`{"workloadName":"drive-agent"}`), s.KeyID, s.Secret, time.Now()))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("CreateAccessKey: %v %v", resp, err)
	}
	resp.Body.Close()
	rec.mu.Lock()
	rec.got["/behalf/CreateAccessKey"] = resp.Header
	rec.mu.Unlock()

	const target = "AWSCognitoIdentityProviderService."
	stored := map[string]bool{
		"/identities/GetWorkloadAccessToken":          true,
		"/identities/GetWorkloadAccessTokenForJWT":    true,
		"/identities/GetWorkloadAccessTokenForUserId": true,
		"/identities/oauth2/token":                    true,
		"/identities/api-key":                         true,
		"/behalf/CreateAccessKey":                     true,
		target + "InitiateAuth":                       true,
		target + "RespondToAuthChallenge":             true,
		target + "AdminInitiateAuth":                  true,
		target + "CreateUserPoolClient":               true,
		target + "DescribeUserPoolClient":             true,
		// Answers without tokens or secrets may be cached as usual.
		"/identities/CreateApiKeyCredentialProvider": false,
		target + "CreateUserPool":                    false,
		target + "AdminCreateUser":                   false,
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for key, noStore := range stored {
		h, ok := rec.got[key]
		if !ok {
			t.Errorf("%s was not called", key)
			continue
		}
		got := h.Get("Cache-Control") == "no-store" && h.Get("Pragma") == "no-cache"
		if got != noStore {
			t.Errorf("%s: Cache-Control %q, Pragma %q; want no-store: %v", key, h.Get("Cache-Control"), h.Get("Pragma"), noStore)
		}
	}
}
