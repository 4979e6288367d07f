package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf/agent"
	"github.com/behalf-dev/behalf/agent/driveagent"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// agentWalkthrough is the walkthrough's setup on a real Behalf: the Google
// stand-in as a custom provider, the callback server (agent.CallbackHandler)
// as the workload's return URL, and the drive agent serving invocations.
type agentWalkthrough struct {
	t           *testing.T
	server      *testServer
	google      *fakeprovider.Server
	identity    *dp.Client
	client      *agent.Client
	signedIn    atomic.Value // the user the callback server believes is signed in
	callbackURL string
	agentURL    string
}

func newAgentWalkthrough(t *testing.T, dsn string) *agentWalkthrough {
	t.Helper()
	w := &agentWalkthrough{t: t, google: fakeprovider.New(t, fakeprovider.Options{})}
	w.server = startMain(t, serverOptions{database: dsn, args: []string{"--allow-private-endpoints"}})
	w.identity = w.server.dataPlane(t, w.server.KeyID, w.server.Secret)
	w.client = agent.NewClient(w.identity)
	w.signedIn.Store("alice")

	mux := http.NewServeMux()
	mux.Handle("GET /callback", agent.CallbackHandler(w.client, func(*http.Request) (dptypes.UserIdentifier, error) {
		return agent.UserID(w.signedIn.Load().(string)), nil
	}))
	cb := httptest.NewServer(mux)
	t.Cleanup(cb.Close)
	w.callbackURL = cb.URL + "/callback"

	ctx, c := context.Background(), w.server.client(t)
	out, err := c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String(driveagent.DefaultProvider), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: customDiscovery(w.google.URL+fakeprovider.DiscoveryPath, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.google.RegisterClient("cid", "csecret", aws.ToString(out.CallbackUrl))
	if _, err := c.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
		Name: aws.String("drive-agent"), AllowedResourceOauth2ReturnUrls: []string{w.callbackURL},
	}); err != nil {
		t.Fatal(err)
	}

	app := driveagent.New(driveagent.Config{DriveEndpoint: w.google.URL + "/drive/v3/"}, w.client)
	as := httptest.NewServer(app)
	t.Cleanup(as.Close)
	w.agentURL = as.URL
	return w
}

