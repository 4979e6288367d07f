package web

import (
	"context"
	_ "embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/pageframe"
)

// Portal serves consent portals' pages: a gateway's users sign in with the
// portal's client (at the issuer the gateway's authorizer trusts), see
// each target that acts with their own account, whether it is connected
// and to which account, and connect or disconnect it.
//
//	GET  /consent-portals/{id}              the targets; not signed in → SignIn.Begin, back here
//	POST /consent-portals/{id}/connect      target, csrf: 303 to the provider's consent through
//	                                        Behalf's authorization URL; the binding page completes
//	                                        it in this browser only and links back here
//	POST /consent-portals/{id}/disconnect   grant, csrf: revoke, then 303 to the page (PRG)
//
// Forms carry a CSRF token bound to the browser, the user and the portal.
// No JavaScript.
type Portal struct {
	Pages       behalf.ConsentPortalPages
	Connections behalf.ConnectionService
	SignIn      *SignIn
	// Frame is the page's frame (operator name and logo).
	Frame pageframe.Frame
	Log   *slog.Logger
}

const portalPrefix = "/consent-portals/"

// portalAction is the CSRF action of a portal's forms.
func portalAction(id string, u behalf.User) string { return "consent-portal:" + id + ":" + u.Key() }

// ServeHTTP routes a portal's requests.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w, p.Frame)
	rest, _ := strings.CutPrefix(r.URL.Path, portalPrefix)
	id, action, _ := strings.Cut(rest, "/")
	switch {
	case action == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		p.show(w, r, id)
	case (action == "connect" || action == "disconnect") && r.Method == http.MethodPost:
		p.post(w, r, id, action)
	default:
		w.Header().Set("Allow", "GET, POST")
		p.page(w, r, http.StatusMethodNotAllowed, portalData{Title: "This address cannot be used this way", Message: "Open the portal's address instead.", Kind: "warn"})
	}
}

// load returns the portal's page, or writes an error page.
func (p *Portal) load(w http.ResponseWriter, r *http.Request, id string) (*behalf.ConsentPortalPage, bool) {
	pg, err := p.Pages.ConsentPortalPage(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return nil, false
	}
	return pg, true
}

// show: GET /consent-portals/{id}.
func (p *Portal) show(w http.ResponseWriter, r *http.Request, id string) {
	pg, ok := p.load(w, r, id)
	if !ok {
		return
	}
	user, signedIn := p.SignIn.User(r, pg.SignIn.Issuer)
	if !signedIn {
		client := SignInClient{Issuer: pg.SignIn.Issuer, ClientID: pg.SignIn.ClientID, ClientSecret: pg.SignIn.ClientSecret, Scopes: pg.SignIn.Scopes}
		if err := p.SignIn.Begin(w, r, client, behalf.ConsentPortalPath(pg.Portal.ID)); err != nil {
			p.fail(w, r, err)
		}
		return
	}
	msg, kind := p.takeFlash(w, r, pg.Portal.ID, user)
	p.list(w, r, http.StatusOK, pg, user, msg, kind)
}

// post: the Connect and Disconnect forms.
func (p *Portal) post(w http.ResponseWriter, r *http.Request, id, action string) {
	pg, ok := p.load(w, r, id)
	if !ok {
		return
	}
	back := behalf.ConsentPortalPath(pg.Portal.ID)
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || len(r.PostForm["csrf"]) != 1 {
		p.page(w, r, http.StatusBadRequest, portalData{Title: "This form cannot be used", Message: "The form was incomplete. Nothing was changed.", Kind: "warn", SignInURL: back})
		return
	}
	user, signedIn := p.SignIn.User(r, pg.SignIn.Issuer)
	if !signedIn {
		p.page(w, r, http.StatusUnauthorized, portalData{Title: pg.Portal.Name, Message: "Your sign-in has expired. Nothing was changed; sign in again to continue.", Kind: "warn", SignInURL: back})
		return
	}
	if !p.SignIn.CheckCSRF(r, portalAction(pg.Portal.ID, user)) {
		p.page(w, r, http.StatusForbidden, portalData{Title: "This form cannot be used", Message: "The form has expired or was not sent from this page. Nothing was changed.", Kind: "warn", SignInURL: back})
		return
	}
	if action == "connect" {
		p.connect(w, r, pg, user)
		return
	}
	p.disconnect(w, r, pg, user)
}

