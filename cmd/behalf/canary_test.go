package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf/internal/randid"
)

// Ensure a planted secret reaches no response body, log line, error or
// database file, whatever the operation does with it, successful or not.
func TestSecretCanary(t *testing.T) {
	const canary = "CANARY-7f3a9c-never-print-me"
	s := mustRunMain(t, "")
	ctx, c := context.Background(), s.client(t)

	create := func(name string, cfg types.Oauth2ProviderConfigInput, vendor types.CredentialProviderVendorType) error {
		_, err := c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
			Name: aws.String(name), CredentialProviderVendor: vendor, Oauth2ProviderConfigInput: cfg,
		})
		return err
	}
	var errs []error
	errs = append(errs, create("google", googleConfig("id", canary), types.CredentialProviderVendorTypeGoogleOauth2))
	// Failing paths: wrong member, over-long secret, bad name: each sees the canary.
	errs = append(errs, create("github", googleConfig("id", canary), types.CredentialProviderVendorTypeGithubOauth2))
	errs = append(errs, create("long", googleConfig("id", canary+strings.Repeat("x", 3000)), types.CredentialProviderVendorTypeGoogleOauth2))
	errs = append(errs, create("bad name!", googleConfig("id", canary), types.CredentialProviderVendorTypeGoogleOauth2))
	_, err := c.UpdateOauth2CredentialProvider(ctx, &ctl.UpdateOauth2CredentialProviderInput{
		Name: aws.String("google"), CredentialProviderVendor: types.CredentialProviderVendorTypeGoogleOauth2,
		Oauth2ProviderConfigInput: googleConfig("id", canary+"-2"),
	})
	errs = append(errs, err)
	_, err = c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("key"), ApiKey: aws.String(canary)})
	errs = append(errs, err)
	_, err = c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("key"), ApiKey: aws.String(canary)})
	errs = append(errs, err)
	_, err = c.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String("google")})
	errs = append(errs, err)
	_, err = c.GetApiKeyCredentialProvider(ctx, &ctl.GetApiKeyCredentialProviderInput{Name: aws.String("key")})
	errs = append(errs, err)

	// A raw body with the canary in a field of the wrong type.
	req := signedRequest(t, s, "/identities/CreateApiKeyCredentialProvider", []byte(`{"name":"raw","apiKey":["`+canary+`"]}`), s.KeyID, s.Secret, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	raw.ReadFrom(resp.Body)
	resp.Body.Close()

	for i, err := range errs {
		if err != nil && strings.Contains(err.Error(), canary) {
			t.Errorf("error %d carries the canary: %v", i, err)
		}
	}
	for where, text := range map[string]string{"responses": s.Captured.String() + raw.String(), "log": s.Log.String()} {
		if strings.Contains(text, canary) {
			t.Errorf("the canary appeared in the %s", where)
		}
	}
	if !strings.Contains(s.Captured.String(), "ValidationException") || !strings.Contains(s.Captured.String(), "ConflictException") {
		t.Fatal("the failing paths did not run")
	}
	// At rest: the database files hold only sealed values.
	files, _ := filepath.Glob(filepath.Join(s.DataDir, "behalf.db*"))
	if len(files) == 0 {
		t.Fatal("no database files found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(canary)) {
			t.Errorf("%s holds the canary in plaintext", filepath.Base(f))
		}
	}
}

// echoingProvider is an OAuth 2.0 authorization server whose token
// endpoint, when told to fail, answers 400 with its whole request (form
// body and Authorization header) echoed in error_description and, again,
// raw in the body. It records every secret it was sent or issued.
type echoingProvider struct {
	srv *httptest.Server

	mu      sync.Mutex
	fail    map[string]bool // grant types to fail: authorization_code, refresh_token
	secrets []string        // sent to it (and the codes it issued)
	issued  []string        // access tokens (the agent gets them) and refresh tokens
	echoes  int
}

func newEchoingProvider(t *testing.T) *echoingProvider {
	p := &echoingProvider{fail: map[string]bool{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *echoingProvider) keep(vs ...string) {
	for _, v := range vs {
		if v != "" {
			p.secrets = append(p.secrets, v)
		}
	}
}

func (p *echoingProvider) setFail(grantType string, fail bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail[grantType] = fail
}

func (p *echoingProvider) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize", "token_endpoint": p.srv.URL + "/token",
			"response_types_supported": []string{"code"}, "token_endpoint_auth_methods_supported": []string{"client_secret_post"},
		})
	case "/authorize":
		code := "echo-code-" + randid.Hex(16) + "+/="
		p.keep(code)
		q := url.Values{"code": {code}, "state": {r.URL.Query().Get("state")}}
		http.Redirect(w, r, r.URL.Query().Get("redirect_uri")+"?"+q.Encode(), http.StatusFound)
	case "/token":
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		p.keep(form.Get("client_secret"), form.Get("code"), form.Get("code_verifier"), form.Get("refresh_token"), r.Header.Get("Authorization"))
		grant := form.Get("grant_type")
		if !p.fail[grant] {
			at, rt := "echo-access-"+randid.Hex(16), "echo-refresh-"+randid.Hex(16)
			p.issued = append(p.issued, at, rt)
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"access_token": at, "refresh_token": rt, "token_type": "Bearer", "expires_in": 3600})
			return
		}
		p.echoes++
		echo := string(body) + " Authorization: " + r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false) // the request body appears in the answer byte for byte
		enc.Encode(map[string]string{"error": "invalid_request", "error_description": "bad request: " + echo, "request": echo})
	default:
		http.NotFound(w, r)
	}
}

