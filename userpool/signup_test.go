package userpool_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/userpool"
)

// mailbox is a CodeSender that keeps what it is given (the SMTP client's
// place; package smtpmail tests the real one against an SMTP server).
type mailbox struct {
	mu   sync.Mutex
	msgs []*behalf.CodeMessage
	fail error
}

func (m *mailbox) SendCode(ctx context.Context, msg *behalf.CodeMessage) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.msgs = append(m.msgs, msg)
	return nil
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastCode returns the code of the last message sent, failing if none.
func (m *mailbox) lastCode(tb testing.TB) behalf.Secret {
	tb.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.msgs) == 0 {
		tb.Fatal("no message was sent")
	}
	code := sixDigits.FindString(m.msgs[len(m.msgs)-1].Body.Reveal())
	if code == "" {
		tb.Fatalf("no code in %q", m.msgs[len(m.msgs)-1].Body.Reveal())
	}
	return behalf.Secret(code)
}

// signUpEnv is an env whose pool auto-verifies email, with a public
// client and a mailbox for codes.
type signUpEnv struct {
	*env
	pool   *behalf.UserPool
	client *behalf.AppClient
	mail   *mailbox
}

func newSignUpEnv(tb testing.TB, in behalf.CreateUserPoolInput) *signUpEnv {
	tb.Helper()
	e := newEnv(tb)
	mail := &mailbox{}
	e.svc.Mail = mail
	if in.Name == "" {
		in.Name = "signup pool"
	}
	if in.AutoVerifiedAttributes == nil {
		in.AutoVerifiedAttributes = []string{"email"}
	}
	p, err := e.svc.CreateUserPool(e.ctx, in)
	if err != nil {
		tb.Fatalf("CreateUserPool: %v", err)
	}
	c, _ := e.client(tb, p.ID, false)
	return &signUpEnv{env: e, pool: p, client: c, mail: mail}
}

func (e *signUpEnv) signUp(name string, attrs map[string]string) (*behalf.SignUpResult, error) {
	return e.svc.SignUp(e.ctx, behalf.SignUpInput{ClientID: e.client.ID, Username: name, Password: testPassword, Attributes: attrs})
}

func (e *signUpEnv) confirm(name string, code behalf.Secret) error {
	return e.svc.ConfirmSignUp(e.ctx, behalf.ConfirmCodeInput{ClientID: e.client.ID, Username: name, Code: code})
}

func (e *signUpEnv) resend(name string) (*behalf.CodeDeliveryDetails, error) {
	return e.svc.ResendConfirmationCode(e.ctx, behalf.CodeRequestInput{ClientID: e.client.ID, Username: name})
}

func (e *signUpEnv) forgot(name string) (*behalf.CodeDeliveryDetails, error) {
	return e.svc.ForgotPassword(e.ctx, behalf.CodeRequestInput{ClientID: e.client.ID, Username: name})
}

func (e *signUpEnv) reset(name string, code, password behalf.Secret) error {
	return e.svc.ConfirmForgotPassword(e.ctx, behalf.ConfirmCodeInput{ClientID: e.client.ID, Username: name, Code: code, Password: password})
}

// wrong returns a code other than code.
func wrong(code behalf.Secret) behalf.Secret {
	if code.Reveal() == "000000" {
		return "000001"
	}
	return "000000"
}

func mustSignUp(tb testing.TB, e *signUpEnv, name, email string) *behalf.SignUpResult {
	tb.Helper()
	out, err := e.signUp(name, map[string]string{"email": email})
	if err != nil {
		tb.Fatalf("SignUp: %v", err)
	}
	return out
}

