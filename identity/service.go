package identity

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/behalf-dev/behalf"
)

// Service implements the control-plane services of package behalf.
type Service struct {
	Store  behalf.Store
	Sealer behalf.Sealer

	// HTTPClient fetches admin-supplied discovery URLs; it must be guarded
	// against SSRF (internal/safehttp).
	HTTPClient *http.Client
	// AllowPrivate permits http and private addresses in provider endpoints.
	AllowPrivate bool
	// PublicURL is Behalf's externally visible base URL, without a trailing slash.
	PublicURL string
	// ClientKeys creates PRIVATE_KEY_JWT providers' client-assertion keys
	// when they are configured (nil: on first use).
	ClientKeys *ClientKeys
	// KEKs changes the key-encryption key for the token-vault operations
	// (nil: GetTokenVault reports the stored settings, SetTokenVaultCMK is
	// not served).
	KEKs behalf.KeyEncryptionKeys
	// OnVaultReset, when set, is called after ResetTokenVaultKeyMaterial
	// deleted the vault's tokens, to drop tokens cached in this process
	// (the data plane's client-credentials tokens: Vault.ForgetCachedTokens).
	OnVaultReset func()
	// Log receives what cannot be returned (a failed audit append).
	Log *slog.Logger

	Now func() time.Time
}

var (
	_ behalf.WorkloadService       = (*Service)(nil)
	_ behalf.OAuth2ProviderService = (*Service)(nil)
	_ behalf.APIKeyProviderService = (*Service)(nil)
	_ behalf.TokenVaultService     = (*Service)(nil)
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}
