package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/behalf-dev/behalf/internal/smtptest"
)

// Ensure sign-up and password recovery through the official client, with
// the codes delivered by --smtp-url to a real SMTP server (STARTTLS, AUTH)
// and read from the mail it received: SignUp, ConfirmSignUp,
// ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword,
// AdminConfirmSignUp, AdminResetUserPassword, with SECRET_HASH, the pool's
// message template, and Cognito's exceptions by type.
func TestSignUpSDK(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	s := startMain(t, serverOptions{smtpTLS: mail.RootCAs,
		args: []string{"--smtp-url", mail.URL("smtp"), "--smtp-from", "no-reply@behalf.example"}})
	if strings.Contains(s.Log.String(), mail.Password) {
		t.Fatal("the SMTP password is in the server's log")
	}
	ctx, c := context.Background(), s.cognito(t)
	f := newPoolFixture(t, ctx, c, "signup")
	if _, err := c.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{
		UserPoolId: aws.String(f.poolID), AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		VerificationMessageTemplate: &types.VerificationMessageTemplateType{
			EmailSubject: aws.String("Your Acme code"), EmailMessage: aws.String("Acme code: {####}"),
		},
	}); err != nil {
		t.Fatal(err)
	}
	desc, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(f.poolID)})
	if err != nil {
		t.Fatal(err)
	}
	if p := desc.UserPool; len(p.AutoVerifiedAttributes) != 1 || aws.ToString(p.VerificationMessageTemplate.EmailSubject) != "Your Acme code" ||
		p.AdminCreateUserConfig.AllowAdminCreateUserOnly {
		t.Fatalf("DescribeUserPool = %+v %+v", p.AutoVerifiedAttributes, p.VerificationMessageTemplate)
	}
	hash := func(name string) *string { return aws.String(secretHash(f.clientSecret, name, f.clientID)) }

	up, err := c.SignUp(ctx, &cip.SignUpInput{
		ClientId: aws.String(f.clientID), Username: aws.String("alice"), Password: aws.String("Alice-Pass-1!"), SecretHash: hash("alice"),
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("alice@example.com")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := up.CodeDeliveryDetails; up.UserConfirmed || aws.ToString(up.UserSub) == "" || d == nil ||
		d.DeliveryMedium != types.DeliveryMediumTypeEmail || aws.ToString(d.Destination) != "a***@e***" || aws.ToString(d.AttributeName) != "email" {
		t.Fatalf("SignUp = %+v %+v", up, up.CodeDeliveryDetails)
	}
	code := mail.WaitCode(t, "alice@example.com", 0)
	if m := mail.Messages()[0]; m.Subject != "Your Acme code" || !m.TLS || m.From != "no-reply@behalf.example" {
		t.Fatalf("mail: subject %q TLS %v from %q", m.Subject, m.TLS, m.From)
	}
	_, err = f.signIn(ctx, c, "alice", "Alice-Pass-1!")
	wantErrorAs[*types.UserNotConfirmedException](t, err)
	confirm := func(name, code string) error {
		_, err := c.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(f.clientID), Username: aws.String(name),
			ConfirmationCode: aws.String(code), SecretHash: hash(name)})
		return err
	}
	wantErrorAs[*types.CodeMismatchException](t, confirm("alice", otherCode(code)))
	_, err = c.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(f.clientID), Username: aws.String("alice"), ConfirmationCode: aws.String(code)})
	wantErrorAs[*types.NotAuthorizedException](t, err) // no SecretHash
	if err := confirm("alice", code); err != nil {
		t.Fatal(err)
	}
	mustTokens(t)(f.signIn(ctx, c, "alice", "Alice-Pass-1!"))
	wantErrorAs[*types.NotAuthorizedException](t, confirm("alice", code))

	// Resend, and AdminConfirmSignUp.
	if _, err := c.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(f.clientID), Username: aws.String("bob"), Password: aws.String("Bob-Pass-1!"),
		SecretHash: hash("bob"), UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("bob@example.com")}}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(f.clientID), Username: aws.String("bob"), Password: aws.String("Bob-Pass-1!"), SecretHash: hash("bob")})
	wantErrorAs[*types.UsernameExistsException](t, err)
	_, err = c.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(f.clientID), Username: aws.String("carol"), Password: aws.String("weak"), SecretHash: hash("carol")})
	wantErrorAs[*types.InvalidPasswordException](t, err)
	resent, err := c.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(f.clientID), Username: aws.String("bob"), SecretHash: hash("bob")})
	if err != nil || aws.ToString(resent.CodeDeliveryDetails.Destination) != "b***@e***" {
		t.Fatalf("ResendConfirmationCode = %+v, %v", resent, err)
	}
	mail.WaitCode(t, "bob@example.com", 1)
	ghost, err := c.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(f.clientID), Username: aws.String("ghost"), SecretHash: hash("ghost")})
	if err != nil || ghost.CodeDeliveryDetails == nil {
		t.Fatalf("ResendConfirmationCode of no user = %+v, %v: want a simulated delivery", ghost, err)
	}
	if _, err := c.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(f.poolID), Username: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	mustTokens(t)(f.signIn(ctx, c, "bob", "Bob-Pass-1!"))

	// Forgot password, by the email ConfirmSignUp verified.
	forgot, err := c.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(f.clientID), Username: aws.String("alice"), SecretHash: hash("alice")})
	if err != nil || forgot.CodeDeliveryDetails.DeliveryMedium != types.DeliveryMediumTypeEmail {
		t.Fatalf("ForgotPassword = %+v, %v", forgot, err)
	}
	reset := mail.WaitCode(t, "alice@example.com", 1)
	resetWith := func(name, code, password string) error {
		_, err := c.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(f.clientID), Username: aws.String(name),
			ConfirmationCode: aws.String(code), Password: aws.String(password), SecretHash: hash(name)})
		return err
	}
	wantErrorAs[*types.CodeMismatchException](t, resetWith("alice", otherCode(reset), "Alice-New-Pass-2!"))
	wantErrorAs[*types.InvalidPasswordException](t, resetWith("alice", reset, "weak"))
	if err := resetWith("alice", reset, "Alice-New-Pass-2!"); err != nil {
		t.Fatal(err)
	}
	mustTokens(t)(f.signIn(ctx, c, "alice", "Alice-New-Pass-2!"))
	wantErrorAs[*types.ExpiredCodeException](t, resetWith("alice", reset, "Alice-New-Pass-3!")) // used
	wantErrorAs[*types.CodeMismatchException](t, resetWith("ghost", "123456", "Alice-New-Pass-3!"))

	// An administrator's reset: sign-in is refused until the code is used.
	if _, err := c.AdminResetUserPassword(ctx, &cip.AdminResetUserPasswordInput{UserPoolId: aws.String(f.poolID), Username: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	_, err = f.signIn(ctx, c, "alice", "Alice-New-Pass-2!")
	wantErrorAs[*types.PasswordResetRequiredException](t, err)
	if err := resetWith("alice", mail.WaitCode(t, "alice@example.com", 2), "Alice-New-Pass-3!"); err != nil {
		t.Fatal(err)
	}
	mustTokens(t)(f.signIn(ctx, c, "alice", "Alice-New-Pass-3!"))

	// A pool that allows only administrators to create users.
	if _, err := c.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(f.poolID),
		AdminCreateUserConfig: &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(f.clientID), Username: aws.String("dave"), Password: aws.String("Dave-Pass-1!"), SecretHash: hash("dave")})
	wantErrorAs[*types.NotAuthorizedException](t, err)
	if strings.Contains(s.Log.String(), code) || strings.Contains(s.Log.String(), reset) || strings.Contains(s.Log.String(), mail.Password) {
		t.Fatal("a code or the SMTP password is in the server's log")
	}
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// otherCode returns a 6-digit code other than code.
func otherCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// Ensure that without --smtp-url the server says where codes go, and the
// administrator reads them with `behalf user codes` (the root-only
// ListUserPoolCodes), never in the log.
func TestUserCodesOutbox(t *testing.T) {
	isolateAWSEnv(t)
	s := mustRunMain(t, "")
	if !strings.Contains(s.Log.String(), "behalf user codes POOL USER") {
		t.Fatalf("the log does not say where codes go:\n%s", s.Log)
	}
	ctx, c := context.Background(), s.cognito(t)
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("outbox"),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail}})
	if err != nil {
		t.Fatal(err)
	}
	client, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: pool.UserPool.Id, ClientName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignUp(ctx, &cip.SignUpInput{ClientId: client.UserPoolClient.ClientId, Username: aws.String("erin"), Password: aws.String("Erin-Pass-1!"),
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("erin@example.com")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := cliRun(t, s, "user", "codes", aws.ToString(pool.UserPool.Id), "erin")
	if err != nil {
		t.Fatalf("behalf user codes: %v\n%s", err, out)
	}
	code := sixDigits.FindString(out)
	if code == "" || !strings.Contains(out, "sign-up  EMAIL to erin@example.com") || !strings.Contains(out, "Subject: Your verification code") {
		t.Fatalf("behalf user codes printed:\n%s", out)
	}
	if strings.Contains(s.Log.String(), code) {
		t.Fatal("the code is in the server's log")
	}
	if _, err := c.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: client.UserPoolClient.ClientId, Username: aws.String("erin"), ConfirmationCode: aws.String(code)}); err != nil {
		t.Fatal(err)
	}
	if out, err := cliRun(t, s, "user", "codes", aws.ToString(pool.UserPool.Id), "nobody"); err == nil {
		t.Fatalf("behalf user codes of no user succeeded:\n%s", out)
	}
}
