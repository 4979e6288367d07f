package behalf

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Cognito exception names, as the cognito-idp wire protocol sends them in
// __type. A CognitoError carries one of them.
const (
	CognitoNotAuthorized         = "NotAuthorizedException"
	CognitoUserNotFound          = "UserNotFoundException"
	CognitoUsernameExists        = "UsernameExistsException"
	CognitoInvalidPassword       = "InvalidPasswordException"
	CognitoInvalidParameter      = "InvalidParameterException"
	CognitoResourceNotFound      = "ResourceNotFoundException"
	CognitoTooManyRequests       = "TooManyRequestsException"
	CognitoPasswordResetRequired = "PasswordResetRequiredException"
	CognitoUserNotConfirmed      = "UserNotConfirmedException"
	CognitoLimitExceeded         = "LimitExceededException"
	CognitoTooManyFailedAttempts = "TooManyFailedAttemptsException"
	CognitoUnsupportedUserState  = "UnsupportedUserStateException"
	CognitoUnsupportedOperation  = "UnsupportedOperationException"
	CognitoInternalError         = "InternalErrorException"
	CognitoScopeDoesNotExist     = "ScopeDoesNotExistException"
	CognitoRefreshTokenReuse     = "RefreshTokenReuseException"
	CognitoGroupExists           = "GroupExistsException"
	CognitoCodeMismatch          = "CodeMismatchException"
	CognitoExpiredCode           = "ExpiredCodeException"
	CognitoCodeDeliveryFailure   = "CodeDeliveryFailureException"
	// CognitoEnableSoftwareTokenMFA is VerifySoftwareToken's wrong code.
	CognitoEnableSoftwareTokenMFA   = "EnableSoftwareTokenMFAException"
	CognitoSoftwareTokenMFANotFound = "SoftwareTokenMFANotFoundException"
)

// cognitoCodes gives the behalf error code of each Cognito exception.
var cognitoCodes = map[string]string{
	CognitoNotAuthorized:            EUNAUTHORIZED,
	CognitoUserNotFound:             ENOTFOUND,
	CognitoUsernameExists:           ECONFLICT,
	CognitoInvalidPassword:          EINVALID,
	CognitoInvalidParameter:         EINVALID,
	CognitoResourceNotFound:         ENOTFOUND,
	CognitoTooManyRequests:          ETHROTTLED,
	CognitoPasswordResetRequired:    EFORBIDDEN,
	CognitoUserNotConfirmed:         EFORBIDDEN,
	CognitoLimitExceeded:            EFORBIDDEN,
	CognitoTooManyFailedAttempts:    ETHROTTLED,
	CognitoUnsupportedUserState:     ECONFLICT,
	CognitoUnsupportedOperation:     EFORBIDDEN,
	CognitoInternalError:            EINTERNAL,
	CognitoScopeDoesNotExist:        EINVALID,
	CognitoRefreshTokenReuse:        EUNAUTHORIZED,
	CognitoGroupExists:              ECONFLICT,
	CognitoCodeMismatch:             EINVALID,
	CognitoExpiredCode:              EINVALID,
	CognitoCodeDeliveryFailure:      EINTERNAL,
	CognitoEnableSoftwareTokenMFA:   EINVALID,
	CognitoSoftwareTokenMFANotFound: EFORBIDDEN,
}

// CognitoError is a user-pool error with the Cognito exception name the
// wire layer sends. It unwraps to a *Error of the same Code and Message, so
// ErrorCode and ErrorMessage work on it; the wire layer gets the exception
// name with errors.As or CognitoException.
type CognitoError struct {
	Code      string // a behalf error code (EUNAUTHORIZED, ...)
	Exception string // e.g. "NotAuthorizedException"
	Message   string // safe to show the caller
}

// CognitoErrorf returns a CognitoError for exception, with the behalf code
// that exception maps to (EINTERNAL for an unknown name).
func CognitoErrorf(exception, format string, args ...any) *CognitoError {
	code, ok := cognitoCodes[exception]
	if !ok {
		code = EINTERNAL
	}
	return &CognitoError{Code: code, Exception: exception, Message: fmt.Sprintf(format, args...)}
}

// Error describes the error with its exception name and code.
func (e *CognitoError) Error() string {
	return fmt.Sprintf("cognito error: %s (code=%s): %s", e.Exception, e.Code, e.Message)
}

