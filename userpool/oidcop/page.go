package oidcop

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/behalf-dev/behalf/internal/pageframe"
)

// Page titles.
const (
	pageBadRequest = "This sign-in request cannot be used"
	pageExpired    = "This sign-in link has expired"
)

// loginForm is what the login page shows.
type loginForm struct {
	Step      string // stepPassword, stepNewPassword, stepMFA, stepMFASetup, or a view of signup.go
	RequestID string
	Username  string
	Error     string
	Notice    string // a success message (signup.go's notices)
	SignUp    bool   // the pool lets users sign up
	Links     struct{ SignUp, Forgot, SignIn string }
	AppName   string
	Action    string
	Frame     pageframe.Frame
	CSRF      string
	// Registered is set for a client that registered itself (RFC 7591):
	// the page says so and names RedirectHost, where the code goes.
	Registered   bool
	RedirectHost string
	// DocumentHost is the host of a client ID metadata document's
	// client_id: the app identifies itself as it.
	DocumentHost string
	// TOTPSecret and TOTPURI are the MFA setup page's new secret (base32)
	// and its otpauth:// URI.
	TOTPSecret string
	TOTPURI    template.URL

	pool        string
	redirectURI string
}

// renderLogin writes the login page with a fresh CSRF token.
func (p *Provider) renderLogin(w http.ResponseWriter, r *http.Request, status int, f *loginForm) {
	ctx := r.Context()
	tok, err := p.csrfToken(ctx, f.RequestID, p.browserID(w, r, f.pool))
	if err != nil {
		p.log.ErrorContext(ctx, "hosted login: CSRF token", "err", err)
		p.errorPage(w, http.StatusInternalServerError, pageBadRequest, genericFailure)
		return
	}
	f.CSRF, f.Action = tok, p.basePath(ctx, f.pool)+pathLogin
	link := func(view string) string {
		q := url.Values{"request": {f.RequestID}}
		if view != "" {
			q.Set("view", view)
		}
		return f.Action + "?" + q.Encode()
	}
	f.Links.SignUp, f.Links.Forgot, f.Links.SignIn = link(viewSignUp), link(viewForgot), link("")
	if f.AppName == "" {
		f.AppName = "the application"
	}
	f.Frame = p.frame
	p.setPageHeaders(w.Header(), formAction(f.redirectURI))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := loginPage.Execute(w, f); err != nil {
		p.log.WarnContext(ctx, "hosted login: render login page", "err", err)
	}
}

// errorPage writes a page that explains why a request cannot go on.
func (p *Provider) errorPage(w http.ResponseWriter, status int, title, msg string) {
	p.setPageHeaders(w.Header(), "")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	errorPage.Execute(w, errorData{Frame: p.frame, Title: title, Message: msg})
}

// errorData is the error page's content.
type errorData struct {
	Frame          pageframe.Frame
	Title, Message string
}

// appName is how the login page names what the user signs in to: the app
// client's name, but for the sign-ins of Behalf's own pages (the binding,
// connections and consent portal pages, whose redirect URI is Behalf's
// sign-in callback) the operator's name, else the product's: the client
// there is plumbing the user never chose.
func (p *Provider) appName(a *authRequest) string {
	if a.Registered || a.RedirectURI != p.ownSignIn {
		return a.ClientName
	}
	if p.frame.Operator != "" {
		return p.frame.Operator
	}
	return p.frame.ProductName()
}

// setPageHeaders forbids framing, caching, scripts and referrer leaks.
// Forms may post to this site only; redirectSource, when set, also lets
// a form's response redirect to the client (browsers apply form-action
// to the redirects that follow a submission). Images may come from the
// frame's logo's origin only.
func (p *Provider) setPageHeaders(h http.Header, redirectSource string) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	csp := "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	if redirectSource != "" {
		csp += " " + redirectSource
	}
	h.Set("Content-Security-Policy", p.frame.CSP(csp))
}

// cspSafe is what a CSP source built from a registered URL may contain.
var cspSafe = regexp.MustCompile(`^[A-Za-z0-9.+\-]+:(//[A-Za-z0-9.\-\[\]:]+)?$`)

// redirectHost is the host (and port) a redirect URI sends the browser to.
func redirectHost(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Host == "" {
		return redirectURI
	}
	return u.Host
}