func TestSignUpConfirm(t *testing.T) {
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{})
	out := mustSignUp(t, e, "alice", "alice@example.com")
	want := behalf.CodeDeliveryDetails{AttributeName: "email", DeliveryMedium: "EMAIL", Destination: "a***@e***"}
	if out.UserConfirmed || out.UserSub == "" || out.CodeDelivery == nil || *out.CodeDelivery != want {
		t.Fatalf("SignUp = %+v (%+v), want unconfirmed, a sub, delivery %+v", out, out.CodeDelivery, want)
	}
	u, err := e.svc.AdminGetUser(e.ctx, e.pool.ID, "alice")
	if err != nil || u.Status != behalf.UserUnconfirmed || u.Sub != out.UserSub {
		t.Fatalf("AdminGetUser = %+v, %v; want UNCONFIRMED with sub %s", u, err, out.UserSub)
	}
	msg := e.mail.msgs[0]
	if msg.Destination != "alice@example.com" || msg.Subject != "Your verification code" || msg.Medium != "EMAIL" {
		t.Fatalf("message = %+v", msg)
	}
	_, err = e.signIn(e.client, "", "alice", testPassword)
	wantCognito(t, err, behalf.CognitoUserNotConfirmed, "User is not confirmed.")

	code := e.mail.lastCode(t)
	wantCognito(t, e.confirm("alice", wrong(code)), behalf.CognitoCodeMismatch, "Invalid verification code provided, please try again.")
	if err := e.confirm("alice", code); err != nil {
		t.Fatalf("ConfirmSignUp: %v", err)
	}
	u, _ = e.svc.AdminGetUser(e.ctx, e.pool.ID, "alice")
	if u.Status != behalf.UserConfirmed || u.Attributes["email_verified"] != "true" {
		t.Fatalf("after confirmation: status %s, attributes %v", u.Status, u.Attributes)
	}
	e.mustSignIn(t, e.client, "", "alice")
	// The code was single-use, and the user is confirmed now.
	wantCognito(t, e.confirm("alice", code), behalf.CognitoNotAuthorized, "User cannot be confirmed. Current status is CONFIRMED")
	_, err = e.resend("alice")
	wantCognito(t, err, behalf.CognitoInvalidParameter, "User is already confirmed.")
}

func TestSignUpErrors(t *testing.T) {
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{})
	mustSignUp(t, e, "alice", "alice@example.com")
	for _, tc := range []struct {
		name, user, exception string
		attrs                 map[string]string
		password              behalf.Secret
	}{
		{"ErrUsernameExists", "alice", behalf.CognitoUsernameExists, nil, testPassword},
		{"ErrPolicy", "bob", behalf.CognitoInvalidPassword, nil, "short"},
		{"ErrNoPassword", "bob", behalf.CognitoInvalidParameter, nil, ""},
		{"ErrVerifiedBySelf", "bob", behalf.CognitoInvalidParameter, map[string]string{"email": "b@example.com", "email_verified": "true"}, testPassword},
		{"ErrUnknownAttribute", "bob", behalf.CognitoInvalidParameter, map[string]string{"shoe_size": "9"}, testPassword},
		{"ErrBadEmail", "bob", behalf.CognitoInvalidParameter, map[string]string{"email": "not an email"}, testPassword},
		{"ErrUsername", "b ob", behalf.CognitoInvalidParameter, nil, testPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.SignUp(e.ctx, behalf.SignUpInput{ClientID: e.client.ID, Username: tc.user, Password: tc.password, Attributes: tc.attrs})
			wantCognito(t, err, tc.exception, "")
		})
	}
	// Nothing was stored by the failures.
	if _, err := e.svc.AdminGetUser(e.ctx, e.pool.ID, "bob"); behalf.CognitoException(err) != behalf.CognitoUserNotFound {
		t.Fatalf("bob after failed sign-ups: %v, want UserNotFoundException", err)
	}
	t.Run("ErrAdminOnly", func(t *testing.T) {
		a := newSignUpEnv(t, behalf.CreateUserPoolInput{AllowAdminCreateUserOnly: true})
		_, err := a.signUp("carol", nil)
		wantCognito(t, err, behalf.CognitoNotAuthorized, "SignUp is not permitted for this user pool.")
	})
	t.Run("ErrSecretHash", func(t *testing.T) {
		c, secret := e.env.client(t, e.pool.ID, true)
		_, err := e.svc.SignUp(e.ctx, behalf.SignUpInput{ClientID: c.ID, Username: "dave", Password: testPassword})
		wantCognito(t, err, behalf.CognitoNotAuthorized, "")
		_, err = e.svc.SignUp(e.ctx, behalf.SignUpInput{ClientID: c.ID, Username: "dave", Password: testPassword,
			SecretHash: behalf.Secret(userpool.SecretHash(secret, "dave", c.ID))})
		if err != nil {
			t.Fatalf("SignUp with SECRET_HASH: %v", err)
		}
	})
	t.Run("NoAutoVerify", func(t *testing.T) {
		n := newSignUpEnv(t, behalf.CreateUserPoolInput{AutoVerifiedAttributes: []string{}})
		out, err := n.signUp("erin", map[string]string{"email": "erin@example.com"})
		if err != nil || out.CodeDelivery != nil || out.UserConfirmed {
			t.Fatalf("SignUp = %+v, %v; want no delivery", out, err)
		}
		_, err = n.resend("erin")
		wantCognito(t, err, behalf.CognitoInvalidParameter, "Cannot resend codes. Auto verification not turned on.")
		if err := n.svc.AdminConfirmSignUp(n.ctx, n.pool.ID, "erin"); err != nil {
			t.Fatalf("AdminConfirmSignUp: %v", err)
		}
		n.mustSignIn(t, n.client, "", "erin")
		wantCognito(t, n.svc.AdminConfirmSignUp(n.ctx, n.pool.ID, "erin"), behalf.CognitoNotAuthorized, "")
	})
}