// connect starts the consent to one target.
func (p *Portal) connect(w http.ResponseWriter, r *http.Request, pg *behalf.ConsentPortalPage, user behalf.User) {
	target := r.PostForm.Get("target")
	var t *behalf.ConsentPortalTarget
	for i := range pg.Targets {
		if pg.Targets[i].ID == target {
			t = &pg.Targets[i]
		}
	}
	if len(r.PostForm["target"]) != 1 || t == nil {
		p.redirectWithFlash(w, r, pg, user, "That tool is no longer offered here. Nothing was changed.", "info")
		return
	}
	authURL, err := p.Pages.StartConsent(r.Context(), pg.Portal.ID, t.ID, user)
	switch {
	case err != nil:
		p.fail(w, r, err)
	case authURL == "":
		p.redirectWithFlash(w, r, pg, user, t.Name+" is already connected.", "info")
	default:
		http.Redirect(w, r, authURL, http.StatusSeeOther)
	}
}

// disconnect revokes the user's grant for one of the gateway's providers.
func (p *Portal) disconnect(w http.ResponseWriter, r *http.Request, pg *behalf.ConsentPortalPage, user behalf.User) {
	grant := r.PostForm.Get("grant")
	conns, err := p.portalConnections(r.Context(), pg, user)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var found bool
	for _, c := range conns {
		found = found || (c.GrantID == grant && grant != "")
	}
	if len(r.PostForm["grant"]) != 1 || !found {
		p.redirectWithFlash(w, r, pg, user, "That connection no longer exists: it was already removed, or replaced by a new one.", "info")
		return
	}
	rev, err := p.Connections.RevokeConnection(r.Context(), user.Key(), grant)
	switch {
	case behalf.ErrorCode(err) == behalf.ENOTFOUND:
		p.redirectWithFlash(w, r, pg, user, "That connection no longer exists: it was already removed, or replaced by a new one.", "info")
	case err != nil:
		p.fail(w, r, err)
	case rev.Outcome == behalf.RevocationConfirmed:
		p.redirectWithFlash(w, r, pg, user, rev.Message(), "ok")
	default:
		p.redirectWithFlash(w, r, pg, user, rev.Message(), "warn")
	}
}

// portalConnections are user's grants held by the portal's gateway.
func (p *Portal) portalConnections(ctx context.Context, pg *behalf.ConsentPortalPage, user behalf.User) ([]*behalf.Connection, error) {
	all, err := p.Connections.ListConnections(ctx, user.Key())
	if err != nil {
		return nil, err
	}
	var out []*behalf.Connection
	for _, c := range all {
		if c.Workload == pg.Workload {
			out = append(out, c)
		}
	}
	return out, nil
}

func portalFlashSeal(id string, u behalf.User) behalf.SealContext {
	return behalf.SealContext{Kind: "web-portal-flash", Key: id + "\x00" + u.Key(), Field: "cookie"}
}

