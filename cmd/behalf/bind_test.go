package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// bindAppReturnURL is the workload's other return URL: an app that would
// complete sessions itself (no server answers there; no test reaches it).
const bindAppReturnURL = "https://app.example.com/agents/callback"

// bindPassword is every test user's password.
const bindPassword = "Corr3ct-Horse-Battery!"

// bindEnv is a Behalf whose workload "drive-agent" returns to Behalf's own
// binding endpoint, with a user pool as its inbound identity provider, a
// Google stand-in, and no app callback server at all.
type bindEnv struct {
	t            *testing.T
	s            *testServer
	clock        *testClock
	google       *fakeprovider.Server
	dp           *dp.Client
	cog          *cip.Client
	pool         poolFixture // confidential client: the agents' password sign-ins
	pageID       string      // public client of the binding page (and of the console)
	issuer       string
	console      string // the agent console's redirect URI (hosted login)
	closeConsole func()
	bindURL      string
	appURL       string // the workload's BindRedirectURL
	subjects     map[string]string
}

// args are more serve flags.
func newBindEnv(t *testing.T, args ...string) *bindEnv {
	t.Helper()
	isolateAWSEnv(t)
	clock := &testClock{}
	e := &bindEnv{t: t, clock: clock, google: fakeprovider.New(t, fakeprovider.Options{}), subjects: map[string]string{}}
	e.s = startMain(t, serverOptions{now: clock.Now, args: append([]string{"--allow-private-endpoints"}, args...)})
	e.dp = e.s.dataPlane(t, e.s.KeyID, e.s.Secret)
	e.cog = e.s.cognito(t)
	ctx := context.Background()

	e.pool = newPoolFixture(t, ctx, e.cog, "bind")
	e.issuer = e.s.URL + "/" + e.pool.poolID
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		e.pool.createUser(t, ctx, e.cog, u, bindPassword)
		out, err := e.cog.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(e.pool.poolID), Username: aws.String(u)})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.UserAttributes {
			if aws.ToString(a.Name) == "sub" {
				e.subjects[u] = aws.ToString(a.Value)
			}
		}
	}
	// The agent's console, where the hosted login returns; the test reads
	// the code from the browser's URL and closes it before any binding.
	console := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "agent console") }))
	t.Cleanup(console.Close)
	e.closeConsole = console.Close
	e.console = console.URL + "/console"
	e.appURL = "https://app.example.com/agents/drive"
	client, err := e.cog.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(e.pool.poolID), ClientName: aws.String("drive agent"),
		AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeCode}, AllowedOAuthScopes: []string{"openid"},
		AllowedOAuthFlowsUserPoolClient: true, SupportedIdentityProviders: []string{"COGNITO"},
		CallbackURLs: []string{e.s.URL + behalf.SignInCallbackPath, e.console},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.pageID = aws.ToString(client.UserPoolClient.ClientId)

	c := e.s.client(t)
	prov, err := c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("google-drive-provider"), CredentialProviderVendor: ctltypes.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: customDiscovery(e.google.URL+fakeprovider.DiscoveryPath, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.google.RegisterClient("cid", "csecret", aws.ToString(prov.CallbackUrl))
	e.bindURL = e.s.URL + behalf.BindPath
	if _, err := c.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
		Name: aws.String("drive-agent"), AllowedResourceOauth2ReturnUrls: []string{e.bindURL, bindAppReturnURL},
	}); err != nil {
		t.Fatal(err)
	}
	out, err := cliRun(t, e.s, "workload", "set-binding", "drive-agent", "--issuer", e.issuer, "--client-id", e.pageID, "--redirect-url", e.appURL)
	if err != nil {
		t.Fatalf("workload set-binding: %v\n%s", err, out)
	}
	if !strings.Contains(out, e.s.URL+behalf.SignInCallbackPath) {
		t.Errorf("set-binding output does not show the redirect URI to register:\n%s", out)
	}
	return e
}

// watFor signs user in with the password flow (the agent's app) and
// returns a workload access token for them.
func (e *bindEnv) watFor(user string) string {
	e.t.Helper()
	tok := mustTokens(e.t)(e.pool.signIn(context.Background(), e.cog, user, bindPassword))
	return e.watForToken(aws.ToString(tok.AccessToken))
}

