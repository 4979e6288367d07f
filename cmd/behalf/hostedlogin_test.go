package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/chromedp/chromedp"

	"github.com/behalf-dev/behalf/internal/browsertest"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// chromiumPath is Debian's chromium, which the browser half of
// TestHostedLogin drives.
const chromiumPath = browsertest.ChromiumPath

// Ensure the hosted login end to end through the real server: a pool and
// a public code + PKCE client made with the Cognito API, discovery and the
// pool's routes mounted in front of the wire API, then a real browser
// signing in (a wrong password first), the code exchanged by
// golang.org/x/oauth2, the ID token verified by coreos/go-oidc, the access
// token accepted by the data plane (pools are trusted issuers), the
// session, and logout.
func TestHostedLogin(t *testing.T) {
	s := mustRunMain(t, "")
	ctx := context.Background()
	cog := s.cognito(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "agent console: "+r.URL.Path)
	}))
	t.Cleanup(app.Close)
	callback, signedOut := app.URL+"/callback", app.URL+"/signed-out"

	const password = "Corr3ct-Horse-Battery!"
	f := newPoolFixture(t, ctx, cog, "hosted")
	f.createUser(t, ctx, cog, "alice", password,
		types.AttributeType{Name: aws.String("email"), Value: aws.String("alice@example.com")},
		types.AttributeType{Name: aws.String("email_verified"), Value: aws.String("true")})
	alice, err := cog.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(f.poolID), Username: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	var aliceSub string
	for _, a := range alice.UserAttributes {
		if aws.ToString(a.Name) == "sub" {
			aliceSub = aws.ToString(a.Value)
		}
	}
	created, err := cog.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(f.poolID), ClientName: aws.String("agent console"),
		AllowedOAuthFlows:               []types.OAuthFlowType{types.OAuthFlowTypeCode},
		AllowedOAuthScopes:              []string{"openid", "email"},
		AllowedOAuthFlowsUserPoolClient: true,
		CallbackURLs:                    []string{callback},
		LogoutURLs:                      []string{signedOut},
		SupportedIdentityProviders:      []string{"COGNITO"},
	})
	if err != nil {
		t.Fatal(err)
	}
	clientID := aws.ToString(created.UserPoolClient.ClientId)
	if created.UserPoolClient.ClientSecret != nil {
		t.Fatal("the public client has a secret")
	}

	// Discovery, verified by an independent relying-party library.
	issuer := s.URL + "/" + f.poolID
	rp := &http.Client{Timeout: 30 * time.Second}
	octx := oidc.ClientContext(ctx, rp)
	provider, err := oidc.NewProvider(octx, issuer)
	if err != nil {
		t.Fatalf("discovery at %s: %v", issuer, err)
	}
	if got := provider.Endpoint(); got.AuthURL != issuer+"/oauth2/authorize" || got.TokenURL != issuer+"/oauth2/token" {
		t.Errorf("endpoints %+v", got)
	}
	checkHostedLoginMount(t, s, rp, f.poolID, issuer)

	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping the browser half: %s is not installed (%v); install Debian's chromium to run it", chromiumPath, err)
	}
	browser := newChromium(t)
	conf := &oauth2.Config{
		ClientID: clientID, RedirectURL: callback, Endpoint: provider.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "email"},
	}
	verifier := oauth2.GenerateVerifier()
	authorize := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1"))

	// A wrong password shows the error and keeps the username; the right
	// one, typed again, lands on the app with a code and the state.
	chromeDo(t, browser, chromedp.Navigate(authorize))
	chromeWaitURL(t, browser, issuer+"/login?")
	chromeDo(t, browser, chromeFillLogin("alice", "Not-Her-Password-1"), chromedp.WaitVisible(chromedp.CSS("#form-error")))
	chromeWaitText(t, browser, "#form-error", "Incorrect username or password.")
	if v, err := chromedp.Run(browser, chromedp.Value(chromedp.CSS("#username"))); err != nil || v != "alice" {
		t.Errorf("username after a wrong password = %q, %v; want it kept", v, err)
	}
	chromeDo(t, browser,
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	q := chromeWaitURL(t, browser, callback+"?").Query()
	if q.Get("state") != "state-1" || q.Get("code") == "" {
		t.Fatalf("callback query %v, want a code and state-1", q)
	}
	if body := chromeText(t, browser, "body"); body != "agent console: /callback" {
		t.Errorf("the app page says %q", body)
	}

	// The code exchange (x/oauth2, PKCE) and the ID token (go-oidc).
	tok, err := conf.Exchange(octx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" || tok.TokenType != "Bearer" {
		t.Errorf("token %+v, want a bearer token and a refresh token", tok)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(octx, rawID)
	if err != nil {
		t.Fatalf("verify the ID token: %v", err)
	}
	if idt.Nonce != "nonce-1" || idt.Subject != aliceSub || idt.Issuer != issuer {
		t.Errorf("ID token nonce %q sub %q iss %q, want nonce-1, %s, %s", idt.Nonce, idt.Subject, idt.Issuer, aliceSub, issuer)
	}
	var idClaims struct {
		Email    string `json:"email"`
		Username string `json:"cognito:username"`
	}
	if err := idt.Claims(&idClaims); err != nil || idClaims.Email != "alice@example.com" || idClaims.Username != "alice" {
		t.Errorf("ID token claims %+v, %v", idClaims, err)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	ui, err := provider.UserInfo(octx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != aliceSub || ui.Email != "alice@example.com" {
		t.Errorf("userinfo %+v, %v", ui, err)
	}

	// The access token mints a workload access token: the pool is a
	// trusted issuer of the data plane.
	if _, err := s.client(t).CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("console-agent")}); err != nil {
		t.Fatal(err)
	}
	wat, err := s.dataPlane(t, s.KeyID, s.Secret).GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{
		WorkloadName: aws.String("console-agent"), UserToken: aws.String(tok.AccessToken),
	})
	if err != nil || aws.ToString(wat.WorkloadAccessToken) == "" {
		t.Fatalf("GetWorkloadAccessTokenForJWT with the hosted login's access token: %+v, %v", wat, err)
	}

	// The session skips the password; logout ends it.
	again := conf.AuthCodeURL("state-2", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oidc.Nonce("nonce-2"))
	chromeDo(t, browser, chromedp.Navigate(again))
	if got := chromeWaitURL(t, browser, callback+"?").Query().Get("state"); got != "state-2" {
		t.Errorf("state with a session = %q", got)
	}
	chromeDo(t, browser, chromedp.Navigate(issuer+"/logout?"+url.Values{"client_id": {clientID}, "logout_uri": {signedOut}}.Encode()))
	chromeWaitURL(t, browser, signedOut)
	chromeDo(t, browser, chromedp.Navigate(again))
	chromeWaitURL(t, browser, issuer+"/login?")
	chromeDo(t, browser, chromedp.WaitVisible(chromedp.CSS("#password")))
}

