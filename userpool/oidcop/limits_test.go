package oidcop_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf/userpool/oidcop"
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
	// An over-long state is echoed by no error redirect, even one that
	// comes before the caps are checked.
	a := base()
	a.state, a.extra = strings.Repeat("s", 2049), url.Values{"response_type": {"token"}}
	resp, _ := e.get(c, e.authorizeURL(a))
	want(t, "another error with an over-long state: state", e.wantErrorRedirect("response_type=token", resp, "unauthorized_client").Get("state"), "")
	// A repeated parameter: every value is checked.
	u := e.authorizeURL(base()) + "&nonce=" + strings.Repeat("n", 1025)
	resp, _ = e.get(c, u)
	if d := e.wantErrorRedirect("repeated nonce", resp, "invalid_request").Get("error_description"); !strings.Contains(d, "The nonce parameter is too long") {
		t.Errorf("repeated nonce: error_description %q", d)
	}
	// The same over POST.
	form, _ := url.ParseQuery(strings.TrimPrefix(e.authorizeURL(base()), e.issuer+"/oauth2/authorize?"))
	form.Set("login_hint", strings.Repeat("h", 513))
	resp, _ = e.postForm(c, e.issuer+"/oauth2/authorize", form)
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
	a = base()
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

// testClient is WithClientAddress for the tests: the X-Test-Client
// header, counted when present.
func testClient(r *http.Request) (string, bool) {
	key := r.Header.Get("X-Test-Client")
	return key, key != ""
}

// browserFrom is a browser whose requests come from client address addr.
func (e *env) browserFrom(addr string) *http.Client {
	c := e.browser()
	c.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("X-Test-Client", addr)
		return http.DefaultTransport.RoundTrip(r)
	})
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// testClock is a settable clock.
type testClock struct{ t atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *testClock) advance(d time.Duration) { c.t.Add(int64(d)) }

