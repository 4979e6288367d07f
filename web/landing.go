package web

import (
	_ "embed"
	"html/template"
	"net/http"
)

// Landing is the page a person's browser gets at the server's root: what
// this server is and where to go from here (their connections, the docs).
// An API client at the root still gets the AWS error (api decides which by
// the request's Accept header).
type Landing struct {
	// DocsURL, if set, is where a "Documentation" link points.
	DocsURL string
}

//go:embed templates/landing.html
var landingHTML string

var landingPage = template.Must(template.New("landing").Parse(landingHTML))

// ServeHTTP writes the page.
func (l Landing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return
	}
	landingPage.Execute(w, l)
}
