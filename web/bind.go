package web

import (
	"context"
	_ "embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// Bind is Behalf's own session-binding page. A workload that lists
// {public-url}/identities/oauth2/bind among its return URLs, and has an
// inbound identity provider (behalf workload set-binding), gets its
// users' connections completed here instead of by its app:
//
//	GET  /identities/oauth2/bind?session_id=…   the provider's redirect lands here
//	  │ no Behalf session cookie for the workload's issuer
//	  ├──▶ SignIn.Begin (code + PKCE at the issuer) ──▶ back here, signed in
//	  │ signed in, and this browser opened the authorization URL
//	  ├──▶ BindInBrowser ──▶ "done" page (or "started by someone else's account")
//	  │ signed in, but the authorization URL was opened elsewhere
//	  └──▶ a confirmation form
//	POST /identities/oauth2/bind                 the confirmation (CSRF token)
//	POST /identities/oauth2/bind/switch          sign out and sign in with another account (CSRF token)
//
// Binding happens only when the signed-in user (issuer + subject) is the
// user who started the flow; anything else binds nothing and is audited by
// the service. Completing on GET is safe: the session is single-use, bound
// to its user, and (without the confirmation) to the browser that opened
// its authorization URL, which Consent marks with a cookie.
type Bind struct {
	Service behalf.BindService
	SignIn  *SignIn
	Log     *slog.Logger
}

// Form actions of the CSRF tokens.
func bindAction(sessionURI string) string   { return "bind:" + sessionURI }
func switchAction(sessionURI string) string { return "switch:" + sessionURI }

// consentLifetime bounds the consent-browser cookie (sessions live 10 minutes).
const consentLifetime = 15 * time.Minute

const consentCookiePrefix = "behalf_consent_"

// ServeHTTP routes the binding page's requests.
func (b *Bind) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w)
	switch {
	case r.URL.Path == behalf.BindPath && r.Method == http.MethodGet:
		b.show(w, r)
	case r.URL.Path == behalf.BindPath && r.Method == http.MethodPost:
		b.confirm(w, r)
	case r.URL.Path == behalf.BindPath+"/switch" && r.Method == http.MethodPost:
		b.switchAccount(w, r)
	case r.URL.Path == behalf.BindPath || r.URL.Path == behalf.BindPath+"/switch":
		w.Header().Set("Allow", "GET, POST")
		b.page(w, r, http.StatusMethodNotAllowed, pageData{Title: "This address cannot be used this way", Message: "Open the link the agent gave you instead."})
	default:
		http.NotFound(w, r)
	}
}

// show: GET BindPath?session_id=…[&state=…][&error=…].
func (b *Bind) show(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		b.page(w, r, http.StatusOK, pageData{
			Title:   "Nothing was connected",
			Message: "The provider did not grant access (" + truncate(e, 64) + "). Go back to the agent if you want to try again.",
		})
		return
	}
	if len(q["session_id"]) != 1 {
		b.fail(w, r, behalf.Errorf(behalf.EINVALID, "Invalid request: the link has no session_id."))
		return
	}
	sessionURI := q.Get("session_id")
	t, user, ok := b.signedIn(w, r, sessionURI, false)
	if !ok {
		return
	}
	if t.Completed || b.consentedHere(r, sessionURI) {
		b.bind(w, r, t, user)
		return
	}
	if err := b.Service.CheckBindUser(r.Context(), sessionURI, user); err != nil {
		b.bindFailed(w, r, t, err)
		return
	}
	// The authorization URL was opened in another browser: ask first.
	tok, err := b.SignIn.CSRFToken(w, r, bindAction(sessionURI))
	if err != nil {
		b.fail(w, r, err)
		return
	}
	b.page(w, r, http.StatusOK, pageData{
		Title: "Finish connecting " + t.Provider, Target: t, Confirm: true, SessionURI: sessionURI, CSRF: tok,
		Message: "This page was opened in a different browser than the one that approved access at " + t.Provider + ". Only continue if you approved it yourself just now.",
	})
}