func (e *bindEnv) watForToken(accessToken string) string {
	e.t.Helper()
	out, err := e.dp.GetWorkloadAccessTokenForJWT(context.Background(), &dp.GetWorkloadAccessTokenForJWTInput{
		WorkloadName: aws.String("drive-agent"), UserToken: aws.String(accessToken),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.WorkloadAccessToken)
}

func (e *bindEnv) tokenRequest(wat, sessionURI string, force bool) *dp.GetResourceOauth2TokenInput {
	in := &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken: aws.String(wat), ResourceCredentialProviderName: aws.String("google-drive-provider"),
		Scopes: []string{driveScope, "email"}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation,
		ResourceOauth2ReturnUrl: aws.String(e.bindURL), ForceAuthentication: aws.Bool(force),
	}
	if sessionURI != "" {
		in.SessionUri = aws.String(sessionURI)
	}
	return in
}

// start is the agent asking for a token it does not have: it returns the
// authorization URL and the session URI.
func (e *bindEnv) start(wat string, force bool) (string, string) {
	e.t.Helper()
	out, err := e.dp.GetResourceOauth2Token(context.Background(), e.tokenRequest(wat, "", force))
	if err != nil {
		e.t.Fatal(err)
	}
	if out.AccessToken != nil || out.AuthorizationUrl == nil {
		e.t.Fatalf("start: %+v, want an authorization URL", out)
	}
	return aws.ToString(out.AuthorizationUrl), aws.ToString(out.SessionUri)
}

// token is the agent polling its session: the token, or "".
func (e *bindEnv) token(wat, sessionURI string) string {
	e.t.Helper()
	out, err := e.dp.GetResourceOauth2Token(context.Background(), e.tokenRequest(wat, sessionURI, false))
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.AccessToken)
}

// vaultEmpty reports the agent finds no token for wat's user in the vault.
func (e *bindEnv) vaultEmpty(wat string) bool {
	e.t.Helper()
	out, err := e.dp.GetResourceOauth2Token(context.Background(), e.tokenRequest(wat, "", false))
	if err != nil {
		e.t.Fatal(err)
	}
	return out.AccessToken == nil
}

// toProvider opens the authorization URL with browser c (non-following)
// and returns where Behalf sends it: the provider's authorization URL.
func (e *bindEnv) toProvider(c *http.Client, authURL string) string {
	e.t.Helper()
	resp, err := c.Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	body := readBody(e.t, resp)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, e.google.URL+fakeprovider.AuthorizePath+"?") {
		e.t.Fatalf("GET %s: %d → %q, want a redirect to the provider\n%.300s", authURL, resp.StatusCode, loc, body)
	}
	return loc
}

// consentAt plays the provider's consent for the provider URL (whoever
// holds it) and returns Behalf's callback URL with the code.
func (e *bindEnv) consentAt(providerURL string) string {
	e.t.Helper()
	cb, err := e.google.Authorize(context.Background(), providerURL)
	if err != nil {
		e.t.Fatal(err)
	}
	return cb.String()
}

// callbackToBind delivers the callback with browser c and returns the
// binding URL it is sent to.
func (e *bindEnv) callbackToBind(c *http.Client, callbackURL string) string {
	e.t.Helper()
	resp, err := c.Get(callbackURL)
	if err != nil {
		e.t.Fatal(err)
	}
	body := readBody(e.t, resp)
	back := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(back, e.bindURL+"?") {
		e.t.Fatalf("callback: %d → %q, want the binding page\n%.300s", resp.StatusCode, back, body)
	}
	return back
}

// status is the agent's poll status of its session.
func (e *bindEnv) status(wat, sessionURI string) dptypes.SessionStatus {
	e.t.Helper()
	out, err := e.dp.GetResourceOauth2Token(context.Background(), e.tokenRequest(wat, sessionURI, false))
	if err != nil {
		e.t.Fatal(err)
	}
	return out.SessionStatus
}

// signedInCookies signs user in, in a new tab, through a connection of
// their own (the whole flow, consent → done) and returns the tab's cookies.
func (e *bindEnv) signedInCookies(browser context.Context, user string) []*http.Cookie {
	e.t.Helper()
	authURL, _ := e.start(e.watFor(user), true)
	tb := tab(e.t, browser)
	chromeDo(e.t, tb, chromedp.Navigate(authURL))
	chromeWaitURL(e.t, tb, e.issuer+"/login?")
	chromeDo(e.t, tb, chromeFillLogin(user, bindPassword))
	chromeWaitURL(e.t, tb, e.bindURL+"?")
	chromeWaitText(e.t, tb, "h1", "google-drive-provider is connected")
	return cookiesOf(e.t, tb, e.s.URL+"/identities/oauth2/")
}

