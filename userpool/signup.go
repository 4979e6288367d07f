package userpool

import (
	"context"
	"slices"

	"github.com/behalf-dev/behalf"
)

// Self-service sign-up and password recovery, as Cognito answers them
// with PreventUserExistenceErrors ENABLED (always, in Behalf): a name
// that is no user, or a disabled one, gets a simulated CodeDeliveryDetails
// from ResendConfirmationCode and ForgotPassword and CodeMismatchException
// from the confirmations. Codes: code.go.

// Messages of the sign-up and recovery operations.
const (
	msgSignUpDisabled  = "SignUp is not permitted for this user pool."
	msgCannotReset     = "User password cannot be reset in the current state."
	msgNoVerifiedEmail = "Cannot reset password for the user as there is no registered/verified email or phone_number"
	msgAlreadyConfirm  = "User is already confirmed."
	msgNoAutoVerify    = "Cannot resend codes. Auto verification not turned on."
)

// anonClient resolves the client of an anonymous request and checks its
// SecretHash over name, unless the caller verified the client itself.
func (s *Service) anonClient(ctx context.Context, clientID string, hash behalf.Secret, verified bool, name string) (*behalf.AppClient, *behalf.UserPool, error) {
	client, pool, err := s.getClient(ctx, "", clientID)
	if err != nil {
		return nil, nil, err
	}
	if name == "" {
		return nil, nil, invalidParameter("Missing required parameter Username")
	}
	if len(name) > 4*maxUsernameLength {
		return nil, nil, invalidParameter("Username is too long.")
	}
	if !verified {
		if err := s.checkSecretHash(ctx, client, hash, name); err != nil {
			return nil, nil, err
		}
	}
	return client, pool, nil
}

