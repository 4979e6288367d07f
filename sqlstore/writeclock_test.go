package sqlstore_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// Ensure a store that owns its database (OwnWrites) answers the token
// path's reads from memory until its next write, and from the database
// again after any write of its own, or after a commit it was not told of.
// Another DB on the same file stands for what the serving lock keeps out
// (another server writing the file): its writes are not seen while nothing
// else is written, which is why memory reads need that lock.
func TestOwnWritesReadsFromMemory(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "behalf.db")
	a, b := openStore(t, path), openStore(t, path)
	a.OwnWrites()
	now := time.Unix(1700000000, 0).UTC()
	g := &behalf.Grant{ID: "g-1", Workload: "agent", UserKey: "user", ProviderID: "google", Scopes: []string{"openid"},
		Token: behalf.Sealed("token-1"), ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	if err := a.PutGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateWorkload(ctx, &behalf.WorkloadIdentity{Name: "agent", AllowedReturnURLs: []string{"https://a.example/cb"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	token := func() string {
		t.Helper()
		g, err := a.GetGrant(ctx, "agent", "user", "google")
		if err != nil {
			t.Fatal(err)
		}
		return string(g.Token)
	}
	returnURL := func() string {
		t.Helper()
		w, err := a.GetWorkload(ctx, "agent")
		if err != nil {
			t.Fatal(err)
		}
		return w.AllowedReturnURLs[0]
	}
	token()
	returnURL()

	// b changes both rows behind a's back: a answers from memory.
	if _, err := b.UpdateGrant(ctx, "g-1", func(g *behalf.Grant) error { g.Token = behalf.Sealed("token-2"); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := b.UpdateWorkload(ctx, "agent", func(w *behalf.WorkloadIdentity) error {
		w.AllowedReturnURLs = []string{"https://b.example/cb"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := token(); got != "token-1" {
		t.Fatalf("an owned store read the grant from the database: %q (memory reads are not used)", got)
	}
	if got := returnURL(); got != "https://a.example/cb" {
		t.Fatalf("an owned store read the workload from the database: %q", got)
	}

	// Any write of a's own, even of another table, and both are read again.
	if err := a.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if got, url := token(), returnURL(); got != "token-2" || url != "https://b.example/cb" {
		t.Fatalf("after a write of its own: token %q, return URL %q", got, url)
	}

	// A commit nobody announced (here, SQL run on a's connections directly)
	// turns memory reads off for good.
	if _, err := sqlstore.SQLDB(a).ExecContext(ctx, "UPDATE grants SET token = ?, version = version + 1 WHERE id = 'g-1'", []byte("token-3")); err != nil {
		t.Fatal(err)
	}
	if n := sqlstore.UnannouncedCommits(a); n != 1 {
		t.Fatalf("unannounced commits = %d, want 1", n)
	}
	if got := token(); got != "token-3" {
		t.Fatalf("after an unannounced commit: %q", got)
	}
	if _, err := b.UpdateGrant(ctx, "g-1", func(g *behalf.Grant) error { g.Token = behalf.Sealed("token-4"); return nil }); err != nil {
		t.Fatal(err)
	}
	if got := token(); got != "token-4" {
		t.Fatalf("memory reads still on after an unannounced commit: %q", got)
	}

	// Reads commit nothing: a store that only reads keeps its memory reads.
	c := openStore(t, path)
	c.OwnWrites()
	for range 3 {
		if _, err := c.GetGrant(ctx, "agent", "user", "google"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListWorkloads(ctx, behalf.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := sqlstore.UnannouncedCommits(c); n != 0 {
		t.Fatalf("reads made %d commits", n)
	}
}

// Ensure an owned store's memory reads are linearizable: once a write
// returns, every read that starts after it sees it, while readers and the
// writer run at once (run with -race in CI).
func TestOwnWritesReadsAfterWrites(t *testing.T) {
	ctx := t.Context()
	db := openSQLite(t)
	db.OwnWrites()
	now := time.Unix(1700000000, 0).UTC()
	if err := db.PutGrant(ctx, &behalf.Grant{ID: "g-1", Workload: "agent", UserKey: "user", ProviderID: "google",
		Token: behalf.Sealed("0"), ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const writes = 200
	var written atomic.Int64 // the last version whose write returned
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for written.Load() < writes {
				floor := written.Load()
				g, err := db.GetGrant(ctx, "agent", "user", "google")
				if err != nil {
					errs <- err
					return
				}
				var got int64
				fmt.Sscan(string(g.Token), &got)
				if got < floor {
					errs <- fmt.Errorf("read token %d after write %d had returned", got, floor)
					return
				}
			}
		}()
	}
	for i := int64(1); i <= writes; i++ {
		if _, err := db.UpdateGrant(ctx, "g-1", func(g *behalf.Grant) error { g.Token = behalf.Sealed(fmt.Sprint(i)); return nil }); err != nil {
			t.Fatal(err)
		}
		written.Store(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