type bindAuditEvent struct {
	Kind, SessionID, Detail string
	Workload                string `json:"workloadName"`
	User                    string `json:"user"`
}

func (e *bindEnv) audit(kind string) []bindAuditEvent {
	e.t.Helper()
	status, body := signedPost(e.t, e.s, "/behalf/ListAuditEvents", `{"kind":"`+kind+`","limit":100}`)
	if status != http.StatusOK {
		e.t.Fatalf("ListAuditEvents: %d %s", status, body)
	}
	var out struct{ Events []bindAuditEvent }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		e.t.Fatal(err)
	}
	return out.Events
}

func (e *bindEnv) auditFor(kind, sessionURI string) []bindAuditEvent {
	var out []bindAuditEvent
	for _, ev := range e.audit(kind) {
		if behalf.SessionURIPrefix+ev.SessionID == sessionURI {
			out = append(out, ev)
		}
	}
	return out
}

// signInCookie is the name of Behalf's session cookie for the pool.
func (e *bindEnv) signInCookie() string {
	sum := sha256.Sum256([]byte(e.issuer))
	return "behalf_signin_" + hex.EncodeToString(sum[:8])
}

// tab opens a browser tab with its own cookies (a separate user's browser).
func tab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first Run makes the tab, which lives as long as its context: no timeout here.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(960, 760)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// screenshot takes the page's screenshot and saves it as name in the
// directory $BEHALF_SCREENSHOT_DIR, or in a temporary directory when that
// is unset: tests never write into the source tree. The docs' screenshots
// are made by an explicit command, scripts/screenshots (a test that takes
// one must be listed there).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("BEHALF_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// cookiesOf returns the browser's cookies for u (HttpOnly ones too).
func cookiesOf(t *testing.T, ctx context.Context, u string) []*http.Cookie {
	t.Helper()
	res, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []*http.Cookie
	for _, c := range res.Cookies {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}

// httpBrowser is a non-following HTTP client holding cookies.
func httpBrowser(t *testing.T, base string, cookies []*http.Cookie) *http.Client {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(base + "/")
	jar.SetCookies(u, cookies)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Ensure Behalf binds a connection only for the user who started the flow,
// in the browser that consented (issue 10): the browser signs in before it
// may consent; the same user in the same browser goes consent → done in one
// step; a leaked authorization URL, a forwarded provider URL or a forwarded
// binding link binds nothing and ends the session for good.
func TestBindInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping: %s is not installed (%v)", chromiumPath, err)
	}
	e := newBindEnv(t)
	browser := newChromium(t)
	authorizations := func() int { n, _, _, _ := e.google.Counts(); return n }
	exchanges := func() int { _, n, _, _ := e.google.Counts(); return n }
	refusedFor := func(t *testing.T, sessionURI, who string) {
		t.Helper()
		refused := e.auditFor(behalf.AuditBindingRefused, sessionURI)
		if len(refused) != 1 || refused[0].Workload != "drive-agent" || !strings.Contains(refused[0].Detail, who) {
			t.Fatalf("binding.refused events for the session: %+v, want one naming %q", refused, who)
		}
	}

	// The same browser signs in at the agent's console (hosted login),
	// invokes the agent, consents, and lands on "done": no second sign-in,
	// no form and no app callback server.
	t.Run("SameBrowser", func(t *testing.T) {
		alice := tab(t, browser)
		conf := &oauth2.Config{ClientID: e.pageID, RedirectURL: e.console, Scopes: []string{"openid"},
			Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/oauth2/authorize", TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
		verifier := oauth2.GenerateVerifier()
		chromeDo(t, alice, chromedp.Navigate(conf.AuthCodeURL("console", oauth2.S256ChallengeOption(verifier))))
		chromeWaitURL(t, alice, e.issuer+"/login?")
		chromeDo(t, alice, chromeFillLogin("alice", bindPassword))
		code := chromeWaitURL(t, alice, e.console+"?").Query().Get("code")
		tok, err := conf.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		wat := e.watForToken(tok.AccessToken)
		e.closeConsole() // no app server from here on

		authURL, sessionURI := e.start(wat, false)
		chromeDo(t, alice, chromedp.Navigate(authURL))
		chromeWaitURL(t, alice, e.bindURL+"?")
		chromeWaitText(t, alice, "h1", "google-drive-provider is connected")
		body := chromeText(t, alice, "main")
		for _, want := range []string{"drive-agent", "google-drive-provider", driveScope, "Return to the app", "google-drive-provider: " + fakeprovider.DefaultUser} {
			if !strings.Contains(body, want) {
				t.Errorf("the done page does not say %q:\n%s", want, body)
			}
		}
		if href, err := chromedp.Run(alice, chromedp.AttributeValue(chromedp.CSS("a.button"), "href")); err != nil || href.Value != e.appURL {
			t.Errorf("the link back = %q, %v; want %s", href.Value, err, e.appURL)
		}
		screenshot(t, alice, "bind-done.png")
		if e.token(wat, sessionURI) == "" {
			t.Fatal("the agent's poll has no token after the done page")
		}
		bound := e.auditFor(behalf.AuditGrantBound, sessionURI)
		if len(bound) != 1 || !strings.Contains(bound[0].Detail, fakeprovider.DefaultUser) {
			t.Errorf("grant.bound events for the session: %+v, want one naming the account", bound)
		}

		// The admin's grant list says whose account is linked.
		if out, err := cliRun(t, e.s, "grant", "list"); err != nil || !strings.Contains(out, "google-drive-provider: "+fakeprovider.DefaultUser) {
			t.Errorf("behalf grant list: %v\n%s", err, out)
		}

		// Reloading the page binds nothing more.
		chromeDo(t, alice, chromedp.Reload())
		chromeWaitText(t, alice, "h1", "google-drive-provider was already connected")
		if n := len(e.auditFor(behalf.AuditGrantBound, sessionURI)); n != 1 {
			t.Errorf("%d grant.bound events for the session, want 1", n)
		}

		// A second connection: Behalf's own cookie is reused, consent → done;
		// the new grant replaces the old one, audited as the user's fresh consent.
		authURL, sessionURI = e.start(wat, true)
		chromeDo(t, alice, chromedp.Navigate(authURL))
		chromeWaitText(t, alice, "h1", "google-drive-provider is connected")
		if e.token(wat, sessionURI) == "" {
			t.Fatal("no token after the second connection")
		}
		if replaced := e.auditFor(behalf.AuditGrantReplaced, sessionURI); len(replaced) != 1 || !strings.Contains(replaced[0].Detail, fakeprovider.DefaultUser) {
			t.Errorf("grant.replaced events for the second connection: %+v", replaced)
		}
		var signIn bool
		for _, c := range cookiesOf(t, alice, e.s.URL+"/") {
			signIn = signIn || c.Name == e.signInCookie()
		}
		if !signIn {
			t.Errorf("the browser holds no %s cookie", e.signInCookie())
		}
	})

	// The leaked-URL attack: bob's browser opens carol's authorization URL
	// and signs in as bob. Nothing reaches the provider, the session fails,
	// and the attempt is audited; carol's own later flow works.
	t.Run("LeakedURL", func(t *testing.T) {
		carolWAT := e.watFor("carol")
		authURL, sessionURI := e.start(carolWAT, false)
		before := authorizations()
		bob := tab(t, browser)
		chromeDo(t, bob, chromedp.Navigate(authURL))
		chromeWaitURL(t, bob, e.issuer+"/login?")
		chromeDo(t, bob, chromedp.WaitVisible(chromedp.CSS("#password")))
		screenshot(t, bob, "bind-signin.png")
		chromeDo(t, bob, chromeFillLogin("bob", bindPassword))
		chromeWaitText(t, bob, "h1", "This link was started by someone else's account")
		if body := chromeText(t, bob, "main"); !strings.Contains(body, "Nothing was sent to the provider") {
			t.Errorf("the refused page says:\n%s", body)
		}
		screenshot(t, bob, "bind-refused.png")
		if n := authorizations(); n != before {
			t.Fatalf("the provider saw %d authorization requests, want none", n-before)
		}
		if st := e.status(carolWAT, sessionURI); st != dptypes.SessionStatusFailed {
			t.Fatalf("carol's session is %s after bob's attempt, want FAILED", st)
		}
		refusedFor(t, sessionURI, e.subjects["bob"])
		if ev := e.auditFor(behalf.AuditBindingRefused, sessionURI); !strings.Contains(ev[0].User, e.subjects["carol"]) {
			t.Fatalf("the refusal does not name carol: %+v", ev)
		}
		// The link is spent for everyone, carol included.
		resp, err := httpBrowser(t, e.s.URL, nil).Get(authURL)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); body == "" || resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("the leaked link again: %d, want 400\n%.300s", resp.StatusCode, body)
		}
		// Carol, who really started a flow, simply starts again.
		e.signedInCookies(browser, "carol")
		if e.vaultEmpty(carolWAT) {
			t.Fatal("carol's own flow bound nothing")
		}
	})

	// Forced linking with an app return URL: bob's signed-in browser on
	// carol's link is refused before the provider too.
	t.Run("AppReturnURL", func(t *testing.T) {
		app := bindAppReturnURL
		carolWAT := e.watFor("carol")
		in := e.tokenRequest(carolWAT, "", true)
		in.ResourceOauth2ReturnUrl = aws.String(app)
		out, err := e.dp.GetResourceOauth2Token(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		bob := httpBrowser(t, e.s.URL, e.signedInCookies(browser, "bob"))
		before := authorizations()
		resp, err := bob.Get(aws.ToString(out.AuthorizationUrl))
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "someone else") {
			t.Fatalf("bob on carol's app-return link: %d\n%.300s", resp.StatusCode, body)
		}
		if n := authorizations(); n != before {
			t.Fatalf("the provider saw %d authorization requests, want none", n-before)
		}
		in.SessionUri, in.ForceAuthentication = out.SessionUri, aws.Bool(false)
		if poll, err := e.dp.GetResourceOauth2Token(context.Background(), in); err != nil || poll.SessionStatus != dptypes.SessionStatusFailed {
			t.Fatalf("carol's poll: %+v %v, want FAILED", poll, err)
		}
	})

	aliceCookies := e.signedInCookies(browser, "alice")
	aliceWAT := e.watFor("alice")

	// Alice opens her own link, then forwards the provider's consent URL to
	// a victim: the victim's browser returns to the callback without the
	// browser key, so no code is exchanged and the session fails.
	t.Run("ForwardedProviderURL", func(t *testing.T) {
		authURL, sessionURI := e.start(aliceWAT, true)
		providerURL := e.toProvider(httpBrowser(t, e.s.URL, aliceCookies), authURL)
		callback := e.consentAt(providerURL)
		before := exchanges()
		resp, err := httpBrowser(t, e.s.URL, nil).Get(callback)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "different browser") {
			t.Fatalf("the victim's callback: %d\n%.300s", resp.StatusCode, body)
		}
		if n := exchanges(); n != before {
			t.Fatalf("%d code exchanges for a forwarded consent, want none", n-before)
		}
		if st := e.status(aliceWAT, sessionURI); st != dptypes.SessionStatusFailed {
			t.Fatalf("the session is %s, want FAILED", st)
		}
		refusedFor(t, sessionURI, "did not open the authorization URL")
	})

	// Alice's own browser reaches the binding page, but the link goes to
	// bob, signed in as himself: refused, the session fails and the
	// pending token is revoked; alice cannot finish it afterwards.
	t.Run("ForwardedBindLink", func(t *testing.T) {
		alice := httpBrowser(t, e.s.URL, aliceCookies)
		authURL, sessionURI := e.start(aliceWAT, true)
		bindLink := e.callbackToBind(alice, e.consentAt(e.toProvider(alice, authURL)))
		revoked := len(e.google.Revoked())
		resp, err := httpBrowser(t, e.s.URL, e.signedInCookies(browser, "bob")).Get(bindLink)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "someone else") {
			t.Fatalf("bob on alice's binding link: %d\n%.300s", resp.StatusCode, body)
		}
		if n := len(e.google.Revoked()); n != revoked+1 {
			t.Fatalf("%d tokens revoked at the provider, want the pending one", n-revoked)
		}
		if st := e.status(aliceWAT, sessionURI); st != dptypes.SessionStatusFailed {
			t.Fatalf("the session is %s, want FAILED", st)
		}
		refusedFor(t, sessionURI, e.subjects["bob"])
		resp, err = alice.Get(bindLink)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "cannot be used") {
			t.Fatalf("alice after the refusal: %d\n%.300s", resp.StatusCode, body)
		}
	})

	// The binding link in another browser of alice's own (signed in, but
	// without the browser key): refused; the session fails.
	t.Run("BindLinkOtherBrowser", func(t *testing.T) {
		alice := httpBrowser(t, e.s.URL, aliceCookies)
		authURL, sessionURI := e.start(aliceWAT, true)
		bindLink := e.callbackToBind(alice, e.consentAt(e.toProvider(alice, authURL)))
		var signInOnly []*http.Cookie
		for _, c := range aliceCookies {
			if c.Name == e.signInCookie() {
				signInOnly = append(signInOnly, c)
			}
		}
		resp, err := httpBrowser(t, e.s.URL, signInOnly).Get(bindLink)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "another browser") {
			t.Fatalf("the binding link in another browser: %d\n%.300s", resp.StatusCode, body)
		}
		if st := e.status(aliceWAT, sessionURI); st != dptypes.SessionStatusFailed {
			t.Fatalf("the session is %s, want FAILED", st)
		}
	})

	// Forged and tampered session cookies are not a sign-in: the
	// authorization URL sends the browser to the issuer instead and stays
	// unspent; a real cookie of another user fails the session.
	t.Run("ForgedCookie", func(t *testing.T) {
		carolWAT := e.watFor("carol")
		authURL, sessionURI := e.start(carolWAT, true)
		claim, _ := json.Marshal(map[string]any{"i": e.issuer, "s": e.subjects["carol"], "e": time.Now().Add(time.Hour).Unix()})
		var real string
		for _, c := range aliceCookies {
			if c.Name == e.signInCookie() {
				real = c.Value
			}
		}
		if real == "" {
			t.Fatal("no sign-in cookie in alice's browser")
		}
		flipped := []byte(real)
		flipped[len(flipped)/2] ^= 1
		for name, value := range map[string]string{
			"unsealed claim": base64.RawURLEncoding.EncodeToString(claim),
			"tampered":       string(flipped),
			"garbage":        "AAAA",
		} {
			resp, err := httpBrowser(t, e.s.URL, []*http.Cookie{{Name: e.signInCookie(), Value: value}}).Get(authURL)
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, e.issuer+"/oauth2/authorize?") {
				t.Errorf("%s cookie: %d → %q, want a redirect to the issuer's sign-in", name, resp.StatusCode, loc)
			}
		}
		if st := e.status(carolWAT, sessionURI); st != dptypes.SessionStatusInProgress {
			t.Fatalf("after forged cookies the session is %s, want IN_PROGRESS", st)
		}
		resp, err := httpBrowser(t, e.s.URL, []*http.Cookie{{Name: e.signInCookie(), Value: real}}).Get(authURL)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "someone else") {
			t.Errorf("alice's cookie on carol's link: %d\n%s", resp.StatusCode, body)
		}
		if st := e.status(carolWAT, sessionURI); st != dptypes.SessionStatusFailed {
			t.Fatalf("the session is %s, want FAILED", st)
		}
	})

	// Expired: a session past its lifetime is not bound; the poll ends it
	// and revokes the token it held.
	t.Run("Expired", func(t *testing.T) {
		alice := httpBrowser(t, e.s.URL, aliceCookies)
		authURL, sessionURI := e.start(aliceWAT, true)
		bindLink := e.callbackToBind(alice, e.consentAt(e.toProvider(alice, authURL)))
		revoked := len(e.google.Revoked())
		e.clock.Advance(11 * time.Minute)
		resp, err := alice.Get(bindLink)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "This link cannot be used") {
			t.Fatalf("an expired session's binding page: %d\n%.300s", resp.StatusCode, body)
		}
		if st := e.status(aliceWAT, sessionURI); st != dptypes.SessionStatusFailed {
			t.Fatalf("the expired session is %s, want FAILED", st)
		}
		if n := len(e.google.Revoked()); n != revoked+1 {
			t.Fatalf("%d tokens revoked for the expired session, want its pending one", n-revoked)
		}
		if ev := e.auditFor(behalf.AuditSessionExpired, sessionURI); len(ev) != 1 {
			t.Fatalf("session.expired events: %+v", ev)
		}
	})
}