// Unwrap returns the *Error this CognitoError stands for.
func (e *CognitoError) Unwrap() error { return &Error{Code: e.Code, Message: e.Message} }

// CognitoException returns the Cognito exception name for err: the
// CognitoError's in its chain, or else one chosen by its behalf code
// (InternalErrorException for uncoded errors). It returns "" for nil.
func CognitoException(err error) string {
	if err == nil {
		return ""
	}
	var ce *CognitoError
	if errors.As(err, &ce) {
		return ce.Exception
	}
	switch ErrorCode(err) {
	case EINVALID, ETOOLARGE, ENOTIMPLEMENTED:
		return CognitoInvalidParameter
	case ENOTFOUND:
		return CognitoResourceNotFound
	case EUNAUTHORIZED, EFORBIDDEN:
		return CognitoNotAuthorized
	case ECONFLICT:
		return CognitoInvalidParameter
	case ETHROTTLED:
		return CognitoTooManyRequests
	case EUNAVAILABLE:
		// Cognito declares no 503 shape; its service-side error is
		// InternalErrorException (the wire layer adds Retry-After).
		return CognitoInternalError
	}
	return CognitoInternalError
}

// Auth flows (AuthFlowType) a UserPoolService serves.
const (
	AuthFlowUserPassword      = "USER_PASSWORD_AUTH"
	AuthFlowAdminUserPassword = "ADMIN_USER_PASSWORD_AUTH"
	AuthFlowRefreshToken      = "REFRESH_TOKEN_AUTH"
	AuthFlowRefresh           = "REFRESH_TOKEN" // a synonym of REFRESH_TOKEN_AUTH
)

// Explicit auth flows (ExplicitAuthFlowsType) an app client allows.
const (
	AllowUserPasswordAuth      = "ALLOW_USER_PASSWORD_AUTH"
	AllowAdminUserPasswordAuth = "ALLOW_ADMIN_USER_PASSWORD_AUTH"
	AllowRefreshTokenAuth      = "ALLOW_REFRESH_TOKEN_AUTH"
	AllowUserSRPAuth           = "ALLOW_USER_SRP_AUTH"
	AllowCustomAuth            = "ALLOW_CUSTOM_AUTH"
)

// ChallengeNewPasswordRequired is the challenge a user with a temporary
// password must answer.
const ChallengeNewPasswordRequired = "NEW_PASSWORD_REQUIRED"

// ScopeCognitoAdmin is the scope of tokens from API sign-ins; GetUser,
// ChangePassword and GlobalSignOut require it.
const ScopeCognitoAdmin = "aws.cognito.signin.user.admin"

// CreateUserPoolInput configures a new user pool.
type CreateUserPoolInput struct {
	Name string
	// PasswordPolicy nil means DefaultPasswordPolicy.
	PasswordPolicy *PasswordPolicy
	// UsernameAttributes: "email" and/or "phone_number".
	UsernameAttributes []string
	// MFAConfiguration must be "" or "OFF": a new pool has no MFA factor
	// (SetUserPoolMfaConfig enables TOTP).
	MFAConfiguration string
	Tags             map[string]string
	// AutoVerifiedAttributes, AllowAdminCreateUserOnly and
	// VerificationMessage are as in UserPool.
	AutoVerifiedAttributes   []string
	AllowAdminCreateUserOnly bool
	VerificationMessage      VerificationMessage
}

// UpdateUserPoolInput replaces a pool's settings, Cognito-style: a nil
// PasswordPolicy resets it to the default. Nil Tags are left unchanged.
type UpdateUserPoolInput struct {
	PoolID         string
	PasswordPolicy *PasswordPolicy
	// MFAConfiguration "" leaves the pool's unchanged; ON and OPTIONAL
	// need its software token factor enabled.
	MFAConfiguration string
	Tags             map[string]string
	// AutoVerifiedAttributes, AllowAdminCreateUserOnly and
	// VerificationMessage replace the pool's, as in UserPool.
	AutoVerifiedAttributes   []string
	AllowAdminCreateUserOnly bool
	VerificationMessage      VerificationMessage
}

// TokenValidityUnits names the unit of each validity number: "seconds",
// "minutes", "hours" or "days". Empty means Cognito's default (hours,
// hours, days).
type TokenValidityUnits struct {
	AccessToken  string
	IDToken      string
	RefreshToken string
}