// checkHostedLoginMount checks how serve mounts the hosted login in front
// of the wire API: the pool's metadata and keys are served (at RFC 8414's
// path too), and every other path, under a pool id or not, is the API's.
func checkHostedLoginMount(t *testing.T, s *testServer, c *http.Client, poolID, issuer string) {
	t.Helper()
	get := func(u string) (*http.Response, []byte) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	resp, b := get(s.URL + "/.well-known/oauth-authorization-server/" + poolID)
	var meta struct {
		Issuer string `json:"issuer"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &meta) != nil || meta.Issuer != issuer {
		t.Errorf("RFC 8414 metadata: %d %s", resp.StatusCode, b)
	}
	var keys struct {
		Keys []map[string]any `json:"keys"`
	}
	if resp, b = get(issuer + "/.well-known/jwks.json"); resp.StatusCode != http.StatusOK || json.Unmarshal(b, &keys) != nil || len(keys.Keys) == 0 {
		t.Errorf("JWKS: %d %s", resp.StatusCode, b)
	}
	if resp, b = get(s.URL + "/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz: %d %s", resp.StatusCode, b)
	}
	if resp, b = get(issuer + "/unknown"); resp.Header.Get("X-Amzn-ErrorType") == "" {
		t.Errorf("GET an unknown pool path: %d %v %s, want the API's answer", resp.StatusCode, resp.Header, b)
	}
	if resp, _ = get(s.URL + "/us-east-1_NoSuchPoo/.well-known/openid-configuration"); resp.StatusCode == http.StatusOK {
		t.Errorf("discovery of a pool that does not exist: %d", resp.StatusCode)
	}
}

// newChromium starts headless Chromium with a fresh profile.
func newChromium(t *testing.T) context.Context { return browsertest.New(t) }

// chromeDo runs browser steps with a deadline.
func chromeDo(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	browsertest.Do(t, ctx, steps...)
}

// chromeText returns the text of the element sel.
func chromeText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return browsertest.Text(t, ctx, sel)
}

// chromeWaitText waits until the element sel has the text want.
func chromeWaitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	browsertest.WaitText(t, ctx, sel, want)
}

// chromeWaitURL waits until the page's URL starts with prefix and returns it.
func chromeWaitURL(t *testing.T, ctx context.Context, prefix string) *url.URL {
	t.Helper()
	return browsertest.WaitURL(t, ctx, prefix)
}

// chromeFillLogin types credentials into the login form and submits it.
func chromeFillLogin(user, password string) chromedp.Action[chromedp.Void] {
	return browsertest.FillLogin(user, password)
}
