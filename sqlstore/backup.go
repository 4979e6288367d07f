package sqlstore

// Backup and restore of SQLite databases. They read the schema directly
// (schema_migrations, data_keys, kek_versions), so they live with it. A
// backup is a consistent copy taken while servers serve (VACUUM INTO reads
// one snapshot; writers go on). It holds sealed values only: the
// key-encryption key is not in it. PostgreSQL databases are backed up with
// pg_dump, not here.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// backupBusyTimeout is how long backup and restore wait for a server's
// lock on the database.
const backupBusyTimeout = 10 * time.Second

// BackupInfo describes a SQLite database file checked by InspectSQLite: a
// backup, or a copy about to be restored.
type BackupInfo struct {
	// Path is the file's absolute path.
	Path string
	// Bytes is the file's size.
	Bytes int64
	// Schema is the highest migration applied to it.
	Schema int64
	// DataKeys counts its data keys by the version of the key-encryption
	// key that wrapped them: the keys a restore needs.
	DataKeys map[int]int
	// KEKs are the key-encryption key versions it records, in order (none
	// before migration 20, which added them).
	KEKs []BackupKEK
}

// BackupKEK is a key-encryption key version recorded in a database: where
// the key is kept, never the key.
type BackupKEK struct {
	Version int
	Keeper  string // behalf.KEKKeeperFile, behalf.KEKKeeperInline or a KMS URL
	State   string
}

// BackupSQLite copies the SQLite database at src, consistently while
// servers use it (VACUUM INTO), into out, a new file of mode 0600, checks
// the copy with InspectSQLite and makes it durable. out must not exist; it
// appears only once the copy is checked. src must exist: BackupSQLite never
// creates a database.
func BackupSQLite(ctx context.Context, src, out string) (*BackupInfo, error) {
	if _, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("no database at %s: %w", src, err)
	}
	out, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(out); err == nil {
		return nil, fmt.Errorf("%s exists: back up to a new file", out)
	}
	// VACUUM INTO writes into an empty file, which keeps its mode 0600.
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create backup file: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	done := false
	defer func() {
		if !done {
			removeSQLite(tmpName)
		}
	}()
	db, err := openSQLiteFile(src)
	if err != nil {
		return nil, err
	}
	_, err = db.ExecContext(ctx, "VACUUM INTO ?", tmpName)
	db.Close()
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", src, err)
	}
	info, err := InspectSQLite(ctx, tmpName)
	if err != nil {
		return nil, fmt.Errorf("check the copy: %w", err)
	}
	if err := syncFile(tmpName); err != nil {
		return nil, err
	}
	// Link, not rename: never replace a file created meanwhile.
	if err := os.Link(tmpName, out); err != nil {
		return nil, fmt.Errorf("write backup: %w", err)
	}
	syncDir(filepath.Dir(out))
	info.Path = out
	return info, nil
}

