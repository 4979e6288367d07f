package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newKEKVersion returns a key-encryption key version with every field set.
func newKEKVersion(version int, state string) *behalf.KEKVersion {
	return &behalf.KEKVersion{
		Version:   version,
		Keeper:    "awskms://alias/behalf-" + string(rune('a'+version)) + "?region=us-east-1",
		Check:     []byte{0x00, 0x01, 0xfe, 0xff, byte(version)},
		State:     state,
		CreatedAt: t0.Add(time.Duration(version) * time.Minute),
	}
}

// listKEKVersions returns ListKEKVersions, failing t on error.
func listKEKVersions(t *testing.T, s behalf.Store) []*behalf.KEKVersion {
	t.Helper()
	vs, err := s.ListKEKVersions(t.Context())
	ok(t, err)
	return vs
}

// wantKEKStates fails t unless the recorded versions, lowest first, have
// the given states.
func wantKEKStates(t *testing.T, s behalf.Store, states ...string) {
	t.Helper()
	vs := listKEKVersions(t, s)
	wantEqual(t, "ListKEKVersions states", names(vs, func(v *behalf.KEKVersion) string { return v.State }), states)
}

// testKEKVersions checks the key-encryption key version methods of
// DataKeyStore.
func testKEKVersions(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			if vs := listKEKVersions(t, s); len(vs) != 0 {
				t.Fatalf("ListKEKVersions on an empty store = %d versions", len(vs))
			}
			ok(t, s.CreateKEKVersion(t.Context(), newKEKVersion(1, behalf.KEKActive)))
			wantEqualList(t, "ListKEKVersions", listKEKVersions(t, s), []*behalf.KEKVersion{newKEKVersion(1, behalf.KEKActive)})
		})
		t.Run("ActiveDemotesActive", func(t *testing.T) {
			s := open(t)
			ok(t, s.CreateKEKVersion(t.Context(), newKEKVersion(2, behalf.KEKActive)))
			ok(t, s.CreateKEKVersion(t.Context(), newKEKVersion(1, behalf.KEKPrevious)))
			ok(t, s.CreateKEKVersion(t.Context(), newKEKVersion(3, behalf.KEKActive)))
			wantKEKStates(t, s, behalf.KEKPrevious, behalf.KEKPrevious, behalf.KEKActive)
			// Lowest first, whatever the insertion order.
			wantEqual(t, "versions", names(listKEKVersions(t, s), func(v *behalf.KEKVersion) string { return v.Keeper }),
				[]string{newKEKVersion(1, "").Keeper, newKEKVersion(2, "").Keeper, newKEKVersion(3, "").Keeper})
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			ok(t, s.CreateKEKVersion(t.Context(), newKEKVersion(1, behalf.KEKActive)))
			wantCode(t, s.CreateKEKVersion(t.Context(), newKEKVersion(1, behalf.KEKActive)), behalf.ECONFLICT)
			// The failed insert must not have demoted version 1.
			wantKEKStates(t, s, behalf.KEKActive)
		})
	})
	t.Run("Retire", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			ok(t, s.CreateKEKVersion(t.Context(), newKEKVersion(1, behalf.KEKActive)))
			ok(t, s.CreateKEKVersion(t.Context(), newKEKVersion(2, behalf.KEKActive)))
			k := newDataKey("dk-1", true)
			k.KEKVersion = 2
			createDataKey(t, s, k)
			at := t0.Add(time.Hour)
			ok(t, s.RetireKEKVersion(t.Context(), 1, at))
			want := newKEKVersion(1, behalf.KEKRetired)
			want.RetiredAt = at
			wantEqual(t, "retired version", listKEKVersions(t, s)[0], want)
			// Again: nothing changes.
			ok(t, s.RetireKEKVersion(t.Context(), 1, at.Add(time.Hour)))
			wantEqual(t, "retired twice", listKEKVersions(t, s)[0], want)
			wantKEKStates(t, s, behalf.KEKRetired, behalf.KEKActive)
		})
		t.Run("ErrConflictActive", func(t *testing.T) {
			s := open(t)
			ok(t, s.CreateKEKVersion(t.Context(), newKEKVersion(1, behalf.KEKActive)))
			wantCode(t, s.RetireKEKVersion(t.Context(), 1, t0), behalf.ECONFLICT)
			wantKEKStates(t, s, behalf.KEKActive)
		})
		t.Run("ErrConflictInUse", func(t *testing.T) {
			s := open(t)
			ok(t, s.CreateKEKVersion(t.Context(), newKEKVersion(1, behalf.KEKActive)))
			ok(t, s.CreateKEKVersion(t.Context(), newKEKVersion(2, behalf.KEKActive)))
			k := newDataKey("dk-1", false)
			k.KEKVersion = 1
			createDataKey(t, s, k)
			wantCode(t, s.RetireKEKVersion(t.Context(), 1, t0), behalf.ECONFLICT)
			wantKEKStates(t, s, behalf.KEKPrevious, behalf.KEKActive)
			// Rewrapped: now it can go.
			k.KEKVersion = 2
			ok(t, s.UpdateDataKey(t.Context(), k))
			ok(t, s.RetireKEKVersion(t.Context(), 1, t0))
			wantKEKStates(t, s, behalf.KEKRetired, behalf.KEKActive)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			wantCode(t, s.RetireKEKVersion(t.Context(), 7, t0), behalf.ENOTFOUND)
		})
	})
}
