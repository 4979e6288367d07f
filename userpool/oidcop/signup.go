package oidcop

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/behalf-dev/behalf"
)

// Self-service sign-up and password recovery on the login page. Each is a
// view of /login?request=ID (so the login CSRF cookie and token cover its
// forms) and each successful POST redirects (303) to the next view's GET:
//
//	sign in ── "Sign up" ──▶ view=signup ──POST (SignUp)──▶ view=confirm ──POST (ConfirmSignUp)──▶ sign in (notice=confirmed)
//	        └─ "Forgot your password?" ─▶ view=forgot ──POST (ForgotPassword)──▶ view=reset ──POST (ConfirmForgotPassword)──▶ sign in (notice=reset)
//
// "Sign up" is offered unless the pool allows only administrators to
// create users (AllowAdminCreateUserOnly), as Cognito's hosted UI does.
// The service is called for the auth request's client, which the
// authorization endpoint already checked (ClientVerified: no SecretHash).

// Views and steps of the sign-up and recovery forms.
const (
	viewSignUp  = "signup"
	viewConfirm = "confirm"
	viewForgot  = "forgot"
	viewReset   = "reset"
)

// notices are the messages the sign-in view shows after a redirect.
var notices = map[string]string{
	"confirmed":  "Your account is confirmed. Sign in to continue.",
	"reset":      "Your password was changed. Sign in with your new password.",
	"registered": "Your account was created. An administrator must confirm it before you can sign in.",
}

// setView prepares form for the view a GET asks for (an unknown one is
// the sign-in form).
func setView(form *loginForm, q url.Values) {
	switch v := q.Get("view"); v {
	case viewConfirm, viewReset:
		form.Step, form.Username = v, q.Get("username")
	case viewSignUp:
		if form.SignUp {
			form.Step = v
		}
	case viewForgot:
		form.Step = v
	}
	if form.Step == stepPassword {
		form.Notice = notices[q.Get("notice")]
		if u := q.Get("username"); u != "" && form.Notice != "" {
			form.Username = u
		}
	}
}

// selfService handles the POST of a sign-up or recovery form; it reports
// false for another step.
func (p *Provider) selfService(w http.ResponseWriter, r *http.Request, sr *storedRequest, form *loginForm) bool {
	step := r.PostForm.Get("step")
	switch step {
	case viewSignUp, viewConfirm, viewForgot, viewReset:
	default:
		return false
	}
	ctx := r.Context()
	form.Step = step
	form.Username = strings.TrimSpace(r.PostForm.Get("username"))
	code := behalf.Secret(strings.TrimSpace(r.PostForm.Get("code")))
	pw := r.PostForm.Get("new_password")
	if (step == viewSignUp || step == viewReset) && pw != r.PostForm.Get("confirm_password") {
		form.Error = "The passwords do not match."
		p.renderLogin(w, r, http.StatusBadRequest, form)
		return true
	}
	client := sr.data.ClientID
	var (
		next url.Values
		err  error
	)
	switch step {
	case viewSignUp:
		if !form.SignUp {
			form.Step, form.Error = stepPassword, "Sign-up is not available for this application."
			p.renderLogin(w, r, http.StatusForbidden, form)
			return true
		}
		var attrs map[string]string
		if email := strings.TrimSpace(r.PostForm.Get("email")); email != "" {
			attrs = map[string]string{"email": email}
		}
		var out *behalf.SignUpResult
		out, err = p.svc.SignUp(ctx, behalf.SignUpInput{ClientID: client, Username: form.Username, Password: behalf.Secret(pw),
			Attributes: attrs, ClientVerified: true})
		if err == nil {
			next = url.Values{"view": {viewConfirm}, "username": {form.Username}}
			if out.CodeDelivery == nil {
				next = url.Values{"notice": {"registered"}, "username": {form.Username}}
			}
		}
	case viewConfirm:
		err = p.svc.ConfirmSignUp(ctx, behalf.ConfirmCodeInput{ClientID: client, Username: form.Username, Code: code, ClientVerified: true})
		next = url.Values{"notice": {"confirmed"}, "username": {form.Username}}
	case viewForgot:
		_, err = p.svc.ForgotPassword(ctx, behalf.CodeRequestInput{ClientID: client, Username: form.Username, ClientVerified: true})
		next = url.Values{"view": {viewReset}, "username": {form.Username}}
	case viewReset:
		err = p.svc.ConfirmForgotPassword(ctx, behalf.ConfirmCodeInput{ClientID: client, Username: form.Username, Code: code,
			Password: behalf.Secret(pw), ClientVerified: true})
		next = url.Values{"notice": {"reset"}, "username": {form.Username}}
	}
	if err != nil {
		status, msg := p.signInError(ctx, err)
		form.Error = msg
		p.renderLogin(w, r, status, form)
		return true
	}
	next.Set("request", sr.id)
	p.setPageHeaders(w.Header(), "")
	http.Redirect(w, r, p.basePath(ctx, sr.poolID)+pathLogin+"?"+next.Encode(), http.StatusSeeOther)
	return true
}
