package identity

import (
	"context"
	"testing"

	"github.com/behalf-dev/behalf"
)

// A workload-scoped access key is bound to its workload's ID: deleting the
// workload deletes the key, and a new workload of the same name does not
// bring it back (issue 11, Security 1).
func TestScopedKeyDiesWithWorkload(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	svc := &Service{Store: h.db, Sealer: h.cfg.Sealer, Now: h.clock.Now}
	admin := &Admin{Store: h.db, Sealer: h.cfg.Sealer, Now: h.clock.Now}

	old, err := svc.CreateWorkload(ctx, behalf.WorkloadInput{Name: "tmpw"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, "tmpw")
	if err != nil {
		t.Fatal(err)
	}
	if key.Principal != behalf.WorkloadPrincipal("tmpw") || key.WorkloadID == "" || key.WorkloadID != old.ID {
		t.Fatalf("CreateAccessKey(tmpw) = principal %q, workload id %q; want %q bound to %q", key.Principal, key.WorkloadID, behalf.WorkloadPrincipal("tmpw"), old.ID)
	}
	if _, principal, err := (&AccessKeys{Store: h.db, Sealer: h.cfg.Sealer}).Lookup(ctx, key.ID); err != nil || principal != behalf.WorkloadPrincipal("tmpw") {
		t.Fatalf("Lookup of the new key: %q %v", principal, err)
	}

	if err := svc.DeleteWorkload(ctx, "tmpw"); err != nil {
		t.Fatal(err)
	}
	again, err := svc.CreateWorkload(ctx, behalf.WorkloadInput{Name: "tmpw"})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == old.ID {
		t.Fatalf("the re-created workload has the deleted one's ID %q", old.ID)
	}
	// A keyring that has not cached the key (another replica, or this one
	// after KeyCacheTTL) refuses it.
	if _, _, err := (&AccessKeys{Store: h.db, Sealer: h.cfg.Sealer}).Lookup(ctx, key.ID); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("Lookup of the deleted workload's key after re-creating the workload: %v, want ENOTFOUND", err)
	}
	keys, err := admin.ListAccessKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Fatalf("keys after deleting and re-creating tmpw: %+v, want none", keys)
	}
	// A key created for the new workload is bound to the new ID.
	fresh, err := admin.CreateAccessKey(ctx, "tmpw")
	if err != nil {
		t.Fatal(err)
	}
	if fresh.WorkloadID != again.ID {
		t.Fatalf("new key bound to %q, want %q", fresh.WorkloadID, again.ID)
	}
	// A key for a missing workload is refused, and nothing is stored.
	if _, err := admin.CreateAccessKey(ctx, "nope-missing"); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("CreateAccessKey(missing workload): %v, want ENOTFOUND", err)
	}
	if keys, _ := admin.ListAccessKeys(ctx); len(keys) != 1 {
		t.Fatalf("keys after a refused CreateAccessKey: %d, want 1", len(keys))
	}
}
