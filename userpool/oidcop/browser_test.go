package oidcop_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/behalf-dev/behalf/internal/browsertest"
	"golang.org/x/oauth2"
)

// newBrowser starts headless Chromium, or skips the test when it is not
// installed.
func newBrowser(t *testing.T) context.Context { return browsertest.New(t) }

// do runs browser steps with a deadline.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	browsertest.Do(t, ctx, steps...)
}

// text returns the text of the element sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return browsertest.Text(t, ctx, sel)
}

// waitText waits until the element sel has the text want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	browsertest.WaitText(t, ctx, sel, want)
}

// waitLocation waits until the page's URL starts with prefix and returns it.
func waitLocation(t *testing.T, ctx context.Context, prefix string) *url.URL {
	t.Helper()
	return browsertest.WaitURL(t, ctx, prefix)
}

// fillLogin types credentials into the login form and submits it.
func fillLogin(user, password string) chromedp.Action[chromedp.Void] {
	return browsertest.FillLogin(user, password)
}

// Ensure the hosted login in a real browser: a wrong password, forged or
// missing CSRF tokens, the code + PKCE login, the session, and logout.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	ctx := newBrowser(t)
	verifier := oauth2.GenerateVerifier()
	authorize := e.authorizeURL(authParams{client: e.public, verifier: verifier, scope: "openid email", state: "browser-state", nonce: "bn"})

	do(t, ctx, chromedp.Navigate(authorize))
	loginURL := waitLocation(t, ctx, e.issuer+"/login?").String()

	t.Run("wrong password", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(loginURL), fillLogin("alice", "not-her-password"),
			chromedp.WaitVisible(chromedp.CSS("#form-error")))
		if got := text(t, ctx, "#form-error"); got != "Incorrect username or password." {
			t.Errorf("error shown: %q", got)
		}
		if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#username"))); err != nil || v != "alice" {
			t.Errorf("username after a wrong password = %q, %v; want it kept", v, err)
		}
	})

	for name, tamper := range map[string]chromedp.Action[chromedp.Void]{
		"forged CSRF token":  chromedp.SetAttributeValue(chromedp.CSS(`input[name="csrf"]`), "value", "Zm9yZ2Vk"),
		"missing CSRF token": chromedp.RemoveAttribute(chromedp.CSS(`input[name="csrf"]`), "name"),
	} {
		t.Run(name, func(t *testing.T) {
			do(t, ctx, chromedp.Navigate(loginURL), chromedp.WaitVisible(chromedp.CSS("#username")), tamper,
				fillLogin("alice", alicePassword))
			waitText(t, ctx, "h1", "This sign-in request cannot be used")
			if got := text(t, ctx, "main"); !strings.Contains(got, "Reload the page") {
				t.Errorf("page: %q", got)
			}
			if loc, _ := chromedp.Run(ctx, chromedp.Location()); strings.HasPrefix(loc, e.callback) {
				t.Errorf("the browser reached the callback: %s", loc)
			}
		})
	}

	t.Run("code and PKCE login", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(loginURL), fillLogin("alice", alicePassword))
		q := waitLocation(t, ctx, e.callback+"?").Query()
		want(t, "state", q.Get("state"), "browser-state")
		tok := e.exchange(q.Get("code"), verifier)
		if tok.Status != http.StatusOK || tok.AccessToken == "" || tok.IDToken == "" {
			t.Fatalf("exchange: %+v", tok)
		}
		want(t, "nonce", claims(t, tok.IDToken)["nonce"], any("bn"))
	})

	t.Run("the session skips the password", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(strings.Replace(authorize, "browser-state", "again", 1)))
		want(t, "state", waitLocation(t, ctx, e.callback+"?").Query().Get("state"), "again")
	})

	t.Run("logout clears the session", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(e.issuer+"/logout?"+url.Values{"client_id": {e.public.ID}, "logout_uri": {e.logoutURL}}.Encode()))
		waitLocation(t, ctx, e.logoutURL)
		do(t, ctx, chromedp.Navigate(authorize))
		waitLocation(t, ctx, e.issuer+"/login?")
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#password")))
	})
}
