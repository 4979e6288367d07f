package main

// The crash suite's startup cases: what `behalf serve` does with a data
// directory that a crash, a full disk or an operator left damaged (issue 11,
// reliability 3 and 4).

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
)

// Ensure a damaged SQLite file is refused at start, with a message that
// says how to recover (issue 11, reliability 3: "A corrupted SQLite file
// starts and reports ready"). A page of one table overwritten — nothing the
// server reads while starting — used to start and answer /readyz 200, then
// lose that table's rows. Now PRAGMA quick_check refuses it, naming behalf
// restore; so is a file that is not a database at all; and the backup the
// message points to brings the data back.
func TestCorruptedSQLiteRefusedAtStart(t *testing.T) {
	isolateAWSEnv(t)
	s, stop := startStoppable(t, serverOptions{args: []string{"--allow-private-endpoints"}})
	c := s.client(t)
	ctx := context.Background()
	for i := range 4 {
		if _, err := c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{
			Name: aws.String(fmt.Sprintf("key-%d", i)), ApiKey: aws.String(strings.Repeat("k", 40))}); err != nil {
			t.Fatal(err)
		}
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	mustCLI(t, "backup", "--data-dir", s.DataDir, backup)
	stop()

	dbPath := filepath.Join(s.DataDir, "behalf.db")
	healthy, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	pageSize, root := tablePage(t, dbPath, "apikey_providers")
	// The table's b-tree page gets an invalid page type, as a torn or
	// misdirected write leaves it.
	damaged := slices.Clone(healthy)
	off := (root - 1) * pageSize
	copy(damaged[off:off+8], []byte{0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00})
	if err := os.WriteFile(dbPath, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	err = startMainErr(t, "--data-dir", s.DataDir)
	if err == nil || !strings.Contains(err.Error(), "quick_check") || !strings.Contains(err.Error(), "behalf restore --data-dir "+s.DataDir+" --force") {
		t.Fatalf("a damaged page: %v", err)
	}
	t.Logf("a damaged page: %v", err)

	// Not a database at all (the header overwritten).
	notDB := slices.Clone(healthy)
	copy(notDB[:100], bytes.Repeat([]byte{0x5a}, 100))
	if err := os.WriteFile(dbPath, notDB, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := startMainErr(t, "--data-dir", s.DataDir); err == nil || !strings.Contains(err.Error(), "behalf restore") {
		t.Fatalf("a file that is not a database: %v", err)
	}

	// The advice works: restore the backup, and every provider is there.
	msg := mustCLI(t, "restore", "--data-dir", s.DataDir, "--force", backup)
	if !strings.Contains(msg, "kept as") {
		t.Fatalf("restore: %s", msg)
	}
	s2, _ := startStoppable(t, serverOptions{dataDir: s.DataDir, args: []string{"--allow-private-endpoints"}})
	out, err := s2.client(t).ListApiKeyCredentialProviders(ctx, &ctl.ListApiKeyCredentialProvidersInput{})
	if err != nil || len(out.CredentialProviders) != 4 {
		t.Fatalf("after restore: %v providers, %v", len(out.CredentialProviders), err)
	}
}

// tablePage returns the page size of the SQLite database at path and the
// page number of table's root page.
func tablePage(t *testing.T, path, table string) (pageSize, root int) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&root); err != nil {
		t.Fatal(err)
	}
	return pageSize, root
}

