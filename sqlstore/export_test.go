package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// SQLDB exposes db's connection pool to the external tests.
func SQLDB(db *DB) *sql.DB { return db.sql }

// MigrateBelow applies to the database at dsn every migration numbered
// below version, and no other: the schema an older Behalf left, for
// upgrade tests. Open then applies the rest.
func MigrateBelow(ctx context.Context, dsn string, version int64) error {
	d, source, err := dataSource(dsn)
	if err != nil {
		return err
	}
	sqldb, err := sql.Open(d.driver, source)
	if err != nil {
		return err
	}
	defer sqldb.Close()
	db := &DB{Now: time.Now, sql: sqldb, d: d}
	ms, err := loadMigrations(d.name)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(c conn) error {
		if err := prepareMigrations(ctx, c); err != nil {
			return err
		}
		for _, m := range ms {
			if m.version < version {
				if err := applyMigration(ctx, c, m, micros(db.Now())); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Exec runs one statement (with ? placeholders) on the database at dsn
// without opening a store: rows as an older Behalf wrote them.
func Exec(ctx context.Context, dsn, query string, args ...any) error {
	d, source, err := dataSource(dsn)
	if err != nil {
		return err
	}
	sqldb, err := sql.Open(d.driver, source)
	if err != nil {
		return err
	}
	defer sqldb.Close()
	_, err = conn{q: sqldb, d: d}.exec(ctx, query, args...)
	return err
}

// CountPoolAuthRequestsQuery is the statement CountPoolAuthRequests runs,
// in PostgreSQL's or SQLite's syntax, for the tests of its plan.
func CountPoolAuthRequestsQuery(postgres, byClient, limited bool) string {
	d := sqliteDialect
	if postgres {
		d = postgresDialect
	}
	return d.rebind(countPoolAuthRequestsQuery(byClient, limited))
}

// UnannouncedCommits counts the commits db's SQLite connections made with
// no write announced to its write clock (writeclock.go).
func UnannouncedCommits(db *DB) uint64 { return db.clock.unannounced.Load() }
