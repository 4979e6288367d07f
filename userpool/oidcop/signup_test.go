package oidcop_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/browsertest"
	"github.com/behalf-dev/behalf/internal/pageframe"
	"github.com/behalf-dev/behalf/userpool"
	"github.com/behalf-dev/behalf/userpool/oidcop"
)

// mailbox keeps the code messages the service sends (the SMTP client's
// place; package smtpmail and cmd/behalf test the real delivery).
type mailbox struct {
	mu   sync.Mutex
	msgs []*behalf.CodeMessage
}

func (m *mailbox) SendCode(ctx context.Context, msg *behalf.CodeMessage) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

// code returns the code of the last message, failing t if none.
func (m *mailbox) code(t *testing.T) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.msgs) == 0 {
		t.Fatal("no code was sent")
	}
	return regexp.MustCompile(`\d{6}`).FindString(m.msgs[len(m.msgs)-1].Body.Reveal())
}

// fill types into the fields (selector → text) and submits the form.
func fill(fields ...string) chromedp.Action[chromedp.Void] {
	steps := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS(fields[0]))}
	for i := 0; i+1 < len(fields); i += 2 {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS(fields[i]), fields[i+1]))
	}
	return chromedp.Steps(append(steps, chromedp.Click(chromedp.CSS(`button[type="submit"]`)))...)
}

