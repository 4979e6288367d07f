package storetest

import (
	"fmt"
	"sync"
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

// newScopedKey returns an access key scoped to workload w, bound to its id.
func newScopedKey(id string, w *behalf.WorkloadIdentity) *behalf.AccessKey {
	k := newAccessKey(id, "workload/"+w.Name)
	k.WorkloadID = w.ID
	return k
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
	t.Run("Scoped", func(t *testing.T) { testScopedAccessKeys(t, open) })
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

// testScopedAccessKeys checks that a workload-scoped key is bound to its
// workload's id: it cannot be created for a workload id that does not
// exist, it is deleted with its workload, and a later workload of the same
// name does not inherit it.
func testScopedAccessKeys(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		w := newWorkload("agent-1")
		createWorkload(t, s, w)
		createAccessKey(t, s, newScopedKey("BHLFAAAA", w))
		got, err := s.GetAccessKey(t.Context(), "BHLFAAAA")
		ok(t, err)
		wantEqual(t, "GetAccessKey", got, newScopedKey("BHLFAAAA", w))
		list, err := s.ListAccessKeys(t.Context(), "workload/agent-1")
		ok(t, err)
		wantEqualList(t, "ListAccessKeys", list, []*behalf.AccessKey{newScopedKey("BHLFAAAA", w)})
	})
	t.Run("ErrWorkloadNotFound", func(t *testing.T) {
		s := open(t)
		createWorkload(t, s, newWorkload("agent-1"))
		k := newScopedKey("BHLFAAAA", newWorkload("agent-1"))
		k.WorkloadID = "id-missing"
		wantCode(t, s.CreateAccessKey(t.Context(), k), behalf.ENOTFOUND)
		_, err := s.GetAccessKey(t.Context(), "BHLFAAAA")
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("DeletedWithWorkload", func(t *testing.T) {
		s := open(t)
		w1, w2 := newWorkload("agent-1"), newWorkload("agent-2")
		createWorkload(t, s, w1)
		createWorkload(t, s, w2)
		createAccessKey(t, s, newScopedKey("BHLFA1", w1))
		createAccessKey(t, s, newScopedKey("BHLFA2", w1))
		createAccessKey(t, s, newScopedKey("BHLFB1", w2))
		createAccessKey(t, s, newAccessKey("BHLFROOT", "root"))
		ok(t, s.DeleteWorkload(t.Context(), "agent-1"))
		for _, id := range []string{"BHLFA1", "BHLFA2"} {
			_, err := s.GetAccessKey(t.Context(), id)
			wantCode(t, err, behalf.ENOTFOUND)
		}
		list, err := s.ListAccessKeys(t.Context(), "")
		ok(t, err)
		wantEqualList(t, "ListAccessKeys after deleting agent-1", list,
			[]*behalf.AccessKey{newScopedKey("BHLFB1", w2), newAccessKey("BHLFROOT", "root")})
	})
	// The attack of issue 11: workload deleted, created again under the
	// same name; the old key must not come back, nor be creatable again
	// for the old workload's id.
	t.Run("NotInheritedBySameName", func(t *testing.T) {
		s := open(t)
		old := &behalf.WorkloadIdentity{Name: "tmpw", CreatedAt: t0, UpdatedAt: t0}
		createWorkload(t, s, old)
		createAccessKey(t, s, newScopedKey("BHLFOLD", old))
		ok(t, s.DeleteWorkload(t.Context(), "tmpw"))
		again := &behalf.WorkloadIdentity{Name: "tmpw", CreatedAt: t0, UpdatedAt: t0}
		createWorkload(t, s, again)
		if again.ID == old.ID {
			t.Fatalf("the re-created workload has the deleted one's id %q", old.ID)
		}
		_, err := s.GetAccessKey(t.Context(), "BHLFOLD")
		wantCode(t, err, behalf.ENOTFOUND)
		list, err := s.ListAccessKeys(t.Context(), "workload/tmpw")
		ok(t, err)
		if len(list) != 0 {
			t.Fatalf("the re-created workload has keys: %+v", list)
		}
		wantCode(t, s.CreateAccessKey(t.Context(), newScopedKey("BHLFOLD2", old)), behalf.ENOTFOUND)
	})
	// A key created while its workload is being deleted is either refused
	// or deleted with it: no key outlives its workload.
	t.Run("ConcurrentDelete", func(t *testing.T) {
		s := open(t)
		const n = 10
		for i := range n {
			w := &behalf.WorkloadIdentity{Name: fmt.Sprintf("race-%02d", i), CreatedAt: t0, UpdatedAt: t0}
			createWorkload(t, s, w)
			var createErr, deleteErr error
			var wg sync.WaitGroup
			wg.Go(func() { createErr = s.CreateAccessKey(t.Context(), newScopedKey(fmt.Sprintf("BHLFRACE%02d", i), w)) })
			wg.Go(func() { deleteErr = s.DeleteWorkload(t.Context(), w.Name) })
			wg.Wait()
			ok(t, deleteErr)
			if createErr != nil {
				wantCode(t, createErr, behalf.ENOTFOUND)
			}
			if _, err := s.GetAccessKey(t.Context(), fmt.Sprintf("BHLFRACE%02d", i)); behalf.ErrorCode(err) != behalf.ENOTFOUND {
				t.Fatalf("round %d: a key outlived its workload (create: %v; get: %v)", i, createErr, err)
			}
		}
	})
}
