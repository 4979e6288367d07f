package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
	"github.com/behalf-dev/behalf/sqlstore/storetest"
)

// postgresEnv names the environment variable holding the admin DSN of a
// PostgreSQL database the tests may create schemas in.
const postgresEnv = "BEHALF_TEST_POSTGRES_DSN"

// The SQLite store runs the conformance suite as a server runs it, the
// database's only writer (OwnWrites): reads of rows unchanged since are
// answered from memory, and every write the suite makes must reach them.
// Every commit must have been announced to the store's write clock.
func TestSQLite(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) behalf.Store {
		db := openSQLite(t)
		db.OwnWrites()
		t.Cleanup(func() {
			if n := sqlstore.UnannouncedCommits(db); n != 0 {
				t.Errorf("%d commits with no write announced to the write clock: a write path writeclock.go does not know", n)
			}
		})
		return db
	})
}

func TestPostgres(t *testing.T) {
	admin := postgresDSN(t)
	storetest.RunTests(t, func(t *testing.T) behalf.Store { return openPostgres(t, admin) })
}

// openSQLite opens a store in a new file under t.TempDir, closed at cleanup.
func openSQLite(t *testing.T) *sqlstore.DB {
	t.Helper()
	return openStore(t, filepath.Join(t.TempDir(), "behalf.db"))
}

// openPostgres opens a store in a new schema of the admin DSN's database;
// the store is closed and the schema dropped at cleanup.
func openPostgres(t *testing.T, admin string) *sqlstore.DB {
	t.Helper()
	return openStore(t, newSchemaDSN(t, admin))
}

// openStore opens the store at dsn, closed at cleanup.
func openStore(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// postgresDSN returns the admin DSN from the environment, or skips t.
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(postgresEnv)
	if dsn == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to a postgres:// URL of a database the tests may create schemas in", postgresEnv)
	}
	return dsn
}

// newSchemaDSN creates a uniquely named schema through the admin DSN,
// drops it at cleanup, and returns a DSN whose search_path is that schema.
func newSchemaDSN(t *testing.T, admin string) string {
	t.Helper()
	schema := "behalf_test_" + strings.ToLower(rand.Text())
	adminDB, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("open admin connection: %v", err)
	}
	if _, err := adminDB.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		adminDB.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer adminDB.Close()
		if _, err := adminDB.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// migrationFiles lists the migration files of one dialect directory.
func migrationFiles(t *testing.T, dialect string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("migrations", dialect))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// appliedMigrations returns the names schema_migrations records, by
// version, and their applied_at values.
func appliedMigrations(t *testing.T, db *sqlstore.DB) ([]string, []int64) {
	t.Helper()
	rows, err := sqlstore.SQLDB(db).QueryContext(t.Context(), "SELECT name, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatalf("select schema_migrations: %v", err)
	}
	defer rows.Close()
	var names []string
	var times []int64
	for rows.Next() {
		var name string
		var at int64
		if err := rows.Scan(&name, &at); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
		times = append(times, at)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names, times
}

func TestMigrationsMatch(t *testing.T) {
	sqliteFiles, pgFiles := migrationFiles(t, "sqlite"), migrationFiles(t, "postgres")
	if !slices.Equal(sqliteFiles, pgFiles) {
		t.Fatalf("migration files differ:\n sqlite   %q\n postgres %q", sqliteFiles, pgFiles)
	}
}

func TestSQLiteReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "behalf.db")
	db := openStore(t, path)
	wantNames := migrationFiles(t, "sqlite")
	names, times := appliedMigrations(t, db)
	if !slices.Equal(names, wantNames) {
		t.Fatalf("applied migrations = %q, want %q", names, wantNames)
	}
	w := &behalf.WorkloadIdentity{Name: "agent-1", CreatedAt: time.Unix(1, 0).UTC(), UpdatedAt: time.Unix(1, 0).UTC()}
	if err := db.CreateWorkload(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	again := openStore(t, path)
	names2, times2 := appliedMigrations(t, again)
	if !slices.Equal(names2, names) || !slices.Equal(times2, times) {
		t.Fatalf("reopen changed schema_migrations: %q %v, was %q %v", names2, times2, names, times)
	}
	if _, err := again.GetWorkload(t.Context(), "agent-1"); err != nil {
		t.Fatalf("GetWorkload after reopen: %v", err)
	}
}

func TestSQLiteFileMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "db")
	path := filepath.Join(dir, "behalf.db")
	db := openStore(t, path)
	if err := db.CreateWorkload(t.Context(), &behalf.WorkloadIdentity{Name: "agent-1"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{
		{path, 0o600},
		{path + "-wal", 0o600},
		{dir, 0o700 | os.ModeDir},
		{filepath.Dir(dir), 0o700 | os.ModeDir},
	} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != c.mode {
			t.Errorf("mode of %s = %v, want %v", c.path, fi.Mode(), c.mode)
		}
	}
}

