package api

import (
	"context"
	"net/http"

	"github.com/behalf-dev/behalf"
)

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
	type kms struct {
		KeyType   string `json:"keyType"`
		KMSKeyARN string `json:"kmsKeyArn,omitempty"`
	}
	return http.StatusOK, struct {
		ID               string `json:"tokenVaultId"`
		KMS              kms    `json:"kmsConfiguration"`
		LastModifiedDate epoch  `json:"lastModifiedDate"`
	}{v.ID, kms{v.KeyType, v.KMSKeyARN}, epoch(v.UpdatedAt)}, nil
}

// setTokenVaultCMK is answered but not served: Behalf's key-encryption key
// is chosen by the operator with `behalf serve --kms`.
func (s *Server) setTokenVaultCMK(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	return 0, nil, &behalf.Error{Code: behalf.ENOTIMPLEMENTED, Field: "kmsConfiguration",
		Message: "Behalf does not set the vault key through the API; start behalf serve with --kms to choose the key-encryption key."}
}
