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
	SessionFailed    = "FAILED"    // the provider refused or the exchange failed
)

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
	State            Secret
	PKCEVerifier     Secret
	Nonce            string
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
	// UpdateSession applies fn inside one transaction and increments Version.
	// Returns ENOTFOUND or fn's error unchanged.
	UpdateSession(ctx context.Context, id string, fn func(*AuthSession) error) (*AuthSession, error)
	// DeleteExpiredSessions deletes sessions that expired before t and
	// returns how many it deleted.
	DeleteExpiredSessions(ctx context.Context, t time.Time) (int, error)
}
