package behalf

import (
	"context"
	"time"
)

// Authorization-session states. On the wire only IN_PROGRESS and FAILED
// exist; a completed session answers with the token.
const (
	SessionPending   = "PENDING"   // created; the authorization URL not yet opened
	SessionAuthorize = "AUTHORIZE" // the browser was sent to the provider
	SessionExchange  = "EXCHANGE"  // the provider's code is being exchanged
	SessionCallback  = "CALLBACK"  // the provider returned a token; waiting for binding
	SessionCompleted = "COMPLETED" // bound: the grant is in the vault
	SessionFailed    = "FAILED"    // refused: by the provider, by a binding check, or expired holding a token
)

// SessionFailureVaultReset is the FailureReason of a session that held,
// or was exchanging a code for, a token when the token vault was reset.
const SessionFailureVaultReset = "vault_reset"

// AuthSession is one three-legged OAuth flow, from the agent's first
// GetResourceOauth2Token to the user's binding.
type AuthSession struct {
	ID         string // the opaque part of the session URI (≥128 random bits)
	Workload   string
	User       User
	ProviderID string
	Scopes     []string
	ReturnURL  string

	// StateHash is SHA-256 of the OAuth state sent to the provider.
	StateHash string
	// RequestHash is SHA-256 of the authorization URL's request_uri: a
	// random, single-use reference to the session that is not its URI.
	RequestHash string
	// BrowserHash is SHA-256 of the key given, in a cookie, to the browser
	// that opened the authorization URL; the callback and the binding page
	// accept only that browser. Empty until the URL is opened.
	BrowserHash string
	// Account names the provider account of the Pending token ("" if the
	// provider gave no identity).
	Account string
	// Secrets: PKCE verifier, nonce, custom state and custom parameters,
	// sealed together under SessionSeal(ID).
	Secrets Sealed
	// Pending is the sealed TokenSet received at the callback, waiting for binding.
	Pending Sealed

	Resources []string
	Audiences []string

	Status        string
	FailureReason string
	GrantID       string // set once completed
	Version       int64
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// SessionSeal is the seal context for a session's sealed fields.
func SessionSeal(id, field string) SealContext {
	return SealContext{Kind: "auth-session", Key: id, Field: field}
}

// SessionSecrets are the sensitive parts of a session, sealed at rest.
type SessionSecrets struct {
	State        Secret
	PKCEVerifier Secret
	Nonce        string
	// RequestURI is the authorization URL's request_uri (see
	// AuthSession.RequestHash), kept so a poll can repeat the URL.
	RequestURI       Secret
	CustomState      Secret
	CustomParameters map[string]string
}

// SessionStore persists authorization sessions.
type SessionStore interface {
	// CreateSession returns ECONFLICT if the id or state hash exists.
	CreateSession(ctx context.Context, s *AuthSession) error
	// GetSession returns ENOTFOUND.
	GetSession(ctx context.Context, id string) (*AuthSession, error)
	// GetSessionByState returns the session whose StateHash is stateHash, or ENOTFOUND.
	GetSessionByState(ctx context.Context, stateHash string) (*AuthSession, error)
	// GetSessionByRequest returns the session whose RequestHash is
	// requestHash, or ENOTFOUND (always, for "").
	GetSessionByRequest(ctx context.Context, requestHash string) (*AuthSession, error)
	// ExpiredPendingSessions returns up to limit sessions with status
	// SessionCallback that expired before t, oldest first.
	ExpiredPendingSessions(ctx context.Context, t time.Time, limit int) ([]*AuthSession, error)
	// UpdateSession applies fn inside one transaction and increments Version.
	// Returns ENOTFOUND or fn's error unchanged.
	UpdateSession(ctx context.Context, id string, fn func(*AuthSession) error) (*AuthSession, error)
	// DeleteExpiredSessions deletes sessions that expired before t and
	// returns how many it deleted.
	DeleteExpiredSessions(ctx context.Context, t time.Time) (int, error)
}
