package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Helpers for HTTP-level browsers (cookie jars) that meet a user pool's
// hosted login on their way, as Behalf's consent flow sends them there
// when the workload signs its users in.

var (
	loginHidden = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
	loginAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
)

// browseSigningIn GETs u with browser c (which follows redirects); if it
// lands on a hosted-login page, it signs in there as user and follows on.
// It returns the last response's status, its final URL and its body.
func browseSigningIn(t *testing.T, c *http.Client, u, user, password string) (int, *url.URL, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	body := readBody(t, resp)
	if !strings.Contains(body, `name="password"`) {
		return resp.StatusCode, resp.Request.URL, body
	}
	m := loginAction.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the login page at %s has no form:\n%s", resp.Request.URL, body)
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"username": {user}, "password": {password}}
	for _, f := range loginHidden.FindAllStringSubmatch(body, -1) {
		form.Set(f[1], html.UnescapeString(f[2]))
	}
	resp, err = c.PostForm(action.String(), form)
	if err != nil {
		t.Fatalf("POST %s: %v", action, err)
	}
	body = readBody(t, resp)
	// Behalf's sign-in ends in a page that refreshes to where the browser
	// was going (a redirect would fall under the login form's CSP).
	if m := metaRefresh.FindStringSubmatch(body); m != nil {
		next, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		if resp, err = c.Get(next.String()); err != nil {
			t.Fatalf("GET %s: %v", next, err)
		}
		body = readBody(t, resp)
	}
	return resp.StatusCode, resp.Request.URL, body
}

var metaRefresh = regexp.MustCompile(`<meta http-equiv="refresh" content="0;url=([^"]*)">`)