// Ensure the sign-in cookie lapses: a browser signed in 16 minutes ago is
// sent to the issuer again before it may consent.
func TestBindSignInExpires(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping: %s is not installed (%v)", chromiumPath, err)
	}
	e := newBindEnv(t)
	cookies := e.signedInCookies(newChromium(t), "alice")

	// Fresh: the cookie is a sign-in (straight to the provider).
	authURL, _ := e.start(e.watFor("alice"), true)
	e.toProvider(httpBrowser(t, e.s.URL, cookies), authURL)

	wat := e.watFor("alice") // before moving the clock: the verifier of user tokens keeps real time
	e.clock.Advance(16 * time.Minute)
	authURL, sessionURI := e.start(wat, true)
	resp, err := httpBrowser(t, e.s.URL, cookies).Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, e.issuer+"/oauth2/authorize?") {
		t.Fatalf("with a 16-minute-old sign-in cookie: %d → %q, want the issuer's sign-in", resp.StatusCode, loc)
	}
	if e.status(wat, sessionURI) != dptypes.SessionStatusInProgress {
		t.Fatal("the sign-in round trip spent the authorization URL")
	}
}

// Ensure SetWorkloadBinding checks the inbound provider: a pool client must
// allow the code flow and list the sign-in callback; unknown issuers and
// bad redirect URLs are refused; the binding page answers clearly when a
// workload has none.
func TestBindSetWorkloadBinding(t *testing.T) {
	isolateAWSEnv(t)
	s := mustRunMain(t, "")
	ctx := context.Background()
	cog := s.cognito(t)
	pool := newPoolFixture(t, ctx, cog, "cfg") // no code flow, no callback
	if _, err := s.client(t).CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("agent-1")}); err != nil {
		t.Fatal(err)
	}
	issuer := s.URL + "/" + pool.poolID
	for name, body := range map[string]string{
		"unknown issuer":     `{"workloadName":"agent-1","issuer":"https://idp.example.com","clientId":"x"}`,
		"no code flow":       `{"workloadName":"agent-1","issuer":"` + issuer + `","clientId":"` + pool.clientID + `"}`,
		"unknown client":     `{"workloadName":"agent-1","issuer":"` + issuer + `","clientId":"nope"}`,
		"missing client id":  `{"workloadName":"agent-1","issuer":"` + issuer + `"}`,
		"unknown workload":   `{"workloadName":"agent-2","issuer":"","clientId":""}`,
		"client without iss": `{"workloadName":"agent-1","clientId":"x"}`,
	} {
		status, out := signedPost(t, s, "/behalf/SetWorkloadBinding", body)
		if status < 400 || status >= 500 {
			t.Errorf("%s: %d %s, want a client error", name, status, out)
		}
	}
	client, err := cog.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(pool.poolID), ClientName: aws.String("page"), GenerateSecret: true,
		AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeCode}, AllowedOAuthScopes: []string{"openid"},
		AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: []string{s.URL + behalf.SignInCallbackPath},
	})
	if err != nil {
		t.Fatal(err)
	}
	id, secret := aws.ToString(client.UserPoolClient.ClientId), aws.ToString(client.UserPoolClient.ClientSecret)
	if status, out := signedPost(t, s, "/behalf/SetWorkloadBinding", `{"workloadName":"agent-1","issuer":"`+issuer+`","clientId":"`+id+`"}`); status != http.StatusBadRequest || !strings.Contains(out, "clientSecret") {
		t.Errorf("a confidential client without its secret: %d %s", status, out)
	}
	if status, out := signedPost(t, s, "/behalf/SetWorkloadBinding", `{"workloadName":"agent-1","issuer":"`+issuer+`","clientId":"`+id+`","clientSecret":"`+secret+`","redirectUrl":"javascript:alert(1)"}`); status != http.StatusBadRequest {
		t.Errorf("a javascript: redirect URL: %d %s", status, out)
	}
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte(secret+"\n"), 0o600)
	out, err := cliRun(t, s, "workload", "set-binding", "agent-1", "--issuer", issuer, "--client-id", id, "--client-secret-file", secretFile)
	if err != nil || !strings.Contains(out, "secret: true") || strings.Contains(out, secret) {
		t.Fatalf("set-binding with a secret: %v\n%s", err, out)
	}
	status, body := signedPost(t, s, "/behalf/SetWorkloadBinding", `{"workloadName":"agent-1","issuer":""}`)
	if status != http.StatusOK || strings.Contains(body, `"issuer"`) {
		t.Fatalf("removing the binding: %d %s", status, body)
	}
	// The binding page without a session answers a page, not JSON.
	resp, err := http.Get(s.URL + behalf.BindPath)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "no session_id") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("GET %s: %d %s\n%s", behalf.BindPath, resp.StatusCode, resp.Header, body)
	}
}