// wat mints a workload access token for user, as the runtime would.
func (w *agentWalkthrough) wat(user string) string {
	w.t.Helper()
	out, err := w.identity.GetWorkloadAccessTokenForUserId(context.Background(), &dp.GetWorkloadAccessTokenForUserIdInput{
		WorkloadName: aws.String("drive-agent"), UserId: aws.String(user),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToString(out.WorkloadAccessToken)
}

// invoke calls the drive agent over HTTP with the runtime's headers.
func (w *agentWalkthrough) invoke(wat string) map[string]any {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.agentURL+"/invocations", strings.NewReader(`{"prompt":"List my Google Drive files"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(agent.HeaderWAT, wat)
	req.Header.Set(agent.HeaderOAuth2CallbackURL, w.callbackURL)
	req.Header.Set(agent.HeaderSessionID, "walkthrough-session-0123456789abcdef0123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != 200 {
		w.t.Fatalf("invocation: %d %s\nbehalf log:\n%s", resp.StatusCode, b, w.server.Log)
	}
	return out
}

// authURL checks out is an auth_required answer and returns its URL.
func (w *agentWalkthrough) authURL(out map[string]any) string {
	w.t.Helper()
	u, _ := out["auth_url"].(string)
	if out["status"] != "auth_required" || out["message"] != driveagent.AuthMessage ||
		!strings.HasPrefix(u, w.server.URL+"/identities/oauth2/authorize?request_uri=") {
		w.t.Fatalf("want auth_required, got %v", out)
	}
	return u
}

// consent opens u in a fresh browser (the provider consents at once) and
// returns the page the browser ends on.
func (w *agentWalkthrough) consent(u string) (status int, host, page string) {
	w.t.Helper()
	resp, err := newBrowser(w.t).Get(u)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Request.URL.Host, string(b)
}

// Ensure the walkthrough works end to end on Behalf with the Go SDK and
// examples: the drive agent answers auth_required with a consent URL, the
// user consents, the callback server binds the session, and the next
// invocation lists the user's Drive files; another user neither sees them
// nor can be bound by the wrong signed-in user; a token Google no longer
// accepts leads to a new consent.
func TestAgentDriveWalkthrough(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			w := newAgentWalkthrough(t, dsn(t))
			alice := w.wat("alice")

			u := w.authURL(w.invoke(alice))
			status, host, page := w.consent(u)
			cb, _ := url.Parse(w.callbackURL)
			if status != 200 || host != cb.Host || !strings.Contains(page, "Authorization complete — you can return to the agent") {
				t.Fatalf("consent ended on %s with %d:\n%s\nbehalf log:\n%s", host, status, page, w.server.Log)
			}
			auth := w.google.LastAuthorization()
			if auth.Get("scope") != driveagent.Scope || auth.Get("access_type") != "offline" || auth.Get("prompt") != "consent" {
				t.Fatalf("authorization request %v", auth)
			}

			out := w.invoke(alice)
			files, _ := out["files"].([]any)
			if out["status"] != "success" || len(files) != 2 {
				t.Fatalf("after consent: %v", out)
			}
			first, _ := files[0].(map[string]any)
			if first["name"] != fakeprovider.DefaultUser+" notes.txt" || first["mimeType"] != "text/plain" || first["id"] == "" || len(first) != 3 {
				t.Fatalf("files %v", files)
			}
			if again := w.invoke(w.wat("alice")); again["status"] != "success" {
				t.Fatalf("second invocation with a new WAT: %v", again)
			}

			// Bob gets his own consent URL; the callback server, with alice
			// signed in, refuses to bind bob's session to her.
			bob := w.wat("bob")
			status, _, page = w.consent(w.authURL(w.invoke(bob)))
			if status != http.StatusForbidden || !strings.Contains(page, "another user") {
				t.Fatalf("binding bob's session as alice: %d\n%s", status, page)
			}
			w.authURL(w.invoke(bob))

			// Alice revokes the grant at Google: the vaulted token is
			// rejected by Drive and the agent asks for a new consent.
			tok, err := w.identity.GetResourceOauth2Token(context.Background(), &dp.GetResourceOauth2TokenInput{
				WorkloadIdentityToken: aws.String(alice), ResourceCredentialProviderName: aws.String(driveagent.DefaultProvider),
				Scopes: []string{driveagent.Scope}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation, ResourceOauth2ReturnUrl: aws.String(w.callbackURL),
			})
			if err != nil || tok.AccessToken == nil {
				t.Fatalf("vaulted token: %+v %v", tok, err)
			}
			resp, err := http.PostForm(w.google.URL+fakeprovider.RevokePath, url.Values{"token": {aws.ToString(tok.AccessToken)}})
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("revoke: %v", err)
			}
			resp.Body.Close()
			if status, _, _ := w.consent(w.authURL(w.invoke(alice))); status != 200 {
				t.Fatalf("re-consent: %d", status)
			}
			if out := w.invoke(alice); out["status"] != "success" {
				t.Fatalf("after re-consent: %v", out)
			}
		})
	}
}

// Ensure the SDK's polling mode works against Behalf: AccessToken hands
// the URL to OnAuthURL, the user consents meanwhile, and the poll returns
// a token Drive accepts.
func TestAgentAccessTokenPolling(t *testing.T) {
	w := newAgentWalkthrough(t, "")
	w.signedIn.Store("carol")
	ctx := agent.WithWorkloadAccessToken(context.Background(), w.wat("carol"))
	ctx = agent.WithCallbackURL(ctx, w.callbackURL)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	consented := make(chan int, 1)
	var calls atomic.Int32
	tok, err := w.client.AccessToken(ctx, agent.TokenRequest{
		Provider: driveagent.DefaultProvider, Scopes: []string{driveagent.Scope}, CustomParameters: driveagent.CustomParameters,
		PollInterval: 20 * time.Millisecond, PollTimeout: 30 * time.Second,
		OnAuthURL: func(_ context.Context, u string) error {
			calls.Add(1)
			go func() {
				status, _, _ := w.consent(u)
				consented <- status
			}()
			return nil
		},
	})
	if err != nil {
		t.Fatalf("AccessToken: %v\nbehalf log:\n%s", err, w.server.Log)
	}
	if status := <-consented; status != 200 || calls.Load() != 1 {
		t.Fatalf("consent page %d, OnAuthURL called %d times", status, calls.Load())
	}
	req, _ := http.NewRequest(http.MethodGet, w.google.URL+fakeprovider.DriveFilesPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("drive with the polled token: %v %v", err, resp.Status)
	}
	resp.Body.Close()

	// With ForceAuthentication the vaulted token is ignored and a new
	// consent is asked for.
	_, err = w.client.AccessToken(ctx, agent.TokenRequest{
		Provider: driveagent.DefaultProvider, Scopes: []string{driveagent.Scope}, ForceAuthentication: true, ReturnAuthURL: true,
	})
	if _, ok := err.(*agent.AuthRequiredError); !ok {
		t.Fatalf("forced: %v", err)
	}
}
