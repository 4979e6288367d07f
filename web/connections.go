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
	"github.com/behalf-dev/behalf/internal/pageframe"
)

// Connections is the page where users see and revoke what agents may do
// for them: every grant the vault holds for the signed-in user (agent,
// provider, scopes, granted, last used, last refreshed), each with a
// Revoke button.
//
//	GET  /connections[?issuer=…]   the list; not signed in at the issuer → SignIn.Begin, back here
//	POST /connections/revoke       revoke one grant (issuer, grant, csrf), then 303 to the list, which shows the outcome once
//	POST /connections/sign-out     forget the browser's sign-in at the issuer (issuer, csrf), then 303 to:
//	GET  /connections/sign-out?issuer=…  "signed out" (or, still signed in there, 303 to the list)
//
// The user is the browser's SignIn user at the issuer the URL names, else
// DefaultIssuer, else the issuer of the first workload with an inbound
// sign-in client (Clients with ""). Forms carry a CSRF token bound to the
// browser and the user. No JavaScript.
type Connections struct {
	Service behalf.ConnectionService
	SignIn  *SignIn
	// Clients returns the client to sign a browser in with at issuer, or
	// for "" the default one (its Issuer set); ENOTFOUND if there is none.
	Clients func(ctx context.Context, issuer string) (SignInClient, error)
	// DefaultIssuer is the issuer when the URL names none (optional).
	DefaultIssuer string
	// Agents names the agents as users know them (nil: by their workload).
	Agents behalf.AgentNames
	// Frame is the page's frame (operator name and logo).
	Frame pageframe.Frame
	Log   *slog.Logger
}

// connectionsAction is the CSRF action of the page's forms: bound to the
// user, so a token made for one user is no use to another.
func connectionsAction(u behalf.User) string { return "connections:" + u.Key() }

// ServeHTTP routes the page's requests.
func (c *Connections) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w, c.Frame)
	switch {
	case r.URL.Path == behalf.ConnectionsPath && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		c.show(w, r)
	case r.URL.Path == behalf.ConnectionsRevokePath && r.Method == http.MethodPost:
		c.revoke(w, r)
	case r.URL.Path == behalf.ConnectionsSignOutPath && r.Method == http.MethodPost:
		c.signOut(w, r)
	case r.URL.Path == behalf.ConnectionsSignOutPath && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		c.signedOut(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		c.page(w, r, http.StatusMethodNotAllowed, connectionsData{Title: "This address cannot be used this way", Message: "Open " + behalf.ConnectionsPath + " instead.", Kind: "warn"})
	}
}

// show: GET /connections.
func (c *Connections) show(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if len(q["issuer"]) > 1 {
		c.page(w, r, http.StatusBadRequest, connectionsData{Title: "This link cannot be used", Message: "The link names more than one sign-in provider.", Kind: "warn"})
		return
	}
	issuer, ok := c.issuer(w, r, q.Get("issuer"))
	if !ok {
		return
	}
	user, signedIn := c.SignIn.User(r, issuer)
	if !signedIn {
		client, err := c.Clients(r.Context(), issuer)
		if err == nil {
			err = c.SignIn.Begin(w, r, client, pagePath(issuer))
		}
		if err != nil {
			c.fail(w, r, err)
		}
		return
	}
	msg, kind := c.takeFlash(w, r, user)
	c.list(w, r, http.StatusOK, issuer, user, msg, kind)
}

// flash is the outcome of a POST, shown once by the GET it redirects to
// (POST → redirect → GET: reloading the list never submits the form
// again). It travels in a cookie sealed for the user, so no one else's
// browser, and no crafted link, can put words on the page.
type flash struct {
	User    string `json:"u"`
	Message string `json:"m"`
	Kind    string `json:"k"`
	Expires int64  `json:"e"`
}

const flashCookie = "behalf_flash"

func flashSeal(u behalf.User) behalf.SealContext {
	return behalf.SealContext{Kind: "web-connections-flash", Key: u.Key(), Field: "cookie"}
}

// redirectWithFlash remembers msg for user's next GET of the list and
// redirects there (303).
func (c *Connections) redirectWithFlash(w http.ResponseWriter, r *http.Request, issuer string, user behalf.User, msg, kind string) {
	v, err := c.SignIn.seal(r.Context(), flashSeal(user), flash{User: user.Key(), Message: msg, Kind: kind, Expires: c.SignIn.now().Add(5 * time.Minute).Unix()})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.SetCookie(w, c.SignIn.cookie(flashCookie, v, behalf.ConnectionsPath, 300, http.SameSiteLaxMode))
	http.Redirect(w, r, pagePath(issuer), http.StatusSeeOther)
}