// shot saves a screenshot in $BEHALF_SCREENSHOT_DIR when it is set (the
// docs' screenshots); tests never write into the source tree otherwise.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("BEHALF_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Ensure, in a real browser, that the login page offers sign-up and
// "Forgot your password?", and that signing up, confirming with the
// mailed code, signing in, and resetting the password work, each form
// POST answered by a redirect to a GET; that every page carries the frame
// with the operator's name and logo and fits a 360 px phone; and that a
// pool allowing only administrators to create users offers no sign-up
// (and refuses a forged one).
func TestBrowserSignUpAndReset(t *testing.T) {
	mail := &mailbox{}
	logo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		io.WriteString(w, browsertest.LogoSVG)
	}))
	t.Cleanup(logo.Close)
	const operator = "Example Labs"
	frame, err := pageframe.New(operator, logo.URL+"/logo.svg", "")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvConfig(t, func(s *userpool.Service) { s.Mail = mail }, oidcop.WithFrame(frame))
	layout := func(ctx context.Context, shot string) { t.Helper(); browsertest.CheckLayout(t, ctx, operator, shot) }
	ctx := context.Background()
	if _, err := e.svc.UpdateUserPool(ctx, behalf.UpdateUserPoolInput{PoolID: e.pool.ID, AutoVerifiedAttributes: []string{"email"}}); err != nil {
		t.Fatal(err)
	}
	bctx := newBrowser(t)
	verifier := oauth2.GenerateVerifier()
	authorize := e.authorizeURL(authParams{client: e.public, verifier: verifier, scope: "openid email", state: "su", nonce: "n"})
	do(t, bctx, chromedp.Navigate(authorize))
	waitLocation(t, bctx, e.issuer+"/login?")
	shot(t, bctx, "hosted-login-sign-in.png")
	layout(bctx, "hosted-login-sign-in")

	// Sign up, with a typo in the confirmation first.
	do(t, bctx, chromedp.Click(chromedp.CSS("#signup-link")))
	waitText(t, bctx, "h1", "Sign up")
	shot(t, bctx, "hosted-login-sign-up.png")
	layout(bctx, "")
	do(t, bctx, fill("#username", "carol", "#email", "carol@example.com", "#new_password", "Carol-Pass-1!", "#confirm_password", "Carol-Pass-2!"),
		chromedp.WaitVisible(chromedp.CSS("#form-error")))
	want(t, "mismatch error", text(t, bctx, "#form-error"), "The passwords do not match.")
	// The form keeps the username; the rest is typed again.
	do(t, bctx, fill("#email", "carol@example.com", "#new_password", "Carol-Pass-1!", "#confirm_password", "Carol-Pass-1!"))
	waitText(t, bctx, "h1", "Confirm your account")
	if q := waitLocation(t, bctx, e.issuer+"/login?").Query(); q.Get("view") != "confirm" || q.Get("username") != "carol" {
		t.Fatalf("after sign-up the browser is at ?%s, want the confirm view (a redirect to GET)", q.Encode())
	}
	shot(t, bctx, "hosted-login-confirm.png")
	layout(bctx, "")
	do(t, bctx, fill("#code", "00000x"), chromedp.WaitVisible(chromedp.CSS("#form-error")))
	do(t, bctx, chromedp.Clear(chromedp.CSS("#code")), fill("#code", mail.code(t)))
	waitText(t, bctx, "#form-notice", "Your account is confirmed. Sign in to continue.")
	do(t, bctx, fill("#password", "Carol-Pass-1!"))
	q := waitLocation(t, bctx, e.callback+"?").Query()
	want(t, "state", q.Get("state"), "su")
	if tok := e.exchange(q.Get("code"), verifier); tok.Status != http.StatusOK || tok.IDToken == "" {
		t.Fatalf("exchange: %+v", tok)
	}
	u, err := e.svc.AdminGetUser(ctx, e.pool.ID, "carol")
	if err != nil || u.Status != behalf.UserConfirmed || u.Attributes["email_verified"] != "true" {
		t.Fatalf("carol = %+v, %v", u, err)
	}

	// Forgot password, in a new browser (no session).
	bctx = newBrowser(t)
	do(t, bctx, chromedp.Navigate(strings.Replace(authorize, "state=su", "state=fp", 1)))
	waitLocation(t, bctx, e.issuer+"/login?")
	do(t, bctx, chromedp.Click(chromedp.CSS("#forgot-link")))
	waitText(t, bctx, "h1", "Forgot your password?")
	shot(t, bctx, "hosted-login-forgot.png")
	layout(bctx, "")
	do(t, bctx, fill("#username", "carol"))
	waitText(t, bctx, "h1", "Reset your password")
	shot(t, bctx, "hosted-login-reset.png")
	layout(bctx, "")
	do(t, bctx, fill("#code", mail.code(t), "#new_password", "Carol-New-Pass-3!", "#confirm_password", "Carol-New-Pass-3!"))
	waitText(t, bctx, "#form-notice", "Your password was changed. Sign in with your new password.")
	do(t, bctx, fill("#password", "Carol-New-Pass-3!"))
	want(t, "state", waitLocation(t, bctx, e.callback+"?").Query().Get("state"), "fp")

	// Forgot password of no user: the same pages, and no message.
	sent := len(mail.msgs)
	bctx = newBrowser(t)
	do(t, bctx, chromedp.Navigate(authorize))
	login := waitLocation(t, bctx, e.issuer+"/login?")
	do(t, bctx, chromedp.Navigate(login.String()+"&view=forgot"), fill("#username", "nobody"))
	waitText(t, bctx, "h1", "Reset your password")
	if len(mail.msgs) != sent {
		t.Fatal("a code was sent for a name that is no user")
	}

	// Admin-only pools offer no sign-up, and refuse a posted one.
	if _, err := e.svc.UpdateUserPool(ctx, behalf.UpdateUserPoolInput{PoolID: e.pool.ID, AllowAdminCreateUserOnly: true}); err != nil {
		t.Fatal(err)
	}
	do(t, bctx, chromedp.Navigate(login.String()), chromedp.WaitVisible(chromedp.CSS("#forgot-link")))
	if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#signup-link").length`)); err != nil || n != 0 {
		t.Fatalf("sign-up link on an admin-only pool: %d, %v", n, err)
	}
	do(t, bctx, chromedp.Navigate(login.String()+"&view=signup"), chromedp.WaitVisible(chromedp.CSS("#password")))
	do(t, bctx, chromedp.SetAttributeValue(chromedp.CSS(`form`), "id", "f"))
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[any](`(() => { const f = document.getElementById("f"); const s = document.createElement("input");
			s.type = "hidden"; s.name = "step"; s.value = "signup"; f.appendChild(s);
			document.getElementById("username").value = "mallory"; document.getElementById("password").value = "Mallory-Pass-1!";
			f.submit(); return null })()`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, bctx, "#form-error", "Sign-up is not available for this application.")
	if _, err := e.svc.AdminGetUser(ctx, e.pool.ID, "mallory"); behalf.CognitoException(err) != behalf.CognitoUserNotFound {
		t.Fatalf("mallory after a refused sign-up: %v", err)
	}
}
