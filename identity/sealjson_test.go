package identity

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/seal"
	"github.com/behalf-dev/behalf/sqlstore"
)

// newSealer returns the seal package's sealer over db's data keys, its
// key-encryption key a local key file in a temporary directory.
func newSealer(tb testing.TB, db *sqlstore.DB) *seal.Sealer {
	tb.Helper()
	keeper, err := seal.OpenKeeper(context.Background(), "", tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { keeper.Close() })
	return seal.New(keeper, db, seal.Options{})
}

// newStoreSealer is newSealer on a fresh SQLite store in a temporary directory.
func newStoreSealer(tb testing.TB) *seal.Sealer {
	tb.Helper()
	db, err := sqlstore.Open(context.Background(), filepath.Join(tb.TempDir(), "behalf.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return newSealer(tb, db)
}

// BenchmarkOpenTokenSet opens a grant's sealed token set, as every vault
// hit does: decryption and decoding.
func BenchmarkOpenTokenSet(b *testing.B) {
	ctx := context.Background()
	sealer := newStoreSealer(b)
	sc := behalf.GrantSeal("agent", "user-key", "provider-id")
	sealed, err := sealTokenSet(ctx, sealer, sc, behalf.TokenSet{
		AccessToken: behalf.Secret("ya29." + strings.Repeat("a0Ab-c_D", 30)), TokenType: "Bearer",
		RefreshToken: behalf.Secret("1//0g" + strings.Repeat("Xy-Z_9", 16)),
		IDToken:      behalf.Secret(strings.Repeat("eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9", 25)),
		Expiry:       time.Date(2025, 6, 1, 13, 10, 0, 123456789, time.UTC),
		Scopes:       []string{"openid", "email", "https://www.googleapis.com/auth/drive.readonly"},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := openTokenSet(ctx, sealer, sc, sealed); err != nil {
			b.Fatal(err)
		}
	}
}
