package sqlstore_test

import (
	"path/filepath"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// Migration 0022 gives existing workloads ids and binds existing scoped
// keys to them; scoped keys whose workload was already deleted (keys that
// worked again for a new workload of the same name) are deleted; root keys
// are kept.
func TestMigrationWorkloadIDs(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		testMigrationWorkloadIDs(t, filepath.Join(t.TempDir(), "behalf.db"))
	})
	t.Run("Postgres", func(t *testing.T) {
		testMigrationWorkloadIDs(t, newSchemaDSN(t, postgresDSN(t)))
	})
}

func testMigrationWorkloadIDs(t *testing.T, dsn string) {
	ctx := t.Context()
	if err := sqlstore.MigrateBelow(ctx, dsn, 22); err != nil {
		t.Fatalf("migrate below 0022: %v", err)
	}
	exec := func(query string, args ...any) {
		t.Helper()
		if err := sqlstore.Exec(ctx, dsn, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	for _, name := range []string{"agent-1", "agent-2"} {
		exec(`INSERT INTO workloads (name, allowed_return_urls, tags, created_at, updated_at) VALUES (?, '[]', '{}', 1, 1)`, name)
	}
	for _, k := range []struct{ id, principal string }{
		{"BHLFROOT", "root"},
		{"BHLFA1", "workload/agent-1"},
		{"BHLFA2", "workload/agent-1"},
		{"BHLFB1", "workload/agent-2"},
		{"BHLFGONE", "workload/deleted-agent"}, // its workload was deleted before the upgrade
	} {
		exec(`INSERT INTO access_keys (id, secret, principal, created_at) VALUES (?, ?, ?, 1)`, k.id, []byte{1, 2, 3}, k.principal)
	}

	db := openStore(t, dsn) // applies 0022
	w1, err := db.GetWorkload(ctx, "agent-1")
	if err != nil {
		t.Fatal(err)
	}
	w2, err := db.GetWorkload(ctx, "agent-2")
	if err != nil {
		t.Fatal(err)
	}
	if w1.ID == "" || w2.ID == "" || w1.ID == w2.ID {
		t.Fatalf("workload ids after the migration: %q and %q, want two different non-empty ids", w1.ID, w2.ID)
	}
	for id, want := range map[string]string{"BHLFROOT": "", "BHLFA1": w1.ID, "BHLFA2": w1.ID, "BHLFB1": w2.ID} {
		k, err := db.GetAccessKey(ctx, id)
		if err != nil {
			t.Fatalf("GetAccessKey(%s): %v", id, err)
		}
		if k.WorkloadID != want {
			t.Errorf("key %s: WorkloadID = %q, want %q", id, k.WorkloadID, want)
		}
	}
	if _, err := db.GetAccessKey(ctx, "BHLFGONE"); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Errorf("the key of a workload deleted before the upgrade: %v, want ENOTFOUND", err)
	}

	// The migrated keys are deleted with their workload, like new ones.
	if err := db.DeleteWorkload(ctx, "agent-1"); err != nil {
		t.Fatal(err)
	}
	keys, err := db.ListAccessKeys(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	if len(ids) != 2 || ids[0] != "BHLFB1" || ids[1] != "BHLFROOT" {
		t.Fatalf("keys after deleting agent-1: %q, want [BHLFB1 BHLFROOT]", ids)
	}
	// A new workload gets an id like the migrated ones.
	w3 := &behalf.WorkloadIdentity{Name: "agent-1"}
	if err := db.CreateWorkload(ctx, w3); err != nil {
		t.Fatal(err)
	}
	if w3.ID == "" || w3.ID == w1.ID {
		t.Fatalf("re-created agent-1 has id %q (the old one had %q)", w3.ID, w1.ID)
	}
}