// confirm: POST BindPath with session_id and csrf.
func (b *Bind) confirm(w http.ResponseWriter, r *http.Request) {
	sessionURI, ok := b.checkForm(w, r, bindAction)
	if !ok {
		return
	}
	t, user, ok := b.signedIn(w, r, sessionURI, false)
	if !ok {
		return
	}
	b.bind(w, r, t, user)
}

// switchAccount: POST BindPath/switch signs the browser out of the
// workload's issuer and signs in again, asking for credentials.
func (b *Bind) switchAccount(w http.ResponseWriter, r *http.Request) {
	sessionURI, ok := b.checkForm(w, r, switchAction)
	if !ok {
		return
	}
	b.signedIn(w, r, sessionURI, true)
}

// signedIn loads the session's target and the browser's user at the
// workload's issuer. Without one (or with force) it starts a sign-in that
// returns to GET BindPath and reports false, as it does after writing an
// error page.
func (b *Bind) signedIn(w http.ResponseWriter, r *http.Request, sessionURI string, force bool) (*behalf.BindTarget, behalf.User, bool) {
	t, err := b.Service.BindTarget(r.Context(), sessionURI)
	if err != nil {
		b.fail(w, r, err)
		return nil, behalf.User{}, false
	}
	if t.UserIssuer != t.Inbound.Issuer && !t.Completed {
		b.page(w, r, http.StatusBadRequest, pageData{
			Title:   "This connection cannot be finished here",
			Message: "The agent did not identify you through its sign-in provider, so this page cannot check that you started this request. Nothing was connected; ask the agent's app to finish it.",
		})
		return nil, behalf.User{}, false
	}
	if !force {
		if u, ok := b.SignIn.User(r, t.Inbound.Issuer); ok {
			return t, u, true
		}
	}
	b.SignIn.SignOut(w, t.Inbound.Issuer)
	client := SignInClient{Issuer: t.Inbound.Issuer, ClientID: t.Inbound.ClientID, ClientSecret: t.ClientSecret, ForceLogin: force}
	back := behalf.BindPath + "?" + url.Values{"session_id": {sessionURI}}.Encode()
	if err := b.SignIn.Begin(w, r, client, back); err != nil {
		b.fail(w, r, err)
	}
	return nil, behalf.User{}, false
}

// bind completes the session for user and shows the outcome.
func (b *Bind) bind(w http.ResponseWriter, r *http.Request, t *behalf.BindTarget, user behalf.User) {
	res, err := b.Service.BindInBrowser(r.Context(), t.SessionURI, user)
	if err != nil {
		b.bindFailed(w, r, t, err)
		return
	}
	b.clearConsent(w, t.SessionURI)
	title := res.Provider + " is connected"
	if res.AlreadyBound {
		title = res.Provider + " was already connected"
	}
	b.page(w, r, http.StatusOK, pageData{Title: title, Result: res, RedirectURL: res.RedirectURL})
}

// bindFailed shows why a session was not bound.
func (b *Bind) bindFailed(w http.ResponseWriter, r *http.Request, t *behalf.BindTarget, err error) {
	if errors.Is(err, behalf.ErrBindWrongUser) {
		tok, terr := b.SignIn.CSRFToken(w, r, switchAction(t.SessionURI))
		if terr != nil {
			b.fail(w, r, terr)
			return
		}
		b.page(w, r, http.StatusForbidden, pageData{
			Title: "This link was started by someone else's account", Target: t, Refused: true, SessionURI: t.SessionURI, CSRF: tok,
			Message: "You are signed in as a different user than the one who asked the agent for access. Nothing was connected, and this attempt was recorded. If someone sent you this link, do not use it.",
		})
		return
	}
	b.fail(w, r, err)
}

// checkForm parses a posted form and checks its CSRF token for action.
func (b *Bind) checkForm(w http.ResponseWriter, r *http.Request, action func(string) string) (string, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || len(r.PostForm["session_id"]) != 1 || len(r.PostForm["csrf"]) != 1 {
		b.page(w, r, http.StatusBadRequest, pageData{Title: "This form cannot be used", Message: "The form was incomplete. Open the link the agent gave you again."})
		return "", false
	}
	sessionURI := r.PostForm.Get("session_id")
	if !b.SignIn.CheckCSRF(r, action(sessionURI)) {
		b.page(w, r, http.StatusForbidden, pageData{Title: "This form cannot be used", Message: "The form has expired or was not sent from this page. Nothing was changed. Open the link the agent gave you again."})
		return "", false
	}
	return sessionURI, true
}

