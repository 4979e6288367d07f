package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

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

// integrityCheck runs PRAGMA integrity_check on a SQLite file.
func integrityCheck(t *testing.T, path string) string {
	t.Helper()
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// countWorkloads lists every workload identity through the API.
func countWorkloads(t *testing.T, c *ctl.Client) int {
	t.Helper()
	n := 0
	p := ctl.NewListWorkloadIdentitiesPaginator(c, &ctl.ListWorkloadIdentitiesInput{MaxResults: aws.Int32(20)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.WorkloadIdentities)
	}
	return n
}

// Ensure `behalf backup` takes a consistent copy while writes go on, and
// `behalf restore` puts it into a new data directory holding the same
// key-encryption key, where a server starts and every grant opens.
func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	google := fakeprovider.New(t, fakeprovider.Options{})
	s := startMain(t, serverOptions{args: []string{"--allow-private-endpoints"}})
	f := newFlowFixture(t, s, google)
	users, _, tokens := grantUsers(t, f, 5)

	// A write loop: workloads are created while the backup runs.
	var (
		stop    atomic.Bool
		created atomic.Int64
		wg      sync.WaitGroup
		loopErr error
	)
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			if _, err := f.ctl.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String(fmt.Sprintf("load-%d", i))}); err != nil {
				loopErr = err
				return
			}
			created.Add(1)
			time.Sleep(5 * time.Millisecond) // under the per-key rate limit
		}
	})
	for created.Load() < 5 {
		time.Sleep(2 * time.Millisecond)
	}
	out := filepath.Join(t.TempDir(), "behalf-backup.db")
	before := created.Load()
	msg := mustCLI(t, "backup", "--data-dir", s.DataDir, out)
	after := created.Load()
	for created.Load() < after+5 {
		time.Sleep(2 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if loopErr != nil {
		t.Fatalf("write loop: %v", loopErr)
	}
	t.Logf("%d workloads created, %d while the backup ran", created.Load(), after-before)
	if !strings.Contains(msg, "integrity ok") || !strings.Contains(msg, filepath.Join(s.DataDir, "kek")) {
		t.Fatalf("backup output does not name the key it needs:\n%s", msg)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	if res := integrityCheck(t, out); res != "ok" {
		t.Fatalf("integrity_check = %q", res)
	}
	// Refuses to overwrite.
	if _, err := runCLI(t, "backup", "--data-dir", s.DataDir, out); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}

	// Restore into a new data directory that has the key-encryption key.
	dir2 := filepath.Join(t.TempDir(), "restored")
	copyKeyFile(t, s.DataDir, dir2, "kek")
	mustCLI(t, "restore", "--data-dir", dir2, out)
	if res := integrityCheck(t, filepath.Join(dir2, "behalf.db")); res != "ok" {
		t.Fatalf("restored integrity_check = %q", res)
	}
	s2 := startMain(t, serverOptions{dataDir: dir2, args: []string{"--allow-private-endpoints", "--public-url", s.URL}})
	if s2.KeyID != s.KeyID {
		t.Fatalf("restored server's root key %s, want the backup's %s", s2.KeyID, s.KeyID)
	}
	wantGrantsOpen(t, f, s2.dataPlane(t, s2.KeyID, s2.Secret), users, tokens)
	// A consistent snapshot: at least what existed when the backup began,
	// at most what existed when it ended (plus drive-agent).
	if n := countWorkloads(t, s2.client(t)) - 1; int64(n) < before || int64(n) > after {
		t.Fatalf("restored database has %d load workloads, want %d..%d", n, before, after)
	}

	// Never into a database in use.
	if _, err := runCLI(t, "restore", "--data-dir", dir2, "--force", out); err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("restore into a running server's database: %v", err)
	}
	// An existing database (server stopped) only with --force, kept aside.
	dir3 := t.TempDir()
	copyKeyFile(t, s.DataDir, dir3, "kek")
	mustCLI(t, "restore", "--data-dir", dir3, out)
	if _, err := runCLI(t, "restore", "--data-dir", dir3, out); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over an existing database: %v", err)
	}
	msg = mustCLI(t, "restore", "--data-dir", dir3, "--force", out)
	if m, _ := filepath.Glob(filepath.Join(dir3, "behalf.db.replaced-*")); len(m) != 1 || !strings.Contains(msg, "kept as") {
		t.Fatalf("replaced database not kept: %v\n%s", m, msg)
	}
}

// Ensure restore checks the backup before it replaces anything: a file
// that is not a database, or a backup whose key-encryption key is not
// there, is refused and leaves no database behind.
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
	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, []byte("not a database at all, not even close........................................................................"), 0o600); err != nil {
		t.Fatal(err)
	}
	withKey := t.TempDir()
	copyKeyFile(t, s.DataDir, withKey, "kek")
	if _, err := runCLI(t, "restore", "--data-dir", withKey, junk); err == nil {
		t.Fatal("restore accepted a file that is not a database")
	}
	for _, dir := range []string{noKey, wrongKey, withKey} {
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
