package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// forwardedAs is an HTTP client behind a reverse proxy on loopback that
// appends ip, the client's address, to X-Forwarded-For (the server runs
// with --trust-proxy). It follows no redirect.
func forwardedAs(ip string) *http.Client {
	return &http.Client{
		Transport:     &forwarding{ip: ip},
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type forwarding struct{ ip string }

func (f *forwarding) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if prev := r.Header.Get("X-Forwarded-For"); prev != "" {
		r.Header.Set("X-Forwarded-For", prev+", "+f.ip)
	} else {
		r.Header.Set("X-Forwarded-For", f.ip)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// throttled is a 429 answer: its body, Content-Type and Retry-After.
type throttled struct {
	status            int
	body, contentType string
	errorType         string
	retryAfter        int
}

func readThrottled(t *testing.T, resp *http.Response) throttled {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return throttled{resp.StatusCode, string(b), resp.Header.Get("Content-Type"), resp.Header.Get("X-Amzn-ErrorType"), ra}
}

// wantThrottled checks a refusal in an API's own shape with a Retry-After:
// a 429, or for cognito-idp (TooManyRequestsException) a 400, as Cognito
// answers it.
func wantThrottled(t *testing.T, what string, got throttled, contentType, errorType, bodyHas string) {
	t.Helper()
	status := http.StatusTooManyRequests
	if errorType == "TooManyRequestsException" {
		status = http.StatusBadRequest
	}
	if got.status != status || !strings.HasPrefix(got.contentType, contentType) || got.errorType != errorType ||
		!strings.Contains(got.body, bodyHas) || got.retryAfter < 1 {
		t.Fatalf("%s: %d %q X-Amzn-ErrorType=%q Retry-After=%d %.300s; want %d %s %q with %q and a Retry-After",
			what, got.status, got.contentType, got.errorType, got.retryAfter, got.body, status, contentType, errorType, bodyHas)
	}
}

// Ensure the rate limits: per access key on every signed call (AgentCore
// restJson1 429 ThrottlingException, the invocation gateway's, Cognito's
// TooManyRequestsException), per client IP on the sign-in endpoints
// (InitiateAuth, the hosted login's login page and token endpoint) and the
// consent pages (a 429 HTML page); each with Retry-After, and other keys
// and IPs unaffected. The clients are behind a proxy on loopback
// (--trust-proxy, X-Forwarded-For). The buckets refill once per 100 s:
// nothing comes back during the test.
func TestRateLimits(t *testing.T) {
	metricsAddr := freeLoopbackAddr(t)
	s := mustRunMain(t, "", "--allow-private-endpoints", "--trust-proxy", "--rate-limit-root", "--metrics-listen", metricsAddr,
		"--rate-limit-key", "0.01", "--rate-limit-key-burst", "12", "--rate-limit-ip", "0.01", "--rate-limit-ip-burst", "3")
	ctx := context.Background()
	before := scrapeMetrics(t, "http://"+metricsAddr+"/metrics")

	// Setup with the root key: 8 of its 12 requests.
	root := s.client(t)
	if _, err := root.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("agent")}); err != nil {
		t.Fatal(err)
	}
	var key struct {
		ID     string `json:"accessKeyId"`
		Secret string `json:"secretAccessKey"`
	}
	resp, err := http.DefaultClient.Do(signedRequest(t, s, "/behalf/CreateAccessKey", []byte(`{"workloadName":"agent"}`), s.KeyID, s.Secret, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&key)
	resp.Body.Close()
	cog := s.cognito(t)
	pool := newPoolFixture(t, ctx, cog, "limits")                                   // 2
	pool.createUser(t, ctx, cog, "alice", "Corr3ct-Horse!")                         // 2
	runtimeARN := createTestRuntime(t, root, "limited", "http://127.0.0.1:9/", nil) // 1
	created, err := cog.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(pool.poolID), ClientName: aws.String("hosted"),
		AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeCode}, AllowedOAuthScopes: []string{"openid"},
		AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: []string{"https://app.example/callback"}, SupportedIdentityProviders: []string{"COGNITO"},
	})
	if err != nil {
		t.Fatal(err)
	}
	hostedClient := aws.ToString(created.UserPoolClient.ClientId)

	t.Run("PerAccessKey", func(t *testing.T) {
		scoped := s.dataPlane(t, key.ID, key.Secret)
		wat := func(c *dp.Client) error {
			_, err := c.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("agent")})
			return err
		}
		for i := range 12 {
			if err := wat(scoped); err != nil {
				t.Fatalf("request %d of the burst: %v", i+1, err)
			}
		}
		var te *dptypes.ThrottlingException
		if err := wat(scoped); !errors.As(err, &te) {
			t.Fatalf("over the limit: %v, want ThrottlingException", err)
		}
		// The wire: 429, restJson1, Retry-After.
		resp, err := http.DefaultClient.Do(signedRequest(t, s, "/identities/GetWorkloadAccessToken", []byte(`{"workloadName":"agent"}`), key.ID, key.Secret, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		got := readThrottled(t, resp)
		wantThrottled(t, "AgentCore", got, "application/json", "ThrottlingException", `"__type":"ThrottlingException"`)
		if !strings.Contains(got.body, `"retryAfterSeconds":`+strconv.Itoa(got.retryAfter)) {
			t.Fatalf("body %s lacks retryAfterSeconds %d", got.body, got.retryAfter)
		}
		// The invocation gateway too (the key is checked before the runtime).
		_, err = dp.New(dp.Options{
			BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(key.ID, key.Secret, ""),
		}).InvokeAgentRuntime(ctx, &dp.InvokeAgentRuntimeInput{AgentRuntimeArn: aws.String(runtimeARN), Payload: []byte(`{}`)})
		if !errors.As(err, &te) {
			t.Fatalf("invocation over the limit: %v, want ThrottlingException", err)
		}
		// Bad signatures spend nothing, and another key is unaffected.
		if err := wat(s.dataPlane(t, key.ID, "not-the-secret")); err == nil || errors.As(err, &te) {
			t.Fatalf("a bad signature: %v, want a signature error", err)
		}
		if err := wat(s.dataPlane(t, s.KeyID, s.Secret)); err != nil { // root: 9 of 12
			t.Fatalf("the root key was throttled with the scoped one: %v", err)
		}
		// Cognito's administration API: TooManyRequestsException.
		list := func() *http.Response {
			return cognitoPost(t, s, "ListUserPools", []byte(`{"MaxResults":10}`), "cognito-idp")
		}
		for i := range 3 { // root: 12 of 12
			if resp := list(); resp.StatusCode != 200 {
				t.Fatalf("ListUserPools %d: %d", i, resp.StatusCode)
			}
		}
		wantThrottled(t, "Cognito admin", readThrottled(t, list()), "application/x-amz-json-1.1", "TooManyRequestsException", `"__type":"TooManyRequestsException"`)
	})

	t.Run("PerClientIP", func(t *testing.T) {
		initiate := func(c *http.Client, password string, header ...string) *http.Response {
			body, _ := json.Marshal(map[string]any{
				"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": pool.clientID,
				"AuthParameters": map[string]string{"USERNAME": "alice", "PASSWORD": password, "SECRET_HASH": secretHash(pool.clientSecret, "alice", pool.clientID)},
			})
			req, _ := http.NewRequest("POST", s.URL+"/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth")
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		// Sign-in (Cognito's API): three guesses, then TooManyRequestsException.
		guesser := forwardedAs("198.51.100.2")
		for i := range 3 {
			if got := readThrottled(t, initiate(guesser, "guess-"+strconv.Itoa(i))); got.status != http.StatusBadRequest || got.errorType != "NotAuthorizedException" {
				t.Fatalf("guess %d: %+v", i, got)
			}
		}
		wantThrottled(t, "InitiateAuth", readThrottled(t, initiate(guesser, "Corr3ct-Horse!")), "application/x-amz-json-1.1", "TooManyRequestsException", `"__type":"TooManyRequestsException"`)
		// An X-Forwarded-For the client forges comes before the proxy's entry: no help.
		wantThrottled(t, "InitiateAuth, forged", readThrottled(t, initiate(guesser, "x", "X-Forwarded-For", "203.0.113.50")), "application/x-amz-json-1.1", "TooManyRequestsException", "Rate exceeded")
		// The SDK sees TooManyRequestsException.
		sdk := cip.New(cip.Options{BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1, HTTPClient: guesser})
		_, err := pool.signIn(ctx, sdk, "alice", "Corr3ct-Horse!")
		var tmr *types.TooManyRequestsException
		if !errors.As(err, &tmr) {
			t.Fatalf("SDK sign-in over the limit: %v, want TooManyRequestsException", err)
		}
		// Another client signs in.
		other := cip.New(cip.Options{BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1, HTTPClient: forwardedAs("198.51.100.5")})
		mustTokens(t)(pool.signIn(ctx, other, "alice", "Corr3ct-Horse!"))

		// The hosted login: the login form (an HTML page), the token endpoint (OAuth JSON).
		browser := forwardedAs("198.51.100.3")
		login := func() *http.Response {
			resp, err := browser.PostForm(s.URL+"/"+pool.poolID+"/login", url.Values{"username": {"alice"}, "password": {"guess"}})
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		for i := range 3 {
			if got := readThrottled(t, login()); got.status == http.StatusTooManyRequests {
				t.Fatalf("login %d throttled", i)
			}
		}
		wantThrottled(t, "hosted login", readThrottled(t, login()), "text/html", "", "Too many attempts")
		resp, err := browser.PostForm(s.URL+"/"+pool.poolID+"/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {hostedClient}})
		if err != nil {
			t.Fatal(err)
		}
		wantThrottled(t, "token endpoint", readThrottled(t, resp), "application/json", "", `"error":"invalid_request"`)
		// Reading the login page is not limited.
		if resp, err := browser.Get(s.URL + "/" + pool.poolID + "/.well-known/jwks.json"); err != nil || resp.StatusCode != 200 {
			t.Fatalf("JWKS from a throttled client: %v", err)
		} else {
			resp.Body.Close()
		}

		// The consent pages.
		consent := forwardedAs("198.51.100.4")
		authorize := s.URL + "/identities/oauth2/authorize?request_uri=" + url.QueryEscape("urn:ietf:params:oauth:request_uri:unknown")
		for i := range 3 {
			resp, err := consent.Get(authorize)
			if err != nil {
				t.Fatal(err)
			}
			if got := readThrottled(t, resp); got.status != http.StatusBadRequest {
				t.Fatalf("unknown authorization URL %d: %d", i, got.status)
			}
		}
		resp, err = consent.Get(authorize)
		if err != nil {
			t.Fatal(err)
		}
		wantThrottled(t, "consent authorize", readThrottled(t, resp), "text/html", "", "Too many attempts")
		resp, err = consent.Get(s.URL + "/identities/oauth2/callback/some-provider?state=x&code=y")
		if err != nil {
			t.Fatal(err)
		}
		wantThrottled(t, "consent callback", readThrottled(t, resp), "text/html", "", "Too many attempts")
		// The data plane API is limited per key, not per IP.
		req := signedRequest(t, s, "/identities/GetWorkloadAccessToken", []byte(`{"workloadName":"agent"}`), key.ID, key.Secret, time.Now())
		resp, err = consent.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if got := readThrottled(t, resp); got.errorType != "ThrottlingException" || !strings.HasPrefix(got.contentType, "application/json") {
			t.Fatalf("the data plane from a throttled IP: %+v, want the key's own ThrottlingException", got)
		}
	})

	after := scrapeMetrics(t, "http://"+metricsAddr+"/metrics")
	assertDeltas(t, before, after, map[string]float64{
		series("behalf_rate_limited_total", "limit", "key"):                                        5, // WAT ×2, invocation, Cognito admin, the data plane from 127.0.0.4
		series("behalf_rate_limited_total", "limit", "ip"):                                         7, // InitiateAuth ×3, login, token, authorize, callback
		series("behalf_requests_total", "operation", "InitiateAuth", "outcome", "throttled"):       3,
		series("behalf_requests_total", "operation", "HostedLogin", "outcome", "throttled"):        1,
		series("behalf_requests_total", "operation", "HostedLoginToken", "outcome", "throttled"):   1,
		series("behalf_requests_total", "operation", "ConsentAuthorize", "outcome", "throttled"):   1,
		series("behalf_requests_total", "operation", "ConsentCallback", "outcome", "throttled"):    1,
		series("behalf_requests_total", "operation", "ListUserPools", "outcome", "throttled"):      1,
		series("behalf_requests_total", "operation", "InvokeAgentRuntime", "outcome", "throttled"): 1,
	})
	// Refusals are logged like any request, with their request id.
	if !strings.Contains(s.Log.String(), "status=429") {
		t.Error("no request line logs a 429")
	}
}

// Ensure --trust-proxy keys the per-IP limit by X-Forwarded-For's last
// entry, loopback clients are not limited (nor, by default, the root key),
// and 0 disables a limit.
func TestRateLimitTrustProxyAndOff(t *testing.T) {
	page := func(s *testServer, xff string) int {
		req, _ := http.NewRequest("GET", s.URL+"/identities/oauth2/authorize?request_uri=x", nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	s := mustRunMain(t, "", "--trust-proxy", "--rate-limit-ip", "0.01", "--rate-limit-ip-burst", "1")
	if got := page(s, "198.51.100.7, 203.0.113.1"); got != http.StatusBadRequest {
		t.Fatalf("first request: %d", got)
	}
	if got := page(s, "198.51.100.8, 203.0.113.1"); got != http.StatusTooManyRequests {
		t.Fatalf("same proxied client (last entry): %d, want 429", got)
	}
	if got := page(s, "203.0.113.2"); got != http.StatusBadRequest {
		t.Fatalf("another proxied client: %d, want it unaffected", got)
	}

	// Without --trust-proxy, a loopback peer (a proxy on the same host, the
	// operator) is not limited, and the root key neither.
	local := mustRunMain(t, "", "--rate-limit-ip", "0.01", "--rate-limit-ip-burst", "1", "--rate-limit-key", "0.01", "--rate-limit-key-burst", "1")
	for i := range 10 {
		if got := page(local, "203.0.113.9"); got == http.StatusTooManyRequests {
			t.Fatalf("loopback request %d throttled", i)
		}
		if _, err := local.client(t).ListWorkloadIdentities(context.Background(), &ctl.ListWorkloadIdentitiesInput{}); err != nil {
			t.Fatalf("root request %d: %v", i, err)
		}
	}

	off := mustRunMain(t, "", "--rate-limit-ip", "0", "--rate-limit-key", "0")
	for i := range 30 {
		if got := page(off, ""); got == http.StatusTooManyRequests {
			t.Fatalf("request %d throttled with the limits off", i)
		}
	}
	c := off.client(t)
	for i := range 30 {
		if _, err := c.ListWorkloadIdentities(context.Background(), &ctl.ListWorkloadIdentitiesInput{}); err != nil {
			t.Fatalf("signed request %d with the limits off: %v", i, err)
		}
	}
	if err := (&Main{Config: DefaultConfig()}).ParseFlags([]string{"--rate-limit-key", "-1"}); err == nil {
		t.Fatal("a negative rate was accepted")
	}
}
