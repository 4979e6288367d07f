package main

// `behalf backup` and `behalf restore`, for SQLite. A backup is a
// consistent copy taken while the server serves (VACUUM INTO reads one
// snapshot; writers go on). It holds sealed secrets only: the
// key-encryption key is not in it and must be kept, separately, to restore
// it. PostgreSQL is backed up with pg_dump (docs/operations.md).
//
// The copying, checking and replacing is sqlstore's (BackupSQLite,
// RestoreSQLite); the commands add the flags, the check that the backup's
// data keys open with the keys given (seal), the credentials file, and
// what they print.

import (
	"context"
	"errors"
	"fmt"
	"io"
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

const backupUsage = `[--data-dir DIR] [--database PATH] OUT.db

Copy the SQLite database consistently while the server runs (VACUUM INTO),
check the copy (PRAGMA integrity_check) and write it to OUT.db, mode 0600.
The key-encryption key is not in the backup: keep it separately (the
command lists what the backup needs). For PostgreSQL use pg_dump; see
docs/operations.md.`

const restoreUsage = `[--data-dir DIR] [--database PATH] [--kms URL] [--force] BACKUP.db

Restore a backup made by behalf backup into a stopped server's data
directory. The backup is checked (integrity, migrations, and every data key
is opened with the key-encryption keys of DIR, --kms and --kms-previous)
before it replaces anything. A database in use by a server is never
replaced; an existing one only with --force, and it is kept as
DB.replaced-TIME.`

// storeLocationFlags defines the data directory and database flags.
func storeLocationFlags(fs *flagSet) (dataDir, database *string) {
	dataDir = fs.String("data-dir", ".behalf", "the server's data directory")
	database = fs.String("database", "", "SQLite file path (default DATA-DIR/behalf.db)")
	return dataDir, database
}

// backupSetup defines the flags of `behalf backup`.
func backupSetup(fs *flagSet, stdout, _ io.Writer) func(context.Context, []string) error {
	dataDir, database := storeLocationFlags(fs)
	return func(ctx context.Context, args []string) error {
		return runBackup(ctx, *dataDir, *database, args, stdout)
	}
}

func runBackup(ctx context.Context, dataDir, database string, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: expected OUT.db", errUsage)
	}
	src := databaseDSN(database, dataDir)
	if isPostgres(src) {
		return errors.New("behalf backup copies SQLite databases; back up PostgreSQL with pg_dump (docs/operations.md), and keep the key-encryption key separately")
	}
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("no database at %s (check --data-dir or --database): %w", src, err)
	}
	info, err := sqlstore.BackupSQLite(ctx, src, args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backed up %s to %s (%d bytes, schema version %d, integrity ok).\n", src, info.Path, info.Bytes, info.Schema)
	printKEKs(stdout, info, dataDir)
	return nil
}

// printKEKs says which key-encryption keys the backup's data keys need.
func printKEKs(w io.Writer, info *sqlstore.BackupInfo, dataDir string) {
	versions := make([]int, 0, len(info.DataKeys))
	for v := range info.DataKeys {
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
		for _, k := range info.KEKs {
			if k.Version != v {
				continue
			}
			switch k.Keeper {
			case "file":
				name := seal.KEKFile
				if v != 1 {
					name += "." + strconv.Itoa(v)
				}
				where = "the local key file " + filepath.Join(dataDir, name)
			case "base64key":
				where = "the base64key:// key given with --kms"
			default:
				where = k.Keeper + " (with access to use it)"
			}
		}
		fmt.Fprintf(w, "  version %d (%d data key(s)): %s\n", v, info.DataKeys[v], where)
	}
}

// restoreSetup defines the flags of `behalf restore`.
func restoreSetup(fs *flagSet, stdout, stderr io.Writer) func(context.Context, []string) error {
	dataDir, database := storeLocationFlags(fs)
	kms := fs.String("kms", "", "the key-encryption key URL the server will be given (default: the local key files in DATA-DIR)")
	var previous multi
	fs.Var(&previous, "kms-previous", "an earlier key-encryption key URL the backup's data keys need (base64key:// keys; repeatable)")
	force := fs.Bool("force", false, "replace an existing database (kept as DB.replaced-TIME)")
	return func(ctx context.Context, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("%w: expected BACKUP.db", errUsage)
		}
		return runRestore(ctx, *dataDir, *database, *kms, previous, *force, args[0], stdout, stderr)
	}
}

