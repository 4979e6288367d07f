package identity

import (
	"context"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// replica returns a data plane on h's store and keys with empty caches, as
// another replica (or this one after ConfigCacheTTL) would be.
func (h *harness) replica() *DataPlane {
	return New(h.cfg)
}

// A WAT is bound to the ID of the workload identity it was minted for: once
// that workload is deleted and another of the same name created, the old
// WAT is refused, while the new workload's WATs work even where a cache
// still holds the old workload (issue 11, Security 1).
func TestWATBoundToWorkloadID(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	svc := &Service{Store: h.db, Sealer: h.cfg.Sealer, Now: h.clock.Now}
	if _, err := svc.CreateWorkload(ctx, behalf.WorkloadInput{Name: "tmpw"}); err != nil {
		t.Fatal(err)
	}
	a := h.dp.WATs() // caches tmpw as first created
	old, err := a.WorkloadAccessTokenForUserID(h.root, "tmpw", "grace")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.VerifyWAT(h.root, old); err != nil {
		t.Fatalf("the WAT of the live workload: %v", err)
	}

	if err := svc.DeleteWorkload(ctx, "tmpw"); err != nil {
		t.Fatal(err)
	}
	t.Run("Deleted", func(t *testing.T) {
		_, err := h.replica().WATs().VerifyWAT(h.root, old)
		if behalf.ErrorCode(err) != behalf.ENOTFOUND {
			t.Fatalf("the WAT of a deleted workload: %v, want ENOTFOUND", err)
		}
	})
	if _, err := svc.CreateWorkload(ctx, behalf.WorkloadInput{Name: "tmpw"}); err != nil {
		t.Fatal(err)
	}
	t.Run("OldWATRefused", func(t *testing.T) {
		_, err := h.replica().WATs().VerifyWAT(h.root, old)
		if behalf.ErrorCode(err) != behalf.EUNAUTHORIZED || err != errWATOldWorkload {
			t.Fatalf("the deleted workload's WAT, used for the new one: %v, want %v", err, errWATOldWorkload)
		}
	})
	t.Run("NewWATWithStaleCache", func(t *testing.T) {
		// Replica b mints for the new workload; a still caches the old one
		// (cached above) and must not refuse the new WAT.
		b := h.replica()
		fresh, err := b.WorkloadAccessTokenForUserID(h.root, "tmpw", "grace")
		if err != nil {
			t.Fatal(err)
		}
		a.config.workloads.Put("tmpw", &behalf.WorkloadIdentity{ID: "stale-id", Name: "tmpw"}, time.Now().Add(time.Minute))
		if _, err := a.VerifyWAT(h.root, fresh); err != nil {
			t.Fatalf("a new workload's WAT where the cache holds the deleted workload: %v", err)
		}
	})
	t.Run("MintWithStaleCache", func(t *testing.T) {
		// Minting reads the store: a cache holding the deleted workload
		// does not bind a new WAT to it.
		a.config.workloads.Put("tmpw", &behalf.WorkloadIdentity{ID: "stale-id", Name: "tmpw"}, time.Now().Add(time.Minute))
		tok, err := a.WorkloadAccessTokenForUserID(h.root, "tmpw", "grace")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.replica().WATs().VerifyWAT(h.root, tok); err != nil {
			t.Fatalf("a WAT minted where the cache held the deleted workload: %v", err)
		}
		rt, _, err := a.MintForRuntime(ctx, "tmpw", behalf.User{Subject: "grace"}, "", time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.replica().WATs().VerifyWAT(h.root, rt); err != nil {
			t.Fatalf("a runtime WAT minted where the cache held the deleted workload: %v", err)
		}
	})
	t.Run("WithoutWorkloadID", func(t *testing.T) {
		// Tokens minted before WATs carried the workload's ID keep working
		// until they expire (at most MaxWATLifetime).
		tok, _, _, err := a.mintWAT(&behalf.WorkloadIdentity{Name: "tmpw"}, behalf.User{Subject: "grace"}, time.Time{}, time.Time{}, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.replica().WATs().VerifyWAT(h.root, tok); err != nil {
			t.Fatalf("a WAT without a workload id: %v", err)
		}
	})
}
