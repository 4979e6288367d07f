package identity

import (
	"context"

	"github.com/behalf-dev/behalf"
)

// GetTokenVault returns the token vault; only the default vault exists.
func (s *Service) GetTokenVault(ctx context.Context, id string) (*behalf.TokenVault, error) {
	if id == "" {
		id = behalf.DefaultTokenVaultID
	}
	if err := validateName("tokenVaultId", id, providerNamePattern, 1, 64); err != nil {
		return nil, err
	}
	return s.Store.GetTokenVault(ctx, id)
}

// EnsureTokenVault records the default vault at first start.
func (s *Service) EnsureTokenVault(ctx context.Context) error {
	_, err := s.Store.GetTokenVault(ctx, behalf.DefaultTokenVaultID)
	if behalf.ErrorCode(err) != behalf.ENOTFOUND {
		return err
	}
	return s.Store.PutTokenVault(ctx, &behalf.TokenVault{
		ID: behalf.DefaultTokenVaultID, KeyType: "ServiceManagedKey", UpdatedAt: s.now(),
	})
}
