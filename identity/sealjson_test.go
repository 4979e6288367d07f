package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/flatjson"
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

// oldTokenSetJSON is tokenSetJSON as versions before the flat decoder
// sealed it (a time.Time expiry): those token sets are in users' stores.
type oldTokenSetJSON struct {
	AccessToken  string    `json:"a"`
	TokenType    string    `json:"t,omitempty"`
	RefreshToken string    `json:"r,omitempty"`
	IDToken      string    `json:"i,omitempty"`
	Expiry       time.Time `json:"e,omitzero"`
	Scopes       []string  `json:"s,omitempty"`
}

// Ensure token sets sealed by earlier versions open exactly as they did,
// and that sealing writes the very bytes it wrote before, on the flat
// decoder's path and on encoding/json's (issue 12).
func TestTokenSetSealedFormUnchanged(t *testing.T) {
	ctx := context.Background()
	sealer := newStoreSealer(t)
	sc := behalf.GrantSeal("agent", "user-key", "provider-id")
	for _, tc := range []struct {
		name string
		ts   behalf.TokenSet
		flat bool // the flat decoder takes the sealed JSON
	}{
		{"full", behalf.TokenSet{AccessToken: "ya29.a0Ab-c_D", TokenType: "Bearer", RefreshToken: "1//0gXy-Z_9", IDToken: "eyJ.eyJ.sig",
			Expiry: time.Date(2025, 6, 1, 13, 10, 0, 123456789, time.UTC), Scopes: []string{"openid", "https://www.googleapis.com/auth/drive.readonly"}}, true},
		{"zero expiry, no refresh or id token, no scopes", behalf.TokenSet{AccessToken: "at"}, true},
		{"empty scopes", behalf.TokenSet{AccessToken: "at", Scopes: []string{}}, true},
		{"offset and trailing-zero nanoseconds", behalf.TokenSet{AccessToken: "at",
			Expiry: time.Date(2025, 6, 1, 13, 10, 0, 1000, time.FixedZone("IST", 5*3600+1800))}, true},
		{"negative offset, whole seconds", behalf.TokenSet{AccessToken: "at", Expiry: time.Date(1999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -7*3600))}, true},
		{"local time with a monotonic reading", behalf.TokenSet{AccessToken: "at", Expiry: time.Now()}, true},
		{"escaped characters", behalf.TokenSet{AccessToken: "a<b>&c", TokenType: "Bearer", RefreshToken: "r\"\\\u2028é",
			IDToken: "i\x01", Expiry: time.Date(2025, 6, 1, 13, 10, 0, 5, time.UTC), Scopes: []string{"a&b"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := tc.ts
			old, err := json.Marshal(oldTokenSetJSON{ts.AccessToken.Reveal(), ts.TokenType, ts.RefreshToken.Reveal(), ts.IDToken.Reveal(), ts.Expiry, ts.Scopes})
			if err != nil {
				t.Fatal(err)
			}
			// What the old code opened it to.
			var oj oldTokenSetJSON
			if err := json.Unmarshal(old, &oj); err != nil {
				t.Fatal(err)
			}
			want := behalf.TokenSet{AccessToken: behalf.Secret(oj.AccessToken), TokenType: oj.TokenType, RefreshToken: behalf.Secret(oj.RefreshToken),
				IDToken: behalf.Secret(oj.IDToken), Expiry: oj.Expiry, Scopes: oj.Scopes}
			if !want.Expiry.Equal(ts.Expiry) || want.AccessToken != ts.AccessToken {
				t.Fatalf("the old form did not keep the token set: %+v", want)
			}
			if got := flatjson.Decode(old, new(tokenSetJSON)); got != tc.flat {
				t.Errorf("flat decoder took %s: %v, want %v", old, got, tc.flat)
			}

			sealedOld, err := sealer.Seal(ctx, sc, old)
			if err != nil {
				t.Fatal(err)
			}
			got, err := openTokenSet(ctx, sealer, sc, sealedOld)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("old sealed form opens to %#v, the old code opened it to %#v", got, want)
			}

			sealedNew, err := sealTokenSet(ctx, sealer, sc, ts)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := sealer.Open(ctx, sc, sealedNew)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(plain, old) {
				t.Errorf("sealTokenSet writes %s, the old code wrote %s", plain, old)
			}
		})
	}
	// A time RFC 3339 cannot carry is refused on sealing, as before.
	far := behalf.TokenSet{AccessToken: "at", Expiry: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := json.Marshal(oldTokenSetJSON{Expiry: far.Expiry}); err == nil {
		t.Fatal("the old form took year 10000")
	}
	if _, err := sealTokenSet(ctx, sealer, sc, far); err == nil {
		t.Error("sealTokenSet took year 10000")
	}
}

// Ensure session secrets open as sealed, on the flat decoder's path and
// on encoding/json's.
func TestSessionSecretsRoundTrip(t *testing.T) {
	ctx := context.Background()
	sealer := newStoreSealer(t)
	for _, sec := range []behalf.SessionSecrets{
		{State: "st", PKCEVerifier: "v", Nonce: "n", RequestURI: "urn:ietf:params:oauth:request_uri:abc", CustomState: "cs",
			CustomParameters: map[string]string{"access_type": "offline"}},
		{State: "st", PKCEVerifier: "v"},
		{State: "st", PKCEVerifier: "v", CustomState: "<&>", CustomParameters: map[string]string{"a&b": "\u2028"}},
	} {
		s := &behalf.AuthSession{ID: "sess"}
		var err error
		if s.Secrets, err = sealSessionSecrets(ctx, sealer, s.ID, sec); err != nil {
			t.Fatal(err)
		}
		got, err := openSessionSecrets(ctx, sealer, s)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, sec) {
			t.Errorf("session secrets open to %#v, sealed %#v", got, sec)
		}
	}
}
