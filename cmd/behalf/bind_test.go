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

func newBindEnv(t *testing.T) *bindEnv {
	t.Helper()
	isolateAWSEnv(t)
	clock := &testClock{}
	e := &bindEnv{t: t, clock: clock, google: fakeprovider.New(t, fakeprovider.Options{}), subjects: map[string]string{}}
	e.s = startMain(t, serverOptions{now: clock.Now, args: []string{"--allow-private-endpoints"}})
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
		Name: aws.String("drive-agent"), AllowedResourceOauth2ReturnUrls: []string{e.bindURL},
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
		Scopes: []string{driveScope}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation,
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

// consentElsewhere opens the authorization URL with a plain HTTP client
// (another browser) and returns the binding URL the provider's redirect
// leads to.
func (e *bindEnv) consentElsewhere(authURL string) string {
	e.t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	loc := func(u string) string {
		resp, err := noRedirect.Get(u)
		if err != nil {
			e.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			e.t.Fatalf("GET %s: %d, want a redirect", u, resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	cb, err := e.google.Authorize(context.Background(), loc(authURL))
	if err != nil {
		e.t.Fatal(err)
	}
	back := loc(cb.String())
	if !strings.HasPrefix(back, e.bindURL+"?") {
		e.t.Fatalf("the callback sent the browser to %s, want the binding page", back)
	}
	return back
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

// screenshot saves the page as docs/screenshots/name.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
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

// Ensure Behalf completes session binding itself: the browser's user signs
// in with the workload's inbound provider (a user pool) and is bound only
// if they started the flow, with pages for each outcome (screenshots in
// docs/screenshots/bind-*.png).
func TestBindInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping: %s is not installed (%v)", chromiumPath, err)
	}
	e := newBindEnv(t)
	browser := newChromium(t)
	var leakedSession string // alice's session that bob's browser tried to take

	// The same browser signs in at the agent's console (hosted login),
	// invokes the agent, consents, and lands on "done": no second sign-in
	// and no app callback server.
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
		for _, want := range []string{"drive-agent", "google-drive-provider", driveScope, "Return to the app"} {
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

		// Reloading the page (a second submit) binds nothing more.
		chromeDo(t, alice, chromedp.Reload())
		chromeWaitText(t, alice, "h1", "google-drive-provider was already connected")
		if n := len(e.auditFor(behalf.AuditGrantBound, sessionURI)); n != 1 {
			t.Errorf("%d grant.bound events for the session, want 1", n)
		}

		// A second connection: Behalf's own cookie is reused, consent → done.
		authURL, sessionURI = e.start(wat, true)
		chromeDo(t, alice, chromedp.Navigate(authURL))
		chromeWaitText(t, alice, "h1", "google-drive-provider is connected")
		if e.token(wat, sessionURI) == "" {
			t.Fatal("no token after the second connection")
		}
		var signIn bool
		for _, c := range cookiesOf(t, alice, e.s.URL+"/") {
			signIn = signIn || c.Name == e.signInCookie()
		}
		if !signIn {
			t.Errorf("the browser holds no %s cookie", e.signInCookie())
		}
	})

	// The leaked-URL attack: bob's browser opens alice's authorization URL,
	// consents and signs in as bob: nothing is bound, alice's vault is
	// unchanged, and the attempt is audited.
	t.Run("LeakedURL", func(t *testing.T) {
		victimWAT := e.watFor("carol") // user A: carol's agent asks for access
		authURL, sessionURI := e.start(victimWAT, false)
		leakedSession = sessionURI
		bob := tab(t, browser)
		chromeDo(t, bob, chromedp.Navigate(authURL))
		chromeWaitURL(t, bob, e.issuer+"/login?")
		chromeDo(t, bob, chromedp.WaitVisible(chromedp.CSS("#password")))
		screenshot(t, bob, "bind-signin.png")
		chromeDo(t, bob, chromeFillLogin("bob", bindPassword))
		chromeWaitURL(t, bob, e.bindURL+"?")
		chromeWaitText(t, bob, "h1", "This link was started by someone else's account")
		if body := chromeText(t, bob, "main"); !strings.Contains(body, "Nothing was connected") {
			t.Errorf("the refused page says:\n%s", body)
		}
		screenshot(t, bob, "bind-refused.png")

		if e.token(victimWAT, sessionURI) != "" || !e.vaultEmpty(victimWAT) {
			t.Fatal("the victim's vault holds a token after the leaked-URL attack")
		}
		if !e.vaultEmpty(e.watFor("bob")) {
			t.Fatal("the attacker's vault holds a token")
		}
		refused := e.auditFor(behalf.AuditBindingRefused, sessionURI)
		if len(refused) != 1 || refused[0].Workload != "drive-agent" || !strings.Contains(refused[0].Detail, e.subjects["bob"]) ||
			!strings.Contains(refused[0].User, e.subjects["carol"]) {
			t.Fatalf("binding.refused events for the session: %+v", refused)
		}

		// "Sign in with a different account" asks for credentials again.
		chromeDo(t, bob, chromedp.Click(chromedp.CSS(`form[action$="/switch"] button`)))
		chromeWaitURL(t, bob, e.issuer+"/login?")
		chromeDo(t, bob, chromedp.WaitVisible(chromedp.CSS("#password")))
	})

	// A browser that did not open the authorization URL is asked to
	// confirm; tampered forms are refused; a double submit binds once.
	t.Run("ConfirmTamperDoubleSubmit", func(t *testing.T) {
		wat := e.watFor("dave")
		authURL, sessionURI := e.start(wat, false)
		bindURL := e.consentElsewhere(authURL)
		dave := tab(t, browser)
		chromeDo(t, dave, chromedp.Navigate(bindURL))
		chromeWaitURL(t, dave, e.issuer+"/login?")
		chromeDo(t, dave, chromeFillLogin("dave", bindPassword))
		chromeWaitText(t, dave, "h1", "Finish connecting google-drive-provider")
		screenshot(t, dave, "bind-confirm.png")

		// A tampered CSRF token, then a tampered session_id.
		for _, field := range []string{"csrf", "session_id"} {
			chromeDo(t, dave, chromedp.Navigate(bindURL))
			chromeWaitText(t, dave, "h1", "Finish connecting google-drive-provider")
			v, err := chromedp.Run(dave, chromedp.AttributeValue(chromedp.CSS(`input[name="`+field+`"]`), "value"))
			if err != nil {
				t.Fatal(err)
			}
			forged := v.Value[:len(v.Value)-4] + "AAAA"
			if field == "session_id" {
				forged = leakedSession
			}
			chromeDo(t, dave,
				chromedp.SetAttributeValue(chromedp.CSS(`input[name="`+field+`"]`), "value", forged),
				chromedp.Click(chromedp.CSS(`form button`)))
			chromeWaitText(t, dave, "h1", "This form cannot be used")
			if field == "csrf" {
				screenshot(t, dave, "bind-tampered.png")
			}
			if e.token(wat, sessionURI) != "" || e.token(e.watFor("carol"), leakedSession) != "" {
				t.Fatalf("a tampered %s bound a session", field)
			}
		}

		chromeDo(t, dave, chromedp.Navigate(bindURL))
		chromeWaitText(t, dave, "h1", "Finish connecting google-drive-provider")
		csrf, err := chromedp.Run(dave, chromedp.AttributeValue(chromedp.CSS(`input[name="csrf"]`), "value"))
		if err != nil {
			t.Fatal(err)
		}
		chromeDo(t, dave, chromedp.Click(chromedp.CSS(`form button`)))
		chromeWaitText(t, dave, "h1", "google-drive-provider is connected")
		if e.token(wat, sessionURI) == "" {
			t.Fatal("no token after the confirmation")
		}

		// The same form posted again, with the browser's cookies.
		c := httpBrowser(t, e.s.URL, cookiesOf(t, dave, e.bindURL))
		resp, err := c.PostForm(e.bindURL, url.Values{"session_id": {sessionURI}, "csrf": {csrf.Value}})
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "google-drive-provider was already connected") {
			t.Fatalf("double submit: %d\n%s", resp.StatusCode, body)
		}
		if n := len(e.auditFor(behalf.AuditGrantBound, sessionURI)); n != 1 {
			t.Errorf("%d grant.bound events after a double submit, want 1", n)
		}
		// Without the CSRF cookie (a cross-site form) the token is refused.
		resp, err = httpBrowser(t, e.s.URL, nil).PostForm(e.bindURL, url.Values{"session_id": {sessionURI}, "csrf": {csrf.Value}})
		if err != nil {
			t.Fatal(err)
		}
		if readBody(t, resp); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a form posted without the browser's cookies: %d, want 403", resp.StatusCode)
		}
	})

	// Forged and tampered session cookies are not a sign-in: the page asks
	// the issuer instead, and binds nothing.
	t.Run("ForgedCookie", func(t *testing.T) {
		link := e.bindURL + "?" + url.Values{"session_id": {leakedSession}}.Encode()
		claim, _ := json.Marshal(map[string]any{"i": e.issuer, "s": e.subjects["carol"], "e": time.Now().Add(time.Hour).Unix()})
		// dave signs in (on a new connection of his) to get a real cookie.
		var real string
		wat := e.watFor("dave")
		authURL, _ := e.start(wat, true)
		dave := tab(t, browser)
		chromeDo(t, dave, chromedp.Navigate(e.consentElsewhere(authURL)))
		chromeWaitURL(t, dave, e.issuer+"/login?")
		chromeDo(t, dave, chromeFillLogin("dave", bindPassword))
		chromeWaitText(t, dave, "h1", "Finish connecting google-drive-provider")
		for _, c := range cookiesOf(t, dave, e.s.URL+"/") {
			if c.Name == e.signInCookie() {
				real = c.Value
			}
		}
		if real == "" {
			t.Fatal("no sign-in cookie in dave's browser")
		}
		flipped := []byte(real)
		flipped[len(flipped)/2] ^= 1
		for name, value := range map[string]string{
			"unsealed claim": base64.RawURLEncoding.EncodeToString(claim),
			"tampered":       string(flipped),
			"garbage":        "AAAA",
		} {
			c := httpBrowser(t, e.s.URL, []*http.Cookie{{Name: e.signInCookie(), Value: value}})
			resp, err := c.Get(link)
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, e.issuer+"/oauth2/authorize?") {
				t.Errorf("%s cookie: %d → %q, want a redirect to the issuer's sign-in", name, resp.StatusCode, loc)
			}
		}
		// dave's real cookie on carol's session: refused, audited, nothing bound.
		before := len(e.auditFor(behalf.AuditBindingRefused, leakedSession))
		resp, err := httpBrowser(t, e.s.URL, []*http.Cookie{{Name: e.signInCookie(), Value: real}}).Get(link)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "someone else") {
			t.Errorf("dave's cookie on carol's session: %d\n%s", resp.StatusCode, body)
		}
		if got := len(e.auditFor(behalf.AuditBindingRefused, leakedSession)); got != before+1 {
			t.Errorf("binding.refused events %d → %d, want one more", before, got)
		}
		if e.token(e.watFor("carol"), leakedSession) != "" {
			t.Fatal("a forged cookie bound carol's session")
		}
	})

	// Expired: an authorization session past its lifetime is not bound,
	// and Behalf's sign-in cookie lapses after 15 minutes.
	t.Run("Expired", func(t *testing.T) {
		wat := e.watFor("dave")
		authURL, sessionURI := e.start(wat, true)
		bindURL := e.consentElsewhere(authURL)
		dave := tab(t, browser)
		e.clock.Advance(11 * time.Minute)
		chromeDo(t, dave, chromedp.Navigate(bindURL))
		chromeWaitText(t, dave, "h1", "This link cannot be used")
		screenshot(t, dave, "bind-expired.png")
		if e.token(wat, sessionURI) != "" {
			t.Fatal("an expired session was bound")
		}
	})
}