func TestSQLitePragmas(t *testing.T) {
	db := sqlstore.SQLDB(openSQLite(t))
	// Hold two connections so that both the first and a later pooled
	// connection are checked.
	for i := range 2 {
		conn, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, c := range []struct {
			pragma string
			want   string
		}{
			{"journal_mode", "wal"},
			{"synchronous", "2"},
			{"foreign_keys", "1"},
			{"busy_timeout", "5000"},
			{"journal_size_limit", "16777216"},
		} {
			var got string
			if err := conn.QueryRowContext(t.Context(), "PRAGMA "+c.pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", c.pragma, err)
			}
			if got != c.want {
				t.Errorf("connection %d: PRAGMA %s = %q, want %q", i, c.pragma, got, c.want)
			}
		}
	}
}

func TestSQLiteOpenErrors(t *testing.T) {
	for _, dsn := range []string{"", filepath.Join(t.TempDir(), "a?b.db")} {
		if db, err := sqlstore.Open(t.Context(), dsn); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded, want an error", dsn)
		}
	}
}

func TestTimes(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testTimes(t, openSQLite(t)) })
	t.Run("Postgres", func(t *testing.T) { testTimes(t, openPostgres(t, postgresDSN(t))) })
}

// testTimes checks that times come back as UTC, truncated to microseconds.
func testTimes(t *testing.T, db *sqlstore.DB) {
	zone := time.FixedZone("UTC+5", 5*3600)
	created := time.Date(2025, 6, 1, 17, 30, 45, 123456789, zone)
	if err := db.CreateWorkload(t.Context(), &behalf.WorkloadIdentity{Name: "agent-1", CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetWorkload(t.Context(), "agent-1")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 6, 1, 12, 30, 45, 123456000, time.UTC)
	if got.CreatedAt != want {
		t.Errorf("CreatedAt = %v (%v), want %v", got.CreatedAt, got.CreatedAt.Location(), want)
	}
	if !got.UpdatedAt.IsZero() || got.UpdatedAt != (time.Time{}) {
		t.Errorf("zero UpdatedAt came back as %v", got.UpdatedAt)
	}
}

func TestNotFoundMessage(t *testing.T) {
	db := openSQLite(t)
	_, err := db.GetWorkload(t.Context(), "x")
	if got, want := behalf.ErrorMessage(err), `Workload identity "x" not found.`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := newSchemaDSN(t, postgresDSN(t))
	const n = 4
	dbs := make([]*sqlstore.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = sqlstore.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Open %d: %v", i, errs[i])
			continue
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	if t.Failed() {
		return
	}
	names, _ := appliedMigrations(t, dbs[0])
	if want := migrationFiles(t, "postgres"); !slices.Equal(names, want) {
		t.Fatalf("applied migrations = %q, want %q", names, want)
	}
}

// Ensure the connection pool is bounded (issue 11, reliability 1: under
// overload SQLite had 5,399 handles open on behalf.db): Open bounds it by
// DefaultMaxConns, a query beyond the bound waits for a connection (here
// until its context ends) instead of opening one more, and connections
// returned after a burst are kept, not closed and reopened.
func TestPoolBounded(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testPoolBounded(t, openSQLite(t)) })
	t.Run("Postgres", func(t *testing.T) { testPoolBounded(t, openPostgres(t, postgresDSN(t))) })
}

func testPoolBounded(t *testing.T, db *sqlstore.DB) {
	n := sqlstore.DefaultMaxConns()
	if got := db.Stats().MaxOpenConnections; got != n {
		t.Fatalf("MaxOpenConnections = %d, want DefaultMaxConns %d", got, n)
	}
	db.SetMaxConns(3)
	pool := sqlstore.SQLDB(db)
	var held []*sql.Conn
	for range 3 {
		c, err := pool.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// The fourth waits: a read gives up when its context ends.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := db.GetWorkload(ctx, "x"); behalf.ErrorCode(err) == behalf.ENOTFOUND || ctx.Err() == nil {
		t.Fatalf("a read past the bound: %v, want it to wait for a connection until its context ended", err)
	}
	if got := db.Stats().OpenConnections; got != 3 {
		t.Fatalf("open connections = %d, want 3", got)
	}
	for _, c := range held {
		c.Close()
	}
	if _, err := db.GetWorkload(t.Context(), "x"); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("a read once connections are back: %v", err)
	}
	if st := db.Stats(); st.MaxIdleClosed != 0 || st.OpenConnections != 3 {
		t.Fatalf("after the burst: %d open, %d closed as surplus idle; want all 3 kept", st.OpenConnections, st.MaxIdleClosed)
	}
}

