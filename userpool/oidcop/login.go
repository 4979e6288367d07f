package oidcop

import (
	"context"
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// Login form steps.
const (
	stepPassword    = "password"
	stepNewPassword = "new_password"
	stepMFA         = "mfa"       // a TOTP code of the user's software token
	stepMFASetup    = "mfa_setup" // MFA ON, no token yet: set one up
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
		Step: stepPassword, RequestID: sr.id, Username: sr.data.LoginHint, AppName: p.appName(&sr.data),
		SignUp: !pool.AllowAdminCreateUserOnly, pool: pool.ID, redirectURI: sr.data.RedirectURI,
	}
	if sr.data.Registered {
		form.Registered, form.RedirectHost = true, redirectHost(sr.data.RedirectURI)
		if sr.data.DocumentURL != "" {
			form.DocumentHost = redirectHost(sr.data.DocumentURL)
		}
	}
	if r.Method == http.MethodGet {
		if step := sr.data.PendingStep; (step == stepMFA || step == stepMFASetup) && p.pending(r, &sr.data, step) {
			p.mfaPage(w, r, sr, form, http.StatusOK, "")
			return
		}
		if sr.data.PendingStep == "" && p.pending(r, &sr.data, stepNewPassword) {
			form.Step = stepNewPassword
			p.renderLogin(w, r, http.StatusOK, form)
			return
		}
		setView(form, r.URL.Query())
		p.renderLogin(w, r, http.StatusOK, form)
		return
	}
	if !p.checkCSRF(ctx, r, sr.id) {
		p.errorPage(w, http.StatusForbidden, pageBadRequest, "This sign-in form has expired or was not sent by this site. Reload the page and try again.")
		return
	}
	switch r.PostForm.Get("step") {
	case stepNewPassword:
		p.newPassword(w, r, sr, form)
	case stepMFA, stepMFASetup:
		p.mfaCode(w, r, sr, form)
	default:
		if p.selfService(w, r, sr, form) {
			return
		}
		p.password(w, r, sr, form)
	}
}

// pending reports whether the request's pending user may take step in
// this browser: the step it is at, not expired, and the browser whose
// password (or new password) was verified.
func (p *Provider) pending(r *http.Request, a *authRequest, step string) bool {
	if step == stepNewPassword {
		step = ""
	}
	browser := browserHash(cookieValue(r.Header, p.wireName(csrfCookie)))
	return a.PendingUser != "" && a.PendingStep == step && p.clock().Before(a.PendingAt.Add(pendingLifetime)) &&
		subtle.ConstantTimeCompare([]byte(browser), []byte(a.PendingBrowser)) == 1
}

// afterPassword signs in a user who proved its password, or, when MFA
// applies, keeps it pending and redirects (POST→redirect→GET) to the page
// that asks for a code or sets a token up.
func (p *Provider) afterPassword(w http.ResponseWriter, r *http.Request, sr *storedRequest, u *behalf.PoolUser) {
	ctx := r.Context()
	step, err := p.svc.LoginMFA(ctx, sr.poolID, u.Username)
	if err != nil {
		p.logFailure(ctx, "MFA of user", err)
		p.errorPage(w, http.StatusInternalServerError, pageBadRequest, genericFailure)
		return
	}
	switch step {
	case "":
		p.finishLogin(w, r, sr, u)
		return
	case behalf.ChallengeMFASetup:
		step = stepMFASetup
	default:
		step = stepMFA
	}
	a := &sr.data
	a.PendingUser, a.PendingAt, a.PendingStep = u.Username, p.clock(), step
	a.PendingBrowser = browserHash(cookieValue(r.Header, p.wireName(csrfCookie)))
	a.TOTPSecret, a.TOTPURI = "", ""
	if err := p.updateRequest(ctx, sr, ""); err != nil {
		p.requestFailed(w, ctx, err)
		return
	}
	p.setPageHeaders(w.Header(), "")
	http.Redirect(w, r, p.basePath(ctx, sr.poolID)+pathLogin+"?request="+url.QueryEscape(sr.id), http.StatusSeeOther)
}

// mfaPage shows the TOTP code form, or the setup page with a secret (made
// on first show and kept, sealed, with the request).
func (p *Provider) mfaPage(w http.ResponseWriter, r *http.Request, sr *storedRequest, form *loginForm, status int, msg string) {
	ctx, a := r.Context(), &sr.data
	form.Step, form.Error = a.PendingStep, msg
	if a.PendingStep == stepMFASetup {
		if a.TOTPSecret == "" {
			secret, uri, err := p.svc.BeginLoginTOTPSetup(ctx, sr.poolID, a.PendingUser)
			if err != nil {
				status, msg := p.signInError(ctx, err)
				form.Step, form.Error = stepPassword, msg
				p.renderLogin(w, r, status, form)
				return
			}
			a.TOTPSecret, a.TOTPURI = secret.Reveal(), uri
			if err := p.updateRequest(ctx, sr, ""); err != nil {
				p.requestFailed(w, ctx, err)
				return
			}
		}
		form.TOTPSecret, form.TOTPURI = a.TOTPSecret, template.URL(a.TOTPURI) // made by pquerna/otp: otpauth://totp/…
	}
	p.renderLogin(w, r, status, form)
}

// mfaCode checks the code of the MFA page: the user's token's (stepMFA),
// or the new secret's, which then becomes the user's token (stepMFASetup).
func (p *Provider) mfaCode(w http.ResponseWriter, r *http.Request, sr *storedRequest, form *loginForm) {
	ctx, a := r.Context(), &sr.data
	step := r.PostForm.Get("step")
	if !p.pending(r, a, step) {
		form.Error = "Sign in again."
		p.renderLogin(w, r, http.StatusUnauthorized, form)
		return
	}
	code := behalf.Secret(strings.ReplaceAll(strings.TrimSpace(r.PostForm.Get("code")), " ", ""))
	var err error
	if step == stepMFA {
		err = p.svc.CheckLoginCode(ctx, sr.poolID, a.PendingUser, code)
	} else {
		err = p.svc.CompleteLoginTOTPSetup(ctx, sr.poolID, a.PendingUser, code)
	}
	if err != nil {
		status, msg := p.signInError(ctx, err)
		p.mfaPage(w, r, sr, form, status, msg)
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
		// POST → redirect → GET, which shows the new password form.
		p.setPageHeaders(w.Header(), "")
		http.Redirect(w, r, p.basePath(ctx, sr.poolID)+pathLogin+"?request="+url.QueryEscape(sr.id), http.StatusSeeOther)
		return
	}
	p.afterPassword(w, r, sr, u)
}

// newPassword sets a permanent password for the user whose temporary
// password this browser verified moments ago, then signs them in.
func (p *Provider) newPassword(w http.ResponseWriter, r *http.Request, sr *storedRequest, form *loginForm) {
	ctx, a := r.Context(), &sr.data
	if !p.pending(r, a, stepNewPassword) {
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
	p.afterPassword(w, r, sr, u)
}

// finishLogin issues the code, starts the browser's session and sends it
// back to the client.
func (p *Provider) finishLogin(w http.ResponseWriter, r *http.Request, sr *storedRequest, u *behalf.PoolUser) {
	ctx, a := r.Context(), &sr.data
	now := p.clock()
	a.Username, a.AuthTime = u.Username, now
	a.PendingUser, a.PendingBrowser, a.PendingAt = "", "", time.Time{}
	a.PendingStep, a.TOTPSecret, a.TOTPURI = "", "", ""
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
	p.setPageHeaders(w.Header(), formAction(a.RedirectURI))
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