func TestCodeExpiryAndReplacement(t *testing.T) {
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{})
	mustSignUp(t, e, "alice", "alice@example.com")
	first := e.mail.lastCode(t)
	e.clock.Add(24 * time.Hour)
	wantCognito(t, e.confirm("alice", first), behalf.CognitoExpiredCode, "Invalid code provided, please request a code again.")
	if _, err := e.resend("alice"); err != nil {
		t.Fatalf("ResendConfirmationCode: %v", err)
	}
	second := e.mail.lastCode(t)
	if first != second {
		wantCognito(t, e.confirm("alice", first), behalf.CognitoCodeMismatch, "")
	}
	e.clock.Add(24*time.Hour - time.Second)
	if err := e.confirm("alice", second); err != nil {
		t.Fatalf("ConfirmSignUp a second before expiry: %v", err)
	}
}

func TestCodeAttemptLimit(t *testing.T) {
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{})
	mustSignUp(t, e, "alice", "alice@example.com")
	code := e.mail.lastCode(t)
	for i := range 5 {
		err := e.confirm("alice", wrong(code))
		if behalf.CognitoException(err) != behalf.CognitoCodeMismatch {
			t.Fatalf("wrong code %d: %v, want CodeMismatchException", i+1, err)
		}
	}
	// Even the right code is refused now, until a new one is sent.
	wantCognito(t, e.confirm("alice", code), behalf.CognitoLimitExceeded, "Attempt limit exceeded, please try after some time.")
	if _, err := e.resend("alice"); err != nil {
		t.Fatal(err)
	}
	if err := e.confirm("alice", e.mail.lastCode(t)); err != nil {
		t.Fatalf("ConfirmSignUp with a new code: %v", err)
	}
}

func TestCodeSendLimit(t *testing.T) {
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{})
	mustSignUp(t, e, "alice", "alice@example.com") // the first send
	for i := range 4 {
		if _, err := e.resend("alice"); err != nil {
			t.Fatalf("resend %d: %v", i+1, err)
		}
	}
	_, err := e.resend("alice")
	wantCognito(t, err, behalf.CognitoLimitExceeded, "")
	if n := len(e.mail.msgs); n != 5 {
		t.Fatalf("%d messages sent, want 5", n)
	}
	e.clock.Add(time.Hour)
	if _, err := e.resend("alice"); err != nil {
		t.Fatalf("resend an hour later: %v", err)
	}
}

func TestCodeStoredHashedAndSealed(t *testing.T) {
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{})
	mustSignUp(t, e, "alice", "alice@example.com")
	code := e.mail.lastCode(t).Reveal()
	c, err := e.store.GetPoolCode(e.ctx, e.pool.ID, "alice", behalf.CodeSignUp)
	if err != nil {
		t.Fatal(err)
	}
	plain := sha256.Sum256([]byte(code))
	if strings.Contains(c.Hash, code) || c.Hash == hex.EncodeToString(plain[:]) || len(c.Hash) != 64 {
		t.Fatalf("stored hash %q is the code or its plain hash", c.Hash)
	}
	// Without a mail server the code goes to the outbox, sealed.
	e.svc.Mail = nil
	if _, err := e.resend("alice"); err != nil {
		t.Fatal(err)
	}
	ms, err := e.store.ListPoolMessages(e.ctx, e.pool.ID, "alice")
	if err != nil || len(ms) != 1 {
		t.Fatalf("outbox = %d messages, %v; want 1", len(ms), err)
	}
	opened, err := e.svc.UserCodeMessages(e.ctx, e.pool.ID, "alice")
	if err != nil || len(opened) != 1 {
		t.Fatalf("UserCodeMessages = %v, %v", opened, err)
	}
	outboxCode := sixDigits.FindString(opened[0].Body.Reveal())
	if outboxCode == "" || bytes.Contains(ms[0].Sealed, []byte(outboxCode)) || opened[0].Destination != "alice@example.com" {
		t.Fatalf("outbox message %+v: code %q missing, or in clear in the sealed record", opened[0], outboxCode)
	}
	if err := e.confirm("alice", behalf.Secret(outboxCode)); err != nil {
		t.Fatalf("ConfirmSignUp with the outbox's code: %v", err)
	}
	if _, err := e.svc.UserCodeMessages(e.ctx, e.pool.ID, "nobody"); behalf.CognitoException(err) != behalf.CognitoUserNotFound {
		t.Fatalf("UserCodeMessages of no user: %v", err)
	}
}

