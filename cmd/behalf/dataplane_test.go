package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// testClock is a clock tests can move forward; Behalf and the fake
// provider share it.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// dataPlane returns the official data-plane client for s, signed with key.
func (s *testServer) dataPlane(t *testing.T, id, secret string) *dp.Client {
	t.Helper()
	return dp.New(dp.Options{
		BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
		HTTPClient:  &http.Client{Transport: &capture{next: http.DefaultTransport, into: s.Captured}},
	})
}

// flowFixture is the seed's setup: a Google-like provider, a workload whose
// return URL is an app that binds sessions for a fixed user, and a browser.
type flowFixture struct {
	t        *testing.T
	server   *testServer
	google   *fakeprovider.Server
	ctl      *ctl.Client
	dp       *dp.Client
	appURL   string
	appUser  atomic.Value // the user id the app completes sessions as
	bound    chan error
	callback string
}

const driveScope = fakeprovider.DriveScope + ".readonly"

func newFlowFixture(t *testing.T, s *testServer, google *fakeprovider.Server) *flowFixture {
	t.Helper()
	f := &flowFixture{t: t, server: s, google: google, ctl: s.client(t), dp: s.dataPlane(t, s.KeyID, s.Secret), bound: make(chan error, 10)}
	f.appUser.Store("alice")
	app := httptest.NewServer(http.HandlerFunc(f.appCallback))
	t.Cleanup(app.Close)
	f.appURL = app.URL + "/callback"
	ctx := context.Background()
	out, err := f.ctl.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("google-drive-provider"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: customDiscovery(google.URL+fakeprovider.DiscoveryPath, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.callback = aws.ToString(out.CallbackUrl)
	google.RegisterClient("cid", "csecret", f.callback)
	if _, err := f.ctl.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
		Name: aws.String("drive-agent"), AllowedResourceOauth2ReturnUrls: []string{f.appURL},
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

// appCallback is the app's session-binding endpoint: it completes the
// session as the user it believes is signed in.
func (f *flowFixture) appCallback(w http.ResponseWriter, r *http.Request) {
	sessionURI := r.URL.Query().Get("session_id")
	if e := r.URL.Query().Get("error"); e != "" {
		if d := r.URL.Query().Get("error_description"); d != "" {
			e += ": " + d
		}
		f.bound <- errors.New("provider error: " + e)
		http.Error(w, e, http.StatusBadRequest)
		return
	}
	_, err := f.dp.CompleteResourceTokenAuth(r.Context(), &dp.CompleteResourceTokenAuthInput{
		SessionUri:     aws.String(sessionURI),
		UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: f.appUser.Load().(string)},
	})
	f.bound <- err
	if err != nil {
		http.Error(w, "not bound", http.StatusForbidden)
		return
	}
	w.Write([]byte("bound"))
}

func (f *flowFixture) wat(user string) string {
	f.t.Helper()
	out, err := f.dp.GetWorkloadAccessTokenForUserId(context.Background(), &dp.GetWorkloadAccessTokenForUserIdInput{
		WorkloadName: aws.String("drive-agent"), UserId: aws.String(user),
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.WorkloadAccessToken)
}

func (f *flowFixture) tokenRequest(wat, sessionURI string) *dp.GetResourceOauth2TokenInput {
	in := &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken: aws.String(wat), ResourceCredentialProviderName: aws.String("google-drive-provider"),
		Scopes: []string{driveScope}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation,
		ResourceOauth2ReturnUrl: aws.String(f.appURL), CustomParameters: map[string]string{"access_type": "offline", "prompt": "consent"},
	}
	if sessionURI != "" {
		in.SessionUri = aws.String(sessionURI)
	}
	return in
}

// newBrowser is an HTTP client with cookies that follows redirects.
func newBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// consent runs the whole three-legged flow for user and returns the token
// the agent's poll receives.
func (f *flowFixture) consent(wat string) string {
	f.t.Helper()
	ctx := context.Background()
	first, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(wat, ""))
	if err != nil {
		f.t.Fatal(err)
	}
	if first.AccessToken != nil || first.SessionStatus != dptypes.SessionStatusInProgress || !strings.HasPrefix(aws.ToString(first.AuthorizationUrl), f.server.URL+"/identities/oauth2/authorize?request_uri=") {
		f.t.Fatalf("first call = %+v", first)
	}
	resp, err := newBrowser(f.t).Get(aws.ToString(first.AuthorizationUrl))
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-f.bound; err != nil {
		f.t.Fatalf("binding: %v", err)
	}
	poll, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(wat, aws.ToString(first.SessionUri)))
	if err != nil {
		f.t.Fatal(err)
	}
	if poll.AccessToken == nil {
		f.t.Fatalf("poll after binding = %+v", poll)
	}
	return aws.ToString(poll.AccessToken)
}

// Ensure the seed's flow works end to end through the official clients:
// WAT, authorization URL, consent in a browser against a Google stand-in,
// binding by the app, the poll, then vault hits with no provider call.
func TestThreeLeggedFlow(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			google := fakeprovider.New(t, fakeprovider.Options{})
			s := startMain(t, serverOptions{database: dsn(t), args: []string{"--allow-private-endpoints"}})
			f := newFlowFixture(t, s, google)
			token := f.consent(f.wat("alice"))

			// The token works at the provider (Drive stand-in).
			req, _ := http.NewRequest("GET", google.URL+fakeprovider.DriveFilesPath, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("drive with vaulted token: %v %v", err, resp.Status)
			}
			resp.Body.Close()

			// The next calls are vault hits: same token, no provider call.
			_, exchanges, refreshes, _ := google.Counts()
			for range 3 {
				out, err := f.dp.GetResourceOauth2Token(context.Background(), f.tokenRequest(f.wat("alice"), ""))
				if err != nil {
					t.Fatal(err)
				}
				if aws.ToString(out.AccessToken) != token {
					t.Fatalf("vault hit returned %+v", out)
				}
			}
			if _, e2, r2, _ := google.Counts(); e2 != exchanges || r2 != refreshes {
				t.Fatalf("vault hits called the provider: exchanges %d→%d refreshes %d→%d", exchanges, e2, refreshes, r2)
			}
			// The authorization request carried PKCE S256, state and the custom parameters.
			auth := google.LastAuthorization()
			if auth.Get("code_challenge_method") != "S256" || auth.Get("state") == "" || auth.Get("access_type") != "offline" || auth.Get("redirect_uri") != f.callback {
				t.Fatalf("authorization request %v", auth)
			}
			// Another user of the same workload gets a consent URL, not alice's token.
			bob, err := f.dp.GetResourceOauth2Token(context.Background(), f.tokenRequest(f.wat("bob"), ""))
			if err != nil || bob.AccessToken != nil || bob.AuthorizationUrl == nil {
				t.Fatalf("bob got %+v, %v", bob, err)
			}
		})
	}
}
