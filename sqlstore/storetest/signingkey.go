package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newSigningKey returns a signing key of use with every field set, created
// age minutes after t0.
func newSigningKey(id, use string, active bool, age time.Duration) *behalf.SigningKey {
	return &behalf.SigningKey{
		ID:        id,
		Use:       use,
		Algorithm: "EdDSA",
		Private:   behalf.Sealed{0x00, 0x01, 0xfe, 0xff, 'k'},
		PublicJWK: []byte(`{"kty":"OKP","crv":"Ed25519","kid":"` + id + `","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`),
		Active:    active,
		CreatedAt: t0.Add(age * time.Minute),
		RetireAt:  t0.Add(age*time.Minute + 24*time.Hour),
	}
}

// createSigningKey stores k, failing t on error.
func createSigningKey(t *testing.T, s behalf.Store, k *behalf.SigningKey) {
	t.Helper()
	if err := s.CreateSigningKey(t.Context(), k); err != nil {
		t.Fatalf("CreateSigningKey(%q): %v", k.ID, err)
	}
}

// listSigningKeys returns ListSigningKeys(use), failing t on error.
func listSigningKeys(t *testing.T, s behalf.Store, use string) []*behalf.SigningKey {
	t.Helper()
	ks, err := s.ListSigningKeys(t.Context(), use)
	ok(t, err)
	return ks
}

// wantActiveSigningKeys fails t unless the keys of use, oldest first, have
// the given ids and only active is active ("" for none).
func wantActiveSigningKeys(t *testing.T, s behalf.Store, use string, ids []string, active string) {
	t.Helper()
	ks := listSigningKeys(t, s, use)
	wantEqual(t, "ListSigningKeys("+use+") ids", names(ks, func(k *behalf.SigningKey) string { return k.ID }), ids)
	for _, k := range ks {
		if k.Active != (k.ID == active) {
			t.Errorf("signing key %q of use %q: Active = %v, want %v", k.ID, use, k.Active, k.ID == active)
		}
	}
}

