package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// copyKeyFile copies a local key file into another data directory, as an
// operator restoring onto a new machine does.
func copyKeyFile(t *testing.T, fromDir, toDir, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fromDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(toDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(toDir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Ensure `behalf backup` copies a serving server's database and says which
// key-encryption key the copy needs, and `behalf restore` puts it into a
// new data directory holding that key, where a server starts with the
// backup's root key and every grant opens; restore refuses a database in
// use, and replaces a stopped one only with --force, keeping it. (The
// copy's consistency under writes, its checks and the files it leaves are
// sqlstore's tests: TestBackupSQLite, TestRestoreSQLite.)
func TestBackupRestore(t *testing.T) {
	google := fakeprovider.New(t, fakeprovider.Options{})
	s := startMain(t, serverOptions{args: []string{"--allow-private-endpoints"}})
	f := newFlowFixture(t, s, google)
	users, _, tokens := grantUsers(t, f, 5)

	out := filepath.Join(t.TempDir(), "behalf-backup.db")
	msg := mustCLI(t, "backup", "--data-dir", s.DataDir, out)
	if !strings.Contains(msg, "Backed up "+filepath.Join(s.DataDir, "behalf.db")+" to "+out) || !strings.Contains(msg, "integrity ok") ||
		!strings.Contains(msg, "version 1 (1 data key(s)): the local key file "+filepath.Join(s.DataDir, "kek")) {
		t.Fatalf("backup output does not name the key it needs:\n%s", msg)
	}

	// Restore into a new data directory that has the key-encryption key.
	dir2 := filepath.Join(t.TempDir(), "restored")
	copyKeyFile(t, s.DataDir, dir2, "kek")
	msg = mustCLI(t, "restore", "--data-dir", dir2, out)
	if !strings.Contains(msg, "Restored "+out+" into "+filepath.Join(dir2, "behalf.db")) || !strings.Contains(msg, "1 data key(s) open") ||
		!strings.Contains(msg, "Start the server with --data-dir "+dir2+" and the same --kms as before.") {
		t.Fatalf("restore output:\n%s", msg)
	}
	s2 := startMain(t, serverOptions{dataDir: dir2, args: []string{"--allow-private-endpoints", "--public-url", s.URL}})
	if s2.KeyID != s.KeyID {
		t.Fatalf("restored server's root key %s, want the backup's %s", s2.KeyID, s.KeyID)
	}
	wantGrantsOpen(t, f, s2.dataPlane(t, s2.KeyID, s2.Secret), users, tokens)

	// Never into a database in use.
	if _, err := runCLI(t, "restore", "--data-dir", dir2, "--force", out); err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("restore into a running server's database: %v", err)
	}
	// An existing database (server stopped) only with --force, kept aside.
	// A credentials file naming the backup's root key stays; one naming
	// another key is set aside.
	dir3 := t.TempDir()
	copyKeyFile(t, s.DataDir, dir3, "kek")
	copyKeyFile(t, s.DataDir, dir3, "credentials")
	if msg := mustCLI(t, "restore", "--data-dir", dir3, out); strings.Contains(msg, "root key") {
		t.Fatalf("restore set aside the credentials of the backup's root key:\n%s", msg)
	}
	creds := filepath.Join(dir3, "credentials")
	if _, err := os.Stat(creds); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = BHLFNOTINBACKUP\naws_secret_access_key = x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "restore", "--data-dir", dir3, out); err == nil || !strings.Contains(err.Error(), filepath.Join(dir3, "behalf.db")+" exists: pass --force to replace it (it is kept as behalf.db.replaced-TIME)") {
		t.Fatalf("restore over an existing database: %v", err)
	}
	msg = mustCLI(t, "restore", "--data-dir", dir3, "--force", out)
	if m, _ := filepath.Glob(filepath.Join(dir3, "behalf.db.replaced-*")); len(m) != 1 || !strings.Contains(msg, "kept as") {
		t.Fatalf("replaced database not kept: %v\n%s", m, msg)
	}
	if m, _ := filepath.Glob(creds + ".replaced-*"); len(m) != 1 || !strings.Contains(msg, creds+" held a root key the backup does not have; it is kept as "+m[0]) {
		t.Fatalf("credentials of another root key not set aside: %v\n%s", m, msg)
	}
}

// Ensure restore checks the backup's data keys with the key-encryption
// keys given before it replaces anything: without the key, or with
// another, it is refused, says what to do, and leaves no database behind;
// and the commands point PostgreSQL at its own tools and name the flags
// when there is no database. (A file that is not a database is
// TestRestoreSQLiteRefuses.)
func TestBackupRestoreRefuses(t *testing.T) {
	s := mustRunMain(t, "")
	out := filepath.Join(t.TempDir(), "b.db")
	mustCLI(t, "backup", "--data-dir", s.DataDir, out)

	noKey := t.TempDir()
	_, err := runCLI(t, "restore", "--data-dir", noKey, out)
	if err == nil || !strings.Contains(err.Error(), "do not open") || !strings.Contains(err.Error(), "kek") {
		t.Fatalf("restore without the key: %v", err)
	}
	wrongKey := t.TempDir()
	if err := os.WriteFile(filepath.Join(wrongKey, "kek"), []byte(strings.Repeat("A", 43)+"=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err = runCLI(t, "restore", "--data-dir", wrongKey, out); err == nil || !strings.Contains(err.Error(), "do not open") {
		t.Fatalf("restore with another key: %v", err)
	}
	for _, dir := range []string{noKey, wrongKey} {
		if _, err := os.Stat(filepath.Join(dir, "behalf.db")); err == nil {
			t.Fatalf("a refused restore left a database in %s", dir)
		}
		if m, _ := filepath.Glob(filepath.Join(dir, ".behalf-restore-*")); len(m) > 0 {
			t.Fatalf("a refused restore left %v", m)
		}
	}
	// PostgreSQL: the commands point at pg_dump / pg_restore.
	if _, err := runCLI(t, "backup", "--database", "postgres://db/behalf", filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup of PostgreSQL: %v", err)
	}
	if _, err := runCLI(t, "restore", "--database", "postgres://db/behalf", out); err == nil || !strings.Contains(err.Error(), "pg_restore") {
		t.Fatalf("restore into PostgreSQL: %v", err)
	}
	if _, err := runCLI(t, "backup", "--data-dir", t.TempDir(), filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("backup of a missing database: %v", err)
	}
}
