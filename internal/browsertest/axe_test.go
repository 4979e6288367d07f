package browsertest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/behalf-dev/behalf/internal/browsertest"
)

// Ensure Axe finds the violations of a page that has them (under a
// Content-Security-Policy that forbids scripts, as Behalf's pages have),
// and none on a page without.
func TestAxe(t *testing.T) {
	browsertest.RequireAxe(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		if r.URL.Path == "/bad" {
			io.WriteString(w, `<!doctype html><html><head><title>Bad</title></head><body>
<form><input name="q" type="text"></form><p style="color:#bbb;background:#fff">Faint</p></body></html>`)
			return
		}
		io.WriteString(w, `<!doctype html><html lang="en"><head><title>Good</title></head><body>
<main><h1>Good</h1><form><label for="q">Search</label><input id="q" name="q" type="text"></form></main></body></html>`)
	}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)

	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/bad"))
	vs, err := browsertest.Axe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ID)
		if v.Impact == "" || v.Help == "" || len(v.Targets) == 0 {
			t.Errorf("violation without its impact, help or targets: %+v", v)
		}
	}
	for _, want := range []string{"html-has-lang", "label", "color-contrast", "landmark-one-main"} {
		if !slices.Contains(ids, want) {
			t.Errorf("violations %q lack %s", ids, want)
		}
	}

	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/good"))
	browsertest.CheckAccessible(t, ctx, "a page without violations")
}