// UserPoolClientInput configures an app client (CreateUserPoolClient,
// UpdateUserPoolClient). Updates replace every field, as in Cognito.
type UserPoolClientInput struct {
	PoolID   string
	ClientID string // UpdateUserPoolClient only
	Name     string
	// GenerateSecret makes a confidential client (create only; a client's
	// secret never changes).
	GenerateSecret bool
	// ExplicitAuthFlows nil means Cognito's default: ALLOW_REFRESH_TOKEN_AUTH,
	// ALLOW_USER_SRP_AUTH, ALLOW_CUSTOM_AUTH.
	ExplicitAuthFlows []string
	AllowedOAuthFlows []string // code, implicit, client_credentials
	// AllowedOAuthScopes are system scopes (openid, email, phone, profile,
	// aws.cognito.signin.user.admin) and custom scopes identifier/name
	// that a resource server of the pool defines.
	AllowedOAuthScopes              []string
	AllowedOAuthFlowsUserPoolClient bool
	CallbackURLs                    []string
	LogoutURLs                      []string
	SupportedIdentityProviders      []string // "COGNITO"
	// Validities are numbers in TokenValidityUnits; 0 means the default
	// (1 hour, 1 hour, 30 days).
	AccessTokenValidity  int64
	IDTokenValidity      int64
	RefreshTokenValidity int64
	TokenValidityUnits   TokenValidityUnits
	// EnableTokenRevocation nil means true (Cognito's default).
	EnableTokenRevocation *bool
	// RotateRefreshTokens and RefreshRetryGrace are RefreshTokenRotation
	// (Feature ENABLED, RetryGracePeriodSeconds 0 to 60).
	RotateRefreshTokens bool
	RefreshRetryGrace   time.Duration
	// DynamicallyRegistered creates a client for the RFC 7591 registration
	// endpoint (create only): Name is then a display name (any printable
	// text), and the client is flagged as registered by itself.
	DynamicallyRegistered bool
}

// ResourceServerInput defines a resource server (CreateResourceServer,
// UpdateResourceServer). Updates replace the name and every scope, as in
// Cognito.
type ResourceServerInput struct {
	PoolID     string
	Identifier string
	Name       string
	Scopes     []ResourceServerScope
}

// AdminCreateUserInput creates a user with a temporary password.
type AdminCreateUserInput struct {
	PoolID   string
	Username string
	// TemporaryPassword empty means generate one that satisfies the policy.
	TemporaryPassword Secret
	Attributes        map[string]string
	// MessageAction: "" or "SUPPRESS" (Behalf sends no messages), or
	// "RESEND" to issue a new temporary password to an existing user.
	MessageAction string
}

// PoolTokens are the tokens of one sign-in or refresh.
type PoolTokens struct {
	AccessToken  Secret
	IDToken      Secret // empty when not issued (OAuth without openid)
	RefreshToken Secret // empty on refresh, unless the client rotates them
	ExpiresIn    int    // access-token lifetime in seconds
	TokenType    string // "Bearer"
	Scopes       []string
}

// AuthResult is the outcome of an auth step: tokens, or a challenge.
type AuthResult struct {
	Tokens *PoolTokens // nil when a challenge is returned

	ChallengeName string // e.g. NEW_PASSWORD_REQUIRED
	// Session is opaque and short-lived; it answers the challenge.
	Session             Secret
	ChallengeParameters map[string]string
}

// PoolAccessClaims are the verified claims of a user-pool access token,
// with the user it names as the store holds it now.
type PoolAccessClaims struct {
	PoolID    string
	ClientID  string
	Sub       string
	Username  string
	Scopes    []string
	Groups    []string
	JTI       string
	OriginJTI string
	EventID   string
	AuthTime  time.Time
	IssuedAt  time.Time
	ExpiresAt time.Time
	User      *PoolUser
}

