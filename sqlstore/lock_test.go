//go:build unix

package sqlstore_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf/sqlstore"
)

// Ensure one server at a time holds the lock of a SQLite database (a
// second is refused, and may start once the first is gone), a restore
// refuses a database a server holds and proceeds once it is gone, and a
// restore in progress keeps servers out.
func TestLockForServing(t *testing.T) {
	ctx := t.Context()
	backup := backupOf(t, 0)
	target := filepath.Join(t.TempDir(), "behalf.db")
	unlock, err := sqlstore.LockForServing(target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.LockForServing(target); err == nil || !strings.Contains(err.Error(), "one server per SQLite database") {
		t.Fatalf("a second server: %v", err)
	}
	_, err = sqlstore.RestoreSQLite(ctx, backup, target, sqlstore.RestoreOptions{Replace: true})
	if err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("restore into a database in use: %v", err)
	}
	unlock()
	unlock, err = sqlstore.LockForServing(target)
	if err != nil {
		t.Fatalf("a server once the first is gone: %v", err)
	}
	unlock()

	// While a restore runs (its Check and Done are called under the lock),
	// a server cannot start.
	var serving []error
	tryServe := func() {
		unlock, err := sqlstore.LockForServing(target)
		if err == nil {
			unlock()
		}
		serving = append(serving, err)
	}
	_, err = sqlstore.RestoreSQLite(ctx, backup, target, sqlstore.RestoreOptions{
		Check: func(context.Context, *sqlstore.DB) error { tryServe(); return nil },
		Done:  func(*sqlstore.RestoreResult) error { tryServe(); return nil },
	})
	if err != nil {
		t.Fatalf("restore once the servers are gone: %v", err)
	}
	for i, err := range serving {
		if err == nil || !strings.Contains(err.Error(), "or a restore, is using") {
			t.Fatalf("a server starting during a restore (%d): %v", i, err)
		}
	}
	if len(serving) != 2 {
		t.Fatalf("Check and Done were called %d times in all, want 2", len(serving))
	}
	if unlock, err := sqlstore.LockForServing("postgres://db/behalf"); err != nil {
		t.Fatalf("PostgreSQL: %v", err)
	} else {
		unlock()
	}
}