// takeFlash returns the message a POST left for user, and deletes it.
func (c *Connections) takeFlash(w http.ResponseWriter, r *http.Request, user behalf.User) (string, string) {
	ck, err := c.SignIn.readCookie(r, flashCookie, behalf.ConnectionsPath)
	if err != nil {
		return "", ""
	}
	http.SetCookie(w, c.SignIn.cookie(flashCookie, "", behalf.ConnectionsPath, -1, http.SameSiteLaxMode))
	var f flash
	if len(ck.Value) > maxCookieLen || !c.SignIn.open(r.Context(), flashSeal(user), ck.Value, &f) ||
		f.User != user.Key() || c.SignIn.now().Unix() >= f.Expires {
		return "", ""
	}
	switch f.Kind {
	case "ok", "warn", "info":
		return f.Message, f.Kind
	}
	return "", ""
}

// revoke: POST /connections/revoke with issuer, grant and csrf.
func (c *Connections) revoke(w http.ResponseWriter, r *http.Request) {
	issuer, user, ok := c.checkForm(w, r)
	if !ok {
		return
	}
	if len(r.PostForm["grant"]) != 1 || r.PostForm.Get("grant") == "" {
		c.list(w, r, http.StatusBadRequest, issuer, user, "The form named no connection to revoke. Nothing was changed.", "warn")
		return
	}
	rev, err := c.Service.RevokeConnection(r.Context(), user.Key(), r.PostForm.Get("grant"))
	switch {
	case behalf.ErrorCode(err) == behalf.ENOTFOUND:
		c.redirectWithFlash(w, r, issuer, user, "That connection no longer exists: it was already revoked, or replaced by a new one.", "info")
	case err != nil:
		c.fail(w, r, err)
	case rev.Outcome == behalf.RevocationConfirmed:
		c.redirectWithFlash(w, r, issuer, user, rev.Message(), "ok")
	default:
		c.redirectWithFlash(w, r, issuer, user, rev.Message(), "warn")
	}
}

// signOut: POST /connections/sign-out with issuer and csrf.
func (c *Connections) signOut(w http.ResponseWriter, r *http.Request) {
	issuer, _, ok := c.checkForm(w, r)
	if !ok {
		return
	}
	c.SignIn.SignOut(w, issuer)
	http.Redirect(w, r, behalf.ConnectionsSignOutPath+"?"+url.Values{"issuer": {issuer}}.Encode(), http.StatusSeeOther)
}

// signedOut: GET /connections/sign-out?issuer=…, where signing out ends
// (POST → redirect → GET: a reload does not post the form again). A
// browser still signed in at the issuer is sent to its list instead, so a
// link cannot tell someone they are signed out when they are not.
func (c *Connections) signedOut(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	issuer := q.Get("issuer")
	if len(q["issuer"]) != 1 || !validIssuer(issuer) {
		http.Redirect(w, r, behalf.ConnectionsPath, http.StatusSeeOther)
		return
	}
	if _, signedIn := c.SignIn.User(r, issuer); signedIn {
		http.Redirect(w, r, pagePath(issuer), http.StatusSeeOther)
		return
	}
	c.page(w, r, http.StatusOK, connectionsData{Title: "Signed out", Message: "You are signed out of your connections page.", Kind: "info", SignInURL: pagePath(issuer),
		Note: "Your session at the sign-in provider itself may still be open: sign out there too on a shared computer."})
}

// checkForm parses a posted form, finds its issuer's signed-in user and
// checks the CSRF token; otherwise it writes a page and reports false.
func (c *Connections) checkForm(w http.ResponseWriter, r *http.Request) (string, behalf.User, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || len(r.PostForm["issuer"]) != 1 || len(r.PostForm["csrf"]) != 1 {
		c.page(w, r, http.StatusBadRequest, connectionsData{Title: "This form cannot be used", Message: "The form was incomplete. Nothing was changed.", Kind: "warn", SignInURL: behalf.ConnectionsPath})
		return "", behalf.User{}, false
	}
	issuer := r.PostForm.Get("issuer")
	if !validIssuer(issuer) {
		c.page(w, r, http.StatusBadRequest, connectionsData{Title: "This form cannot be used", Message: "The form names no valid sign-in provider. Nothing was changed.", Kind: "warn", SignInURL: behalf.ConnectionsPath})
		return "", behalf.User{}, false
	}
	user, ok := c.SignIn.User(r, issuer)
	if !ok {
		c.page(w, r, http.StatusUnauthorized, connectionsData{Title: "Your connections", Message: "Your sign-in has expired. Nothing was changed; sign in again to continue.", Kind: "warn", SignInURL: pagePath(issuer)})
		return "", behalf.User{}, false
	}
	if !c.SignIn.CheckCSRF(r, connectionsAction(user)) {
		c.page(w, r, http.StatusForbidden, connectionsData{Title: "This form cannot be used", Message: "The form has expired or was not sent from this page. Nothing was changed.", Kind: "warn", SignInURL: pagePath(issuer)})
		return "", behalf.User{}, false
	}
	return issuer, user, true
}

