package web

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/pageframe"
)

// Bind is Behalf's own session-binding page. A workload that lists
// {public-url}/identities/oauth2/bind among its return URLs, and has an
// inbound identity provider (behalf workload set-binding), gets its
// users' connections completed here instead of by its app:
//
//	GET /identities/oauth2/bind?session_id=…   the provider's redirect lands here
//	  │ no Behalf session cookie for the workload's issuer
//	  ├──▶ SignIn.Begin (code + PKCE at the issuer) ──▶ back here, signed in
//	  │ signed in
//	  └──▶ BindInBrowser ──▶ "done" page, or refused: the session fails
//
// Binding happens only when the signed-in user (issuer + subject) is the
// user who started the flow and this browser holds the key Consent gave
// the browser that opened the authorization URL; anything else binds
// nothing, ends the session and is audited by the service. Completing on
// GET is safe: the session is single-use, bound to its user and to that
// browser. There is no form: a browser that did not consent cannot
// finish, whoever is signed in.
type Bind struct {
	Service behalf.BindService
	SignIn  *SignIn
	// Agents names the agent as its users know it (nil: by its workload).
	Agents behalf.AgentNames
	// Frame is the page's frame (operator name and logo).
	Frame pageframe.Frame
	Log   *slog.Logger
}

// ServeHTTP routes the binding page's requests.
func (b *Bind) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w, b.Frame)
	switch {
	case r.URL.Path == behalf.BindPath && r.Method == http.MethodGet:
		b.show(w, r)
	case r.URL.Path == behalf.BindPath:
		w.Header().Set("Allow", "GET")
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
	t, user, ok := b.signedIn(w, r, q.Get("session_id"))
	if !ok {
		return
	}
	b.bind(w, r, t, user)
}

// signedIn loads the session's target and the browser's user at the
// workload's issuer. Without one (or with force) it starts a sign-in that
// returns to GET BindPath and reports false, as it does after writing an
// error page.
func (b *Bind) signedIn(w http.ResponseWriter, r *http.Request, sessionURI string) (*behalf.BindTarget, behalf.User, bool) {
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
	if u, ok := b.SignIn.User(r, t.Inbound.Issuer); ok {
		return t, u, true
	}
	client := SignInClient{Issuer: t.Inbound.Issuer, ClientID: t.Inbound.ClientID, ClientSecret: t.ClientSecret}
	back := behalf.BindPath + "?" + url.Values{"session_id": {sessionURI}}.Encode()
	if err := b.SignIn.Begin(w, r, client, back); err != nil {
		b.fail(w, r, err)
	}
	return nil, behalf.User{}, false
}

// bind completes the session for user and shows the outcome.
func (b *Bind) bind(w http.ResponseWriter, r *http.Request, t *behalf.BindTarget, user behalf.User) {
	res, err := b.Service.BindInBrowser(r.Context(), t.SessionURI, user, b.SignIn.BrowserKeys(r))
	if err != nil {
		b.bindFailed(w, r, t, err)
		return
	}
	provider := behalf.ProviderLabel(res.Provider, res.ProviderVendor)
	title := provider + " is connected"
	if res.AlreadyBound {
		title = provider + " was already connected"
	}
	b.page(w, r, http.StatusOK, pageData{Title: title, Result: res, RedirectURL: res.RedirectURL})
}

// bindFailed shows why a session was not bound.
func (b *Bind) bindFailed(w http.ResponseWriter, r *http.Request, t *behalf.BindTarget, err error) {
	switch {
	case errors.Is(err, behalf.ErrBindWrongUser):
		b.page(w, r, http.StatusForbidden, pageData{
			Title: "This link was started by someone else's account", Target: t, Refused: true,
			Message: "You are signed in as a different user than the one who asked the agent for access. Nothing was connected, the request was cancelled, and this attempt was recorded. If someone sent you this link, do not use it.",
		})
	case errors.Is(err, behalf.ErrBindOtherBrowser):
		b.page(w, r, http.StatusForbidden, pageData{
			Title: "This link was opened in another browser", Target: t, Refused: true,
			Message: "Access was approved in a different browser than this one. Nothing was connected, the request was cancelled, and this attempt was recorded. If someone sent you this link, do not use it.",
		})
	default:
		b.fail(w, r, err)
	}
}

func (b *Bind) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := failure(r.Context(), logOr(b.Log), "binding page", err)
	b.page(w, r, status, pageData{Title: "This link cannot be used", Message: msg, Retry: true})
}

// agentName names workload's agent as its users know it (names may be
// nil: the workload's own name).
func agentName(ctx context.Context, names behalf.AgentNames, workload string) string {
	if names == nil {
		return workload
	}
	return names.AgentName(ctx, workload)
}

// pageData is every binding page's content.
type pageData struct {
	Frame pageframe.Frame
	// Agent and Provider name the session's agent and provider as users
	// know them (set by page from Result or Target).
	Agent, Provider string
	Title, Message  string
	Target          *behalf.BindTarget
	Result          *behalf.BindResult
	RedirectURL     string
	// Refused shows a refusal with the session's target.
	Refused bool
	// Retry tells the user to ask the agent for a new link.
	Retry bool
}

func (b *Bind) page(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	d.Frame = b.Frame
	switch {
	case d.Result != nil:
		d.Agent, d.Provider = agentName(r.Context(), b.Agents, d.Result.Workload), behalf.ProviderLabel(d.Result.Provider, d.Result.ProviderVendor)
	case d.Target != nil:
		d.Agent, d.Provider = agentName(r.Context(), b.Agents, d.Target.Workload), behalf.ProviderLabel(d.Target.Provider, d.Target.ProviderVendor)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := bindPage.Execute(w, d); err != nil && !errors.Is(err, context.Canceled) {
		logOr(b.Log).WarnContext(r.Context(), "render binding page", "err", err)
	}
}

//go:embed templates/bind.html
var bindHTML string

var bindPage = pageframe.Parse("bind", bindHTML)