// Ensure the unexpired auth requests are bounded per client address and
// in all: past a bound an authorization is redirected to the client with
// temporarily_unavailable and the state, and nothing is stored. Codes
// count until they expire, sessions' authorizations too; expired requests
// no longer count; uncounted addresses (loopback) only in the total.
func TestAuthorizePendingBounds(t *testing.T) {
	clock := &testClock{}
	clock.t.Store(time.Now().UnixNano())
	e := newEnvWith(t, oidcop.WithPendingLimits(3, 6), oidcop.WithClientAddress(testClient), oidcop.WithClock(clock.now))
	verifier := oauth2.GenerateVerifier()
	authorize := func(c *http.Client, state string) *http.Response {
		t.Helper()
		resp, _ := e.get(c, e.authorizeURL(authParams{client: e.public, verifier: verifier, scope: "openid", state: state}))
		return resp
	}
	toLogin := func(what string, resp *http.Response) {
		t.Helper()
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), e.issuer+"/login?") {
			t.Fatalf("%s: %d Location=%q, want the login page", what, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	refused := func(what string, resp *http.Response, state, says string) {
		t.Helper()
		q := e.wantErrorRedirect(what, resp, "temporarily_unavailable")
		want(t, what+": state", q.Get("state"), state)
		if d := q.Get("error_description"); !strings.Contains(d, says) {
			t.Errorf("%s: error_description %q, want it to say %q", what, d, says)
		}
	}

	// One address: a signed-in login (its code counts until it expires),
	// then, in another browser there, two waiting for the login page; the
	// next is refused.
	e.login(e.browserFrom("192.0.2.1"), authParams{client: e.public, verifier: verifier, scope: "openid", state: "a0"})
	a := e.browserFrom("192.0.2.1")
	toLogin("a1", authorize(a, "a1"))
	toLogin("a2", authorize(a, "a2"))
	refused("a3", authorize(a, "a3"), "a3", "from your network")
	want(t, "stored after a3", e.storedRequests(), 3)

	// Another address is not affected, up to the total (6).
	b := e.browserFrom("192.0.2.2")
	toLogin("b0", authorize(b, "b0"))
	toLogin("b1", authorize(b, "b1"))
	// Uncounted (loopback-like) clients count in the total only.
	local := e.browser()
	toLogin("local0", authorize(local, "local0"))
	refused("local1", authorize(local, "local1"), "local1", "busy")
	refused("b2", authorize(b, "b2"), "b2", "busy")
	c := e.browserFrom("192.0.2.3")
	refused("c0", authorize(c, "c0"), "c0", "busy")
	want(t, "stored at the total", e.storedRequests(), 6)

	// Expired requests count no more (the sweep deletes them later):
	// a's code after 5 minutes, everything after 15.
	clock.advance(5*time.Minute + time.Second)
	toLogin("c0 after a's code expired", authorize(c, "c0"))
	clock.advance(10 * time.Minute)
	for i := range 3 {
		toLogin("a after expiry", authorize(a, "a-again-"+strconv.Itoa(i)))
	}
	refused("a past its bound again", authorize(a, "a-again-3"), "a-again-3", "from your network")

	// A session's authorizations store codes: bounded alike.
	clock.advance(16 * time.Minute)
	d := e.browserFrom("192.0.2.4")
	e.login(d, authParams{client: e.public, verifier: verifier, scope: "openid", state: "d0"})
	for i := range 2 {
		e.code(authorize(d, "d-session-"+strconv.Itoa(i)), "d-session-"+strconv.Itoa(i))
	}
	refused("d's session past its bound", authorize(d, "d-session-2"), "d-session-2", "from your network")
}

// Ensure the pending limits are validated, 0 removes a bound, and by
// default loopback peers (the tests' server's) are counted in the total
// only, stored with no address.
func TestPendingLimitsOptions(t *testing.T) {
	loop := newEnvWith(t, oidcop.WithPendingLimits(1, 0))
	for i := range 3 {
		resp, _ := loop.get(loop.browser(), loop.authorizeURL(authParams{client: loop.public, verifier: "v", scope: "openid", state: strconv.Itoa(i)}))
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), loop.issuer+"/login?") {
			t.Fatalf("loopback authorization %d: %d Location=%q", i, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, addr := range []string{"127.0.0.1", "::/64"} {
		if n, err := loop.store.CountPoolAuthRequests(t.Context(), addr, time.Time{}, 0); err != nil || n != 0 {
			t.Errorf("requests stored as from %s: %d, %v", addr, n, err)
		}
	}

	// A counted address with an empty key is not counted (it would count
	// everyone's requests as its own).
	empty := newEnvWith(t, oidcop.WithPendingLimits(1, 0), oidcop.WithClientAddress(func(*http.Request) (string, bool) { return "", true }))
	for i := range 3 {
		resp, _ := empty.get(empty.browser(), empty.authorizeURL(authParams{client: empty.public, verifier: "v", scope: "openid", state: strconv.Itoa(i)}))
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), empty.issuer+"/login?") {
			t.Fatalf("authorization %d with an empty address: %d Location=%q", i, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	e := newEnvWith(t, oidcop.WithPendingLimits(0, 0), oidcop.WithClientAddress(testClient))
	for _, opt := range []oidcop.Option{oidcop.WithPendingLimits(-1, 10), oidcop.WithPendingLimits(10, -1), oidcop.WithClientAddress(nil)} {
		if _, err := oidcop.New(e.svc, e.store, e.sealer, e.srv.URL, opt); err == nil {
			t.Error("New accepted a negative limit or no client address function")
		}
	}
	a := e.browserFrom("192.0.2.1")
	for i := range 5 {
		resp, _ := e.get(a, e.authorizeURL(authParams{client: e.public, verifier: "v", scope: "openid", state: strconv.Itoa(i)}))
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), e.issuer+"/login?") {
			t.Fatalf("authorization %d without bounds: %d Location=%q", i, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}