// IssueTokensInput asks for tokens for a user who signed in elsewhere
// (hosted login, OAuth endpoints).
type IssueTokensInput struct {
	PoolID   string
	ClientID string
	Username string
	// Scopes are the OAuth scopes granted; an ID token is issued only when
	// they include "openid". Nil means an API sign-in (ScopeCognitoAdmin),
	// or for a client's own token (Username "") every scope it is allowed.
	Scopes   []string
	Nonce    string    // echoed in the ID token when set
	AuthTime time.Time // when the user authenticated; zero means now
	// RefreshToken asks for a refresh token too (authorization_code grant).
	RefreshToken bool
	// Resources are RFC 8707 resource indicators (absolute URLs): the
	// access token's aud, kept with the refresh token for its refreshes.
	Resources []string
}

// UserPoolService is a Cognito-compatible user pool: administration,
// password sign-in, refresh, sign-out, and token verification for an
// OpenID provider. Errors are *CognitoError (or wrap one) except internal
// failures, which are uncoded.
type UserPoolService interface {
	PoolGroupService
	PoolSignUpService     // poolcode.go
	PoolMFAService        // usermfa.go
	UserPoolDomainService // userpooldomain.go

	// CreateUserPool returns InvalidParameterException.
	CreateUserPool(ctx context.Context, in CreateUserPoolInput) (*UserPool, error)
	// DescribeUserPool returns ResourceNotFoundException.
	DescribeUserPool(ctx context.Context, poolID string) (*UserPool, error)
	// UpdateUserPool replaces the password policy (and tags when given).
	UpdateUserPool(ctx context.Context, in UpdateUserPoolInput) (*UserPool, error)
	// ListUserPools returns one page, by id, and the next page's token.
	ListUserPools(ctx context.Context, page PageRequest) ([]*UserPool, string, error)
	// DeleteUserPool deletes the pool and everything in it.
	DeleteUserPool(ctx context.Context, poolID string) error

	// CreateUserPoolClient returns the client and its secret ("" if none).
	// A scope that is neither a system scope nor defined by a resource
	// server of the pool is ScopeDoesNotExistException (so on update).
	CreateUserPoolClient(ctx context.Context, in UserPoolClientInput) (*AppClient, Secret, error)
	// DescribeUserPoolClient returns the client and its secret, as Cognito does.
	DescribeUserPoolClient(ctx context.Context, poolID, clientID string) (*AppClient, Secret, error)
	// UpdateUserPoolClient replaces the client's settings; the secret stays.
	UpdateUserPoolClient(ctx context.Context, in UserPoolClientInput) (*AppClient, Secret, error)
	// ListUserPoolClients returns one page of a pool's clients, by id.
	ListUserPoolClients(ctx context.Context, poolID string, page PageRequest) ([]*AppClient, string, error)
	// DeleteUserPoolClient deletes a client.
	DeleteUserPoolClient(ctx context.Context, poolID, clientID string) error

	// CreateResourceServer defines a resource server and its custom
	// scopes; a second server with the same identifier is
	// InvalidParameterException, as in Cognito.
	CreateResourceServer(ctx context.Context, in ResourceServerInput) (*ResourceServer, error)
	// DescribeResourceServer returns ResourceNotFoundException for an
	// unknown pool or server.
	DescribeResourceServer(ctx context.Context, poolID, identifier string) (*ResourceServer, error)
	// UpdateResourceServer replaces the name and scopes; the scopes it
	// drops are removed from the pool's app clients.
	UpdateResourceServer(ctx context.Context, in ResourceServerInput) (*ResourceServer, error)
	// ListResourceServers returns one page of a pool's servers, by identifier.
	ListResourceServers(ctx context.Context, poolID string, page PageRequest) ([]*ResourceServer, string, error)
	// DeleteResourceServer deletes a server and removes its scopes from the
	// pool's app clients.
	DeleteResourceServer(ctx context.Context, poolID, identifier string) error

	// AdminCreateUser creates a FORCE_CHANGE_PASSWORD user and returns it
	// with the temporary password it generated ("" if one was given).
	AdminCreateUser(ctx context.Context, in AdminCreateUserInput) (*PoolUser, Secret, error)
	// AdminSetUserPassword sets a permanent (CONFIRMED) or temporary
	// (FORCE_CHANGE_PASSWORD) password.
	AdminSetUserPassword(ctx context.Context, poolID, username string, password Secret, permanent bool) error
	// AdminGetUser finds a user by username or sign-in alias.
	AdminGetUser(ctx context.Context, poolID, username string) (*PoolUser, error)
	// AdminDeleteUser deletes a user and revokes its refresh tokens.
	AdminDeleteUser(ctx context.Context, poolID, username string) error
	// AdminDisableUser stops a user signing in or refreshing.
	AdminDisableUser(ctx context.Context, poolID, username string) error
	// AdminEnableUser reverses AdminDisableUser.
	AdminEnableUser(ctx context.Context, poolID, username string) error
	// ListUsers returns one page of users: by username, or for a filter
	// `attribute = "value"` or `attribute ^= "value"` (a searchable
	// attribute, see PoolUserQuery) in the filter's order.
	ListUsers(ctx context.Context, poolID string, page PageRequest, filter string) ([]*PoolUser, string, error)
	// AdminUserGlobalSignOut revokes every token of the user.
	AdminUserGlobalSignOut(ctx context.Context, poolID, username string) error

	// InitiateAuth runs USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH/REFRESH_TOKEN
	// with params USERNAME, PASSWORD, SECRET_HASH, REFRESH_TOKEN.
	InitiateAuth(ctx context.Context, clientID, flow string, params map[string]Secret) (*AuthResult, error)
	// AdminInitiateAuth runs ADMIN_USER_PASSWORD_AUTH or a refresh flow for
	// a client of poolID.
	AdminInitiateAuth(ctx context.Context, poolID, clientID, flow string, params map[string]Secret) (*AuthResult, error)
	// RespondToAuthChallenge answers NEW_PASSWORD_REQUIRED with USERNAME,
	// NEW_PASSWORD, SECRET_HASH and optional userAttributes.<name>.
	RespondToAuthChallenge(ctx context.Context, clientID, challenge string, session Secret, responses map[string]Secret) (*AuthResult, error)
	// AdminRespondToAuthChallenge is RespondToAuthChallenge for a client of poolID.
	AdminRespondToAuthChallenge(ctx context.Context, poolID, clientID, challenge string, session Secret, responses map[string]Secret) (*AuthResult, error)

	// GetUser returns the user an access token names.
	GetUser(ctx context.Context, accessToken Secret) (*PoolUser, error)
	// ChangePassword changes the password of the access token's user.
	ChangePassword(ctx context.Context, accessToken, previous, proposed Secret) error
	// GlobalSignOut revokes every token of the access token's user.
	GlobalSignOut(ctx context.Context, accessToken Secret) error
	// RevokeToken revokes a refresh token and the access tokens minted from it.
	RevokeToken(ctx context.Context, refreshToken Secret, clientID string, clientSecret Secret) error
	// GetTokensFromRefreshToken refreshes tokens, rotating the refresh
	// token when the client's RefreshTokenRotation is ENABLED.
	GetTokensFromRefreshToken(ctx context.Context, clientID string, refreshToken, clientSecret Secret) (*PoolTokens, error)

	// Issuer returns the issuer URL of a pool (its "iss" claim).
	Issuer(poolID string) string
	// JWKS returns the JSON Web Key Set a pool's tokens verify with.
	JWKS(ctx context.Context, poolID string) ([]byte, error)
	// VerifyAccessToken checks an access token of any pool: signature by
	// the pool its iss names, expiry, revocation, client and user.
	VerifyAccessToken(ctx context.Context, token Secret) (*PoolAccessClaims, error)
	// AuthenticatePassword checks a password with lockout and without
	// revealing whether the user exists. A user whose Status is
	// FORCE_CHANGE_PASSWORD must set a new password before tokens are issued.
	AuthenticatePassword(ctx context.Context, poolID, username string, password Secret) (*PoolUser, error)
	// IssueTokens mints the tokens an API sign-in would, for a hosted login.
	IssueTokens(ctx context.Context, in IssueTokensInput) (*PoolTokens, error)
}

// ValidityUnits splits a token validity into a number and the largest
// Cognito unit ("days", "hours", "minutes", "seconds") it is a whole
// multiple of, for echoing AppClient validities on the wire.
func ValidityUnits(d time.Duration) (int64, string) {
	units := []struct {
		name string
		d    time.Duration
	}{{"days", 24 * time.Hour}, {"hours", time.Hour}, {"minutes", time.Minute}}
	for _, u := range units {
		if d > 0 && d%u.d == 0 {
			return int64(d / u.d), u.name
		}
	}
	return int64(d / time.Second), "seconds"
}