func runRestore(ctx context.Context, dataDir, database, kms string, previous multi, force bool, backup string, stdout, stderr io.Writer) error {
	target := databaseDSN(database, dataDir)
	if isPostgres(target) {
		return errors.New("behalf restore writes SQLite databases; restore PostgreSQL with pg_restore or psql (docs/operations.md)")
	}
	cfg := seal.KeyringConfig{DataDir: dataDir, KMS: kms, Previous: previous}
	var (
		dataKeys int
		rootIDs  []string
	)
	check := func(ctx context.Context, store *sqlstore.DB) (err error) {
		dataKeys, rootIDs, err = checkRestored(ctx, store, cfg)
		return err
	}
	// A credentials file naming a root key the backup lacks would keep the
	// CLI on a key the restored server refuses: set it aside.
	creds, credsKept := filepath.Join(dataDir, "credentials"), ""
	done := func(res *sqlstore.RestoreResult) error {
		// The restored database records its restore (the backup's own
		// history ends before it).
		if store, err := sqlstore.Open(ctx, res.Info.Path); err != nil {
			fmt.Fprintf(stderr, "behalf: warning: restored, but the audit event %s could not be recorded: %v\n", behalf.AuditAdminRestore, err)
		} else {
			detail := fmt.Sprintf("restored from %s (schema version %d)", backup, res.Info.Schema)
			if res.Replaced != "" {
				detail += "; the replaced database is kept as " + res.Replaced
			}
			auditLocal(ctx, store, stderr, behalf.AuditAdminRestore, res.Info.Path, detail)
			store.Close()
		}
		if id := credentialsKeyID(creds); id != "" && !slices.Contains(rootIDs, id) {
			credsKept = creds + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
			if err := os.Rename(creds, credsKept); err != nil {
				return fmt.Errorf("restored, but could not set aside %s: %w", creds, err)
			}
		}
		return nil
	}
	res, err := sqlstore.RestoreSQLite(ctx, backup, target, sqlstore.RestoreOptions{Replace: force, Check: check, Done: done})
	if errors.Is(err, sqlstore.ErrTargetExists) {
		abs, _ := filepath.Abs(target)
		return fmt.Errorf("%s exists: pass --force to replace it (it is kept as %s.replaced-TIME)", abs, filepath.Base(abs))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored %s into %s (schema version %d, integrity ok, %d data key(s) open).\n", backup, target, res.Info.Schema, dataKeys)
	if res.Replaced != "" {
		fmt.Fprintf(stdout, "The database it replaced is kept as %s.\n", res.Replaced)
	}
	if credsKept != "" {
		fmt.Fprintf(stdout, "%s held a root key the backup does not have; it is kept as %s, and the server writes the backup's root key there when it starts.\n",
			creds, credsKept)
	}
	fmt.Fprintf(stdout, "Start the server with --data-dir %s", dataDir)
	if database != "" {
		fmt.Fprintf(stdout, " --database %s", database)
	}
	fmt.Fprintln(stdout, " and the same --kms as before.")
	return nil
}

// checkRestored opens every data key of the restored copy with the
// key-encryption keys of cfg, as the server will, and returns how many
// opened and the root access key ids.
func checkRestored(ctx context.Context, store *sqlstore.DB, cfg seal.KeyringConfig) (int, []string, error) {
	ring, err := seal.OpenKeyring(ctx, store, cfg)
	n := 0
	if err == nil {
		defer ring.Close()
		n, err = seal.NewWithKeyring(ring, store, seal.Options{}).CheckDataKeys(ctx)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("the backup's data keys do not open with the key-encryption keys given (%w).\nPut the key files it needs into %s, or pass --kms / --kms-previous, and run behalf restore again; nothing was replaced", err, cfg.DataDir)
	}
	keys, err := store.ListAccessKeys(ctx, behalf.RootPrincipal)
	if err != nil {
		return 0, nil, fmt.Errorf("list root keys: %w", err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return n, ids, nil
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
