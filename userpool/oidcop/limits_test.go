package oidcop_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// storedRequests counts the auth requests in the store, expired or not.
func (e *env) storedRequests() int {
	e.t.Helper()
	n, err := e.store.CountPoolAuthRequests(e.t.Context(), "", time.Time{}, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// wantErrorRedirect checks an authorization's error redirect to the
// callback and returns its query.
func (e *env) wantErrorRedirect(what string, resp *http.Response, wantError string) url.Values {
	e.t.Helper()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), e.callback+"?") {
		e.t.Fatalf("%s: %d Location=%.200q, want an error redirect to the callback", what, resp.StatusCode, resp.Header.Get("Location"))
	}
	q := loc.Query()
	if q.Get("error") != wantError || q.Get("code") != "" {
		e.t.Fatalf("%s: callback query %.300v, want error=%s and no code", what, q, wantError)
	}
	return q
}

// Ensure over-long parameters are refused with invalid_request naming the
// parameter, and nothing is stored: client_id and redirect_uri (checked
// before the client is known) with a page, the others redirected to the
// client's registered redirect_uri with the state, unless the state is
// what is too long. Parameters at their caps are accepted.
func TestAuthorizeParameterCaps(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	verifier := oauth2.GenerateVerifier()
	base := func() authParams {
		return authParams{client: e.public, verifier: verifier, scope: "openid", state: "st", nonce: "n"}
	}
	// scopeOf returns a scope parameter of exactly n bytes: openid, repeated.
	scopeOf := func(n int) string {
		s := strings.Repeat("openid ", n/7)
		return s + strings.Repeat(" ", n-len(s))
	}

	// Redirected errors, each naming its parameter.
	for _, tc := range []struct {
		param string
		set   func(a *authParams)
	}{
		{"state", func(a *authParams) { a.state = strings.Repeat("s", 2049) }},
		{"nonce", func(a *authParams) { a.nonce = strings.Repeat("n", 1025) }},
		{"login_hint", func(a *authParams) { a.extra = url.Values{"login_hint": {strings.Repeat("h", 513)}} }},
		{"scope", func(a *authParams) { a.scope = scopeOf(4097) }},
		{"code_challenge", func(a *authParams) {
			a.verifier = ""
			a.extra = url.Values{"code_challenge": {strings.Repeat("c", 129)}, "code_challenge_method": {"S256"}}
		}},
	} {
		a := base()
		tc.set(&a)
		resp, _ := e.get(c, e.authorizeURL(a))
		q := e.wantErrorRedirect(tc.param, resp, "invalid_request")
		if d := q.Get("error_description"); !strings.Contains(d, "The "+tc.param+" parameter is too long") {
			t.Errorf("%s: error_description %q does not name the parameter", tc.param, d)
		}
		wantState := a.state
		if tc.param == "state" {
			wantState = "" // never echoed back
		}
		want(t, tc.param+": state", q.Get("state"), wantState)
	}
	// The same over POST.
	form, _ := url.ParseQuery(strings.TrimPrefix(e.authorizeURL(base()), e.issuer+"/oauth2/authorize?"))
	form.Set("login_hint", strings.Repeat("h", 513))
	resp, _ := e.postForm(c, e.issuer+"/oauth2/authorize", form)
	e.wantErrorRedirect("POST", resp, "invalid_request")

	// Before the client is known: a page, never a redirect.
	for _, tc := range []struct {
		param, url string
	}{
		{"client_id", e.issuer + "/oauth2/authorize?response_type=code&redirect_uri=" + url.QueryEscape(e.callback) +
			"&client_id=" + strings.Repeat("c", 129)},
		{"redirect_uri", strings.Replace(e.authorizeURL(base()), url.QueryEscape(e.callback),
			url.QueryEscape(e.callback+"?"+strings.Repeat("x", 1025-len(e.callback)-1)), 1)},
	} {
		resp, body := e.get(c, tc.url)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %q Location=%.100q, want a 400 page and no redirect", tc.param, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"))
		}
		if !strings.Contains(body, "The "+tc.param+" parameter is too long") {
			t.Errorf("%s: the page does not name the parameter:\n%s", tc.param, body)
		}
	}
	if n := e.storedRequests(); n != 0 {
		t.Fatalf("%d auth requests stored by refused requests", n)
	}

	// Each parameter at its cap is accepted.
	for name, set := range map[string]func(a *authParams){
		"state":      func(a *authParams) { a.state = strings.Repeat("s", 2048) },
		"nonce":      func(a *authParams) { a.nonce = strings.Repeat("n", 1024) },
		"login_hint": func(a *authParams) { a.extra = url.Values{"login_hint": {strings.Repeat("h", 512)}} },
		"scope":      func(a *authParams) { a.scope = scopeOf(4096) },
	} {
		a := base()
		set(&a)
		resp, _ := e.get(c, e.authorizeURL(a))
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), e.issuer+"/login?") {
			t.Errorf("%s at its cap: %d Location=%.200q, want the login page", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if n := e.storedRequests(); n != 4 {
		t.Fatalf("%d auth requests stored, want 4", n)
	}

	// Every parameter at its cap: too large to store as a whole.
	a := base()
	a.state, a.nonce, a.scope = strings.Repeat("s", 2048), strings.Repeat("n", 1024), scopeOf(4096)
	a.extra = url.Values{"login_hint": {strings.Repeat("h", 512)}}
	resp, _ = e.get(c, e.authorizeURL(a))
	q := e.wantErrorRedirect("the whole request", resp, "invalid_request")
	if d := q.Get("error_description"); !strings.Contains(d, "too large") {
		t.Errorf("the whole request: error_description %q", d)
	}
	want(t, "the whole request: state", q.Get("state"), a.state)
	if n := e.storedRequests(); n != 4 {
		t.Fatalf("%d auth requests stored after the over-large request, want 4", n)
	}
}
