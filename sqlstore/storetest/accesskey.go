package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newAccessKey returns an access key with every field set.
func newAccessKey(id, principal string) *behalf.AccessKey {
	return &behalf.AccessKey{
		ID:        id,
		Secret:    behalf.Sealed{0x00, 0x10, 0xff, 's'},
		Principal: principal,
		CreatedAt: t0,
	}
}

// createAccessKey stores k, failing t on error.
func createAccessKey(t *testing.T, s behalf.Store, k *behalf.AccessKey) {
	t.Helper()
	if err := s.CreateAccessKey(t.Context(), k); err != nil {
		t.Fatalf("CreateAccessKey(%q): %v", k.ID, err)
	}
}

// testAccessKeys checks the AccessKeyStore methods.
func testAccessKeys(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createAccessKey(t, s, newAccessKey("BHLFAAAA", "root"))
			got, err := s.GetAccessKey(t.Context(), "BHLFAAAA")
			ok(t, err)
			wantEqual(t, "GetAccessKey", got, newAccessKey("BHLFAAAA", "root"))
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createAccessKey(t, s, newAccessKey("BHLFAAAA", "root"))
			wantCode(t, s.CreateAccessKey(t.Context(), newAccessKey("BHLFAAAA", "alice")), behalf.ECONFLICT)
		})
	})
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			_, err := s.GetAccessKey(t.Context(), "BHLFMISSING")
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createAccessKey(t, s, newAccessKey("BHLFAAAA", "root"))
			ok(t, s.DeleteAccessKey(t.Context(), "BHLFAAAA"))
			_, err := s.GetAccessKey(t.Context(), "BHLFAAAA")
			wantCode(t, err, behalf.ENOTFOUND)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			wantCode(t, s.DeleteAccessKey(t.Context(), "BHLFMISSING"), behalf.ENOTFOUND)
		})
	})
	t.Run("List", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			keys := map[string]*behalf.AccessKey{}
			for i, k := range []struct{ id, principal string }{
				{"BHLFC", "root"}, {"BHLFA", "alice"}, {"BHLFD", "alice"}, {"BHLFB", "root"},
			} {
				key := newAccessKey(k.id, k.principal)
				key.CreatedAt = t0.Add(time.Duration(i) * time.Second)
				createAccessKey(t, s, key)
				keys[k.id] = key
			}
			cases := []struct {
				principal string
				want      []string
			}{
				{"", []string{"BHLFA", "BHLFB", "BHLFC", "BHLFD"}},
				{"root", []string{"BHLFB", "BHLFC"}},
				{"alice", []string{"BHLFA", "BHLFD"}},
				{"nobody", nil},
			}
			for _, c := range cases {
				got, err := s.ListAccessKeys(t.Context(), c.principal)
				ok(t, err)
				var want []*behalf.AccessKey
				for _, id := range c.want {
					want = append(want, keys[id])
				}
				wantEqualList(t, "ListAccessKeys("+c.principal+")", got, want)
			}
		})
	})
}
