package identity

import (
	"context"
	"fmt"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
)

const apiKeySealKind = "apikey-provider"

// CreateAPIKeyProvider seals key and stores a new API-key provider.
func (s *Service) CreateAPIKeyProvider(ctx context.Context, name string, key behalf.Secret, tags map[string]string) (*behalf.APIKeyProvider, error) {
	if err := validateProviderName(name); err != nil {
		return nil, err
	}
	if err := validateSecret("apiKey", key, 1, 65536); err != nil {
		return nil, err
	}
	if err := behalf.ValidateTags(tags); err != nil {
		return nil, err
	}
	now := s.now()
	p := &behalf.APIKeyProvider{ID: randid.Hex(16), Name: name, Tags: tags, CreatedAt: now, UpdatedAt: now}
	sealed, err := s.sealAPIKey(ctx, p.ID, key)
	if err != nil {
		return nil, err
	}
	p.APIKey = sealed
	if err := s.Store.CreateAPIKeyProvider(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// GetAPIKeyProvider returns an API-key provider by name (never its key).
func (s *Service) GetAPIKeyProvider(ctx context.Context, name string) (*behalf.APIKeyProvider, error) {
	if err := validateProviderName(name); err != nil {
		return nil, err
	}
	return s.Store.GetAPIKeyProvider(ctx, name)
}

// UpdateAPIKeyProvider replaces the stored key.
func (s *Service) UpdateAPIKeyProvider(ctx context.Context, name string, key behalf.Secret) (*behalf.APIKeyProvider, error) {
	if err := validateProviderName(name); err != nil {
		return nil, err
	}
	if err := validateSecret("apiKey", key, 1, 65536); err != nil {
		return nil, err
	}
	existing, err := s.Store.GetAPIKeyProvider(ctx, name)
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealAPIKey(ctx, existing.ID, key)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return s.Store.UpdateAPIKeyProvider(ctx, name, func(p *behalf.APIKeyProvider) error {
		if p.ID != existing.ID {
			return behalf.Errorf(behalf.ECONFLICT, "API key provider %q changed during the update; try again.", name)
		}
		p.APIKey, p.UpdatedAt = sealed, now
		return nil
	})
}

// DeleteAPIKeyProvider deletes an API-key provider.
func (s *Service) DeleteAPIKeyProvider(ctx context.Context, name string) error {
	if err := validateProviderName(name); err != nil {
		return err
	}
	return s.Store.DeleteAPIKeyProvider(ctx, name)
}

// ListAPIKeyProviders returns one page of API-key providers, by name.
func (s *Service) ListAPIKeyProviders(ctx context.Context, p behalf.PageRequest) ([]*behalf.APIKeyProvider, string, error) {
	opt, limit, err := listOptions(p, 100)
	if err != nil {
		return nil, "", err
	}
	items, err := s.Store.ListAPIKeyProviders(ctx, opt)
	if err != nil {
		return nil, "", err
	}
	items, next := behalf.NextPage(items, limit, func(p *behalf.APIKeyProvider) string { return p.Name })
	return items, next, nil
}

func (s *Service) sealAPIKey(ctx context.Context, id string, key behalf.Secret) (behalf.Sealed, error) {
	sealed, err := s.Sealer.Seal(ctx, behalf.SealContext{Kind: apiKeySealKind, Key: id, Field: "api_key"}, []byte(key.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("seal api key: %w", err)
	}
	return sealed, nil
}