// redirectWithFlash remembers msg for the user's next GET of the page.
func (p *Portal) redirectWithFlash(w http.ResponseWriter, r *http.Request, pg *behalf.ConsentPortalPage, user behalf.User, msg, kind string) {
	path := behalf.ConsentPortalPath(pg.Portal.ID)
	v, err := p.SignIn.seal(r.Context(), portalFlashSeal(pg.Portal.ID, user), flash{User: user.Key(), Message: msg, Kind: kind, Expires: p.SignIn.now().Add(5 * time.Minute).Unix()})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	http.SetCookie(w, p.SignIn.cookie(flashCookie, v, path, 300, http.SameSiteLaxMode))
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// takeFlash returns the message a POST left for user, and deletes it.
func (p *Portal) takeFlash(w http.ResponseWriter, r *http.Request, id string, user behalf.User) (string, string) {
	path := behalf.ConsentPortalPath(id)
	ck, err := p.SignIn.readCookie(r, flashCookie, path)
	if err != nil {
		return "", ""
	}
	http.SetCookie(w, p.SignIn.cookie(flashCookie, "", path, -1, http.SameSiteLaxMode))
	var f flash
	if len(ck.Value) > maxCookieLen || !p.SignIn.open(r.Context(), portalFlashSeal(id, user), ck.Value, &f) ||
		f.User != user.Key() || p.SignIn.now().Unix() >= f.Expires {
		return "", ""
	}
	switch f.Kind {
	case "ok", "warn", "info":
		return f.Message, f.Kind
	}
	return "", ""
}

// list shows the portal's targets for user.
func (p *Portal) list(w http.ResponseWriter, r *http.Request, status int, pg *behalf.ConsentPortalPage, user behalf.User, msg, kind string) {
	conns, err := p.portalConnections(r.Context(), pg, user)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	tok, err := p.SignIn.CSRFToken(w, r, portalAction(pg.Portal.ID, user))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := portalData{Title: pg.Portal.Name, Description: pg.Portal.Description, Gateway: pg.GatewayName, Path: behalf.ConsentPortalPath(pg.Portal.ID),
		Name: p.SignIn.DisplayName(r, pg.SignIn.Issuer), SignedIn: true, CSRF: tok, Message: msg, Kind: kind, Listed: true}
	for _, t := range pg.Targets {
		row := portalRow{ID: t.ID, Name: t.Name, Description: t.Description, Provider: t.Provider, Scopes: t.Scopes}
		for _, c := range conns {
			if c.ProviderName == t.Provider {
				row.Grant, row.Account, row.Connected = c.GrantID, c.Account, timeCellOf(c.CreatedAt)
				row.Label = c.ProviderLabel()
			}
		}
		d.Rows = append(d.Rows, row)
		if t.AuthorizationOrigin != "" && !slices.Contains(d.FormOrigins, t.AuthorizationOrigin) {
			d.FormOrigins = append(d.FormOrigins, t.AuthorizationOrigin)
		}
	}
	p.page(w, r, status, d)
}

func (p *Portal) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := failure(r.Context(), logOr(p.Log), "consent portal", err)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		status, msg = http.StatusNotFound, "There is no consent portal at this address, or what it connects no longer exists."
	}
	p.page(w, r, status, portalData{Title: "Consent portal", Message: msg, Kind: "warn"})
}

// portalData is a portal page's content.
type portalData struct {
	Frame                             pageframe.Frame
	Title, Description, Gateway, Path string
	SignedIn                          bool
	Name                              string
	CSRF                              string
	Message, Kind                     string
	SignInURL                         string
	Listed                            bool
	Rows                              []portalRow
	// FormOrigins are where the Connect forms lead, past Behalf's
	// authorization URL: the providers' origins, which the page's
	// form-action allows (a form's redirects are held to it).
	FormOrigins []string
}

type portalRow struct {
	ID, Name, Description, Provider string
	Scopes                          []string
	// Grant is set when the user is connected: to Account (may be ""),
	// since Connected.
	Grant, Account, Label string
	Connected             timeCell
}

func (p *Portal) page(w http.ResponseWriter, r *http.Request, status int, d portalData) {
	d.Frame = p.Frame
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if len(d.FormOrigins) > 0 {
		w.Header().Set("Content-Security-Policy", p.Frame.CSP(pagePolicy+" "+strings.Join(d.FormOrigins, " ")))
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if err := portalPage.Execute(w, d); err != nil && !errors.Is(err, context.Canceled) {
		logOr(p.Log).WarnContext(r.Context(), "render consent portal", "err", err)
	}
}

//go:embed templates/portal.html
var portalHTML string

var portalPage = template.Must(pageframe.Parse("portal", portalHTML).Parse(listStyleHTML))
