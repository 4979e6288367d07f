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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
)

// startStoppable is startMain with a stop function, for tests that restart
// a server on the same data directory.
func startStoppable(t *testing.T, o serverOptions) (*testServer, func()) {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	s := &testServer{DataDir: o.dataDir, Log: &syncBuffer{}, Captured: &syncBuffer{}}
	m := NewMain(s.Log)
	if err := m.ParseFlags(append([]string{"--listen", "127.0.0.1:0", "--data-dir", s.DataDir, "--database", o.database}, o.args...)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case addr := <-m.Addr:
		s.URL = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v\n%s", err, s.Log)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start in 30s")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	}
	t.Cleanup(stop)
	s.KeyID, s.Secret = readCredentials(t, filepath.Join(s.DataDir, "credentials"))
	return s, stop
}

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