func TestVerificationMessageTemplate(t *testing.T) {
	vm := behalf.VerificationMessage{EmailSubject: "Welcome to Acme", EmailMessage: "Your Acme code: {####}"}
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{VerificationMessage: vm})
	mustSignUp(t, e, "alice", "alice@example.com")
	m := e.mail.msgs[0]
	if m.Subject != "Welcome to Acme" || !regexp.MustCompile(`^Your Acme code: \d{6}$`).MatchString(m.Body.Reveal()) {
		t.Fatalf("message %q %q does not follow the template", m.Subject, m.Body.Reveal())
	}
	_, err := e.svc.CreateUserPool(e.ctx, behalf.CreateUserPoolInput{Name: "bad", VerificationMessage: behalf.VerificationMessage{EmailMessage: "no placeholder"}})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	_, err = e.svc.CreateUserPool(e.ctx, behalf.CreateUserPoolInput{Name: "bad", AutoVerifiedAttributes: []string{"name"}})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
}

func TestCodeDeliveryFailure(t *testing.T) {
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{})
	e.mail.fail = errors.New("smtp: 451 try later")
	_, err := e.signUp("alice", map[string]string{"email": "alice@example.com"})
	wantCognito(t, err, behalf.CognitoCodeDeliveryFailure, "")
	if strings.Contains(err.Error(), "451") {
		t.Fatalf("the mail server's answer reached the caller: %v", err)
	}
	e.mail.fail = nil
	if _, err := e.resend("alice"); err != nil {
		t.Fatalf("resend after a failed delivery: %v", err)
	}
	if err := e.confirm("alice", e.mail.lastCode(t)); err != nil {
		t.Fatal(err)
	}
}

func TestForgotPassword(t *testing.T) {
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{})
	e.user(t, e.pool.ID, "alice", map[string]string{"email": "alice@example.com", "email_verified": "true"})
	d, err := e.forgot("alice")
	want := behalf.CodeDeliveryDetails{AttributeName: "email", DeliveryMedium: "EMAIL", Destination: "a***@e***"}
	if err != nil || *d != want {
		t.Fatalf("ForgotPassword = %+v, %v; want %+v", d, err, want)
	}
	code := e.mail.lastCode(t)
	const newPassword = behalf.Secret("Brand-New-Pass-7")
	wantCognito(t, e.reset("alice", code, "weak"), behalf.CognitoInvalidPassword, "")
	wantCognito(t, e.reset("alice", wrong(code), newPassword), behalf.CognitoCodeMismatch, "")
	if err := e.reset("alice", code, newPassword); err != nil {
		t.Fatalf("ConfirmForgotPassword: %v", err)
	}
	if _, err := e.signIn(e.client, "", "alice", newPassword); err != nil {
		t.Fatalf("sign in with the new password: %v", err)
	}
	_, err = e.signIn(e.client, "", "alice", testPassword)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "")
	// Single-use: the code is gone.
	wantCognito(t, e.reset("alice", code, "Another-Pass-8"), behalf.CognitoExpiredCode, "")

	t.Run("Expiry", func(t *testing.T) {
		if _, err := e.forgot("alice"); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Hour)
		wantCognito(t, e.reset("alice", e.mail.lastCode(t), newPassword), behalf.CognitoExpiredCode, "")
	})
	t.Run("NoEnumeration", func(t *testing.T) {
		sent := len(e.mail.msgs)
		e.user(t, e.pool.ID, "bob", map[string]string{"email": "bob@example.com"}) // not verified
		for _, name := range []string{"nobody", "bob", "mallory@example.com"} {
			d1, err1 := e.forgot(name)
			d2, err2 := e.forgot(name)
			if err1 != nil || err2 != nil || *d1 != *d2 || d1.DeliveryMedium != "EMAIL" {
				t.Fatalf("ForgotPassword(%s) = %+v, %v then %+v, %v; want the same simulated delivery", name, d1, err1, d2, err2)
			}
			want := behalf.CognitoCodeMismatch
			if name == "bob" { // a user, with no code requested
				want = behalf.CognitoExpiredCode
			}
			wantCognito(t, e.reset(name, "123456", newPassword), want, "")
		}
		if len(e.mail.msgs) != sent {
			t.Fatal("a message was sent for a simulated delivery")
		}
		if d, _ := e.forgot("mallory@example.com"); d.Destination != "m***@e***" {
			t.Fatalf("simulated destination %q, want it masked from the name", d.Destination)
		}
		_, err := e.resend("nobody")
		if err != nil {
			t.Fatalf("ResendConfirmationCode of no user: %v", err)
		}
		wantCognito(t, e.confirm("nobody", "123456"), behalf.CognitoCodeMismatch, "")
	})
}

