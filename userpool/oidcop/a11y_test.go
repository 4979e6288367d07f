package oidcop_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/browsertest"
	"github.com/behalf-dev/behalf/internal/pageframe"
	"github.com/behalf-dev/behalf/userpool/oidcop"
)

// Ensure every page of the hosted login, in the frame of an operator with
// a logo, has no accessibility violation (axe-core, WCAG 2 A/AA and best
// practices) on a desktop and on a 360 px phone: sign in (as shown, with a wrong password, with a notice), sign
// up, confirm, forgot and reset password, the temporary password's new
// password, TOTP setup (with a wrong code) and TOTP code, and the error
// pages.
func TestHostedLoginAccessible(t *testing.T) {
	browsertest.RequireAxe(t)
	logo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		io.WriteString(w, browsertest.LogoSVG)
	}))
	t.Cleanup(logo.Close)
	frame, err := pageframe.New("Example Labs", logo.URL+"/logo.svg", "")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, oidcop.WithFrame(frame))
	ctx := context.Background()
	if _, _, err := e.svc.AdminCreateUser(ctx, behalf.AdminCreateUserInput{
		PoolID: e.pool.ID, Username: "bob", TemporaryPassword: "Temp-Pass-1!", MessageAction: "SUPPRESS",
	}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	clearCookies := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	})
	check := func(name string) {
		t.Helper()
		browsertest.CheckAccessible(t, b, name)
	}
	// start opens a new sign-in, as a browser without a session, and
	// returns the login page's URL.
	start := func() string {
		t.Helper()
		do(t, b, clearCookies, chromedp.Navigate(e.authorizeURL(authParams{client: e.public, verifier: oauth2.GenerateVerifier(), scope: "openid", state: "a11y"})))
		return waitLocation(t, b, e.issuer+"/login?").String()
	}

	login := start()
	do(t, b, chromedp.WaitVisible(chromedp.CSS("#password")))
	check("sign in")
	do(t, b, fillLogin("alice", "not-her-password"), chromedp.WaitVisible(chromedp.CSS("#form-error")))
	check("sign in, wrong password")
	for _, v := range []struct{ name, query, h1 string }{
		{"sign up", "&view=signup", "Sign up"},
		{"confirm the account", "&view=confirm&username=carol", "Confirm your account"},
		{"forgot the password", "&view=forgot", "Forgot your password?"},
		{"reset the password", "&view=reset&username=carol", "Reset your password"},
		{"sign in, account confirmed", "&notice=confirmed&username=carol", "Sign in"},
	} {
		do(t, b, chromedp.Navigate(login+v.query))
		waitText(t, b, "h1", v.h1)
		check(v.name)
	}
	do(t, b, chromedp.Navigate(e.issuer+"/login?request=no-such-request"))
	waitText(t, b, "h1", "This sign-in link has expired")
	check("error page, expired link")
	do(t, b, chromedp.Navigate(e.issuer+"/oauth2/authorize?response_type=code&client_id=no-such-client"))
	waitText(t, b, "h1", "This sign-in request cannot be used")
	check("error page, bad request")

	do(t, b, chromedp.Navigate(start()), fillLogin("bob", "Temp-Pass-1!"))
	waitText(t, b, "h1", "Choose a new password")
	check("new password")

	on, yes := behalf.MFAOn, true
	if _, err := e.svc.SetUserPoolMfaConfig(ctx, behalf.PoolMFAConfig{PoolID: e.pool.ID, MFAConfiguration: on, SoftwareTokenMFA: &yes}); err != nil {
		t.Fatal(err)
	}
	do(t, b, chromedp.Navigate(start()), fillLogin("alice", alicePassword))
	waitText(t, b, "h1", "Set up two-step verification")
	check("TOTP setup")
	do(t, b, chromedp.SendKeys(chromedp.CSS("#code"), "000000"), chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#form-error")))
	check("TOTP setup, wrong code")
	code, err := totp.GenerateCodeCustom(text(t, b, "#totp-secret"), time.Now().Add(-30*time.Second),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	do(t, b, chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	waitLocation(t, b, e.callback+"?")
	do(t, b, chromedp.Navigate(start()), fillLogin("alice", alicePassword))
	waitText(t, b, "h1", "Enter your verification code")
	check("TOTP code")
}
