package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// countRows counts the rows of table in the database at path, opened as a
// store and closed again.
func countRows(t *testing.T, path, table string) int64 {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := sqlstore.SQLDB(db).QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// seedKeys records key-encryption key versions 1 (a local key file) and 2
// (a KMS key), and data keys wrapped by them: two by 1, one by 2.
func seedKeys(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	ctx := t.Context()
	for _, v := range []*behalf.KEKVersion{
		{Version: 1, Keeper: behalf.KEKKeeperFile, Check: []byte{1}, State: behalf.KEKActive, CreatedAt: time.Now()},
		{Version: 2, Keeper: "awskms://alias/behalf?region=us-east-1", Check: []byte{2}, State: behalf.KEKActive, CreatedAt: time.Now()},
	} {
		if err := db.CreateKEKVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range []int{1, 1, 2} {
		if err := db.CreateDataKey(ctx, &behalf.DataKey{ID: fmt.Sprintf("dk-%d", i), Wrapped: []byte{byte(i)}, KEKVersion: v, Active: i == 2, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
}

// leftovers lists the temporary files of backups and restores in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	for _, pattern := range []string{".*.tmp-*", ".behalf-restore-*"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, m...)
	}
	return found
}

// Ensure BackupSQLite takes a consistent copy of a database while writes
// go on: a new file of mode 0600 holding at least what was committed when
// it began and at most what was committed when it ended, and reports its
// schema version and the key-encryption keys its data keys need.
func TestBackupSQLite(t *testing.T) {
	ctx := t.Context()
	src := filepath.Join(t.TempDir(), "behalf.db")
	db := openStore(t, src)
	seedKeys(t, db)

	// A write loop: workloads are created while the backup runs.
	var (
		stop    atomic.Bool
		created atomic.Int64
		wg      sync.WaitGroup
		loopErr error
	)
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			if err := db.CreateWorkload(ctx, &behalf.WorkloadIdentity{Name: fmt.Sprintf("load-%d", i), CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
				loopErr = err
				return
			}
			created.Add(1)
			time.Sleep(time.Millisecond)
		}
	})
	for created.Load() < 5 {
		time.Sleep(time.Millisecond)
	}
	outDir := t.TempDir()
	out := filepath.Join(outDir, "backup.db")
	before := created.Load()
	info, err := sqlstore.BackupSQLite(ctx, src, out)
	after := created.Load()
	for created.Load() < after+5 {
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if loopErr != nil {
		t.Fatalf("write loop: %v", loopErr)
	}
	if err != nil {
		t.Fatalf("BackupSQLite: %v", err)
	}
	t.Logf("%d workloads created, %d while the backup ran", created.Load(), after-before)

	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	var schema int64
	if err := sqlstore.SQLDB(db).QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	wantKEKs := []sqlstore.BackupKEK{
		{Version: 1, Keeper: behalf.KEKKeeperFile, State: behalf.KEKPrevious},
		{Version: 2, Keeper: "awskms://alias/behalf?region=us-east-1", State: behalf.KEKActive},
	}
	if info.Path != out || info.Bytes != fi.Size() || info.Schema != schema ||
		!maps.Equal(info.DataKeys, map[int]int{1: 2, 2: 1}) || !slices.Equal(info.KEKs, wantKEKs) {
		t.Fatalf("BackupSQLite = %+v, want %s, %d bytes, schema %d, data keys {1:2 2:1}, %+v", info, out, fi.Size(), schema, wantKEKs)
	}
	if got, err := sqlstore.InspectSQLite(ctx, out); err != nil || got.Schema != schema || got.Bytes != fi.Size() {
		t.Fatalf("InspectSQLite(backup) = %+v, %v", got, err)
	}
	if m := leftovers(t, outDir); len(m) > 0 {
		t.Fatalf("the backup left %v", m)
	}

	// A consistent snapshot: at least what existed when the backup began,
	// at most what existed when it ended (plus the one write whose count
	// may lag its commit).
	if n := countRows(t, out, "workloads"); n < before || n > after+1 {
		t.Fatalf("the backup has %d workloads, want %d..%d", n, before, after+1)
	}

	// Never over an existing file; never from a database that is not there
	// (and it is not created).
	if _, err := sqlstore.BackupSQLite(ctx, src, out); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "behalf.db")
	if _, err := sqlstore.BackupSQLite(ctx, missing, filepath.Join(outDir, "x.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("backup of a missing database: %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("backup of a missing database created it: %v", err)
	}
}

// Ensure InspectSQLite reads a database from before migration 20 (no
// kek_versions table), and refuses files that are not Behalf databases.
func TestInspectSQLite(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	old := filepath.Join(dir, "old.db")
	if err := sqlstore.MigrateBelow(ctx, old, 20); err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.Exec(ctx, old, "INSERT INTO data_keys (id, wrapped, kek_version, active, created_at) VALUES ('dk', ?, 1, 1, 1)", []byte{1}); err != nil {
		t.Fatal(err)
	}
	info, err := sqlstore.InspectSQLite(ctx, old)
	if err != nil || info.Schema != 19 || !maps.Equal(info.DataKeys, map[int]int{1: 1}) || info.KEKs != nil {
		t.Fatalf("InspectSQLite(schema 19) = %+v, %v", info, err)
	}

	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database at all. ", 10)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.InspectSQLite(ctx, junk); err == nil {
		t.Fatal("InspectSQLite accepted a file that is not a database")
	}
	other := filepath.Join(dir, "other.db")
	if err := sqlstore.Exec(ctx, other, "CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.InspectSQLite(ctx, other); err == nil || !strings.Contains(err.Error(), "not a Behalf database") {
		t.Fatalf("InspectSQLite(another SQLite database) = %v", err)
	}
}

// backupOf makes a backup of a new database holding the seeded keys and
// n workloads, and returns its path.
func backupOf(t *testing.T, n int) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "behalf.db")
	db := openStore(t, src)
	seedKeys(t, db)
	for i := range n {
		if err := db.CreateWorkload(t.Context(), &behalf.WorkloadIdentity{Name: fmt.Sprintf("w-%d", i), CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	if _, err := sqlstore.BackupSQLite(t.Context(), src, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Ensure RestoreSQLite puts a backup in place after checking it (the
// caller's check sees the copy as a store), replaces an existing database
// only when asked, keeping it, and leaves nothing behind when it refuses.
func TestRestoreSQLite(t *testing.T) {
	ctx := t.Context()
	backup := backupOf(t, 3)
	dir := t.TempDir()
	target := filepath.Join(dir, "data", "behalf.db")

	var seen int
	check := func(ctx context.Context, db *sqlstore.DB) error {
		keys, err := db.ListDataKeys(ctx)
		seen = len(keys)
		return err
	}
	res, err := sqlstore.RestoreSQLite(ctx, backup, target, sqlstore.RestoreOptions{Check: check})
	if err != nil {
		t.Fatalf("RestoreSQLite: %v", err)
	}
	if res.Info.Path != target || res.Replaced != "" || !maps.Equal(res.Info.DataKeys, map[int]int{1: 2, 2: 1}) || seen != 3 {
		t.Fatalf("RestoreSQLite = %+v (check saw %d data keys)", res, seen)
	}
	if n := countRows(t, target, "workloads"); n != 3 {
		t.Fatalf("the restored database has %d workloads, want 3", n)
	}

	// An existing database: refused, then replaced and kept with Replace.
	// Done sees the result with the database in place; its error comes
	// back as it is, and the restore stands.
	other := backupOf(t, 1)
	if _, err := sqlstore.RestoreSQLite(ctx, other, target, sqlstore.RestoreOptions{}); !errors.Is(err, sqlstore.ErrTargetExists) {
		t.Fatalf("restore over an existing database: %v", err)
	}
	var placed *sqlstore.RestoreResult
	errDone := errors.New("done failed")
	_, err = sqlstore.RestoreSQLite(ctx, other, target, sqlstore.RestoreOptions{Replace: true, Done: func(res *sqlstore.RestoreResult) error {
		if _, err := os.Stat(res.Replaced); err != nil {
			t.Errorf("Done: the replaced database is not kept yet: %v", err)
		}
		placed = res
		return errDone
	}})
	if err != errDone || placed == nil {
		t.Fatalf("RestoreSQLite with Replace and a failing Done: %v (Done saw %+v)", err, placed)
	}
	res = placed
	m, _ := filepath.Glob(target + ".replaced-*")
	if len(m) != 1 || res.Replaced != m[0] {
		t.Fatalf("the replaced database: Replaced %q, files %v", res.Replaced, m)
	}
	if n := countRows(t, target, "workloads"); n != 1 {
		t.Fatalf("the replacing database has %d workloads, want 1", n)
	}
	if n := countRows(t, res.Replaced, "workloads"); n != 3 {
		t.Fatalf("the kept database has %d workloads, want 3", n)
	}
	if l := leftovers(t, filepath.Dir(target)); len(l) > 0 {
		t.Fatalf("restores left %v", l)
	}
}

// Ensure RestoreSQLite refuses, leaving no database and no temporary file,
// a backup its check rejects, a file that is not a database, and a backup
// that is not there.
func TestRestoreSQLiteRefuses(t *testing.T) {
	ctx := t.Context()
	backup := backupOf(t, 0)
	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database at all. ", 10)), 0o600); err != nil {
		t.Fatal(err)
	}
	errKeys := errors.New("the data keys do not open")
	for _, tc := range []struct {
		name, backup string
		check        func(context.Context, *sqlstore.DB) error
		want         string
	}{
		{"CheckFails", backup, func(context.Context, *sqlstore.DB) error { return errKeys }, errKeys.Error()},
		{"NotADatabase", junk, nil, "backup " + junk},
		{"Missing", filepath.Join(t.TempDir(), "none.db"), nil, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "behalf.db")
			_, err := sqlstore.RestoreSQLite(ctx, tc.backup, target, sqlstore.RestoreOptions{Check: tc.check})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("RestoreSQLite = %v, want an error with %q", err, tc.want)
			}
			if tc.check != nil && err != errKeys {
				t.Fatalf("the check's error came back as %v, not as it is", err)
			}
			if _, err := os.Stat(target); err == nil {
				t.Fatal("a refused restore left a database")
			}
			if l := leftovers(t, dir); len(l) > 0 {
				t.Fatalf("a refused restore left %v", l)
			}
		})
	}
}