// MarkConsent records, in the browser that opens a session's
// authorization URL, that it did (a sealed cookie for the binding page).
func (s *SignIn) MarkConsent(w http.ResponseWriter, r *http.Request, sessionURI string) {
	v, err := s.seal(r.Context(), consentSeal(sessionURI), s.now().Add(consentLifetime).Unix())
	if err != nil {
		s.log().WarnContext(r.Context(), "seal consent cookie", "err", err)
		return
	}
	http.SetCookie(w, s.cookie(consentCookiePrefix+shortHash(sessionURI), v, behalf.BindPath, int(consentLifetime/time.Second), http.SameSiteLaxMode))
}

// consentedHere reports whether this browser opened the session's authorization URL.
func (b *Bind) consentedHere(r *http.Request, sessionURI string) bool {
	c, err := r.Cookie(consentCookiePrefix + shortHash(sessionURI))
	if err != nil || len(c.Value) > maxCookieLen {
		return false
	}
	var exp int64
	return b.SignIn.open(r.Context(), consentSeal(sessionURI), c.Value, &exp) && b.SignIn.now().Unix() < exp
}

func (b *Bind) clearConsent(w http.ResponseWriter, sessionURI string) {
	http.SetCookie(w, b.SignIn.cookie(consentCookiePrefix+shortHash(sessionURI), "", behalf.BindPath, -1, http.SameSiteLaxMode))
}

func consentSeal(sessionURI string) behalf.SealContext {
	return behalf.SealContext{Kind: "web-consent-browser", Key: sessionURI, Field: "cookie"}
}

func (b *Bind) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusBadRequest, behalf.ErrorMessage(err)
	switch behalf.ErrorCode(err) {
	case behalf.EINVALID, behalf.ENOTFOUND:
	case behalf.EFORBIDDEN:
		status = http.StatusForbidden
	case behalf.EUNAVAILABLE:
		status, msg = http.StatusBadGateway, "The sign-in provider could not be reached. Please try again in a moment."
		b.log().WarnContext(r.Context(), "binding page: sign-in provider unavailable", "err", err)
	default:
		status, msg = http.StatusInternalServerError, "Something went wrong on our side. Please try again."
		b.log().ErrorContext(r.Context(), "binding page error", "err", err)
	}
	b.page(w, r, status, pageData{Title: "This link cannot be used", Message: msg, Retry: true})
}

func (b *Bind) log() *slog.Logger {
	if b.Log != nil {
		return b.Log
	}
	return slog.Default()
}

// pageData is every binding page's content.
type pageData struct {
	Title, Message string
	Target         *behalf.BindTarget
	Result         *behalf.BindResult
	RedirectURL    string
	// Confirm shows the confirmation form, Refused the switch-account form.
	Confirm, Refused bool
	SessionURI, CSRF string
	// Retry tells the user to ask the agent for a new link.
	Retry bool
}

func (b *Bind) page(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if d.Confirm || d.Refused {
		// Submitting these forms may redirect to the sign-in provider.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"+formOrigin(d.Target))
	}
	w.WriteHeader(status)
	if err := bindPage.Execute(w, d); err != nil && !errors.Is(err, context.Canceled) {
		b.log().WarnContext(r.Context(), "render binding page", "err", err)
	}
}

// formOrigin is " https://issuer.example" when the target's issuer is
// another origin, for the CSP form-action of pages whose forms lead there.
func formOrigin(t *behalf.BindTarget) string {
	if t == nil {
		return ""
	}
	u, err := url.Parse(t.Inbound.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || strings.ContainsAny(u.Host, " ;'") {
		return ""
	}
	return " " + u.Scheme + "://" + u.Host
}

//go:embed templates/bind.html
var bindHTML string

var bindPage = template.Must(template.New("bind").Parse(bindHTML))
