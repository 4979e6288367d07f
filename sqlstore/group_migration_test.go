package sqlstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// Migration 0029 adds groups and the search indexes over users the
// previous release wrote: their group_names are ignored, they can join
// groups and be searched, and on PostgreSQL an attribute holding a NUL
// (which jsonb, and so the indexes, cannot read) becomes U+FFFD.
func TestMigrationPoolGroups(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		testMigrationPoolGroups(t, filepath.Join(t.TempDir(), "behalf.db"), "a\x00b")
	})
	t.Run("Postgres", func(t *testing.T) {
		testMigrationPoolGroups(t, newSchemaDSN(t, postgresDSN(t)), "a\ufffdb")
	})
}

func testMigrationPoolGroups(t *testing.T, dsn, wantNUL string) {
	ctx := t.Context()
	if err := sqlstore.MigrateBelow(ctx, dsn, 29); err != nil {
		t.Fatalf("migrate below 0029: %v", err)
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
	user := func(username, sub, attrs, groups string) {
		exec(`INSERT INTO pool_users (pool_id, username, sub, attributes, group_names, password_hash, status, enabled,
			password_changed_at, failed_attempts, locked_until, tokens_valid_after, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'h', 'CONFIRMED', true, 1, 0, 0, 1, 1, 1)`, pool, username, sub, attrs, groups)
	}
	user("alice", "sub-1", `{"name":"Alice","email":"x"}`, `["legacy"]`)
	user("nul", "sub-2", `{"name":"a\u0000b","given_name":"back\\u0000slash"}`, `[]`)

	db := openStore(t, dsn) // applies 0029
	u, err := db.GetPoolUser(ctx, pool, "nul")
	if err != nil {
		t.Fatal(err)
	}
	if u.Attributes["name"] != wantNUL || u.Attributes["given_name"] != `back\u0000slash` {
		t.Fatalf("attributes after the migration = %q", u.Attributes)
	}
	found, err := db.SearchPoolUsers(ctx, pool, behalf.PoolUserQuery{Attribute: behalf.SearchName, Value: "a", Prefix: true})
	if err != nil || len(found) != 2 || found[0].Username == found[1].Username {
		t.Fatalf("name ^= \"a\" after the migration = %v, %v", found, err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := db.CreatePoolGroup(ctx, &behalf.PoolGroup{PoolID: pool, Name: "admins", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddPoolGroupMember(ctx, pool, "admins", "alice", 100, now); err != nil {
		t.Fatal(err)
	}
	gs, err := db.ListPoolUserGroups(ctx, pool, "alice", behalf.ListOptions{})
	if err != nil || len(gs) != 1 || gs[0].Name != "admins" {
		t.Fatalf("alice's groups = %v, %v (group_names is not read)", gs, err)
	}
}