// Ensure a provider that echoes its token requests in its error answers
// (issue 11, Security 4) puts none of their secrets (client secret, code,
// PKCE verifier, refresh token) into a log line or a response, on a failed
// code exchange and a failed refresh.
func TestSecretCanaryEchoingProvider(t *testing.T) {
	clock := &testClock{}
	s := startMain(t, serverOptions{now: clock.Now, args: []string{"--allow-private-endpoints"}})
	ctx, c := context.Background(), s.client(t)
	idp := newEchoingProvider(t)
	clientSecret := "echo-client-secret-" + randid.Hex(16) + "+/=&"
	idp.mu.Lock()
	idp.keep(clientSecret)
	idp.mu.Unlock()

	bound := make(chan string, 4)
	var data *dp.Client
	var returned syncBuffer // every query the app's return URL got
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		returned.Write([]byte(r.URL.RawQuery + "\n"))
		if e := r.URL.Query().Get("error"); e != "" {
			bound <- "error " + e
			return
		}
		_, err := data.CompleteResourceTokenAuth(r.Context(), &dp.CompleteResourceTokenAuthInput{
			SessionUri: aws.String(r.URL.Query().Get("session_id")), UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: "alice"},
		})
		bound <- fmt.Sprint("bound ", err)
	}))
	t.Cleanup(app.Close)
	data = s.dataPlane(t, s.KeyID, s.Secret)

	_, err := c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("echo"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: types.CustomOauth2ProviderConfigInput{
			OauthDiscovery: &types.Oauth2DiscoveryMemberDiscoveryUrl{Value: idp.srv.URL + "/.well-known/openid-configuration"},
			ClientId:       aws.String("echo-client"), ClientSecret: aws.String(clientSecret),
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
		Name: aws.String("echo-agent"), AllowedResourceOauth2ReturnUrls: []string{app.URL + "/callback"},
	}); err != nil {
		t.Fatal(err)
	}
	request := func(session string) *dp.GetResourceOauth2TokenInput {
		t.Helper()
		wat, err := data.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{WorkloadName: aws.String("echo-agent"), UserId: aws.String("alice")})
		if err != nil {
			t.Fatal(err)
		}
		in := &dp.GetResourceOauth2TokenInput{
			WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("echo"),
			Scopes: []string{"files"}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation, ResourceOauth2ReturnUrl: aws.String(app.URL + "/callback"),
		}
		if session != "" {
			in.SessionUri = aws.String(session)
		}
		return in
	}
	consent := func() *dp.GetResourceOauth2TokenOutput {
		t.Helper()
		out, err := data.GetResourceOauth2Token(ctx, request(""))
		if err != nil || out.AuthorizationUrl == nil {
			t.Fatalf("start a session: %+v %v", out, err)
		}
		resp, err := newBrowser(t).Get(aws.ToString(out.AuthorizationUrl))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return out
	}

	// 1. The code exchange fails: "code exchange failed" is logged, and
	// the app gets the provider's error (and its description, redacted).
	idp.setFail("authorization_code", true)
	consent()
	if got := <-bound; got != "error invalid_request" {
		t.Fatalf("failed exchange: the app got %q", got)
	}
	// 2. A consent that works, then a refresh that fails.
	idp.setFail("authorization_code", false)
	idp.setFail("refresh_token", true)
	out := consent()
	if got := <-bound; got != "bound <nil>" {
		t.Fatalf("binding: %s", got)
	}
	if poll, err := data.GetResourceOauth2Token(ctx, request(aws.ToString(out.SessionUri))); err != nil || poll.AccessToken == nil {
		t.Fatalf("poll: %+v %v", poll, err)
	}
	clock.Advance(2 * time.Hour)
	if _, err := data.GetResourceOauth2Token(ctx, request("")); err == nil {
		t.Fatal("the refresh the provider refused succeeded")
	}

	log := s.Log.String()
	idp.mu.Lock()
	secrets, issued, echoes := idp.secrets, idp.issued, idp.echoes
	idp.mu.Unlock()
	if echoes != 2 || !strings.Contains(log, "code exchange failed") || !strings.Contains(log, "refresh failed") {
		t.Fatalf("the echoing paths did not run (%d echoes):\n%s", echoes, log)
	}
	for _, v := range append(secrets, issued...) {
		for _, form := range []string{v, url.QueryEscape(v)} {
			if strings.Contains(log, form) {
				t.Errorf("a secret the provider echoed (%.12s…) is in the log", form)
			}
		}
	}
	for _, v := range secrets {
		for _, form := range []string{v, url.QueryEscape(v)} {
			if strings.Contains(s.Captured.String(), form) {
				t.Errorf("a secret the provider echoed (%.12s…) is in a response", form)
			}
			if strings.Contains(returned.String(), form) {
				t.Errorf("a secret the provider echoed (%.12s…) is in the app's return URL", form)
			}
		}
	}
	if !strings.Contains(returned.String(), "error_description=bad+request") {
		t.Errorf("the app's return URL lacks the provider's description: %s", returned.String())
	}
	if !strings.Contains(log, "client_secret=[REDACTED]&code=[REDACTED]&code_verifier=[REDACTED]") {
		t.Errorf("the log does not show the redacted echo:\n%s", log)
	}
}
