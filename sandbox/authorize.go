package sandbox

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/behalf-dev/behalf/internal/randid"
)

// codeTTL is the lifetime of an authorization code; consentTTL that of a
// consent page.
const (
	codeTTL    = 10 * time.Minute
	consentTTL = 10 * time.Minute
	maxPending = 10000
)

// csrfCookie holds the browser's CSRF token; the consent form must carry
// the same value.
const csrfCookie = "sandbox_csrf"

// authCode is an issued authorization code.
type authCode struct {
	clientID  string
	user      string
	redirect  string
	challenge string
	nonce     string
	scopes    []string
	offline   bool // access_type=offline
	consent   bool // prompt included consent
	expires   time.Time
	used      bool
	grant     *grant // set by the first exchange
}

// pendingAuth is an authorization request waiting on its consent page.
type pendingAuth struct {
	query   url.Values
	csrf    string
	expires time.Time
}

// singleParams are the authorization request parameters that must not be
// repeated (RFC 6749 section 3.1).
var singleParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state",
	"code_challenge", "code_challenge_method", "nonce", "access_type", "prompt", "login_hint",
}

// authorize is the authorization endpoint: it checks the request, then
// shows the consent page (or, with AutoConsent, consents at once for
// login_hint or DefaultUser).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.authorizations++
	s.st.lastAuth = cloneValues(q)

	cl, open, ok := s.lookupClient(q.Get("client_id"))
	if !ok || len(q["client_id"]) != 1 {
		http.Error(w, "invalid_client: The OAuth client was not found.", http.StatusUnauthorized)
		return
	}
	redirect := q.Get("redirect_uri")
	if len(q["redirect_uri"]) != 1 || !(slices.Contains(cl.RedirectURIs, redirect) || open && validRedirect(redirect)) {
		http.Error(w, "redirect_uri_mismatch: The redirect URI is not registered for this client.", http.StatusBadRequest)
		return
	}
	if code, desc := checkAuthRequest(q); code != "" {
		redirectBack(w, r, redirect, url.Values{"error": {code}, "error_description": {desc}, "state": q["state"]})
		return
	}
	if s.st.deny {
		redirectBack(w, r, redirect, url.Values{"error": {"access_denied"}, "state": {q.Get("state")}})
		return
	}
	if s.opts.AutoConsent {
		user := q.Get("login_hint")
		if user == "" {
			user = DefaultUser
		}
		code := s.newCode(q, user)
		redirectBack(w, r, redirect, url.Values{"code": {code}, "state": {q.Get("state")}, "scope": {q.Get("scope")}})
		return
	}
	s.showConsent(w, r, cl, q)
}

// checkAuthRequest returns an OAuth error code and description for an
// authorization request the server refuses, or "" if it is acceptable.
func checkAuthRequest(q url.Values) (code, desc string) {
	for _, p := range singleParams {
		if len(q[p]) > 1 {
			return "invalid_request", "Parameter " + p + " is repeated."
		}
	}
	switch {
	case q.Get("response_type") != "code":
		return "unsupported_response_type", "Only response_type=code is supported."
	case q.Get("scope") == "":
		return "invalid_request", "Missing required parameter: scope."
	case q.Get("state") == "":
		return "invalid_request", "Missing required parameter: state."
	case q.Get("code_challenge") == "":
		return "invalid_request", "Missing required parameter: code_challenge."
	case q.Get("code_challenge_method") != "S256":
		return "invalid_request", "code_challenge_method must be S256."
	}
	return "", ""
}

// showConsent remembers the request and renders the consent page. Callers
// hold s.mu.
func (s *Server) showConsent(w http.ResponseWriter, r *http.Request, cl *Client, q url.Values) {
	now := s.now()
	if len(s.st.pending) >= maxPending {
		for id, p := range s.st.pending {
			if !now.Before(p.expires) {
				delete(s.st.pending, id)
			}
		}
		if len(s.st.pending) >= maxPending {
			http.Error(w, "temporarily_unavailable: Too many consent pages are open.", http.StatusServiceUnavailable)
			return
		}
	}
	csrf := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 && strings.Trim(c.Value, alnumChars) == "" {
		csrf = c.Value // one token per browser, so several tabs work
	} else {
		csrf = randid.Alnum(43)
		http.SetCookie(w, &http.Cookie{
			Name: csrfCookie, Value: csrf, Path: "/o/oauth2/", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(s.URL, "https://"),
		})
	}
	id := randid.Alnum(32)
	s.st.pending[id] = &pendingAuth{query: cloneValues(q), csrf: csrf, expires: now.Add(consentTTL)}

	user := q.Get("login_hint")
	if user == "" {
		user = DefaultUser
	}
	name := cl.Name
	if name == "" {
		name = cl.ID
	}
	back, _ := url.Parse(q.Get("redirect_uri"))
	page := consentPage{
		Client: name, ClientID: cl.ID, User: user, RequestID: id, CSRF: csrf,
		Action: ConsentPath, RedirectHost: back.Host,
		Offline: q.Get("access_type") == "offline",
	}
	for _, sc := range strings.Fields(q.Get("scope")) {
		page.Scopes = append(page.Scopes, scopeLine{Scope: sc, Text: describeScope(sc)})
	}
	setPageHeaders(w)
	w.WriteHeader(http.StatusOK)
	consentTemplate.Execute(w, page)
}

const alnumChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// consent is the consent form's target: it checks the CSRF token and
// redirects back with a code (Allow) or error=access_denied (Deny).
func (s *Server) consent(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		errorPage(w, http.StatusBadRequest, "The consent form could not be read.")
		return
	}
	f := r.PostForm
	token := f.Get("csrf_token")
	cookie, _ := r.Cookie(csrfCookie)

	s.mu.Lock()
	defer s.mu.Unlock()
	id := f.Get("request_id")
	p, ok := s.st.pending[id]
	if ok && !s.now().Before(p.expires) {
		delete(s.st.pending, id)
		ok = false
	}
	if !ok {
		errorPage(w, http.StatusBadRequest, "This consent page has expired or was already used. Start again from the application.")
		return
	}
	if token == "" || cookie == nil || !equal(cookie.Value, token) || !equal(p.csrf, token) {
		errorPage(w, http.StatusForbidden, "The consent form's CSRF token is missing or does not match this browser's cookie. Reload the application's link and try again.")
		return
	}
	q := p.query
	redirect, state := q.Get("redirect_uri"), q.Get("state")
	switch f.Get("decision") {
	case "allow":
		user := strings.TrimSpace(f.Get("user"))
		if !validUser(user) {
			errorPage(w, http.StatusBadRequest, "The sandbox user must be an email address, such as "+DefaultUser+".")
			return
		}
		delete(s.st.pending, id)
		code := s.newCode(q, user)
		redirectBack(w, r, redirect, url.Values{"code": {code}, "state": {state}, "scope": {q.Get("scope")}})
	case "deny":
		delete(s.st.pending, id)
		redirectBack(w, r, redirect, url.Values{"error": {"access_denied"}, "state": {state}})
	default:
		errorPage(w, http.StatusBadRequest, "Choose Allow or Deny.")
	}
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// validUser reports whether u can name a sandbox user: an email-like
// string.
func validUser(u string) bool {
	local, domain, ok := strings.Cut(u, "@")
	return ok && local != "" && domain != "" && len(u) <= 254 && !strings.ContainsAny(u, " \t\r\n<>\"")
}

// newCode issues an authorization code for the request q and user.
// Callers hold s.mu.
func (s *Server) newCode(q url.Values, user string) string {
	code := "4/" + randid.Alnum(40)
	s.st.codes[code] = &authCode{
		clientID:  q.Get("client_id"),
		user:      user,
		redirect:  q.Get("redirect_uri"),
		challenge: q.Get("code_challenge"),
		nonce:     q.Get("nonce"),
		scopes:    strings.Fields(q.Get("scope")),
		offline:   q.Get("access_type") == "offline",
		consent:   slices.Contains(strings.Fields(q.Get("prompt")), "consent"),
		expires:   s.now().Add(codeTTL),
	}
	return code
}

