package sigv4_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sigv4"
)

// sdkVerifier is a Verifier on the real clock, as the SDK signs with it.
func sdkVerifier() *sigv4.Verifier {
	v := newVerifier()
	v.Now = time.Now
	return v
}

func staticCredentials(keyID, secret string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, Source: "test"}, nil
	})
}

func controlClient(s *server, keyID, secret string) *bedrockagentcorecontrol.Client {
	return bedrockagentcorecontrol.New(bedrockagentcorecontrol.Options{
		Region:           testRegion,
		Credentials:      staticCredentials(keyID, secret),
		HTTPClient:       s.Client(),
		RetryMaxAttempts: 1,
	}, func(o *bedrockagentcorecontrol.Options) {
		o.BaseEndpoint = aws.String(s.URL)
	})
}

// TestVerifySDK proves the headers the real SDK client sends verify.
func TestVerifySDK(t *testing.T) {
	s := newServer(t, sdkVerifier())
	_, err := controlClient(s, testKeyID, testSecret).ListWorkloadIdentities(context.Background(),
		&bedrockagentcorecontrol.ListWorkloadIdentitiesInput{MaxResults: aws.Int32(5), NextToken: aws.String("a/b c")})
	r := <-s.results
	wantPrincipal(t, r.principal, r.err)
	if err != nil {
		t.Fatalf("ListWorkloadIdentities: %v", err)
	}
}

func TestVerifySDKWrongSecret(t *testing.T) {
	s := newServer(t, sdkVerifier())
	_, err := controlClient(s, testKeyID, "not-the-secret").ListWorkloadIdentities(context.Background(),
		&bedrockagentcorecontrol.ListWorkloadIdentitiesInput{})
	if err == nil {
		t.Fatal("ListWorkloadIdentities succeeded with the wrong secret")
	}
	r := <-s.results
	wantForbidden(t, r.err, "does not match", nil)
}

func TestVerifySDKUnknownKey(t *testing.T) {
	s := newServer(t, sdkVerifier())
	_, err := controlClient(s, "BHLFUNKNOWN", testSecret).ListWorkloadIdentities(context.Background(),
		&bedrockagentcorecontrol.ListWorkloadIdentitiesInput{})
	if err == nil {
		t.Fatal("ListWorkloadIdentities succeeded with an unknown key")
	}
	r := <-s.results
	wantForbidden(t, r.err, "security token included in the request is invalid", nil)
	if code := behalf.ErrorCode(r.err); code != behalf.EFORBIDDEN {
		t.Fatalf("code = %q", code)
	}
}

// TestVerifySDKEscapedPath proves an ARN path parameter, which the SDK
// escapes into the path and the signer escapes again, verifies.
func TestVerifySDKEscapedPath(t *testing.T) {
	const arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/my_agent-AbC"
	var gotURI string
	s := newServer(t, sdkVerifier())
	inner := s.Config.Handler
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotURI = r.RequestURI
		inner.ServeHTTP(w, r)
	})
	client := bedrockagentcore.New(bedrockagentcore.Options{
		Region:           testRegion,
		Credentials:      staticCredentials(testKeyID, testSecret),
		HTTPClient:       s.Client(),
		RetryMaxAttempts: 1,
		BaseEndpoint:     aws.String(s.URL),
	})
	out, err := client.InvokeAgentRuntime(context.Background(), &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(arn),
		Qualifier:       aws.String("DEFAULT"),
		Payload:         []byte(`{"prompt":"hello"}`),
	})
	r := <-s.results
	wantPrincipal(t, r.principal, r.err)
	if err != nil {
		t.Fatalf("InvokeAgentRuntime: %v", err)
	}
	out.Response.Close()
	if want := runtimePath + "?qualifier=DEFAULT"; gotURI != want {
		t.Fatalf("request URI = %q, want %q", gotURI, want)
	}
}
