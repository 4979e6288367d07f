// Package pageframetest checks, in the tests of the packages that render
// pages (web, userpool/oidcop), that a page carries the frame of package
// pageframe with an operator's name and logo.
package pageframetest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf/internal/pageframe"
)

// Operator is the test operator's name: one that must be escaped.
const Operator = `Example & <Labs>`

// LogoURL is the test operator's logo; its origin is LogoOrigin.
const (
	LogoURL    = "https://cdn.example.com/logo.png"
	LogoOrigin = "https://cdn.example.com"
)

// Frame returns the frame of a server at publicURL run by Operator with
// the logo at LogoURL.
func Frame(t testing.TB, publicURL string) pageframe.Frame {
	t.Helper()
	f, err := pageframe.New(Operator, LogoURL, publicURL)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Check fails t unless body (page's answer, resp) carries the frame of
// Frame(t, publicURL) with the operator's name escaped, and the answer's
// Content-Security-Policy allows exactly the logo's origin as images.
func Check(t testing.TB, page, publicURL string, resp *http.Response, body string) {
	t.Helper()
	for _, want := range []string{
		`<img src="` + LogoURL + `" alt="Example &amp; &lt;Labs&gt;"`,
		`<span class="frame-product">Behalf</span>`,
		`<a href="` + strings.TrimSuffix(publicURL, "/") + `/connections">Your connections</a>`,
		`<footer class="frame-foot">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("%s: the page lacks %s:\n%s", page, want, body)
		}
	}
	if strings.Contains(body, "<Labs>") {
		t.Errorf("%s: the operator's name is not escaped", page)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "img-src "+LogoOrigin) || strings.Count(csp, "img-src") != 1 || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("%s: CSP %q, want img-src exactly the logo's origin", page, csp)
	}
}
