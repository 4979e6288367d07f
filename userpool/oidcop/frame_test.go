package oidcop_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/pageframe"
	"github.com/behalf-dev/behalf/internal/pageframe/pageframetest"
	"github.com/behalf-dev/behalf/userpool/oidcop"
	"golang.org/x/oauth2"
)

func testFrame(t *testing.T) pageframe.Frame { return pageframetest.Frame(t, "https://behalf.example") }

// checkFrame fails t unless the page carries the frame of testFrame (see
// pageframetest.Check).
func checkFrame(t *testing.T, page string, resp *http.Response, body string) {
	t.Helper()
	pageframetest.Check(t, page, "https://behalf.example", resp, body)
}

// Ensure the hosted login's pages carry the frame, and the login page
// names what the user signs in to: an operator's app client by its name,
// but Behalf's own pages' sign-in (redirect URI {public-url}/identities/
// oauth2/signin/callback) by the operator, not by the client's name.
func TestLoginPagesFrameAndAppName(t *testing.T) {
	e := newEnvWith(t, oidcop.WithFrame(testFrame(t)))
	c := e.browser()
	loginURL, _ := e.loginPage(c, authParams{client: e.public, verifier: oauth2.GenerateVerifier(), scope: "openid", state: "s"})
	resp, body := e.get(c, loginURL)
	checkFrame(t, "login", resp, body)
	if !strings.Contains(body, "to continue to <strong>Agent Console</strong>") {
		t.Errorf("the login page does not name the app client:\n%s", body)
	}
	resp, body = e.get(c, e.issuer+"/login?request=nope")
	checkFrame(t, "expired login link", resp, body)
	resp, body = e.get(c, e.issuer+"/oauth2/authorize?client_id=nope&response_type=code&redirect_uri=x")
	checkFrame(t, "authorize error", resp, body)

	// The client of Behalf's own pages.
	own := e.srv.URL + behalf.SignInCallbackPath
	pages, _, err := e.svc.CreateUserPoolClient(context.Background(), behalf.UserPoolClientInput{
		PoolID: e.pool.ID, Name: "bind-client", AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid"},
		AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: []string{own, e.callback}, SupportedIdentityProviders: []string{"COGNITO"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for redirect, want := range map[string]string{own: "Example &amp; &lt;Labs&gt;", e.callback: "bind-client"} {
		q := url.Values{"response_type": {"code"}, "client_id": {pages.ID}, "redirect_uri": {redirect}, "scope": {"openid"}, "state": {"s"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
		resp, _ := e.get(c, e.issuer+"/oauth2/authorize?"+q.Encode())
		_, body := e.get(c, resp.Header.Get("Location"))
		if !strings.Contains(body, "to continue to <strong>"+want+"</strong>") {
			t.Errorf("redirect %s: the login page does not say %q:\n%s", redirect, want, body)
		}
		if redirect == own && strings.Contains(body, "bind-client") {
			t.Errorf("Behalf's own sign-in names its client:\n%s", body)
		}
	}
}
