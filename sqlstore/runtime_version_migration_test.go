package sqlstore_test

import (
	"path/filepath"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// Migration 0034 records the current version of each runtime the previous
// release wrote as its first kept version: it can be read, listed and
// pointed at, and the next update adds the one after it.
func TestMigrationRuntimeVersions(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testMigrationRuntimeVersions(t, filepath.Join(t.TempDir(), "behalf.db")) })
	t.Run("Postgres", func(t *testing.T) { testMigrationRuntimeVersions(t, newSchemaDSN(t, postgresDSN(t))) })
}

func testMigrationRuntimeVersions(t *testing.T, dsn string) {
	ctx := t.Context()
	if err := sqlstore.MigrateBelow(ctx, dsn, 34); err != nil {
		t.Fatalf("migrate below 0034: %v", err)
	}
	if err := sqlstore.Exec(ctx, dsn, `INSERT INTO agent_runtimes (id, name, description, container_uri, protocol, protocol_path,
		role_arn, authorizer, header_allowlist, workload, callback_url, environment, idle_session_timeout, max_lifetime,
		tags, status, version, created_at, updated_at)
		VALUES ('old-0123456789', 'old', 'd', 'https://old.example.com', 'HTTP', '', '', 'null', '[]', 'old-wl', '', '{}',
		0, 0, '{"k":"v"}', 'READY', '7', 1, 2)`); err != nil {
		t.Fatal(err)
	}
	db := openStore(t, dsn) // applies 0034
	v, err := db.GetAgentRuntimeVersion(ctx, "old-0123456789", "7")
	if err != nil || v.ContainerURI != "https://old.example.com" || v.Tags["k"] != "v" || v.Description != "d" {
		t.Fatalf("version 7 after the migration = %+v, %v", v, err)
	}
	_, err = db.UpdateAgentRuntime(ctx, "old-0123456789", func(r *behalf.AgentRuntime) error {
		r.Version, r.ContainerURI = "8", "https://new.example.com"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := db.ListAgentRuntimeVersions(ctx, "old-0123456789", behalf.ListOptions{})
	if err != nil || len(vs) != 2 || vs[0].Version != "7" || vs[1].Version != "8" || vs[0].ContainerURI != "https://old.example.com" {
		t.Fatalf("versions after an update = %v, %v", vs, err)
	}
}
