package behalf

import (
	"context"
	"time"
)

// DefaultTokenVaultID is the id of the one token vault Behalf serves.
const DefaultTokenVaultID = "default"

// TokenVault describes the token vault and how its contents are encrypted.
type TokenVault struct {
	ID        string
	KeyType   string // "ServiceManagedKey": Behalf's own key-encryption key
	KMSKeyARN string
	UpdatedAt time.Time
}

// TokenVaultStore persists token-vault settings.
type TokenVaultStore interface {
	// GetTokenVault returns ENOTFOUND.
	GetTokenVault(ctx context.Context, id string) (*TokenVault, error)
	// PutTokenVault inserts or replaces the vault's settings.
	PutTokenVault(ctx context.Context, v *TokenVault) error
}

// TokenVaultService reports the token vault.
type TokenVaultService interface {
	// GetTokenVault returns EINVALID or ENOTFOUND ("" means the default vault).
	GetTokenVault(ctx context.Context, id string) (*TokenVault, error)
}

// GrantVault is the token vault as the consent flow uses it: users'
// grants read (fresh), stored, deleted, and their tokens revoked at the
// provider.
type GrantVault interface {
	// Token returns the access token of workload's grant for user at
	// provider p when the grant covers scopes, refreshing it first when it
	// is stale. Otherwise it returns "" and the scopes of the grant it
	// found (nil if none), which a new consent should ask for again; so
	// also when the provider refused the refresh or the token expired
	// unrefreshable.
	Token(ctx context.Context, workload string, user User, p *OAuth2Provider, scopes []string) (Secret, []string, error)
	// Grant returns workload's grant for user at provider providerID, its
	// token sealed; ENOTFOUND if there is none.
	Grant(ctx context.Context, workload string, user User, providerID string) (*Grant, error)
	// StoreGrant seals ts into g.Token and stores g, replacing the grant of
	// the same workload, user and provider, which it returns (nil if none).
	StoreGrant(ctx context.Context, g *Grant, ts TokenSet) (*Grant, error)
	// DeleteGrant deletes grant id; ENOTFOUND if there is none.
	DeleteGrant(ctx context.Context, id string) error
	// RevokeToken asks provider p to revoke ts (its refresh token, else
	// its access token) and returns the outcome (a Revocation* constant)
	// and, for a refusal or failure, what to tell the user.
	RevokeToken(ctx context.Context, p *OAuth2Provider, ts TokenSet) (outcome, detail string)
}