func TestConfirmForgotPasswordNoCode(t *testing.T) {
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{})
	e.user(t, e.pool.ID, "alice", map[string]string{"email": "alice@example.com", "email_verified": "true"})
	wantCognito(t, e.reset("alice", "123456", "Brand-New-Pass-7"), behalf.CognitoExpiredCode, "")
	wantCognito(t, e.reset("alice", "12 34", "Brand-New-Pass-7"), behalf.CognitoInvalidParameter, "")
}

func TestConfirmForgotPasswordSingleUseConcurrent(t *testing.T) {
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{})
	e.user(t, e.pool.ID, "alice", map[string]string{"email": "alice@example.com", "email_verified": "true"})
	if _, err := e.forgot("alice"); err != nil {
		t.Fatal(err)
	}
	code := e.mail.lastCode(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = e.reset("alice", code, "Brand-New-Pass-7") })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if ex := behalf.CognitoException(err); ex != behalf.CognitoCodeMismatch && ex != behalf.CognitoExpiredCode {
			t.Fatalf("concurrent use: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent uses of one code succeeded, want 1", ok)
	}
}

func TestAdminResetUserPassword(t *testing.T) {
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{})
	e.user(t, e.pool.ID, "alice", map[string]string{"email": "alice@example.com", "email_verified": "true"})
	e.user(t, e.pool.ID, "bob", map[string]string{"email": "bob@example.com"})
	wantCognito(t, e.svc.AdminResetUserPassword(e.ctx, e.pool.ID, "bob"), behalf.CognitoInvalidParameter,
		"Cannot reset password for the user as there is no registered/verified email or phone_number")
	wantCognito(t, e.svc.AdminResetUserPassword(e.ctx, e.pool.ID, "nobody"), behalf.CognitoUserNotFound, "")
	if err := e.svc.AdminResetUserPassword(e.ctx, e.pool.ID, "alice"); err != nil {
		t.Fatalf("AdminResetUserPassword: %v", err)
	}
	_, err := e.signIn(e.client, "", "alice", testPassword)
	wantCognito(t, err, behalf.CognitoPasswordResetRequired, "")
	if err := e.reset("alice", e.mail.lastCode(t), "Brand-New-Pass-7"); err != nil {
		t.Fatal(err)
	}
	u, _ := e.svc.AdminGetUser(e.ctx, e.pool.ID, "alice")
	if u.Status != behalf.UserConfirmed {
		t.Fatalf("status after reset = %s", u.Status)
	}
}

func TestSignUpEmailUsername(t *testing.T) {
	e := newSignUpEnv(t, behalf.CreateUserPoolInput{UsernameAttributes: []string{"email"}})
	out, err := e.signUp("carol@example.com", nil)
	if err != nil || out.CodeDelivery == nil {
		t.Fatalf("SignUp = %+v, %v", out, err)
	}
	if err := e.confirm("carol@example.com", e.mail.lastCode(t)); err != nil {
		t.Fatalf("ConfirmSignUp by email: %v", err)
	}
	u, _ := e.svc.AdminGetUser(e.ctx, e.pool.ID, "carol@example.com")
	if u.Username != out.UserSub || u.Status != behalf.UserConfirmed {
		t.Fatalf("user = %+v", u)
	}
}