// issuer resolves the page's issuer: given, else DefaultIssuer, else the
// default client's. It writes an error page and reports false if none.
func (c *Connections) issuer(w http.ResponseWriter, r *http.Request, given string) (string, bool) {
	if given == "" {
		given = c.DefaultIssuer
	}
	if given == "" {
		client, err := c.Clients(r.Context(), "")
		if behalf.ErrorCode(err) == behalf.ENOTFOUND {
			c.page(w, r, http.StatusNotFound, connectionsData{Title: "Your connections", Kind: "warn",
				Message: "Behalf has no sign-in provider for this page yet: its administrator must set one (behalf workload set-binding)."})
			return "", false
		} else if err != nil {
			c.fail(w, r, err)
			return "", false
		}
		given = client.Issuer
	}
	if !validIssuer(given) {
		c.page(w, r, http.StatusBadRequest, connectionsData{Title: "This link cannot be used", Message: "The link's sign-in provider is not a valid issuer URL.", Kind: "warn"})
		return "", false
	}
	return given, true
}

// list shows user's connections, with a message about the last action.
func (c *Connections) list(w http.ResponseWriter, r *http.Request, status int, issuer string, user behalf.User, msg, kind string) {
	conns, err := c.Service.ListConnections(r.Context(), user.Key())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	tok, err := c.SignIn.CSRFToken(w, r, connectionsAction(user))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := connectionsData{Title: "Your connections", Issuer: issuer, Name: c.SignIn.DisplayName(r, issuer), SignedIn: true, CSRF: tok, Message: msg, Kind: kind, Listed: true}
	agents := map[string]string{} // workload → its agent's name, read once a page
	for _, conn := range conns {
		agent, ok := agents[conn.Workload]
		if !ok {
			agent = agentName(r.Context(), c.Agents, conn.Workload)
			agents[conn.Workload] = agent
		}
		row := connectionRow{
			ID: conn.GrantID, Agent: agent, Provider: conn.ProviderLabel(), Account: conn.Account, Scopes: conn.Scopes,
			Granted: timeCellOf(conn.CreatedAt), LastUsed: timeCellOf(conn.LastUsedAt), LastRefreshed: timeCellOf(conn.RefreshedAt),
		}
		if row.Provider != conn.ProviderName {
			row.ProviderName = conn.ProviderName // "Google", then the provider's own name
		}
		d.Rows = append(d.Rows, row)
	}
	c.page(w, r, status, d)
}

func (c *Connections) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := failure(r.Context(), logOr(c.Log), "connections page", err)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		status, msg = http.StatusNotFound, "Behalf does not sign in users of this identity provider on this page."
	}
	c.page(w, r, status, connectionsData{Title: "Your connections", Message: msg, Kind: "warn"})
}

// connectionsData is the page's content.
type connectionsData struct {
	Frame  pageframe.Frame
	Title  string
	Issuer string
	// SignedIn is set when a person is signed in; Name is how to name
	// them ("" when their ID token had no name a person would recognise).
	SignedIn      bool
	Name          string
	CSRF          string
	Message, Kind string // Kind: ok, warn or info
	SignInURL     string
	Note          string
	Listed        bool
	Rows          []connectionRow
}

type connectionRow struct {
	ID, Agent, Provider, ProviderName string
	// Account is the provider account linked ("google: victim@example.com").
	Account                          string
	Scopes                           []string
	Granted, LastUsed, LastRefreshed timeCell
}

// timeCell is a time for a table cell; zero ISO means never.
type timeCell struct{ ISO, Text string }

func timeCellOf(t time.Time) timeCell {
	if t.IsZero() {
		return timeCell{}
	}
	t = t.UTC()
	return timeCell{ISO: t.Format(time.RFC3339), Text: t.Format("2 Jan 2006, 15:04")}
}

func (c *Connections) page(w http.ResponseWriter, r *http.Request, status int, d connectionsData) {
	d.Frame = c.Frame
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if err := connectionsPage.Execute(w, d); err != nil && !errors.Is(err, context.Canceled) {
		logOr(c.Log).WarnContext(r.Context(), "render connections page", "err", err)
	}
}

// pagePath is the page's local path for issuer.
func pagePath(issuer string) string {
	return behalf.ConnectionsPath + "?" + url.Values{"issuer": {issuer}}.Encode()
}

// validIssuer reports whether s looks like an issuer URL.
func validIssuer(s string) bool {
	if len(s) > 2048 || !(strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Host != "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

//go:embed templates/connections.html
var connectionsHTML string

var connectionsPage = template.Must(pageframe.Parse("connections", connectionsHTML).Parse(listStyleHTML))

// listStyleHTML defines "list-style", the style the connections page and
// consent portals' pages share.
//
//go:embed templates/liststyle.html
var listStyleHTML string
