package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf/sqlstore"
)

// Migration 0025 gives the auth requests in flight an empty ClientIP: they
// count in the total of unexpired requests and for no address.
func TestMigrationPoolAuthRequestClientIP(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		testMigrationPoolAuthRequestClientIP(t, filepath.Join(t.TempDir(), "behalf.db"))
	})
	t.Run("Postgres", func(t *testing.T) {
		testMigrationPoolAuthRequestClientIP(t, newSchemaDSN(t, postgresDSN(t)))
	})
}

func testMigrationPoolAuthRequestClientIP(t *testing.T, dsn string) {
	ctx := t.Context()
	if err := sqlstore.MigrateBelow(ctx, dsn, 25); err != nil {
		t.Fatalf("migrate below 0025: %v", err)
	}
	exec := func(query string, args ...any) {
		t.Helper()
		if err := sqlstore.Exec(ctx, dsn, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	exec(`INSERT INTO user_pools (id, name, password_minimum_length, password_require_uppercase, password_require_lowercase,
		password_require_numbers, password_require_symbols, temporary_password_validity_days, username_attributes, domain, tags,
		created_at, updated_at) VALUES ('us-east-1_pool', 'p', 8, ?, ?, ?, ?, 7, '[]', '', '{}', 1, 1)`, true, true, true, true)
	now := time.Now()
	exec(`INSERT INTO pool_auth_requests (id, pool_id, code_hash, data, expires_at, created_at) VALUES ('req-1', 'us-east-1_pool', NULL, ?, ?, 1)`,
		[]byte{1}, now.Add(time.Minute).UnixMicro())

	db := openStore(t, dsn) // applies 0025
	r, err := db.GetPoolAuthRequest(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if r.ClientIP != "" {
		t.Errorf("ClientIP after the migration = %q, want empty", r.ClientIP)
	}
	if n, err := db.CountPoolAuthRequests(ctx, "", now, 0); err != nil || n != 1 {
		t.Errorf("CountPoolAuthRequests of all = %d, %v; want 1", n, err)
	}
	if n, err := db.CountPoolAuthRequests(ctx, "192.0.2.1", now, 0); err != nil || n != 0 {
		t.Errorf("CountPoolAuthRequests of an address = %d, %v; want 0", n, err)
	}
}

// Ensure CountPoolAuthRequests's counts are range scans of an index, not
// of the table: the hosted login runs them before storing every
// authorization request.
func TestCountPoolAuthRequestsUsesIndexes(t *testing.T) {
	plan := func(t *testing.T, c *sql.Conn, explain, query string, args ...any) string {
		t.Helper()
		rows, err := c.QueryContext(t.Context(), explain+" "+query, args...)
		if err != nil {
			t.Fatalf("%s %s: %v", explain, query, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch v := v.(type) {
				case string:
					lines = append(lines, v)
				case []byte:
					lines = append(lines, string(v))
				}
			}
		}
		return strings.Join(lines, "\n")
	}
	check := func(t *testing.T, dsn, explain string, postgres bool, prepare ...string) {
		db := openStore(t, dsn)
		c, err := sqlstore.SQLDB(db).Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, q := range prepare {
			if _, err := c.ExecContext(t.Context(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, tc := range []struct {
			byClient bool
			index    string
			args     []any
		}{
			{true, "pool_auth_requests_client_ip", []any{"192.0.2.1", int64(1), 100}},
			{false, "pool_auth_requests_expires_at", []any{int64(1), 100}},
		} {
			q := sqlstore.CountPoolAuthRequestsQuery(postgres, tc.byClient, true)
			if got := plan(t, c, explain, q, tc.args...); !strings.Contains(got, tc.index) {
				t.Errorf("the plan of %s uses no index %s:\n%s", q, tc.index, got)
			}
		}
	}
	t.Run("SQLite", func(t *testing.T) {
		check(t, filepath.Join(t.TempDir(), "behalf.db"), "EXPLAIN QUERY PLAN", false)
	})
	t.Run("Postgres", func(t *testing.T) {
		// An empty table is cheapest to scan whole: forbid that to see
		// whether an index serves the query.
		check(t, newSchemaDSN(t, postgresDSN(t)), "EXPLAIN", true, "SET enable_seqscan = off")
	})
}