// formAction returns the CSP source of a redirect URI's origin ("https://host",
// "myapp:"), or "" if it cannot be written safely.
func formAction(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" {
		return ""
	}
	src := strings.ToLower(u.Scheme) + ":"
	if u.Scheme == "http" || u.Scheme == "https" {
		src += "//" + u.Host
	}
	if !cspSafe.MatchString(src) {
		return ""
	}
	return src
}

// htmlErrorWriter turns op's JSON error answers on the browser routes
// (authorize, logout) into an HTML page with the same status: a person is
// reading them.
type htmlErrorWriter struct {
	http.ResponseWriter
	p       *Provider
	status  int
	capture bool
	body    bytes.Buffer
}

func (w *htmlErrorWriter) WriteHeader(code int) {
	if code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		w.capture, w.status = true, code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *htmlErrorWriter) Write(b []byte) (int, error) {
	if w.capture {
		return w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// finish writes the page of a captured error.
func (w *htmlErrorWriter) finish() {
	if !w.capture {
		return
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	json.Unmarshal(w.body.Bytes(), &e)
	msg := e.Description
	if msg == "" || e.Error == "server_error" {
		msg = genericFailure
	}
	h := w.ResponseWriter.Header()
	w.p.setPageHeaders(h, "")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Del("Content-Length")
	w.ResponseWriter.WriteHeader(w.status)
	errorPage.Execute(w.ResponseWriter, errorData{Frame: w.p.frame, Title: pageBadRequest, Message: msg})
}

// bearerChallengeWriter adds RFC 6750's WWW-Authenticate to the userinfo
// endpoint's 401 and 403 answers.
type bearerChallengeWriter struct{ http.ResponseWriter }

func (w *bearerChallengeWriter) WriteHeader(code int) {
	switch code {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case http.StatusForbidden:
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="openid"`)
	}
	w.ResponseWriter.WriteHeader(code)
}

const pageStyle = `body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}label{display:block;margin-top:1rem;font-weight:600}
input{display:block;width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #767676;border-radius:4px}
input:focus,button:focus{outline:3px solid #1a5fb4;outline-offset:2px}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit;color:#fff;background:#1a5fb4;border:0;border-radius:4px;cursor:pointer}
.error{color:#a51d2d;border-left:4px solid #a51d2d;padding-left:.75rem}
.notice{color:#1d6b35;border-left:4px solid #1d6b35;padding-left:.75rem}
.caution{border-left:4px solid #9c6500;padding-left:.75rem}
a{color:#1a5fb4}`

var loginPage = pageframe.Parse("login", `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if eq .Step "new_password"}}Choose a new password{{else if eq .Step "mfa"}}Enter your verification code{{else if eq .Step "mfa_setup"}}Set up two-step verification{{else if eq .Step "signup"}}Sign up{{else if eq .Step "confirm"}}Confirm your account{{else if eq .Step "forgot"}}Forgot your password?{{else if eq .Step "reset"}}Reset your password{{else}}Sign in{{end}} · {{.AppName}}</title>
<style>{{template "frame-style"}}
`+pageStyle+`</style>
</head>
<body>{{template "frame-header" .Frame}}<main>
{{if eq .Step "new_password"}}<h1>Choose a new password</h1>
<p>You signed in with a temporary password. Choose a new one to continue to <strong>{{.AppName}}</strong>.</p>
{{else if eq .Step "signup"}}<h1>Sign up</h1>
<p>Create an account for <strong>{{.AppName}}</strong>.</p>
{{else if eq .Step "confirm"}}<h1>Confirm your account</h1>
<p>We sent a code to the email address you gave. Enter it to confirm your account.</p>
{{else if eq .Step "forgot"}}<h1>Forgot your password?</h1>
<p>Enter your username. If your account has a verified email address, we send a code to it.</p>
{{else if eq .Step "reset"}}<h1>Reset your password</h1>
<p>If your account has a verified email address, we sent a code to it. Enter the code and a new password.</p>
{{else if eq .Step "mfa"}}<h1>Enter your verification code</h1>
<p>Open your authenticator app and enter the 6-digit code it shows for <strong>{{.AppName}}</strong>.</p>
{{else if eq .Step "mfa_setup"}}<h1>Set up two-step verification</h1>
<p><strong>{{.AppName}}</strong> asks for a code from an authenticator app at every sign-in. Add this account to your app with the key below (or the link, on this device), then enter the 6-digit code the app shows.</p>
<p><label for="totp-secret">Key</label><code id="totp-secret" style="font-size:1.1rem;letter-spacing:.08em;word-break:break-all">{{.TOTPSecret}}</code></p>
<p><a id="totp-uri" href="{{.TOTPURI}}" style="word-break:break-all">{{.TOTPURI}}</a></p>
{{else}}<h1>Sign in</h1>
<p>to continue to <strong>{{.AppName}}</strong></p>
{{end}}{{if .DocumentHost}}<p id="registered-notice" class="caution">{{.AppName}} is not an app an administrator added: this app identifies itself as <strong>{{.DocumentHost}}</strong>. Continue only if you started this sign-in from it: you will be sent to <strong>{{.RedirectHost}}</strong>.</p>
{{else if .Registered}}<p id="registered-notice" class="caution">{{.AppName}} registered itself with this sign-in page; an administrator did not add it. Continue only if you started this sign-in from it: you will be sent to <strong>{{.RedirectHost}}</strong>.</p>
{{end}}{{if .Notice}}<p id="form-notice" class="notice" role="status">{{.Notice}}</p>
{{end}}{{if .Error}}<p id="form-error" class="error" role="alert">{{.Error}}</p>
{{end}}<form method="post" action="{{.Action}}">
<input type="hidden" name="request" value="{{.RequestID}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
{{if eq .Step "new_password"}}<input type="hidden" name="step" value="new_password">
<label for="new_password">New password</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" required autofocus{{if .Error}} aria-invalid="true" aria-describedby="form-error"{{end}}>
<label for="confirm_password">Confirm new password</label>
<input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required>
<button type="submit">Set password and sign in</button>
{{else if or (eq .Step "mfa") (eq .Step "mfa_setup")}}<input type="hidden" name="step" value="{{.Step}}">
<label for="code">Verification code</label>
<input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9 ]{6,7}" maxlength="7" autocomplete="one-time-code" required autofocus{{if .Error}} aria-invalid="true" aria-describedby="form-error"{{end}}>
<button type="submit">{{if eq .Step "mfa_setup"}}Verify and sign in{{else}}Sign in{{end}}</button>
{{else if eq .Step "password"}}<label for="username">Username</label>
<input id="username" name="username" type="text" value="{{.Username}}" autocomplete="username" autocapitalize="none" spellcheck="false" required{{if not .Username}} autofocus{{end}}{{if .Error}} aria-invalid="true" aria-describedby="form-error"{{end}}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required{{if .Username}} autofocus{{end}}{{if .Error}} aria-invalid="true" aria-describedby="form-error"{{end}}>
<button type="submit">Sign in</button>
{{else}}<input type="hidden" name="step" value="{{.Step}}">
<label for="username">Username</label>
<input id="username" name="username" type="text" value="{{.Username}}" autocomplete="username" autocapitalize="none" spellcheck="false" required{{if not .Username}} autofocus{{end}}{{if .Error}} aria-invalid="true" aria-describedby="form-error"{{end}}>
{{if eq .Step "signup"}}<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="email" required>
{{end}}{{if or (eq .Step "confirm") (eq .Step "reset")}}<label for="code">Code</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required{{if .Username}} autofocus{{end}}>
{{end}}{{if or (eq .Step "signup") (eq .Step "reset")}}<label for="new_password">{{if eq .Step "reset"}}New password{{else}}Password{{end}}</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" required>
<label for="confirm_password">Confirm password</label>
<input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required>
{{end}}<button type="submit">{{if eq .Step "signup"}}Sign up{{else if eq .Step "confirm"}}Confirm account{{else if eq .Step "forgot"}}Send code{{else}}Change password{{end}}</button>
{{end}}</form>
{{if eq .Step "password"}}<p><a id="forgot-link" href="{{.Links.Forgot}}">Forgot your password?</a></p>
{{if .SignUp}}<p>Need an account? <a id="signup-link" href="{{.Links.SignUp}}">Sign up</a></p>
{{end}}{{else if ne .Step "new_password"}}<p><a id="signin-link" href="{{.Links.SignIn}}">Back to sign in</a></p>
{{end}}</main>{{template "frame-footer" .Frame}}</body>
</html>
`)

var errorPage = pageframe.Parse("error", `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · {{.Frame.ProductName}}</title>
<style>{{template "frame-style"}}
`+pageStyle+`</style>
</head>
<body>{{template "frame-header" .Frame}}<main>
<h1>{{.Title}}</h1>
<p role="alert">{{.Message}}</p>
<p>Go back to the application and sign in again.</p>
</main>{{template "frame-footer" .Frame}}</body>
</html>
`)
