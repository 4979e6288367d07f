package behalf

import (
	"context"
	"time"
)

// Sign-up and password recovery (Cognito's SignUp, ConfirmSignUp,
// ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword and their
// Admin forms): one-time codes, kept hashed, and the messages that carry
// them.

// Purposes of a PoolCode.
const (
	CodeSignUp        = "sign-up"        // confirms a self-registered user (24 h)
	CodeResetPassword = "reset-password" // sets a forgotten password (1 h)
)

// Delivery media of a code (Cognito's DeliveryMediumType).
const (
	DeliveryEmail = "EMAIL"
	DeliverySMS   = "SMS"
)

// PoolCode is the code a user was last sent for one purpose. Only a keyed
// hash of the code is kept (the user-pool service's, opaque to the store);
// a new code for the same user and purpose replaces it.
type PoolCode struct {
	PoolID   string
	Username string
	Purpose  string // CodeSignUp or CodeResetPassword
	Hash     string // hex keyed hash of the code; never the code
	// Attribute is the attribute the code was sent to ("email" or
	// "phone_number"), which its confirmation verifies.
	Attribute string
	Attempts  int // wrong codes tried against this one
	ExpiresAt time.Time
	// Sends counts the codes sent for this purpose since SendWindow began,
	// to limit how often codes are sent.
	Sends      int
	SendWindow time.Time
	CreatedAt  time.Time
}

// PoolMessage is a code message kept in a pool's local outbox instead of
// being sent (no mail server is configured, or the medium is SMS, which
// Behalf cannot send). Its subject and body, which hold the code, are
// Sealed under SealContext{"pool-message", ID, "message"}.
type PoolMessage struct {
	ID          string
	PoolID      string
	Username    string
	Purpose     string
	Medium      string // DeliveryEmail or DeliverySMS
	Destination string // the address or number it was for
	Sealed      Sealed
	ExpiresAt   time.Time // the code's expiry; the message is useless after it
	CreatedAt   time.Time
}

// CodeMessage is one code message to deliver. Body holds the code.
type CodeMessage struct {
	PoolID      string
	Username    string
	Purpose     string
	Medium      string // DeliveryEmail or DeliverySMS
	Destination string // email address or phone number
	Subject     string
	Body        Secret
	ExpiresAt   time.Time
}

// CodeSender delivers code messages (an SMTP client). Its errors are
// never shown to callers; the user-pool service answers
// CodeDeliveryFailureException.
type CodeSender interface {
	SendCode(ctx context.Context, m *CodeMessage) error
}

// VerificationMessage is a pool's VerificationMessageTemplate (and the
// legacy EmailVerificationMessage/Subject): the messages that carry codes.
// The messages contain {####}, where the code goes. Empty fields mean
// Cognito's defaults.
type VerificationMessage struct {
	EmailSubject string
	EmailMessage string
	SMSMessage   string
}

// CodeDeliveryDetails is where a code was sent (Cognito's
// CodeDeliveryDetailsType); Destination is masked.
type CodeDeliveryDetails struct {
	AttributeName  string
	DeliveryMedium string
	Destination    string
}

// SignUpInput registers a user (SignUp).
type SignUpInput struct {
	ClientID   string
	Username   string
	Password   Secret
	SecretHash Secret
	Attributes map[string]string
	// ClientVerified says the caller authenticated the client itself (the
	// hosted login): no SecretHash is asked for. The wire API never sets it.
	ClientVerified bool
}

// SignUpResult is SignUp's answer.
type SignUpResult struct {
	UserConfirmed bool
	UserSub       string
	// CodeDelivery is nil when no code was sent (the pool verifies no
	// attribute the user has).
	CodeDelivery *CodeDeliveryDetails
}

// CodeRequestInput asks for a code (ResendConfirmationCode, ForgotPassword).
type CodeRequestInput struct {
	ClientID       string
	Username       string
	SecretHash     Secret
	ClientVerified bool // as in SignUpInput
}