// Ensure a write the database has no room for is the service's trouble,
// 503 with Retry-After (behalf.ErrStoreUnavailable), not an internal error,
// and that writes work again once there is room. SQLite is filled with
// PRAGMA max_page_count on the pool's one connection.
func TestStorageFullIsUnavailable(t *testing.T) {
	db := openSQLite(t)
	db.SetMaxConns(1)
	ctx := t.Context()
	pool := sqlstore.SQLDB(db)
	var pages int
	if err := pool.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	big := map[string]string{}
	for i := range 40 {
		big[fmt.Sprintf("k%d", i)] = strings.Repeat("x", 250)
	}
	var err error
	for i := 0; i < 50 && err == nil; i++ {
		err = db.CreateWorkload(ctx, &behalf.WorkloadIdentity{ID: fmt.Sprintf("id-%d", i), Name: fmt.Sprintf("full-%d", i), Tags: big, CreatedAt: time.Now(), UpdatedAt: time.Now()})
	}
	if !errors.Is(err, behalf.ErrStoreUnavailable) || behalf.ErrorCode(err) != behalf.EUNAVAILABLE {
		t.Fatalf("a write with the database full = %v, want ErrStoreUnavailable", err)
	}
	if _, err := pool.ExecContext(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateWorkload(ctx, &behalf.WorkloadIdentity{ID: "id-room", Name: "room", CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatalf("a write once there is room: %v", err)
	}
}

// Ensure GetGrant never returns a grant as it was once another process
// (another DB on the same file, as a replica) changed or deleted it: its
// cache of grants is only used for a row whose id, version and updated_at
// the store confirms, and last_used_at is read every time (issue 12).
func TestGetGrantSeesOtherWriters(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "behalf.db")
	a, b := openStore(t, path), openStore(t, path)
	now := time.Unix(1700000000, 0).UTC()
	put := func(db *sqlstore.DB, id, token string, at time.Time) {
		t.Helper()
		g := &behalf.Grant{ID: id, Workload: "agent", UserKey: "user", ProviderID: "google", Scopes: []string{"openid"},
			Token: behalf.Sealed(token), ExpiresAt: at.Add(time.Hour), HasRefresh: true, CreatedAt: at, UpdatedAt: at}
		if err := db.PutGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	get := func(want string) *behalf.Grant {
		t.Helper()
		for range 2 { // the second read is the cached one
			g, err := a.GetGrant(ctx, "agent", "user", "google")
			if want == "" {
				if behalf.ErrorCode(err) != behalf.ENOTFOUND {
					t.Fatalf("GetGrant = %+v, %v; want ENOTFOUND", g, err)
				}
				continue
			}
			if err != nil || string(g.Token) != want {
				t.Fatalf("GetGrant = %+v, %v; want token %q", g, err, want)
			}
		}
		g, _ := a.GetGrant(ctx, "agent", "user", "google")
		return g
	}
	put(b, "g-1", "token-1", now)
	get("token-1")

	// Every write of another process shows at once.
	if _, err := b.UpdateGrant(ctx, "g-1", func(g *behalf.Grant) error { g.Token = behalf.Sealed("token-2"); return nil }); err != nil {
		t.Fatal(err)
	}
	get("token-2")
	if err := b.CompleteGrantRefresh(ctx, "g-1", behalf.Sealed("token-3"), now.Add(2*time.Hour), []string{"openid", "email"}, now); err != nil {
		t.Fatal(err)
	}
	if g := get("token-3"); !slices.Equal(g.Scopes, []string{"openid", "email"}) || !g.ExpiresAt.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("after a refresh: %+v", g)
	}
	if ok, err := b.ClaimGrantRefresh(ctx, "g-1", now, now.Add(time.Minute)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if g := get("token-3"); !g.RefreshLease.Equal(now.Add(time.Minute)) {
		t.Fatalf("after a claim: lease %v", g.RefreshLease)
	}
	if err := b.TouchGrants(ctx, map[string]time.Time{"g-1": now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if g := get("token-3"); !g.LastUsedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("after a touch: last used %v", g.LastUsedAt)
	}
	// Replaced by another grant (another id), revoked, granted again with
	// the same id.
	put(b, "g-2", "token-4", now)
	get("token-4")
	if err := b.DeleteGrant(ctx, "g-2"); err != nil {
		t.Fatal(err)
	}
	get("")
	put(b, "g-2", "token-5", now.Add(time.Second))
	get("token-5")

	// What GetGrant returns is the caller's to change.
	g := get("token-5")
	g.Scopes[0], g.Token[0] = "changed", 'X'
	get("token-5")
	if g := get("token-5"); g.Scopes[0] != "openid" {
		t.Fatalf("a caller's change reached the cache: %+v", g)
	}

	// An exchange grant of the same workload × user × provider is cached
	// apart from the consent grant.
	x := &behalf.Grant{ID: "g-x", Workload: "agent", UserKey: "user", ProviderID: "google", Exchange: "aud=api",
		Token: behalf.Sealed("token-x"), ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	if err := b.PutGrant(ctx, x); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if g, err := a.GetExchangeGrant(ctx, "agent", "user", "google", "aud=api"); err != nil || string(g.Token) != "token-x" {
			t.Fatalf("GetExchangeGrant = %+v, %v", g, err)
		}
		get("token-5")
	}
}
