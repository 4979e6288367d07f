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