// redirectBack redirects the browser to the client's redirect URI with
// params added to its query.
func redirectBack(w http.ResponseWriter, r *http.Request, redirect string, params url.Values) {
	u, err := url.Parse(redirect)
	if err != nil {
		http.Error(w, "invalid redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// scopeTexts describes Google scopes as Google's consent screen does.
var scopeTexts = map[string]string{
	"openid":  "Associate you with your personal info on Google",
	"email":   "See your primary Google Account email address",
	"profile": "See your personal info, including any personal info you've made publicly available",
	"https://www.googleapis.com/auth/userinfo.email":   "See your primary Google Account email address",
	"https://www.googleapis.com/auth/userinfo.profile": "See your personal info, including any personal info you've made publicly available",
	DriveScope:                                              "See, edit, create, and delete all of your Google Drive files",
	DriveScope + ".readonly":                                "See and download all your Google Drive files",
	DriveScope + ".file":                                    "See, edit, create, and delete only the specific Google Drive files you use with this app",
	DriveScope + ".metadata":                                "View and manage metadata of files in your Google Drive",
	DriveScope + ".metadata.readonly":                       "See information about your Google Drive files",
	"https://www.googleapis.com/auth/drive.appdata":         "See, create, and delete its own configuration data in your Google Drive",
	"https://www.googleapis.com/auth/drive.photos.readonly": "View the photos, videos and albums in your Google Photos",
}

func describeScope(sc string) string {
	if t, ok := scopeTexts[sc]; ok {
		return t
	}
	return sc
}

type scopeLine struct{ Scope, Text string }

type consentPage struct {
	Client, ClientID, User, RequestID, CSRF, Action, RedirectHost string
	Scopes                                                        []scopeLine
	Offline                                                       bool
}

const pageStyle = `body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}` +
	`h1{font-size:1.4rem}.banner{background:#fff4ce;border:1px solid #e0c060;padding:.5rem .75rem;border-radius:6px;font-size:.9rem}` +
	`.actions{display:flex;flex-direction:row-reverse;justify-content:flex-start;gap:1rem;margin-top:1.5rem}` +
	`button{font:inherit;padding:.4rem 1.2rem;border-radius:4px;border:1px solid #888;background:#fff;cursor:pointer}` +
	`button[value=allow]{background:#1a73e8;border-color:#1a73e8;color:#fff}input[type=email]{font:inherit;padding:.2rem .4rem;width:16rem}` +
	`code{font-size:.85rem;word-break:break-all}`

// The Allow button comes first in the document (Enter allows) but shows
// to the right of Deny, as on Google's page.
var consentTemplate = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Behalf sandbox (not Google)</title>
<style>` + pageStyle + `</style>
</head>
<body><main data-sandbox-consent>
<p class="banner">Behalf sandbox: a local stand-in for Google. This is not Google; no real account or data is involved.</p>
<h1 data-client="{{.Client}}">{{.Client}} wants to access your Google Account</h1>
<form method="post" action="{{.Action}}">
<input type="hidden" name="request_id" value="{{.RequestID}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<p><label for="user">Sandbox user:</label> <input id="user" name="user" type="email" value="{{.User}}" required></p>
<p>This will allow <strong>{{.Client}}</strong> (client id <code>{{.ClientID}}</code>) to:</p>
<ul>
{{range .Scopes}}<li data-scope="{{.Scope}}">{{.Text}} <br><code>{{.Scope}}</code></li>
{{end}}</ul>
{{if .Offline}}<p>It asks for offline access: it can keep this access while you are away, until you revoke it.</p>
{{end}}<p>Allow sends you back to <code>{{.RedirectHost}}</code>.</p>
<div class="actions">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>
</main></body>
</html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Error · Behalf sandbox (not Google)</title>
<style>` + pageStyle + `</style>
</head>
<body><main>
<p class="banner">Behalf sandbox: a local stand-in for Google. This is not Google.</p>
<h1>Something went wrong</h1>
<p role="alert">{{.}}</p>
</main></body>
</html>
`))

func errorPage(w http.ResponseWriter, status int, msg string) {
	setPageHeaders(w)
	w.WriteHeader(status)
	errorTemplate.Execute(w, msg)
}

// setPageHeaders forbids framing, caching, scripts and referrer leaks. No
// form-action directive: browsers apply it to the redirects that follow
// the form's submission, which go to the client.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
}

// home is a short page naming the sandbox's endpoints.
func (s *Server) home(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	mode := "registered clients only (POST " + ClientsPath + ")"
	if s.opts.Open {
		mode = "open: any client id and redirect URI"
	}
	w.Write([]byte("Behalf sandbox: a local stand-in for Google OAuth 2.0 and Drive, for demos and CI. Not Google.\n\n" +
		"Discovery:      " + s.DiscoveryURL() + "\n" +
		"Authorization:  " + s.URL + AuthorizePath + "\n" +
		"Token:          " + s.URL + TokenPath + "\n" +
		"Revocation:     " + s.URL + RevokePath + "\n" +
		"Userinfo:       " + s.URL + UserinfoPath + "\n" +
		"Drive files:    " + s.URL + DriveFilesPath + " (DRIVE_ENDPOINT=" + s.DriveEndpoint() + ")\n" +
		"Clients:        " + mode + "\n"))
}
