package behalf

import (
	"context"
	"strings"
	"time"
)

// UserPool is a Cognito-compatible user directory and OpenID provider. Its
// issuer is {public-url}/{ID}.
type UserPool struct {
	ID             string // {region}_{9 alphanumerics}, e.g. us-east-1_AbC123xyz
	Name           string
	PasswordPolicy PasswordPolicy
	// UsernameAttributes lets users sign in with "email" or "phone_number"
	// instead of a username.
	UsernameAttributes []string
	// AutoVerifiedAttributes are the attributes ("email", "phone_number")
	// that SignUp sends a confirmation code to.
	AutoVerifiedAttributes []string
	// AllowAdminCreateUserOnly turns self-service SignUp off
	// (AdminCreateUserConfig).
	AllowAdminCreateUserOnly bool
	// VerificationMessage is the pool's VerificationMessageTemplate.
	VerificationMessage VerificationMessage
	// Domain is unused: a pool's domains are UserPoolDomain records.
	Domain string
	// MFAConfiguration is MFAOff ("" reads as it), MFAOptional or MFAOn.
	MFAConfiguration string
	// SoftwareTokenMFA is SoftwareTokenMfaConfiguration.Enabled: users may
	// set up TOTP authenticators (usermfa.go).
	SoftwareTokenMFA bool
	Tags             map[string]string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// TagClientRegistration is the user-pool tag (UserPoolTags) that says
// which clients may register themselves at the pool's RFC 7591
// registration endpoint: ClientRegistrationOff, ClientRegistrationLoopback
// (the default, for an untagged pool) or ClientRegistrationOpen. A tag is
// set with every Cognito client (CreateUserPool, UpdateUserPool).
const TagClientRegistration = "behalf:client-registration"

// Values of TagClientRegistration.
const (
	// ClientRegistrationOff refuses every registration.
	ClientRegistrationOff = "off"
	// ClientRegistrationLoopback registers public clients whose redirect
	// URIs are all loopback (http://127.0.0.1, http://[::1],
	// http://localhost, any port): native MCP clients. A code for such a
	// client can reach only the machine of the user who signed in.
	ClientRegistrationLoopback = "loopback"
	// ClientRegistrationOpen also registers public clients with https
	// redirect URIs (web-hosted MCP clients).
	ClientRegistrationOpen = "open"
)

// ClientRegistration returns the pool's TagClientRegistration mode:
// ClientRegistrationLoopback when the tag is not set, ClientRegistrationOff
// for a value that is not a mode (writes refuse those).
func (p *UserPool) ClientRegistration() string {
	v, ok := p.Tags[TagClientRegistration]
	switch {
	case !ok:
		return ClientRegistrationLoopback
	case v == ClientRegistrationOff || v == ClientRegistrationLoopback || v == ClientRegistrationOpen:
		return v
	}
	return ClientRegistrationOff
}

// PasswordPolicy is a pool's password rules (Cognito's PasswordPolicyType).
type PasswordPolicy struct {
	MinimumLength                 int
	RequireUppercase              bool
	RequireLowercase              bool
	RequireNumbers                bool
	RequireSymbols                bool
	TemporaryPasswordValidityDays int
}

// DefaultPasswordPolicy is Cognito's default: 8 characters with upper,
// lower, number and symbol; temporary passwords valid 7 days.
var DefaultPasswordPolicy = PasswordPolicy{8, true, true, true, true, 7}

// AppClient is an application registered with a user pool.
type AppClient struct {
	ID     string // 26 lower-case alphanumerics
	PoolID string
	Name   string
	// Secret is sealed under SealContext{"app-client", PoolID+"/"+ID, "secret"};
	// nil for a public client. DescribeUserPoolClient returns it, as Cognito does.
	Secret Sealed

	ExplicitAuthFlows               []string // ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH, ...
	AllowedOAuthFlows               []string // code, implicit, client_credentials
	AllowedOAuthScopes              []string
	AllowedOAuthFlowsUserPoolClient bool
	CallbackURLs                    []string
	LogoutURLs                      []string
	SupportedIdentityProviders      []string

	AccessTokenValidity   time.Duration
	IDTokenValidity       time.Duration
	RefreshTokenValidity  time.Duration
	EnableTokenRevocation bool
	// RotateRefreshTokens is RefreshTokenRotation.Feature ENABLED:
	// GetTokensFromRefreshToken returns a new refresh token, and the one
	// it was given stops working RefreshRetryGrace later.
	RotateRefreshTokens bool
	RefreshRetryGrace   time.Duration // RetryGracePeriodSeconds, 0 to 60 s
	// DynamicallyRegistered marks a client that registered itself at the
	// pool's RFC 7591 registration endpoint (an MCP client, say), not one
	// an administrator created: a public client whose sign-ins never
	// skip the login page, and which counts against the pool's cap.
	DynamicallyRegistered bool

	CreatedAt time.Time
	UpdatedAt time.Time
}

// ResourceServer is an OAuth 2.0 resource server of a user pool
// (Cognito's ResourceServerType): it defines the custom scopes
// Identifier/ScopeName that the pool's app clients may be allowed.
type ResourceServer struct {
	PoolID     string
	Identifier string // e.g. https://api.example.com or solar-system-data
	Name       string
	Scopes     []ResourceServerScope
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ResourceServerScope is one custom scope of a resource server.
type ResourceServerScope struct {
	Name        string // ScopeName: no '/'
	Description string
}

// CustomScope returns the scope string of a resource server's scope, as
// clients are allowed it and tokens carry it: identifier/scopeName.
func CustomScope(identifier, scopeName string) string { return identifier + "/" + scopeName }

// SplitCustomScope splits a custom scope at its last '/' (a scope name has
// none; an identifier may): ok is false when either part would be empty.
func SplitCustomScope(scope string) (identifier, scopeName string, ok bool) {
	i := strings.LastIndexByte(scope, '/')
	if i <= 0 || i == len(scope)-1 {
		return "", "", false
	}
	return scope[:i], scope[i+1:], true
}

// Pool user statuses (Cognito's UserStatusType values Behalf uses).
const (
	UserForceChangePassword = "FORCE_CHANGE_PASSWORD"
	UserConfirmed           = "CONFIRMED"
	UserUnconfirmed         = "UNCONFIRMED"    // signed up, not yet confirmed
	UserResetRequired       = "RESET_REQUIRED" // must reset the password (AdminResetUserPassword)
)

// PoolUser is a user of a user pool.
type PoolUser struct {
	PoolID     string
	Username   string
	Sub        string // a UUID, stable for the user's life
	Attributes map[string]string
	// PasswordHash is an argon2id hash in PHC string format; "" when unset.
	PasswordHash string
	// SRPVerifier is the user's SRP salt and verifier (USER_SRP_AUTH),
	// sealed by the user-pool service; nil when the password was set
	// before Behalf kept verifiers, or by code that does not compute one.
	// The service ignores a verifier made for another PasswordHash.
	SRPVerifier Sealed
	// SoftwareToken is the user's verified TOTP secret, sealed by the
	// user-pool service; nil when the user has none. PendingSoftwareToken
	// is one AssociateSoftwareToken made that is not verified yet.
	SoftwareToken        Sealed
	PendingSoftwareToken Sealed
	// SoftwareTokenMFAEnabled and PreferredMFA are the user's MFA
	// preference (SetUserMFAPreference): PreferredMFA is "" or
	// ChallengeSoftwareTokenMFA.
	SoftwareTokenMFAEnabled bool
	PreferredMFA            string
	// TOTPLastStep is the last TOTP time step (Unix time / 30 s) a code of
	// the user was accepted for: codes of it and earlier steps are spent.
	TOTPLastStep      int64
	Status            string
	Enabled           bool
	PasswordChangedAt time.Time // when a temporary password was set, for its expiry
	// TokensValidAfter: tokens issued before this were revoked by a global sign-out.
	TokensValidAfter time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// PoolRefreshToken is an issued refresh token, stored by the hash of its
// opaque value.
type PoolRefreshToken struct {
	Hash      string // hex SHA-256 of the opaque token
	PoolID    string
	ClientID  string
	Username  string
	OriginJTI string // the jti of the sign-in that started this token's family
	Scopes    []string
	AuthTime  time.Time
	ExpiresAt time.Time
	Revoked   bool
	CreatedAt time.Time
	// RotatedAt is when refresh-token rotation first replaced this token
	// (zero if it never did); it keeps working for the client's retry
	// grace period after that.
	RotatedAt time.Time
	// Resources are the RFC 8707 resource indicators the sign-in was
	// authorized for: the aud of every access token of the family.
	Resources []string
}

// PoolAuthRequest is an in-flight hosted-login (OIDC) request or
// authorization code, whatever the OpenID provider library needs to keep.
// Data is sealed under SealContext{"pool-auth-request", ID, "data"}.
type PoolAuthRequest struct {
	ID       string
	PoolID   string
	CodeHash string // hex SHA-256 of the authorization code, once issued
	// ClientIP is the key of the address the request came from (the per-IP
	// rate limit's: an IPv4 address, an IPv6 /64), "" when it is not
	// counted per address; CountPoolAuthRequests counts by it.
	ClientIP  string
	Data      Sealed
	ExpiresAt time.Time
	CreatedAt time.Time
}

// PoolLockout is the sign-in lockout record of one name of a user pool,
// whether or not a user has that name, so that a lockout does not tell
// which names exist. It is kept under a hash of the name, never the name.
type PoolLockout struct {
	PoolID   string
	NameHash string // the user pool service's hash of the name (hex)
	Failures int    // consecutive failed sign-ins
	// LockedUntil is when the lock of the last failure ends: the time of
	// that failure while Failures is below the policy's threshold.
	LockedUntil time.Time
}

// LockoutPolicy is how FailPoolLockout counts failures. The nth
// consecutive failure locks the name for LockAfter(n). A failure at or
// after LockedUntil + Reset is the first of a new count.
type LockoutPolicy struct {
	Threshold int           // failures before the first lock; at least 1
	Base      time.Duration // the lock of the Threshold-th failure, doubled by each later one
	Max       time.Duration // the longest lock
	Reset     time.Duration // idle time after a lock that starts the count over
}

// LockAfter is the lock of the nth consecutive failure: none below the
// threshold, else Base·2^(n−Threshold), at most Max.
func (p LockoutPolicy) LockAfter(n int) time.Duration {
	if n < p.Threshold || p.Base <= 0 {
		return 0
	}
	d := p.Base
	for e := n - p.Threshold; e > 0 && d < p.Max; e-- {
		d *= 2
	}
	return min(d, p.Max)
}

// UserPoolStore persists user pools and everything in them. Deleting a pool
// deletes its clients, resource servers, domains, groups, users, refresh
// tokens, auth requests and lockout records.
type UserPoolStore interface {
	PoolGroupStore
	PoolCodeStore       // poolcode.go
	PoolMFAStore        // usermfa.go
	UserPoolDomainStore // userpooldomain.go

	CreateUserPool(ctx context.Context, p *UserPool) error         // ECONFLICT
	GetUserPool(ctx context.Context, id string) (*UserPool, error) // ENOTFOUND
	UpdateUserPool(ctx context.Context, id string, fn func(*UserPool) error) (*UserPool, error)
	DeleteUserPool(ctx context.Context, id string) error
	ListUserPools(ctx context.Context, opt ListOptions) ([]*UserPool, error) // by id

	CreateAppClient(ctx context.Context, c *AppClient) error
	// CountRegisteredAppClients counts the pool's DynamicallyRegistered
	// clients, stopping at limit (limit <= 0: no stop).
	CountRegisteredAppClients(ctx context.Context, poolID string, limit int) (int, error)
	// GetAppClient finds a client by id alone (client ids are unique across pools).
	GetAppClient(ctx context.Context, clientID string) (*AppClient, error)
	UpdateAppClient(ctx context.Context, clientID string, fn func(*AppClient) error) (*AppClient, error)
	DeleteAppClient(ctx context.Context, clientID string) error
	ListAppClients(ctx context.Context, poolID string, opt ListOptions) ([]*AppClient, error) // by id

	// CreateResourceServer returns ECONFLICT if the pool has a server with
	// that identifier, ENOTFOUND if there is no such pool.
	CreateResourceServer(ctx context.Context, rs *ResourceServer) error
	GetResourceServer(ctx context.Context, poolID, identifier string) (*ResourceServer, error) // ENOTFOUND
	// UpdateResourceServer applies fn and, in the same transaction, removes
	// the custom scopes the server no longer defines from the
	// AllowedOAuthScopes of the pool's app clients.
	UpdateResourceServer(ctx context.Context, poolID, identifier string, fn func(*ResourceServer) error) (*ResourceServer, error)
	// DeleteResourceServer deletes the server and, in the same transaction,
	// removes its scopes (identifier/name, for any name) from the
	// AllowedOAuthScopes of the pool's app clients. ENOTFOUND if none.
	DeleteResourceServer(ctx context.Context, poolID, identifier string) error
	ListResourceServers(ctx context.Context, poolID string, opt ListOptions) ([]*ResourceServer, error) // by identifier

	CreatePoolUser(ctx context.Context, u *PoolUser) error // ECONFLICT on username or sub
	GetPoolUser(ctx context.Context, poolID, username string) (*PoolUser, error)
	GetPoolUserBySub(ctx context.Context, poolID, sub string) (*PoolUser, error)
	// FindPoolUserByAttribute finds the user whose attribute name equals value (email sign-in).
	FindPoolUserByAttribute(ctx context.Context, poolID, name, value string) (*PoolUser, error)
	UpdatePoolUser(ctx context.Context, poolID, username string, fn func(*PoolUser) error) (*PoolUser, error)
	DeletePoolUser(ctx context.Context, poolID, username string) error
	ListPoolUsers(ctx context.Context, poolID string, opt ListOptions) ([]*PoolUser, error) // by username
	// SearchPoolUsers returns the users of a pool that q selects, in
	// PoolUserQuery's order (ListUsers' filters).
	SearchPoolUsers(ctx context.Context, poolID string, q PoolUserQuery) ([]*PoolUser, error)

	CreatePoolRefreshToken(ctx context.Context, t *PoolRefreshToken) error
	GetPoolRefreshToken(ctx context.Context, hash string) (*PoolRefreshToken, error)
	// RevokePoolRefreshTokens revokes every token of a user ("" client: all
	// clients) and returns how many it revoked.
	RevokePoolRefreshTokens(ctx context.Context, poolID, username, clientID string) (int, error)
	// RevokePoolRefreshToken revokes one token by hash.
	RevokePoolRefreshToken(ctx context.Context, hash string) error
	// RotatePoolRefreshToken sets a token's RotatedAt to at unless it is
	// set already, in one statement, and returns the token as stored
	// (ENOTFOUND if none).
	RotatePoolRefreshToken(ctx context.Context, hash string, at time.Time) (*PoolRefreshToken, error)

	// UsePoolNonce records that nonce was used in pool poolID, so that it
	// cannot be used again until expiresAt: ECONFLICT if it already is
	// (single-use challenge data), ENOTFOUND if there is no such pool.
	UsePoolNonce(ctx context.Context, poolID, nonce string, expiresAt time.Time) error
	// DeleteExpiredPoolNonces deletes the nonces, in every pool, that
	// expired before t, and returns how many it deleted.
	DeleteExpiredPoolNonces(ctx context.Context, before time.Time) (int, error)
	// EnsurePoolSecret returns the pool's secret called name, storing
	// sealed as that secret first if the pool has none: concurrent callers
	// all get the one stored. ENOTFOUND if there is no such pool.
	EnsurePoolSecret(ctx context.Context, poolID, name string, sealed Sealed) (Sealed, error)

	CreatePoolAuthRequest(ctx context.Context, r *PoolAuthRequest) error
	GetPoolAuthRequest(ctx context.Context, id string) (*PoolAuthRequest, error)
	GetPoolAuthRequestByCode(ctx context.Context, codeHash string) (*PoolAuthRequest, error)
	UpdatePoolAuthRequest(ctx context.Context, id string, fn func(*PoolAuthRequest) error) (*PoolAuthRequest, error)
	DeletePoolAuthRequest(ctx context.Context, id string) error
	// DeleteExpiredPoolAuthRequests deletes the auth requests (and so their
	// codes) that expired before t and returns how many it deleted.
	DeleteExpiredPoolAuthRequests(ctx context.Context, before time.Time) (int, error)
	// CountPoolAuthRequests counts the auth requests of every pool whose
	// ExpiresAt is after after: those whose ClientIP is clientIP, or with ""
	// all of them. It stops counting at limit when limit > 0, so that its
	// cost (an index range scan) stays bounded by it.
	CountPoolAuthRequests(ctx context.Context, clientIP string, after time.Time, limit int) (int, error)

	// GetPoolLockout returns the lockout record of a name hash (ENOTFOUND).
	GetPoolLockout(ctx context.Context, poolID, nameHash string) (*PoolLockout, error)
	// FailPoolLockout counts a failed sign-in at now under p in one atomic
	// statement, so that concurrent failures on any replica all count, and
	// returns the record it wrote: Failures 1 if there was none or if now
	// is at or after its LockedUntil + p.Reset, else one more than before;
	// LockedUntil now + p.LockAfter(Failures). ENOTFOUND if the pool does
	// not exist.
	FailPoolLockout(ctx context.Context, poolID, nameHash string, now time.Time, p LockoutPolicy) (*PoolLockout, error)
	// DeletePoolLockout deletes a name hash's lockout record; there being
	// none is not an error.
	DeletePoolLockout(ctx context.Context, poolID, nameHash string) error
	// DeleteStalePoolLockouts deletes the lockout records, in every pool,
	// whose LockedUntil is before t, and returns how many it deleted.
	DeleteStalePoolLockouts(ctx context.Context, before time.Time) (int, error)
}

// IsPoolID reports whether s has the shape of a Cognito UserPoolId,
// `^[\w-]+_[0-9a-zA-Z]+$` ("us-east-1_AbC123"): word characters and
// dashes, then an underscore and letters or digits. It runs on every
// request's path (is its first segment a pool's?), so it is written out
// rather than matched by that pattern; the tests fuzz it against it.
func IsPoolID(s string) bool {
	i := strings.LastIndexByte(s, '_')
	if i <= 0 || i == len(s)-1 {
		return false
	}
	for _, c := range []byte(s[:i]) {
		if !isWordByte(c) && c != '-' {
			return false
		}
	}
	for _, c := range []byte(s[i+1:]) {
		if !isWordByte(c) || c == '_' {
			return false
		}
	}
	return true
}

// isWordByte reports whether c is in regexp's \w: [0-9A-Za-z_].
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
