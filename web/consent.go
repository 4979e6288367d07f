package web

import (
	"html/template"
	"log/slog"
	"net/http"

	"github.com/behalf-dev/behalf"
)

// Consent serves the browser's leg of the three-legged OAuth flow.
type Consent struct {
	Service behalf.ConsentService
	Log     *slog.Logger
	// SignIn, when set, marks the browser that opens an authorization URL
	// (a sealed cookie), so Behalf's binding page completes the session in
	// that browser without asking to confirm (see Bind).
	SignIn *SignIn
}

// ServeHTTP routes the two consent endpoints.
func (c *Consent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w)
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
	target, err := c.Service.Authorize(r.Context(), q.Get("request_uri"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if c.SignIn != nil {
		c.SignIn.MarkConsent(w, r, q.Get("request_uri"))
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// callback: GET /identities/oauth2/callback/{providerID}?code=…&state=… →
// the app's return URL with session_id.
func (c *Consent) callback(w http.ResponseWriter, r *http.Request, providerID string) {
	target, err := c.Service.Callback(r.Context(), providerID, r.URL.Query())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

func (c *Consent) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusBadRequest, behalf.ErrorMessage(err)
	if code := behalf.ErrorCode(err); code != behalf.EINVALID && code != behalf.EFORBIDDEN && code != behalf.ENOTFOUND {
		status = http.StatusInternalServerError
		c.Log.ErrorContext(r.Context(), "consent page error", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	errorPage.Execute(w, struct{ Title, Message string }{"This sign-in link cannot be used", msg})
}

// setPageHeaders forbids framing, caching and referrer leaks on every page.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'")
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Behalf</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}h1{font-size:1.4rem}</style>
</head>
<body><main>
<h1>{{.Title}}</h1>
<p role="alert">{{.Message}}</p>
<p>Go back to the agent and ask it for a new link.</p>
</main></body>
</html>
`))
