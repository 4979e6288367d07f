package main

// `behalf backup` and `behalf restore`, for SQLite. A backup is a
// consistent copy taken while the server serves (VACUUM INTO reads one
// snapshot; writers go on). It holds sealed secrets only: the
// key-encryption key is not in it and must be kept, separately, to restore
// it. PostgreSQL is backed up with pg_dump (docs/operations.md).

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/seal"
	"github.com/behalf-dev/behalf/sqlstore"
)

const backupUsage = `Usage: behalf backup [--data-dir DIR] [--database PATH] OUT.db

Copy the SQLite database consistently while the server runs (VACUUM INTO),
check the copy (PRAGMA integrity_check) and write it to OUT.db, mode 0600.
The key-encryption key is not in the backup: keep it separately (the
command lists what the backup needs). For PostgreSQL use pg_dump; see
docs/operations.md.

Flags:
`

const restoreUsage = `Usage: behalf restore [--data-dir DIR] [--database PATH] [--kms URL] [--force] BACKUP.db

Restore a backup made by behalf backup into a stopped server's data
directory. The backup is checked (integrity, migrations, and every data key
is opened with the key-encryption keys of DIR, --kms and --kms-previous)
before it replaces anything. A database in use by a server is never
replaced; an existing one only with --force, and it is kept as
DB.replaced-TIME.

Flags:
`

// newFlagSet returns a flag set for a top-level command with the data
// directory and database flags.
func newFlagSet(name, usage string, stderr io.Writer) (*flag.FlagSet, *string, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	dataDir := fs.String("data-dir", ".behalf", "the server's data directory")
	database := fs.String("database", "", "SQLite file path (default DATA-DIR/behalf.db)")
	return fs, dataDir, database
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dataDir, database := newFlagSet("behalf backup", backupUsage, stderr)
	if err := fs.Parse(interleave(fs, args[1:])); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	src := databaseDSN(*database, *dataDir)
	if isPostgres(src) {
		return errors.New("behalf backup copies SQLite databases; back up PostgreSQL with pg_dump (docs/operations.md), and keep the key-encryption key separately")
	}
	info, err := backupSQLite(ctx, src, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backed up %s to %s (%d bytes, schema version %d, integrity ok).\n", src, info.path, info.bytes, info.schema)
	info.printKEKs(stdout, *dataDir)
	return nil
}

// backupSQLite copies the database at src to out, which must not exist.
func backupSQLite(ctx context.Context, src, out string) (*dbInfo, error) {
	if _, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("no database at %s (check --data-dir or --database): %w", src, err)
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
	db, err := openSQLite(src)
	if err != nil {
		return nil, err
	}
	_, err = db.ExecContext(ctx, "VACUUM INTO ?", tmpName)
	db.Close()
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", src, err)
	}
	info, err := inspectSQLite(ctx, tmpName)
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
	info.path = out
	return info, nil
}

// openSQLite opens a SQLite file with database/sql, waiting for locks.
func openSQLite(path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if strings.ContainsRune(abs, '?') {
		return nil, fmt.Errorf("%s: path must not contain '?'", abs)
	}
	db, err := sql.Open("sqlite", abs+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", abs, err)
	}
	return db, nil
}

// dbInfo describes a checked backup.
type dbInfo struct {
	path     string
	bytes    int64
	schema   int64       // the highest migration applied
	dataKeys map[int]int // data keys by key-encryption key version
	keks     []dbKEK     // recorded key-encryption key versions
}

type dbKEK struct {
	version int
	keeper  string
	state   string
}

