package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf/internal/browsertest"
)

// Ensure the hosted login asks for TOTP in a real browser: under MFA ON a
// user without a token gets, after the password, a setup page (redirected
// to by GET) with the secret and its otpauth:// URI, a wrong code is
// refused on the page, the right one signs in and the code is exchanged;
// a second sign-in (a new browser) asks for the code of that token.
// Screenshots of both pages go to $BEHALF_SCREENSHOT_DIR when it is set.
func TestHostedLoginMFA(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is not installed (%v)", chromiumPath, err)
	}
	s := mustRunMain(t, "")
	ctx, cog := context.Background(), s.cognito(t)
	const password = "Corr3ct-Horse-Battery!"
	f := newPoolFixture(t, ctx, cog, "hosted-mfa")
	f.createUser(t, ctx, cog, "alice", password)
	if _, err := cog.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: aws.String(f.poolID), MfaConfiguration: types.UserPoolMfaTypeOn,
		SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app") }))
	t.Cleanup(app.Close)
	callback := app.URL + "/callback"
	created, err := cog.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(f.poolID), ClientName: aws.String("console"),
		AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeCode}, AllowedOAuthScopes: []string{"openid"},
		AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: []string{callback}, SupportedIdentityProviders: []string{"COGNITO"},
	})
	if err != nil {
		t.Fatal(err)
	}
	issuer := s.URL + "/" + f.poolID
	conf := &oauth2.Config{
		ClientID: aws.ToString(created.UserPoolClient.ClientId), RedirectURL: callback, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "/oauth2/authorize", TokenURL: issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	shot := func(browser context.Context, name string) {
		if os.Getenv("BEHALF_SCREENSHOT_DIR") != "" {
			screenshot(t, browser, name)
		}
	}
	// signIn runs the password page and returns the browser at the MFA page.
	signIn := func(state string) (context.Context, string) {
		browser := newChromium(t)
		verifier := oauth2.GenerateVerifier()
		chromeDo(t, browser, chromedp.Navigate(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))))
		chromeWaitURL(t, browser, issuer+"/login?")
		chromeDo(t, browser, chromeFillLogin("alice", password), chromedp.WaitVisible(chromedp.CSS("#code")))
		return browser, verifier
	}
	// finish types code and returns the authorization code of the callback.
	finish := func(browser context.Context, code string) string {
		chromeDo(t, browser, chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
		u := chromeWaitURL(t, browser, callback+"?")
		if u.Query().Get("code") == "" {
			t.Fatalf("callback %s without a code", u)
		}
		return u.Query().Get("code")
	}

	// Set-up page: the secret as text and as an otpauth:// link.
	browser, verifier := signIn("s1")
	secret := chromeText(t, browser, "#totp-secret")
	attr, err := chromedp.Run(browser, chromedp.AttributeValue(chromedp.CSS("#totp-uri"), "href"))
	if err != nil {
		t.Fatal(err)
	}
	href := attr.Value
	uri, err := url.Parse(href)
	if err != nil || uri.Scheme != "otpauth" || uri.Query().Get("secret") != secret || len(secret) != 32 {
		t.Fatalf("setup page: secret %q, URI %q", secret, href)
	}
	if u := chromeWaitURL(t, browser, issuer+"/login?"); u.Query().Get("request") == "" {
		t.Fatalf("setup page URL %s: want GET /login?request=…", u)
	}
	shot(browser, "hosted-login-mfa-setup.png")
	browsertest.CheckLayout(t, browser, "", "hosted-login-mfa-setup") // the secret and its long URI fit a phone
	chromeDo(t, browser, chromedp.SendKeys(chromedp.CSS("#code"), "000000"), chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#form-error")))
	if msg := chromeText(t, browser, "#form-error"); !strings.Contains(msg, "code is not right") {
		t.Errorf("wrong code: %q", msg)
	}
	if again := chromeText(t, browser, "#totp-secret"); again != secret {
		t.Errorf("the setup page changed its secret after a wrong code: %q", again)
	}
	code := finish(browser, totpCode(t, secret, time.Now().Add(-30*time.Second)))
	if tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err != nil || tok.AccessToken == "" {
		t.Fatalf("exchange after MFA setup: %v", err)
	}

	// The next sign-in asks for the code of the token set up.
	browser, _ = signIn("s2")
	if n := chromeCount(t, browser, "#totp-secret"); n != 0 {
		t.Fatalf("the code page shows a secret")
	}
	shot(browser, "hosted-login-mfa-code.png")
	browsertest.CheckLayout(t, browser, "", "")
	finish(browser, totpCode(t, secret, time.Now()))
}
