package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// Ensure readiness means the database takes writes, not only that it
// answers (issue 11, reliability 3: with the disk full every write failed
// while /readyz, a ping, stayed 200). Another connection holding SQLite's
// write lock is enough to show it: Ready fails while it is held and
// succeeds once it is released; and Ready writes at most once per
// ReadyInterval, however often /readyz is asked.
func TestReadyFailsWhenDatabaseCannotBeWritten(t *testing.T) {
	path := t.TempDir() + "/behalf.db"
	db := openStore(t, path)
	ctx := t.Context()
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	probedAt := func() int64 {
		var at int64
		if err := sqlstore.SQLDB(db).QueryRowContext(ctx, "SELECT probed_at FROM readiness_probe WHERE id = 1").Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	first := probedAt()
	for range 50 {
		if err := db.Ready(ctx); err != nil {
			t.Fatalf("Ready: %v", err)
		}
	}
	if probedAt() != first {
		t.Fatal("Ready wrote again within ReadyInterval")
	}

	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(sqlstore.ReadyInterval)
	if _, err := db.GetWorkload(ctx, "none"); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("read while another connection holds the write lock: %v (want ENOTFOUND: reads go on)", err)
	}
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if err := db.Ready(short); err == nil {
		t.Fatal("Ready succeeded while the database could not be written")
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v (the database answers; only writes are stuck)", err)
	}
	tx.Rollback()
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("Ready once the write lock is released: %v", err)
	}
	if probedAt() == first {
		t.Fatal("Ready did not write after ReadyInterval")
	}
}