// SignUp creates an UNCONFIRMED user with a password under the pool's
// policy and sends a confirmation code to the attribute the pool
// auto-verifies (phone_number before email, as Cognito; SMS goes to the
// outbox). The user is created even if the code cannot be delivered
// (CodeDeliveryFailureException), as in Cognito; ResendConfirmationCode
// then sends another.
func (s *Service) SignUp(ctx context.Context, in behalf.SignUpInput) (*behalf.SignUpResult, error) {
	_, pool, err := s.anonClient(ctx, in.ClientID, in.SecretHash, in.ClientVerified, in.Username)
	if err != nil {
		return nil, err
	}
	if pool.AllowAdminCreateUserOnly {
		return nil, notAuthorized(msgSignUpDisabled)
	}
	if err := validateUsername(in.Username); err != nil {
		return nil, err
	}
	if err := validateAttributes(in.Attributes); err != nil {
		return nil, err
	}
	for _, a := range []string{"email_verified", "phone_number_verified"} {
		if _, ok := in.Attributes[a]; ok {
			return nil, invalidParameter("%s can only be set by an administrator.", a)
		}
	}
	if in.Password.IsZero() {
		return nil, invalidParameter("Missing required parameter Password")
	}
	if err := checkPassword(pool.PasswordPolicy, in.Password); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	u, err := s.newUser(ctx, pool, in.Username, in.Attributes, in.Password, hash, behalf.UserUnconfirmed)
	if err != nil {
		return nil, err
	}
	out := &behalf.SignUpResult{UserSub: u.Sub}
	if attr := verifyAttribute(pool, u); attr != "" {
		out.CodeDelivery, err = s.sendCode(ctx, pool, u, behalf.CodeSignUp, attr)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// verifyAttribute is the attribute a sign-up code goes to: one the pool
// auto-verifies and the user has, phone_number first.
func verifyAttribute(pool *behalf.UserPool, u *behalf.PoolUser) string {
	for _, a := range []string{"phone_number", "email"} {
		if slices.Contains(pool.AutoVerifiedAttributes, a) && u.Attributes[a] != "" {
			return a
		}
	}
	return ""
}

// ConfirmSignUp confirms an UNCONFIRMED user with the code sent at sign-up
// and marks the attribute it went to verified.
func (s *Service) ConfirmSignUp(ctx context.Context, in behalf.ConfirmCodeInput) error {
	_, pool, err := s.anonClient(ctx, in.ClientID, in.SecretHash, in.ClientVerified, in.Username)
	if err != nil {
		return err
	}
	if err := validateCode(in.Code); err != nil {
		return err
	}
	u, err := s.findUser(ctx, pool, in.Username)
	if isNotFound(err) {
		return cognito(behalf.CognitoCodeMismatch, msgCodeMismatch)
	}
	if err != nil {
		return internal("get user", err)
	}
	if u.Status != behalf.UserUnconfirmed {
		return notAuthorized("User cannot be confirmed. Current status is " + u.Status)
	}
	c, err := s.useCode(ctx, pool.ID, u.Username, behalf.CodeSignUp, in.Code)
	if err != nil {
		return err
	}
	return s.confirm(ctx, pool.ID, u.Username, c.Attribute)
}

// confirm makes an UNCONFIRMED user CONFIRMED, with attr ("" for none)
// verified.
func (s *Service) confirm(ctx context.Context, poolID, username, attr string) error {
	_, err := s.updateUser(ctx, poolID, username, func(u *behalf.PoolUser) error {
		if u.Status != behalf.UserUnconfirmed {
			return notAuthorized("User cannot be confirmed. Current status is " + u.Status)
		}
		u.Status = behalf.UserConfirmed
		if attr != "" && u.Attributes[attr] != "" {
			u.Attributes[attr+"_verified"] = "true"
		}
		return nil
	})
	return err
}

// ResendConfirmationCode sends an UNCONFIRMED user a new sign-up code.
func (s *Service) ResendConfirmationCode(ctx context.Context, in behalf.CodeRequestInput) (*behalf.CodeDeliveryDetails, error) {
	_, pool, err := s.anonClient(ctx, in.ClientID, in.SecretHash, in.ClientVerified, in.Username)
	if err != nil {
		return nil, err
	}
	u, err := s.findUser(ctx, pool, in.Username)
	if err != nil && !isNotFound(err) {
		return nil, internal("get user", err)
	}
	if u == nil || !u.Enabled {
		return s.simulatedDelivery(ctx, pool, in.Username)
	}
	if u.Status != behalf.UserUnconfirmed {
		return nil, invalidParameter(msgAlreadyConfirm)
	}
	attr := verifyAttribute(pool, u)
	if attr == "" {
		return nil, invalidParameter(msgNoAutoVerify)
	}
	return s.sendCode(ctx, pool, u, behalf.CodeSignUp, attr)
}

// AdminConfirmSignUp confirms an UNCONFIRMED user without a code; the
// user's sign-up code, if any, is deleted.
func (s *Service) AdminConfirmSignUp(ctx context.Context, poolID, username string) error {
	_, u, err := s.adminUser(ctx, poolID, username)
	if err != nil {
		return err
	}
	if err := s.confirm(ctx, poolID, u.Username, ""); err != nil {
		return err
	}
	if err := s.Store.DeletePoolCode(ctx, poolID, u.Username, behalf.CodeSignUp); err != nil {
		return internal("delete code", err)
	}
	return nil
}

// recoveryAttribute is the verified attribute a reset code goes to:
// email, then phone_number ("" when the user has neither verified).
func recoveryAttribute(u *behalf.PoolUser) string {
	for _, a := range []string{"email", "phone_number"} {
		if u.Attributes[a] != "" && u.Attributes[a+"_verified"] == "true" {
			return a
		}
	}
	return ""
}

// ForgotPassword sends a password-reset code to the user's verified email
// (or phone number, to the outbox). A name that is no user, a disabled
// user and a user without a verified contact get a simulated answer.
func (s *Service) ForgotPassword(ctx context.Context, in behalf.CodeRequestInput) (*behalf.CodeDeliveryDetails, error) {
	_, pool, err := s.anonClient(ctx, in.ClientID, in.SecretHash, in.ClientVerified, in.Username)
	if err != nil {
		return nil, err
	}
	u, err := s.findUser(ctx, pool, in.Username)
	if err != nil && !isNotFound(err) {
		return nil, internal("get user", err)
	}
	attr := ""
	if u != nil && u.Enabled {
		attr = recoveryAttribute(u)
	}
	if attr == "" {
		return s.simulatedDelivery(ctx, pool, in.Username)
	}
	if u.Status == behalf.UserForceChangePassword {
		return nil, notAuthorized(msgCannotReset)
	}
	return s.sendCode(ctx, pool, u, behalf.CodeResetPassword, attr)
}

// ConfirmForgotPassword sets a new password, under the pool's policy,
// with a reset code; the user becomes CONFIRMED (from RESET_REQUIRED) and
// any lockout is cleared.
func (s *Service) ConfirmForgotPassword(ctx context.Context, in behalf.ConfirmCodeInput) error {
	_, pool, err := s.anonClient(ctx, in.ClientID, in.SecretHash, in.ClientVerified, in.Username)
	if err != nil {
		return err
	}
	if err := validateCode(in.Code); err != nil {
		return err
	}
	if in.Password.IsZero() {
		return invalidParameter("Missing required parameter Password")
	}
	if err := checkPassword(pool.PasswordPolicy, in.Password); err != nil {
		return err
	}
	u, err := s.findUser(ctx, pool, in.Username)
	if err != nil && !isNotFound(err) {
		return internal("get user", err)
	}
	if u == nil || !u.Enabled {
		return cognito(behalf.CognitoCodeMismatch, msgCodeMismatch)
	}
	if u.Status == behalf.UserUnconfirmed {
		return cognito(behalf.CognitoUserNotConfirmed, "User is not confirmed.")
	}
	if _, err := s.useCode(ctx, pool.ID, u.Username, behalf.CodeResetPassword, in.Code); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return err
	}
	srp, err := s.newSRPVerifier(ctx, pool.ID, u.Username, in.Password, hash)
	if err != nil {
		return err
	}
	_, err = s.updateUser(ctx, pool.ID, u.Username, func(u *behalf.PoolUser) error {
		setPassword(u, hash, behalf.UserConfirmed, s.now())
		u.SRPVerifier = srp
		return nil
	})
	if err != nil {
		return err
	}
	return s.resetLockout(ctx, pool.ID, u.Username)
}

// AdminResetUserPassword makes a confirmed user RESET_REQUIRED (sign-in
// answers PasswordResetRequiredException) and sends a reset code to a
// verified email or phone number; a user without one is
// InvalidParameterException and nothing changes.
func (s *Service) AdminResetUserPassword(ctx context.Context, poolID, username string) error {
	pool, u, err := s.adminUser(ctx, poolID, username)
	if err != nil {
		return err
	}
	if u.Status == behalf.UserUnconfirmed || u.Status == behalf.UserForceChangePassword {
		return notAuthorized(msgCannotReset)
	}
	attr := recoveryAttribute(u)
	if attr == "" {
		return invalidParameter(msgNoVerifiedEmail)
	}
	u, err = s.updateUser(ctx, poolID, u.Username, func(u *behalf.PoolUser) error {
		u.Status = behalf.UserResetRequired
		return nil
	})
	if err != nil {
		return err
	}
	_, err = s.sendCode(ctx, pool, u, behalf.CodeResetPassword, attr)
	return err
}
