package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/pageframe"
)

// Consent serves the browser's leg of the three-legged OAuth flow:
//
//	GET /identities/oauth2/authorize?request_uri=…
//	  │ the workload signs its users in, and this browser is not signed in
//	  ├──▶ SignIn.Begin ──▶ back here (the URL is not spent yet)
//	  │ signed in as another user than the one who started the flow
//	  ├──▶ refused: the session fails, nothing reaches the provider
//	  └──▶ the provider, with a sealed cookie holding this browser's key
//	GET /identities/oauth2/callback/{providerID}?code&state
//	  └──▶ the code is exchanged only if the browser holds the key
type Consent struct {
	Service behalf.ConsentService
	// SignIn signs browsers in and seals the browser-key cookies.
	SignIn *SignIn
	// Frame is the pages' frame (operator name and logo).
	Frame pageframe.Frame
	Log   *slog.Logger
}

// ServeHTTP routes the two consent endpoints.
func (c *Consent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w, c.Frame)
	if id := r.PathValue("providerID"); id != "" {
		c.callback(w, r, id)
		return
	}
	c.authorize(w, r)
}

// authorize: GET /identities/oauth2/authorize?request_uri=… → the provider.
func (c *Consent) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if len(q["request_uri"]) != 1 {
		c.fail(w, r, behalf.Errorf(behalf.EINVALID, "Invalid request: the link has no request_uri."))
		return
	}
	requestURI := q.Get("request_uri")
	t, err := c.Service.AuthorizeTarget(r.Context(), requestURI)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var user behalf.User
	if t.SignIn != nil {
		u, ok := c.SignIn.User(r, t.SignIn.Issuer)
		if !ok {
			back := "/identities/oauth2/authorize?" + url.Values{"request_uri": {requestURI}}.Encode()
			client := SignInClient{Issuer: t.SignIn.Issuer, ClientID: t.SignIn.ClientID, ClientSecret: t.SignIn.ClientSecret}
			if err := c.SignIn.Begin(w, r, client, back); err != nil {
				c.fail(w, r, err)
			}
			return
		}
		user = u
	}
	a, err := c.Service.Authorize(r.Context(), requestURI, user)
	if errors.Is(err, behalf.ErrBindWrongUser) {
		c.page(w, http.StatusForbidden, "This link was started by someone else's account",
			"You are signed in as a different user than the one who asked the agent for access. Nothing was sent to the provider, the request was cancelled, and this attempt was recorded. If someone sent you this link, do not use it.")
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.SignIn.setBrowserKey(w, r, a.BrowserKey); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, a.RedirectURL, http.StatusFound)
}

// callback: GET /identities/oauth2/callback/{providerID}?code=…&state=… →
// the app's return URL with session_id.
func (c *Consent) callback(w http.ResponseWriter, r *http.Request, providerID string) {
	target, err := c.Service.Callback(r.Context(), providerID, r.URL.Query(), c.SignIn.BrowserKeys(r))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

func (c *Consent) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := failure(r.Context(), c.Log, "consent page", err)
	if status == http.StatusForbidden {
		status = http.StatusBadRequest // a link that cannot be used, as every refusal here
	}
	c.page(w, status, "This sign-in link cannot be used", msg)
}

func (c *Consent) page(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	errorPage.Execute(w, errorData{Frame: c.Frame, Title: title, Message: msg})
}

// errorData is the error page's content.
type errorData struct {
	Frame          pageframe.Frame
	Title, Message string
}

// pagePolicy is the pages' Content-Security-Policy: no scripts, no
// framing, forms posting to Behalf only; the frame adds its logo's origin
// as img-src.
const pagePolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"

// setPageHeaders forbids framing, caching and referrer leaks on every page.
func setPageHeaders(w http.ResponseWriter, f pageframe.Frame) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", f.CSP(pagePolicy))
}

var errorPage = pageframe.Parse("error", `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · {{.Frame.ProductName}}</title>
<style>{{template "frame-style"}}
body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}h1{font-size:1.4rem}</style>
</head>
<body>{{template "frame-header" .Frame}}<main>
<h1>{{.Title}}</h1>
<p role="alert">{{.Message}}</p>
<p>Go back to the agent and ask it for a new link.</p>
</main>{{template "frame-footer" .Frame}}</body>
</html>
`)
