package oidcop

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// Login form steps.
const (
	stepPassword    = "password"
	stepNewPassword = "new_password"
)

// login serves GET and POST {pool}/login?request=ID.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	ctx, pool := r.Context(), poolFrom(r.Context())
	id := r.URL.Query().Get("request")
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			p.errorPage(w, http.StatusBadRequest, pageBadRequest, "The form could not be read.")
			return
		}
		id = r.PostForm.Get("request")
	}
	sr, err := p.loadRequest(ctx, pool.ID, id)
	if errors.Is(err, errRequestGone) || (err == nil && sr.codeHash != "") {
		p.errorPage(w, http.StatusBadRequest, pageExpired, "This sign-in link has expired or was already used. Go back to the application and sign in again.")
		return
	}
	if err != nil {
		p.logFailure(ctx, "load auth request", err)
		p.errorPage(w, http.StatusInternalServerError, pageBadRequest, genericFailure)
		return
	}
	form := &loginForm{
		Step: stepPassword, RequestID: sr.id, Username: sr.data.LoginHint, AppName: sr.data.ClientName,
		SignUp: !pool.AllowAdminCreateUserOnly, pool: pool.ID, redirectURI: sr.data.RedirectURI,
	}
	if sr.data.Registered {
		form.Registered, form.RedirectHost = true, redirectHost(sr.data.RedirectURI)
	}
	if r.Method == http.MethodGet {
		setView(form, r.URL.Query())
		p.renderLogin(w, r, http.StatusOK, form)
		return
	}
	if !p.checkCSRF(ctx, r, sr.id) {
		p.errorPage(w, http.StatusForbidden, pageBadRequest, "This sign-in form has expired or was not sent by this site. Reload the page and try again.")
		return
	}
	if r.PostForm.Get("step") == stepNewPassword {
		p.newPassword(w, r, sr, form)
		return
	}
	if p.selfService(w, r, sr, form) {
		return
	}
	p.password(w, r, sr, form)
}

// password checks the username and password; a temporary password leads
// to the new-password step.
func (p *Provider) password(w http.ResponseWriter, r *http.Request, sr *storedRequest, form *loginForm) {
	ctx := r.Context()
	form.Username = strings.TrimSpace(r.PostForm.Get("username"))
	u, err := p.svc.AuthenticatePassword(ctx, sr.poolID, form.Username, behalf.Secret(r.PostForm.Get("password")))
	if err != nil {
		status, msg := p.signInError(ctx, err)
		form.Error = msg
		p.renderLogin(w, r, status, form)
		return
	}
	if u.Status == behalf.UserForceChangePassword {
		sr.data.PendingUser, sr.data.PendingAt = u.Username, p.clock()
		sr.data.PendingBrowser = browserHash(cookieValue(r.Header, p.wireName(csrfCookie)))
		if err := p.updateRequest(ctx, sr, ""); err != nil {
			p.requestFailed(w, ctx, err)
			return
		}
		form.Step = stepNewPassword
		p.renderLogin(w, r, http.StatusOK, form)
		return
	}
	p.finishLogin(w, r, sr, u)
}

// newPassword sets a permanent password for the user whose temporary
// password this browser verified moments ago, then signs them in.
func (p *Provider) newPassword(w http.ResponseWriter, r *http.Request, sr *storedRequest, form *loginForm) {
	ctx, a := r.Context(), &sr.data
	browser := browserHash(cookieValue(r.Header, p.wireName(csrfCookie)))
	if a.PendingUser == "" || !p.clock().Before(a.PendingAt.Add(pendingLifetime)) ||
		subtle.ConstantTimeCompare([]byte(browser), []byte(a.PendingBrowser)) != 1 {
		form.Error = "Sign in with your temporary password again."
		p.renderLogin(w, r, http.StatusUnauthorized, form)
		return
	}
	form.Step = stepNewPassword
	pw, confirm := r.PostForm.Get("new_password"), r.PostForm.Get("confirm_password")
	if pw == "" || pw != confirm {
		form.Error = "The passwords do not match."
		p.renderLogin(w, r, http.StatusBadRequest, form)
		return
	}
	if err := p.svc.AdminSetUserPassword(ctx, sr.poolID, a.PendingUser, behalf.Secret(pw), true); err != nil {
		status, msg := p.signInError(ctx, err)
		form.Error = msg
		p.renderLogin(w, r, status, form)
		return
	}
	u, err := p.svc.AdminGetUser(ctx, sr.poolID, a.PendingUser)
	if err != nil {
		status, msg := p.signInError(ctx, err)
		form.Step, form.Error = stepPassword, msg
		p.renderLogin(w, r, status, form)
		return
	}
	p.finishLogin(w, r, sr, u)
}

// finishLogin issues the code, starts the browser's session and sends it
// back to the client.
func (p *Provider) finishLogin(w http.ResponseWriter, r *http.Request, sr *storedRequest, u *behalf.PoolUser) {
	ctx, a := r.Context(), &sr.data
	now := p.clock()
	a.Username, a.AuthTime = u.Username, now
	a.PendingUser, a.PendingBrowser, a.PendingAt = "", "", time.Time{}
	code := newCode()
	if err := p.updateRequest(ctx, sr, code); err != nil {
		p.requestFailed(w, ctx, err)
		return
	}
	target, err := p.codeRedirect(a, code)
	if err == nil {
		err = p.setSession(ctx, w.Header(), sr.poolID, u, now)
	}
	if err != nil {
		p.logFailure(ctx, "finish login", err)
		p.errorPage(w, http.StatusInternalServerError, pageBadRequest, genericFailure)
		return
	}
	setPageHeaders(w.Header(), formAction(a.RedirectURI))
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// requestFailed answers a failed update of an auth request.
func (p *Provider) requestFailed(w http.ResponseWriter, ctx context.Context, err error) {
	if errors.Is(err, errRequestChanged) || errors.Is(err, errRequestGone) {
		p.errorPage(w, http.StatusConflict, pageExpired, "This sign-in was already completed or has expired. Go back to the application and sign in again.")
		return
	}
	p.logFailure(ctx, "update auth request", err)
	p.errorPage(w, http.StatusInternalServerError, pageBadRequest, genericFailure)
}

// sessionUser returns the user of the browser's session, if it has one
// that is still good: unexpired, no older than maxAge (prompt=login sets
// 0), and its user enabled, confirmed, the same (sub) and not globally
// signed out since.
func (p *Provider) sessionUser(ctx context.Context, h http.Header, poolID string, maxAge *uint) (*behalf.PoolUser, time.Time) {
	s := p.readSession(ctx, h, poolID)
	if s == nil {
		return nil, time.Time{}
	}
	authTime := time.UnixMicro(s.AuthTime).UTC()
	if maxAge != nil && p.clock().Sub(authTime) >= time.Duration(*maxAge)*time.Second {
		return nil, time.Time{}
	}
	u, err := p.svc.AdminGetUser(ctx, poolID, s.Username)
	if err != nil {
		if behalf.ErrorCode(err) == behalf.EINTERNAL {
			p.log.WarnContext(ctx, "hosted login: session user", "err", err)
		}
		return nil, time.Time{}
	}
	if u.Sub != s.Sub || !u.Enabled || u.Status != behalf.UserConfirmed || u.TokensValidAfter.After(authTime) {
		return nil, time.Time{}
	}
	return u, authTime
}
