package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// testTokenVaults checks the TokenVaultStore methods.
func testTokenVaults(t *testing.T, open openFunc) {
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			_, err := s.GetTokenVault(t.Context(), behalf.DefaultTokenVaultID)
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Put", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			v := &behalf.TokenVault{ID: behalf.DefaultTokenVaultID, KeyType: "ServiceManagedKey", UpdatedAt: t0}
			ok(t, s.PutTokenVault(t.Context(), v))
			got, err := s.GetTokenVault(t.Context(), behalf.DefaultTokenVaultID)
			ok(t, err)
			wantEqual(t, "GetTokenVault", got, &behalf.TokenVault{ID: behalf.DefaultTokenVaultID, KeyType: "ServiceManagedKey", UpdatedAt: t0})
		})
		t.Run("Replace", func(t *testing.T) {
			s := open(t)
			ok(t, s.PutTokenVault(t.Context(), &behalf.TokenVault{ID: behalf.DefaultTokenVaultID, KeyType: "ServiceManagedKey", UpdatedAt: t0}))
			other := &behalf.TokenVault{ID: "other", KeyType: "ServiceManagedKey", UpdatedAt: t0}
			ok(t, s.PutTokenVault(t.Context(), other))
			want := &behalf.TokenVault{
				ID:        behalf.DefaultTokenVaultID,
				KeyType:   "CustomerManagedKey",
				KMSKeyARN: "arn:aws:kms:us-east-1:123456789012:key/abc",
				UpdatedAt: t0.Add(time.Hour),
			}
			ok(t, s.PutTokenVault(t.Context(), want))
			got, err := s.GetTokenVault(t.Context(), behalf.DefaultTokenVaultID)
			ok(t, err)
			wantEqual(t, "GetTokenVault after replace", got, want)
			gotOther, err := s.GetTokenVault(t.Context(), "other")
			ok(t, err)
			wantEqual(t, "other vault after replace", gotOther, &behalf.TokenVault{ID: "other", KeyType: "ServiceManagedKey", UpdatedAt: t0})
		})
	})
}
