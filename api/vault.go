package api

import (
	"context"
	"net/http"

	"github.com/behalf-dev/behalf"
)

// vaultOut is the answer of GetTokenVault, SetTokenVaultCMK and
// ResetTokenVaultKeyMaterial.
type vaultOut struct {
	ID               string       `json:"tokenVaultId"`
	KMS              kmsConfigOut `json:"kmsConfiguration"`
	LastModifiedDate epoch        `json:"lastModifiedDate"`
}

type kmsConfigOut struct {
	KeyType   string `json:"keyType"`
	KMSKeyARN string `json:"kmsKeyArn,omitempty"`
}

func newVaultOut(v *behalf.TokenVault) vaultOut {
	return vaultOut{v.ID, kmsConfigOut{v.KeyType, v.KMSKeyARN}, epoch(v.UpdatedAt)}
}

func (s *Server) getTokenVault(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		TokenVaultID string `json:"tokenVaultId"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	v, err := s.TokenVaults.GetTokenVault(ctx, in.TokenVaultID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newVaultOut(v), nil
}

// setTokenVaultCMK changes the key-encryption key online (the same
// rotation as `behalf keys rotate --to-kms` / `--to-local`); root only,
// as every control-plane operation.
func (s *Server) setTokenVaultCMK(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		TokenVaultID string `json:"tokenVaultId"`
		KMS          *struct {
			KeyType   string `json:"keyType"`
			KMSKeyARN string `json:"kmsKeyArn"`
		} `json:"kmsConfiguration"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if in.KMS == nil {
		return 0, nil, behalf.Invalid("kmsConfiguration", "kmsConfiguration is required.")
	}
	v, err := s.TokenVaults.SetTokenVaultCMK(ctx, in.TokenVaultID, in.KMS.KeyType, in.KMS.KMSKeyARN)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newVaultOut(v), nil
}

// resetTokenVaultKeyMaterial deletes every token in the vault; root only.
func (s *Server) resetTokenVaultKeyMaterial(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		TokenVaultID string `json:"tokenVaultId"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	v, err := s.TokenVaults.ResetTokenVaultKeyMaterial(ctx, in.TokenVaultID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newVaultOut(v), nil
}
