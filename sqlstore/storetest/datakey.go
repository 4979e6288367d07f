package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newDataKey returns a data key with every field set.
func newDataKey(id string, active bool) *behalf.DataKey {
	return &behalf.DataKey{
		ID:         id,
		Wrapped:    []byte{0x00, 0x01, 0xfe, 0xff, 'w'},
		KEKVersion: 3,
		Active:     active,
		CreatedAt:  t0,
	}
}

// createDataKey stores k, failing t on error.
func createDataKey(t *testing.T, s behalf.Store, k *behalf.DataKey) {
	t.Helper()
	if err := s.CreateDataKey(t.Context(), k); err != nil {
		t.Fatalf("CreateDataKey(%q): %v", k.ID, err)
	}
}

// getDataKey reads the data key with the given id, failing t on error.
func getDataKey(t *testing.T, s behalf.Store, id string) *behalf.DataKey {
	t.Helper()
	k, err := s.GetDataKey(t.Context(), id)
	if err != nil {
		t.Fatalf("GetDataKey(%q): %v", id, err)
	}
	return k
}

// wantActive fails t unless the active data key has the given id.
func wantActive(t *testing.T, s behalf.Store, id string) {
	t.Helper()
	k, err := s.ActiveDataKey(t.Context())
	if err != nil {
		t.Fatalf("ActiveDataKey: %v", err)
	}
	if k.ID != id || !k.Active {
		t.Fatalf("ActiveDataKey = %q (active %v), want %q", k.ID, k.Active, id)
	}
}

// testDataKeys checks the DataKeyStore methods.
func testDataKeys(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createDataKey(t, s, newDataKey("dk-1", true))
			wantEqual(t, "GetDataKey", getDataKey(t, s, "dk-1"), newDataKey("dk-1", true))
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createDataKey(t, s, newDataKey("dk-1", true))
			createDataKey(t, s, newDataKey("dk-2", false))
			wantCode(t, s.CreateDataKey(t.Context(), newDataKey("dk-2", true)), behalf.ECONFLICT)
			// The failed insert must not have deactivated dk-1.
			wantActive(t, s, "dk-1")
			wantEqual(t, "GetDataKey after conflict", getDataKey(t, s, "dk-2"), newDataKey("dk-2", false))
		})
	})
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			_, err := s.GetDataKey(t.Context(), "missing")
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Active", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createDataKey(t, s, newDataKey("dk-1", true))
			wantActive(t, s, "dk-1")
			createDataKey(t, s, newDataKey("dk-2", false))
			wantActive(t, s, "dk-1")
			createDataKey(t, s, newDataKey("dk-3", true))
			wantActive(t, s, "dk-3")
			for _, id := range []string{"dk-1", "dk-2"} {
				if getDataKey(t, s, id).Active {
					t.Errorf("data key %q still active after dk-3 was created active", id)
				}
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			_, err := s.ActiveDataKey(t.Context())
			wantCode(t, err, behalf.ENOTFOUND)
			createDataKey(t, s, newDataKey("dk-1", false))
			_, err = s.ActiveDataKey(t.Context())
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("List", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			ks, err := s.ListDataKeys(t.Context())
			ok(t, err)
			if len(ks) != 0 {
				t.Fatalf("ListDataKeys on an empty store = %d keys", len(ks))
			}
			var want []*behalf.DataKey
			for _, k := range []struct {
				id  string
				age time.Duration
			}{{"dk-c", 2}, {"dk-b", 0}, {"dk-a", 1}, {"dk-0", 1}} {
				key := newDataKey(k.id, false)
				key.CreatedAt = t0.Add(k.age * time.Minute)
				createDataKey(t, s, key)
				want = append(want, key)
			}
			// Oldest first, ties by id: dk-b, dk-0, dk-a, dk-c.
			want = []*behalf.DataKey{want[1], want[3], want[2], want[0]}
			ks, err = s.ListDataKeys(t.Context())
			ok(t, err)
			wantEqualList(t, "ListDataKeys", ks, want)
		})
	})
	t.Run("Update", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createDataKey(t, s, newDataKey("dk-1", true))
			rewrapped := &behalf.DataKey{
				ID:         "dk-1",
				Wrapped:    []byte("rewrapped"),
				KEKVersion: 4,
				Active:     false,             // ignored
				CreatedAt:  t0.Add(time.Hour), // ignored
			}
			ok(t, s.UpdateDataKey(t.Context(), rewrapped))
			want := newDataKey("dk-1", true)
			want.Wrapped = []byte("rewrapped")
			want.KEKVersion = 4
			wantEqual(t, "GetDataKey after update", getDataKey(t, s, "dk-1"), want)
			wantActive(t, s, "dk-1")
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			wantCode(t, s.UpdateDataKey(t.Context(), newDataKey("missing", false)), behalf.ENOTFOUND)
		})
	})
}
