package web

import (
	_ "embed"
	"net/http"

	"github.com/behalf-dev/behalf/internal/pageframe"
)

// Landing is the page a person's browser gets at the server's root: what
// this server is and where to go from here (their connections, the docs).
// An API client at the root still gets the AWS error (api decides which by
// the request's Accept header).
type Landing struct {
	// DocsURL, if set, is where a "Documentation" link points.
	DocsURL string
	// Frame is the page's frame (operator name and logo).
	Frame pageframe.Frame
}

//go:embed templates/landing.html
var landingHTML string

var landingPage = pageframe.Parse("landing", landingHTML)

// ServeHTTP writes the page.
func (l Landing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w, l.Frame)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	landingPage.Execute(w, l)
}
