package behalf

import (
	"context"
	"time"
)

// APIKeyProvider is a credential provider that holds one API key for a
// third-party service.
type APIKeyProvider struct {
	ID        string
	Name      string
	APIKey    Sealed // sealed under SealContext{"apikey-provider", ID, "api_key"}
	Tags      map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// APIKeyProviderStore persists API-key credential providers.
type APIKeyProviderStore interface {
	// CreateAPIKeyProvider returns ECONFLICT if the name exists.
	CreateAPIKeyProvider(ctx context.Context, p *APIKeyProvider) error
	// GetAPIKeyProvider returns ENOTFOUND.
	GetAPIKeyProvider(ctx context.Context, name string) (*APIKeyProvider, error)
	// UpdateAPIKeyProvider applies fn in one transaction. Returns ENOTFOUND or fn's error.
	UpdateAPIKeyProvider(ctx context.Context, name string, fn func(*APIKeyProvider) error) (*APIKeyProvider, error)
	// DeleteAPIKeyProvider returns ENOTFOUND.
	DeleteAPIKeyProvider(ctx context.Context, name string) error
	// ListAPIKeyProviders returns providers ordered by name.
	ListAPIKeyProviders(ctx context.Context, opt ListOptions) ([]*APIKeyProvider, error)
}

// APIKeyProviderService manages API-key credential providers.
type APIKeyProviderService interface {
	// CreateAPIKeyProvider returns EINVALID or ECONFLICT.
	CreateAPIKeyProvider(ctx context.Context, name string, key Secret, tags map[string]string) (*APIKeyProvider, error)
	// GetAPIKeyProvider returns EINVALID or ENOTFOUND.
	GetAPIKeyProvider(ctx context.Context, name string) (*APIKeyProvider, error)
	// UpdateAPIKeyProvider replaces the key. Returns EINVALID or ENOTFOUND.
	UpdateAPIKeyProvider(ctx context.Context, name string, key Secret) (*APIKeyProvider, error)
	// DeleteAPIKeyProvider returns EINVALID or ENOTFOUND.
	DeleteAPIKeyProvider(ctx context.Context, name string) error
	// ListAPIKeyProviders returns one page.
	ListAPIKeyProviders(ctx context.Context, page PageRequest) ([]*APIKeyProvider, string, error)
}
