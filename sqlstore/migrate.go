package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migration is one embedded schema change.
type migration struct {
	version int64  // the file's NNNN prefix
	name    string // the file name, e.g. "0001_workloads.sql"
	sql     string
}

// migrationName is the form of a migration file name: NNNN_name.sql.
var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// createSchemaMigrations creates the table recording applied migrations.
// It is the same in both dialects.
const createSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// migrate applies, in one transaction, every embedded migration of the
// dialect that schema_migrations does not record.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations(db.d.name)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(c conn) error {
		if err := prepareMigrations(ctx, c); err != nil {
			return err
		}
		applied, err := appliedVersions(ctx, c)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if applied[m.version] {
				continue
			}
			if err := applyMigration(ctx, c, m, micros(db.Now())); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadMigrations returns the dialect's embedded migrations in version order.
func loadMigrations(dialectName string) ([]migration, error) {
	dir := path.Join("migrations", dialectName)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	seen := map[int64]string{}
	for _, e := range entries {
		m, err := loadMigration(dir, e.Name())
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[m.version]; ok {
			return nil, fmt.Errorf("read migrations: %s and %s share a version", prev, m.name)
		}
		seen[m.version] = m.name
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// loadMigration reads one migration file from dir.
func loadMigration(dir, name string) (migration, error) {
	match := migrationName.FindStringSubmatch(name)
	if match == nil {
		return migration{}, fmt.Errorf("read migration %s: name is not NNNN_name.sql", name)
	}
	version, err := strconv.ParseInt(match[1], 10, 64)
	if err != nil {
		return migration{}, fmt.Errorf("read migration %s: %w", name, err)
	}
	body, err := migrationFiles.ReadFile(path.Join(dir, name))
	if err != nil {
		return migration{}, fmt.Errorf("read migration %s: %w", name, err)
	}
	return migration{version: version, name: name, sql: string(body)}, nil
}

// prepareMigrations takes the dialect's migration lock and creates the
// schema_migrations table if needed.
func prepareMigrations(ctx context.Context, c conn) error {
	if c.d.migrationLock != "" {
		if _, err := c.exec(ctx, c.d.migrationLock); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
	}
	if _, err := c.exec(ctx, createSchemaMigrations); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	return nil
}

// appliedVersions returns the versions schema_migrations records.
func appliedVersions(ctx context.Context, c conn) (map[int64]bool, error) {
	rows, err := c.query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("select schema_migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("select schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select schema_migrations: %w", err)
	}
	return applied, nil
}

// applyMigration runs m and records it as applied at appliedAt. The file
// runs as written, without placeholder rewriting, so it may contain '?'.
func applyMigration(ctx context.Context, c conn, m migration, appliedAt int64) error {
	if _, err := c.q.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("apply migration %s: %w", m.name, err)
	}
	_, err := c.exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", m.version, m.name, appliedAt)
	if err != nil {
		return fmt.Errorf("record migration %s: %w", m.name, err)
	}
	return nil
}