// ConfirmCodeInput answers a code (ConfirmSignUp, ConfirmForgotPassword:
// with the new Password).
type ConfirmCodeInput struct {
	ClientID       string
	Username       string
	Code           Secret
	Password       Secret // ConfirmForgotPassword only
	SecretHash     Secret
	ClientVerified bool // as in SignUpInput
}

// OutboxMessage is a message of a pool's local outbox, opened, for the
// administrator (behalf user codes).
type OutboxMessage struct {
	Username    string
	Purpose     string
	Medium      string
	Destination string
	Subject     string
	Body        Secret
	ExpiresAt   time.Time
	CreatedAt   time.Time
}

// PoolCodeStore persists codes and the local outbox. Both go with their
// user and pool.
type PoolCodeStore interface {
	// PutPoolCode stores c, replacing the user's code for c.Purpose if
	// any. ENOTFOUND if there is no such user.
	PutPoolCode(ctx context.Context, c *PoolCode) error
	// GetPoolCode returns a user's code for purpose (ENOTFOUND).
	GetPoolCode(ctx context.Context, poolID, username, purpose string) (*PoolCode, error)
	// FailPoolCode counts one wrong attempt on the code whose hash is
	// hash, in one statement, and returns the new count; ENOTFOUND if that
	// code is no longer stored (replaced or used).
	FailPoolCode(ctx context.Context, poolID, username, purpose, hash string) (int, error)
	// UsePoolCode deletes the code whose hash is hash, so that it is used
	// once: ENOTFOUND if it is no longer stored (a concurrent use won).
	UsePoolCode(ctx context.Context, poolID, username, purpose, hash string) error
	// DeletePoolCode deletes a user's code for purpose; none is no error.
	DeletePoolCode(ctx context.Context, poolID, username, purpose string) error
	// DeleteExpiredPoolCodes deletes the codes, in every pool, that
	// expired before t, and returns how many.
	DeleteExpiredPoolCodes(ctx context.Context, before time.Time) (int, error)

	// AddPoolMessage stores a message in the outbox (ENOTFOUND if there
	// is no such user).
	AddPoolMessage(ctx context.Context, m *PoolMessage) error
	// ListPoolMessages returns a user's outbox messages, newest first.
	ListPoolMessages(ctx context.Context, poolID, username string) ([]*PoolMessage, error)
	// DeleteExpiredPoolMessages deletes the outbox messages, in every pool,
	// that expired before t, and returns how many.
	DeleteExpiredPoolMessages(ctx context.Context, before time.Time) (int, error)
}

// PoolSignUpService is self-service sign-up and password recovery. Errors
// are *CognitoError; names that are no user get the answers Cognito gives
// with PreventUserExistenceErrors ENABLED.
type PoolSignUpService interface {
	// SignUp creates an UNCONFIRMED user and sends a code to the pool's
	// auto-verified attribute (NotAuthorizedException when the pool allows
	// only administrators to create users).
	SignUp(ctx context.Context, in SignUpInput) (*SignUpResult, error)
	// ConfirmSignUp confirms a user with the code sent at sign-up
	// (CodeMismatchException, ExpiredCodeException, LimitExceededException).
	ConfirmSignUp(ctx context.Context, in ConfirmCodeInput) error
	// ResendConfirmationCode sends an UNCONFIRMED user a new code.
	ResendConfirmationCode(ctx context.Context, in CodeRequestInput) (*CodeDeliveryDetails, error)
	// AdminConfirmSignUp confirms a user without a code.
	AdminConfirmSignUp(ctx context.Context, poolID, username string) error
	// ForgotPassword sends a password-reset code to a verified email or phone.
	ForgotPassword(ctx context.Context, in CodeRequestInput) (*CodeDeliveryDetails, error)
	// ConfirmForgotPassword sets a new password with a reset code.
	ConfirmForgotPassword(ctx context.Context, in ConfirmCodeInput) error
	// AdminResetUserPassword makes a user RESET_REQUIRED and sends a code.
	AdminResetUserPassword(ctx context.Context, poolID, username string) error
	// UserCodeMessages opens a user's messages in the local outbox, newest
	// first, for the administrator: never served by the Cognito API.
	UserCodeMessages(ctx context.Context, poolID, username string) ([]*OutboxMessage, error)
}