// Ensure a data directory whose database is gone is not silently started
// over (issue 11, reliability 4: "A missing database is silently recreated,
// and the credentials file replaced"). With behalf.db* deleted and the key
// and credentials files kept, the server used to start empty and write a
// new root key over the credentials file. Now it refuses, naming behalf
// restore and --init, and leaves the directory as it was; with --init it
// starts over, keeping the old credentials file aside; a new, empty (or
// missing) data directory still starts with no flag.
func TestMissingDatabaseNotRecreated(t *testing.T) {
	isolateAWSEnv(t)
	s, stop := startStoppable(t, serverOptions{})
	stop()
	credsPath := filepath.Join(s.DataDir, "credentials")
	oldCreds, err := os.ReadFile(credsPath)
	if err != nil {
		t.Fatal(err)
	}
	dbFiles, _ := filepath.Glob(filepath.Join(s.DataDir, "behalf.db*"))
	if len(dbFiles) == 0 {
		t.Fatal("no behalf.db* files")
	}
	for _, f := range dbFiles {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}

	err = startMainErr(t, "--data-dir", s.DataDir)
	if err == nil || !strings.Contains(err.Error(), "--init") || !strings.Contains(err.Error(), "behalf restore") ||
		!strings.Contains(err.Error(), "kek") || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("start without the database: %v", err)
	}
	t.Logf("refused: %v", err)
	if b, _ := os.ReadFile(credsPath); !bytes.Equal(b, oldCreds) {
		t.Fatalf("the credentials file changed:\n%s", b)
	}
	if fi, err := os.Stat(filepath.Join(s.DataDir, "behalf.db")); err == nil && fi.Size() > 0 {
		t.Fatal("a refused start created a database")
	}

	// The key file alone is enough to refuse.
	keyOnly := t.TempDir()
	copyKeyFile(t, s.DataDir, keyOnly, "kek")
	if err := startMainErr(t, "--data-dir", keyOnly); err == nil || !strings.Contains(err.Error(), "--init") {
		t.Fatalf("start with only a key file: %v", err)
	}

	// --init starts over; the old credentials file is kept aside.
	s2, stop2 := startStoppable(t, serverOptions{dataDir: s.DataDir, args: []string{"--init"}})
	if s2.KeyID == s.KeyID {
		t.Fatal("--init kept the old root key, which the new database does not hold")
	}
	aside, _ := filepath.Glob(credsPath + ".replaced-*")
	if len(aside) != 1 {
		t.Fatalf("old credentials kept as %v", aside)
	}
	if b, _ := os.ReadFile(aside[0]); !bytes.Equal(b, oldCreds) {
		t.Fatalf("%s differs from the old credentials file", aside[0])
	}
	if _, err := s2.client(t).ListWorkloadIdentities(context.Background(), &ctl.ListWorkloadIdentitiesInput{}); err != nil {
		t.Fatalf("the new root key: %v", err)
	}
	stop2()
	// Once initialised, the server restarts without --init; with it, it
	// only warns.
	s3, stop3 := startStoppable(t, serverOptions{dataDir: s.DataDir})
	if s3.KeyID != s2.KeyID {
		t.Fatalf("root key changed across a restart: %s → %s", s2.KeyID, s3.KeyID)
	}
	stop3()
	s4, _ := startStoppable(t, serverOptions{dataDir: s.DataDir, args: []string{"--init"}})
	if s4.KeyID != s2.KeyID || !strings.Contains(s4.Log.String(), "--init has no effect") {
		t.Fatalf("--init on an existing database: key %s, log:\n%s", s4.KeyID, s4.Log)
	}

	// A new data directory, existing and empty or not yet created, starts
	// with no flag (the README's `behalf serve`).
	startStoppable(t, serverOptions{})
	startStoppable(t, serverOptions{dataDir: filepath.Join(t.TempDir(), "a", ".behalf")})

	// PostgreSQL: a credentials file naming a root key that a new database
	// does not hold is not overwritten either.
	dsn := os.Getenv("BEHALF_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Log("BEHALF_TEST_POSTGRES_DSN is unset: the PostgreSQL case is skipped")
		return
	}
	pgDir := t.TempDir()
	copyKeyFile(t, s.DataDir, pgDir, "credentials")
	pgCreds, _ := os.ReadFile(filepath.Join(pgDir, "credentials"))
	fresh := freshPostgresSchema(t, dsn)
	err = startMainErr(t, "--data-dir", pgDir, "--database", fresh)
	if err == nil || !strings.Contains(err.Error(), "--init") {
		t.Fatalf("PostgreSQL: a new database with a credentials file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(pgDir, "credentials")); !bytes.Equal(b, pgCreds) {
		t.Fatal("PostgreSQL: the credentials file changed")
	}
	s5, _ := startStoppable(t, serverOptions{dataDir: pgDir, database: fresh, args: []string{"--init"}})
	if aside, _ := filepath.Glob(filepath.Join(pgDir, "credentials.replaced-*")); len(aside) != 1 || s5.KeyID == s.KeyID {
		t.Fatalf("PostgreSQL --init: kept %v, key %s", aside, s5.KeyID)
	}
}
