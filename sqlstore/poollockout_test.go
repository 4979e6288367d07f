package sqlstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// Migration 0024 adds pool_lockouts and leaves pool_users' old lockout
// columns to the previous release: users it wrote (with failures counted
// there) read as before, and users created afterwards get 0 and the zero
// time there, which that release reads as not locked.
func TestMigrationPoolLockouts(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		testMigrationPoolLockouts(t, filepath.Join(t.TempDir(), "behalf.db"))
	})
	t.Run("Postgres", func(t *testing.T) {
		testMigrationPoolLockouts(t, newSchemaDSN(t, postgresDSN(t)))
	})
}

func testMigrationPoolLockouts(t *testing.T, dsn string) {
	ctx := t.Context()
	if err := sqlstore.MigrateBelow(ctx, dsn, 24); err != nil {
		t.Fatalf("migrate below 0024: %v", err)
	}
	exec := func(query string, args ...any) {
		t.Helper()
		if err := sqlstore.Exec(ctx, dsn, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	const pool = "us-east-1_AbC123xyz"
	exec(`INSERT INTO user_pools (id, name, password_minimum_length, password_require_uppercase,
		password_require_lowercase, password_require_numbers, password_require_symbols,
		temporary_password_validity_days, username_attributes, domain, tags, created_at, updated_at)
		VALUES (?, 'p', 8, true, true, true, true, 7, '[]', '', '{}', 1, 1)`, pool)
	exec(`INSERT INTO pool_users (pool_id, username, sub, attributes, group_names, password_hash, status, enabled,
		password_changed_at, failed_attempts, locked_until, tokens_valid_after, created_at, updated_at)
		VALUES (?, 'alice', 'sub-1', '{}', '[]', 'h', 'CONFIRMED', true, 1, 6, 99, 1, 1, 1)`, pool)

	db := openStore(t, dsn) // applies 0024
	u, err := db.GetPoolUser(ctx, pool, "alice")
	if err != nil || u.Sub != "sub-1" {
		t.Fatalf("GetPoolUser of a user the previous release wrote = %+v, %v", u, err)
	}
	if _, err := db.GetPoolLockout(ctx, pool, "00"); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("GetPoolLockout after the migration: %v, want ENOTFOUND", err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	err = db.CreatePoolUser(ctx, &behalf.PoolUser{PoolID: pool, Username: "bob", Sub: "sub-2", Status: behalf.UserConfirmed,
		Enabled: true, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	var failures, lockedUntil int64
	err = sqlstore.SQLDB(db).QueryRowContext(ctx, "SELECT failed_attempts, locked_until FROM pool_users WHERE username = 'bob'").
		Scan(&failures, &lockedUntil)
	if err != nil {
		t.Fatal(err)
	}
	if failures != 0 || lockedUntil != (time.Time{}).UnixMicro() {
		t.Fatalf("a new user's old lockout columns: %d, %d; want 0 and the zero time", failures, lockedUntil)
	}
}