// testSigningKeys checks the SigningKeyStore methods.
func testSigningKeys(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createSigningKey(t, s, newSigningKey("k-1", "wat", true, 0))
			wantEqualList(t, "ListSigningKeys", listSigningKeys(t, s, "wat"), []*behalf.SigningKey{newSigningKey("k-1", "wat", true, 0)})
		})
		t.Run("ZeroFields", func(t *testing.T) {
			s := open(t)
			bare := &behalf.SigningKey{ID: "k-1", Use: "wat"}
			createSigningKey(t, s, bare)
			wantEqualList(t, "ListSigningKeys", listSigningKeys(t, s, "wat"), []*behalf.SigningKey{bare})
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createSigningKey(t, s, newSigningKey("k-1", "wat", true, 0))
			// Same id, even for another use; the failed insert must not
			// deactivate k-1.
			wantCode(t, s.CreateSigningKey(t.Context(), newSigningKey("k-1", "wat", true, 1)), behalf.ECONFLICT)
			wantCode(t, s.CreateSigningKey(t.Context(), newSigningKey("k-1", "pool-1", false, 1)), behalf.ECONFLICT)
			wantEqualList(t, "ListSigningKeys after conflict", listSigningKeys(t, s, "wat"), []*behalf.SigningKey{newSigningKey("k-1", "wat", true, 0)})
			if ks := listSigningKeys(t, s, "pool-1"); len(ks) != 0 {
				t.Fatalf("ListSigningKeys(pool-1) after conflict = %d keys", len(ks))
			}
		})
	})
	t.Run("CreateFirst", func(t *testing.T) {
		s := open(t)
		first := func(k *behalf.SigningKey) bool {
			t.Helper()
			created, err := s.CreateFirstSigningKey(t.Context(), k)
			ok(t, err)
			return created
		}
		if !first(newSigningKey("k-1", "wat", true, 0)) {
			t.Fatal("CreateFirstSigningKey on an empty store = false")
		}
		// A live active key of the algorithm: nothing is written.
		if first(newSigningKey("k-2", "wat", true, 1)) {
			t.Fatal("CreateFirstSigningKey with an active key of the algorithm = true")
		}
		wantActiveSigningKeys(t, s, "wat", []string{"k-1"}, "k-1")
		// Another use is separate.
		if !first(newSigningKey("p-1", "pool-a", true, 1)) {
			t.Fatal("CreateFirstSigningKey for another use = false")
		}
		wantActiveSigningKeys(t, s, "wat", []string{"k-1"}, "k-1")
		// Another algorithm replaces the active key.
		rs := newSigningKey("k-3", "wat", true, 2)
		rs.Algorithm = "RS256"
		if !first(rs) {
			t.Fatal("CreateFirstSigningKey of another algorithm = false")
		}
		wantActiveSigningKeys(t, s, "wat", []string{"k-1", "k-3"}, "k-3")
		wantActiveSigningKeys(t, s, "pool-a", []string{"p-1"}, "p-1")
		// So does a key when the active one is retired.
		late := newSigningKey("k-4", "wat", true, 3)
		late.Algorithm = "RS256"
		ok(t, s.RetireSigningKey(t.Context(), "k-3", late.CreatedAt))
		if !first(late) {
			t.Fatal("CreateFirstSigningKey when the active key is retired = false")
		}
		wantActiveSigningKeys(t, s, "wat", []string{"k-1", "k-3", "k-4"}, "k-4")
		// An inactive key is refused.
		if _, err := s.CreateFirstSigningKey(t.Context(), newSigningKey("k-5", "wat", false, 4)); err == nil {
			t.Fatal("CreateFirstSigningKey of an inactive key succeeded")
		}
	})
	t.Run("CreateFirstConcurrent", func(t *testing.T) {
		// Replicas starting together on an empty database: one key.
		s := open(t)
		const n = 8
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				created, err := s.CreateFirstSigningKey(t.Context(), newSigningKey(fmt.Sprintf("k-%d", i), "wat", true, 0))
				if err != nil {
					t.Errorf("CreateFirstSigningKey %d: %v", i, err)
				}
				if created {
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		ks := listSigningKeys(t, s, "wat")
		if wins.Load() != 1 || len(ks) != 1 || !ks[0].Active {
			t.Fatalf("%d concurrent CreateFirstSigningKey: %d stored a key, the store has %d keys; want 1 and 1 (active)", n, wins.Load(), len(ks))
		}
	})
	t.Run("Active", func(t *testing.T) {
		s := open(t)
		createSigningKey(t, s, newSigningKey("wat-1", "wat", true, 0))
		createSigningKey(t, s, newSigningKey("pool-1", "pool-a", true, 1))
		wantActiveSigningKeys(t, s, "wat", []string{"wat-1"}, "wat-1")
		wantActiveSigningKeys(t, s, "pool-a", []string{"pool-1"}, "pool-1")

		// An inactive key changes nothing.
		createSigningKey(t, s, newSigningKey("wat-2", "wat", false, 2))
		wantActiveSigningKeys(t, s, "wat", []string{"wat-1", "wat-2"}, "wat-1")

		// An active key deactivates the others of its use only.
		createSigningKey(t, s, newSigningKey("wat-3", "wat", true, 3))
		wantActiveSigningKeys(t, s, "wat", []string{"wat-1", "wat-2", "wat-3"}, "wat-3")
		wantActiveSigningKeys(t, s, "pool-a", []string{"pool-1"}, "pool-1")

		createSigningKey(t, s, newSigningKey("pool-2", "pool-a", true, 4))
		wantActiveSigningKeys(t, s, "pool-a", []string{"pool-1", "pool-2"}, "pool-2")
		wantActiveSigningKeys(t, s, "wat", []string{"wat-1", "wat-2", "wat-3"}, "wat-3")
	})
	t.Run("Retire", func(t *testing.T) {
		s := open(t)
		createSigningKey(t, s, newSigningKey("k-1", "wat", false, 0))
		createSigningKey(t, s, newSigningKey("k-2", "wat", true, 1))
		at := t0.Add(90 * time.Minute)
		ok(t, s.RetireSigningKey(t.Context(), "k-1", at))
		want := []*behalf.SigningKey{newSigningKey("k-1", "wat", false, 0), newSigningKey("k-2", "wat", true, 1)}
		want[0].RetireAt = at
		wantEqualList(t, "ListSigningKeys after retire", listSigningKeys(t, s, "wat"), want)
		wantCode(t, s.RetireSigningKey(t.Context(), "missing", at), behalf.ENOTFOUND)
	})
	t.Run("List", func(t *testing.T) {
		s := open(t)
		if ks := listSigningKeys(t, s, "wat"); len(ks) != 0 {
			t.Fatalf("ListSigningKeys on an empty store = %d keys", len(ks))
		}
		// Created out of order; ties by id.
		want := []*behalf.SigningKey{
			newSigningKey("k-b", "wat", false, 0),
			newSigningKey("k-0", "wat", false, 1),
			newSigningKey("k-a", "wat", false, 1),
			newSigningKey("k-c", "wat", false, 2),
		}
		for _, i := range []int{3, 0, 2, 1} {
			createSigningKey(t, s, want[i])
		}
		createSigningKey(t, s, newSigningKey("other", "WAT", false, -1))
		wantEqualList(t, "ListSigningKeys", listSigningKeys(t, s, "wat"), want)
		if ks := listSigningKeys(t, s, "missing"); len(ks) != 0 {
			t.Fatalf("ListSigningKeys(missing) = %d keys", len(ks))
		}
	})
}
