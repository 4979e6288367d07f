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
	KeyType   string // KeyServiceManaged or KeyCustomerManaged
	KMSKeyARN string // the customer managed key: an AWS KMS key ARN or a gocloud.dev/secrets URL
	UpdatedAt time.Time
}

// Token vault key types (kmsConfiguration.keyType).
const (
	// KeyServiceManaged: Behalf's own key-encryption key, a local key file.
	KeyServiceManaged = "ServiceManagedKey"
	// KeyCustomerManaged: a key the operator keeps (a KMS key, a
	// base64key:// key given to the server).
	KeyCustomerManaged = "CustomerManagedKey"
)

// TokenVaultStore persists token-vault settings.
type TokenVaultStore interface {
	// GetTokenVault returns ENOTFOUND.
	GetTokenVault(ctx context.Context, id string) (*TokenVault, error)
	// PutTokenVault inserts or replaces the vault's settings.
	PutTokenVault(ctx context.Context, v *TokenVault) error
	// ResetTokenVault deletes every grant (users' tokens, and the results
	// of on-behalf-of exchanges) and fails every authorization session
	// that holds a provider's token or is exchanging a code for one
	// (FailureReason "vault_reset", Pending cleared), and stores v, in one
	// transaction. It returns how many grants and sessions it ended.
	ResetTokenVault(ctx context.Context, v *TokenVault) (grants, sessions int, err error)
}

// TokenVaultService reports the token vault and changes its key.
type TokenVaultService interface {
	// GetTokenVault returns EINVALID or ENOTFOUND ("" means the default vault).
	GetTokenVault(ctx context.Context, id string) (*TokenVault, error)
	// SetTokenVaultCMK makes keyType the vault's key (for
	// KeyCustomerManaged, the key kmsKeyARN names), rotating the
	// key-encryption key online if it changes. EINVALID names the field
	// of a key Behalf cannot use; nothing changes then.
	SetTokenVaultCMK(ctx context.Context, id, keyType, kmsKeyARN string) (*TokenVault, error)
	// ResetTokenVaultKeyMaterial deletes every token the vault holds
	// (users must consent again) and moves the vault to fresh key material
	// of Behalf's own (KeyServiceManaged). It cannot be undone.
	ResetTokenVaultKeyMaterial(ctx context.Context, id string) (*TokenVault, error)
}

// KeyEncryptionKeys is the key-encryption key that seals the vault (and
// every other secret Behalf stores), as the token-vault operations change
// it; implemented by a seal.Sealer on a keyring.
type KeyEncryptionKeys interface {
	// ActiveKEK returns the active key-encryption key version, as the
	// database records it now.
	ActiveKEK(ctx context.Context) (*KEKVersion, error)
	// RotateKEK records a new active version, the key keeperURL names
	// (a gocloud.dev/secrets URL) or, for "", a new local key file, and
	// rewraps every data key with it, online. It returns EINVALID for a
	// key it cannot use, recording nothing.
	RotateKEK(ctx context.Context, keeperURL string) (*KEKVersion, error)
	// KEKGiven reports whether this server was given keeperURL as a key
	// (serve --kms or --kms-previous).
	KEKGiven(keeperURL string) bool
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
