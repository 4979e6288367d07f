package behalf

import "context"

// Store is everything Behalf persists, in one database.
type Store interface {
	WorkloadStore
	OAuth2ProviderStore
	APIKeyProviderStore
	TokenVaultStore
	AccessKeyStore
	DataKeyStore
	GrantStore
	SubjectTokenStore
	SessionStore
	SigningKeyStore
	IssuerStore
	AuditStore
	UserPoolStore
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