// inspectSQLite checks a database file's integrity and reads what a
// restore needs: its schema version and the key-encryption keys its data
// keys need.
func inspectSQLite(ctx context.Context, path string) (*dbInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	db, err := openSQLite(path)
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
	info := &dbInfo{bytes: fi.Size(), dataKeys: map[int]int{}}
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&info.schema); err != nil {
		return nil, fmt.Errorf("%s is not a Behalf database: %w", path, err)
	}
	if err := scanAll(ctx, db, "SELECT kek_version, COUNT(*) FROM data_keys GROUP BY kek_version", func(r *sql.Rows) error {
		var v, n int
		err := r.Scan(&v, &n)
		info.dataKeys[v] = n
		return err
	}); err != nil {
		return nil, err
	}
	// kek_versions exists from migration 20 on.
	if info.schema >= 20 {
		if err := scanAll(ctx, db, "SELECT version, keeper, state FROM kek_versions ORDER BY version", func(r *sql.Rows) error {
			var k dbKEK
			err := r.Scan(&k.version, &k.keeper, &k.state)
			info.keks = append(info.keks, k)
			return err
		}); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// scanAll runs query and calls scan for every row.
func scanAll(ctx context.Context, db *sql.DB, query string, scan func(*sql.Rows) error) error {
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

// printKEKs says which key-encryption keys the backup's data keys need.
func (info *dbInfo) printKEKs(w io.Writer, dataDir string) {
	versions := make([]int, 0, len(info.dataKeys))
	for v := range info.dataKeys {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	if len(versions) == 0 {
		fmt.Fprintln(w, "It holds no data keys, so no key-encryption key is needed to restore it.")
		return
	}
	fmt.Fprintln(w, "It does NOT contain the key-encryption key. Restoring it needs, kept apart from the backup:")
	for _, v := range versions {
		where := "the key-encryption key the server had (its --kms, or DATA-DIR/kek)"
		for _, k := range info.keks {
			if k.version != v {
				continue
			}
			switch k.keeper {
			case "file":
				name := seal.KEKFile
				if v != 1 {
					name += "." + strconv.Itoa(v)
				}
				where = "the local key file " + filepath.Join(dataDir, name)
			case "base64key":
				where = "the base64key:// key given with --kms"
			default:
				where = k.keeper + " (with access to use it)"
			}
		}
		fmt.Fprintf(w, "  version %d (%d data key(s)): %s\n", v, info.dataKeys[v], where)
	}
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dataDir, database := newFlagSet("behalf restore", restoreUsage, stderr)
	kms := fs.String("kms", "", "the key-encryption key URL the server will be given (default: the local key files in DATA-DIR)")
	var previous multi
	fs.Var(&previous, "kms-previous", "an earlier key-encryption key URL the backup's data keys need (base64key:// keys; repeatable)")
	force := fs.Bool("force", false, "replace an existing database (kept as DB.replaced-TIME)")
	if err := fs.Parse(interleave(fs, args[1:])); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	target := databaseDSN(*database, *dataDir)
	if isPostgres(target) {
		return errors.New("behalf restore writes SQLite databases; restore PostgreSQL with pg_restore or psql (docs/operations.md)")
	}
	cfg := seal.KeyringConfig{DataDir: *dataDir, KMS: *kms, Previous: previous}
	res, err := restoreSQLite(ctx, fs.Arg(0), target, cfg, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored %s into %s (schema version %d, integrity ok, %d data key(s) open).\n", fs.Arg(0), target, res.info.schema, res.dataKeys)
	if res.replaced != "" {
		fmt.Fprintf(stdout, "The database it replaced is kept as %s.\n", res.replaced)
	}
	if res.credentials != "" {
		fmt.Fprintf(stdout, "%s held a root key the backup does not have; it is kept as %s, and the server writes the backup's root key there when it starts.\n",
			filepath.Join(*dataDir, "credentials"), res.credentials)
	}
	fmt.Fprintf(stdout, "Start the server with --data-dir %s", *dataDir)
	if *database != "" {
		fmt.Fprintf(stdout, " --database %s", *database)
	}
	fmt.Fprintln(stdout, " and the same --kms as before.")
	return nil
}

// restoreResult is what restoreSQLite did.
type restoreResult struct {
	info        *dbInfo
	dataKeys    int
	replaced    string // where the replaced database went
	credentials string // where a stale credentials file went
}

// restoreSQLite checks the backup against the keys of cfg and puts it in
// place at target.
func restoreSQLite(ctx context.Context, backup, target string, cfg seal.KeyringConfig, force bool) (*restoreResult, error) {
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
	unlock, err := lockDatabase(target, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	exists := false
	if tfi, err := os.Stat(target); err == nil && tfi.Size() > 0 {
		exists = true
		if !force {
			return nil, fmt.Errorf("%s exists: pass --force to replace it (it is kept as %s.replaced-TIME)", target, filepath.Base(target))
		}
	}

	// Work on a private copy next to the target: the backup file itself is
	// never opened for writing.
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
	info, err := inspectSQLite(ctx, tmpName)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", backup, err)
	}
	res := &restoreResult{info: info}
	rootIDs, err := checkRestored(ctx, tmpName, cfg, res)
	if err != nil {
		return nil, err
	}

	stamp := time.Now().UTC().Format("20060102T150405Z")
	if exists {
		res.replaced = target + ".replaced-" + stamp
		if err := moveSQLite(target, res.replaced); err != nil {
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

	// A credentials file naming a root key the backup lacks would keep the
	// CLI on a key the restored server refuses: set it aside.
	creds := filepath.Join(cfg.DataDir, "credentials")
	if id := credentialsKeyID(creds); id != "" && !slices.Contains(rootIDs, id) {
		res.credentials = creds + ".replaced-" + stamp
		if err := os.Rename(creds, res.credentials); err != nil {
			return nil, fmt.Errorf("restored, but could not set aside %s: %w", creds, err)
		}
	}
	return res, nil
}

// checkRestored opens the copy as the server would (applying newer
// migrations) and opens every data key with the configured keys. It
// returns the root access key ids.
func checkRestored(ctx context.Context, path string, cfg seal.KeyringConfig, res *restoreResult) ([]string, error) {
	store, err := sqlstore.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open the backup: %w", err)
	}
	defer store.Close()
	ring, err := seal.OpenKeyring(ctx, store, cfg)
	if err == nil {
		defer ring.Close()
		res.dataKeys, err = seal.NewWithKeyring(ring, store, seal.Options{}).CheckDataKeys(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("the backup's data keys do not open with the key-encryption keys given (%w).\nPut the key files it needs into %s, or pass --kms / --kms-previous, and run behalf restore again; nothing was replaced", err, cfg.DataDir)
	}
	keys, err := store.ListAccessKeys(ctx, behalf.RootPrincipal)
	if err != nil {
		return nil, fmt.Errorf("list root keys: %w", err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return ids, nil
}

// credentialsKeyID returns the access key id in a credentials file, or "".
func credentialsKeyID(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "aws_access_key_id" {
			return strings.TrimSpace(v)
		}
	}
	return ""
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