// InspectSQLite checks a SQLite database file's integrity (PRAGMA
// integrity_check) and reads what a restore needs: its schema version and
// the key-encryption keys its data keys need. A file that is not a Behalf
// database is an error.
func InspectSQLite(ctx context.Context, path string) (*BackupInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	db, err := openSQLiteFile(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return nil, fmt.Errorf("%s is not a readable SQLite database: %w", path, err)
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: integrity check: %w", path, err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s fails PRAGMA integrity_check: %s", path, strings.Join(problems, "; "))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	info := &BackupInfo{Path: abs, Bytes: fi.Size(), DataKeys: map[int]int{}}
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&info.Schema); err != nil {
		return nil, fmt.Errorf("%s is not a Behalf database: %w", path, err)
	}
	if err := queryEach(ctx, db, "SELECT kek_version, COUNT(*) FROM data_keys GROUP BY kek_version", func(r *sql.Rows) error {
		var v, n int
		err := r.Scan(&v, &n)
		info.DataKeys[v] = n
		return err
	}); err != nil {
		return nil, err
	}
	// kek_versions exists from migration 20 on.
	if info.Schema >= 20 {
		if err := queryEach(ctx, db, "SELECT version, keeper, state FROM kek_versions ORDER BY version", func(r *sql.Rows) error {
			var k BackupKEK
			err := r.Scan(&k.Version, &k.Keeper, &k.State)
			info.KEKs = append(info.KEKs, k)
			return err
		}); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// ErrTargetExists is in the chain of RestoreSQLite's error when a database
// is at the target and RestoreOptions.Replace is false.
var ErrTargetExists = errors.New("a database is there")

// RestoreOptions configures RestoreSQLite.
type RestoreOptions struct {
	// Replace allows replacing a database at the target, which is kept as
	// TARGET.replaced-TIME. Without it a non-empty target is refused.
	Replace bool
	// Check, if set, is called with the restored copy opened as a store
	// (newer migrations applied) before anything is replaced; an error
	// refuses the restore and is returned as it is. It is where the caller
	// checks that the copy's data keys open with its key-encryption keys.
	Check func(ctx context.Context, db *DB) error
	// Done, if set, is called once the restored database is in place,
	// still under the lock, so that no server starts before it returns
	// (the caller's own files, such as a credentials file naming another
	// root key). Its error is returned as it is; the restore stands.
	Done func(res *RestoreResult) error
}

// RestoreResult is what RestoreSQLite did.
type RestoreResult struct {
	// Info describes the restored database as the backup held it (before
	// newer migrations); its Path is the target's absolute path.
	Info *BackupInfo
	// Replaced is where the database it replaced went, or "".
	Replaced string
}

// RestoreSQLite puts the backup at backup in place as the SQLite database
// target, for a server that is stopped. It works on a private copy next
// to the target (the backup is never opened for writing), checks it with
// InspectSQLite, opens it as a store and calls opts.Check, and only then
// moves it into place. It holds the database's lock exclusively
// throughout, so it refuses a database any server holds (LockForServing),
// and replaces an existing database only with opts.Replace. A refused
// restore leaves the target and the directory as they were.
func RestoreSQLite(ctx context.Context, backup, target string, opts RestoreOptions) (*RestoreResult, error) {
	fi, err := os.Stat(backup)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("backup %s is not a regular file", backup)
	}
	target, err = filepath.Abs(target)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(target), err)
	}
	unlock, err := lockSQLite(target, "a Behalf server is using %s (it holds %s): stop it first; restore never replaces a database in use")
	if err != nil {
		return nil, err
	}
	defer unlock()
	exists := false
	if tfi, err := os.Stat(target); err == nil && tfi.Size() > 0 {
		exists = true
		if !opts.Replace {
			return nil, fmt.Errorf("%s exists: %w", target, ErrTargetExists)
		}
	}

	tmp, err := os.CreateTemp(filepath.Dir(target), ".behalf-restore-*")
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	tmpName := tmp.Name()
	done := false
	defer func() {
		if !done {
			removeSQLite(tmpName)
		}
	}()
	err = copyFile(tmp, backup)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("copy backup: %w", err)
	}
	info, err := InspectSQLite(ctx, tmpName)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", backup, err)
	}
	if err := checkRestored(ctx, tmpName, opts.Check); err != nil {
		return nil, err
	}

	info.Path = target
	res := &RestoreResult{Info: info}
	if exists {
		res.Replaced = target + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
		if err := moveSQLite(target, res.Replaced); err != nil {
			return nil, fmt.Errorf("keep the replaced database: %w", err)
		}
	} else {
		removeSQLite(target) // an empty file, and stale -wal/-shm
	}
	if err := moveSQLite(tmpName, target); err != nil {
		return nil, fmt.Errorf("put the restored database in place: %w", err)
	}
	done = true
	syncDir(filepath.Dir(target))
	if opts.Done != nil {
		if err := opts.Done(res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// checkRestored opens the copy at path as a server would (applying newer
// migrations) and calls check with it.
func checkRestored(ctx context.Context, path string, check func(context.Context, *DB) error) error {
	db, err := Open(ctx, path)
	if err != nil {
		return fmt.Errorf("open the backup: %w", err)
	}
	defer db.Close()
	if check == nil {
		return nil
	}
	return check(ctx, db)
}

// openSQLiteFile opens a SQLite file with database/sql, waiting for
// locks, without the store's settings or migrations.
func openSQLiteFile(path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if strings.ContainsRune(abs, '?') {
		return nil, fmt.Errorf("%s: path must not contain '?'", abs)
	}
	db, err := sql.Open(sqliteDialect.driver, abs+"?_pragma=busy_timeout("+fmt.Sprint(backupBusyTimeout.Milliseconds())+")")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", abs, err)
	}
	return db, nil
}

// queryEach runs query and calls scan for every row.
func queryEach(ctx context.Context, db *sql.DB, query string, scan func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// sqliteSuffixes are the files of one SQLite database.
var sqliteSuffixes = []string{"", "-wal", "-shm", "-journal"}

// moveSQLite renames a database and its side files.
func moveSQLite(from, to string) error {
	for _, s := range sqliteSuffixes {
		err := os.Rename(from+s, to+s)
		if err != nil && !(s != "" && errors.Is(err, fs.ErrNotExist)) {
			return err
		}
	}
	return nil
}

// removeSQLite removes a database and its side files.
func removeSQLite(path string) {
	for _, s := range sqliteSuffixes {
		os.Remove(path + s)
	}
}

// copyFile copies the file at src into f and syncs f.
func copyFile(f *os.File, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if _, err := io.Copy(f, in); err != nil {
		return err
	}
	return f.Sync()
}

// syncFile flushes a file to disk.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

// syncDir makes renames and links in dir durable, where it can.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