// Ensure the sign-in cookie lapses: a browser signed in 16 minutes ago is
// sent to the issuer again instead of being bound.
func TestBindSignInExpires(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping: %s is not installed (%v)", chromiumPath, err)
	}
	e := newBindEnv(t)
	wat := e.watFor("alice")
	authURL, _ := e.start(wat, false)
	alice := tab(t, newChromium(t))
	chromeDo(t, alice, chromedp.Navigate(e.consentElsewhere(authURL)))
	chromeWaitURL(t, alice, e.issuer+"/login?")
	chromeDo(t, alice, chromeFillLogin("alice", bindPassword))
	chromeWaitText(t, alice, "h1", "Finish connecting google-drive-provider")
	cookies := cookiesOf(t, alice, e.s.URL+"/")

	// Fresh: the cookie is a sign-in (the confirmation page, no redirect).
	authURL, _ = e.start(e.watFor("alice"), true)
	link := e.consentElsewhere(authURL)
	resp, err := httpBrowser(t, e.s.URL, cookies).Get(link)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Finish connecting") {
		t.Fatalf("with a fresh sign-in cookie: %d\n%s", resp.StatusCode, body)
	}

	wat = e.watFor("alice") // before moving the clock: the verifier of user tokens keeps real time
	e.clock.Advance(16 * time.Minute)
	authURL, sessionURI := e.start(wat, true)
	link = e.consentElsewhere(authURL)
	resp, err = httpBrowser(t, e.s.URL, cookies).Get(link)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, e.issuer+"/oauth2/authorize?") {
		t.Fatalf("with a 16-minute-old sign-in cookie: %d → %q, want the issuer's sign-in", resp.StatusCode, loc)
	}
	if e.token(wat, sessionURI) != "" {
		t.Fatal("bound with an expired sign-in")
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
