package main

// The checks `behalf serve` makes before it opens the database: a SQLite
// file must be sound (PRAGMA quick_check). docs/operations.md, "Startup
// checks".

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/behalf-dev/behalf/sqlstore"
)

// openDatabase runs the startup checks and opens the store at dsn.
func (m *Main) openDatabase(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	if !isPostgres(dsn) && hasSQLiteData(dsn) {
		if err := sqlstore.CheckSQLite(ctx, dsn); err != nil {
			if errors.Is(err, sqlstore.ErrDamaged) {
				return nil, fmt.Errorf("%w\nRefusing to serve from a damaged database. Stop every server using it and restore your last backup: "+
					"%s BACKUP.db (the damaged file is kept as %s.replaced-TIME)", err, m.restoreCommand(true), filepath.Base(dsn))
			}
			return nil, err
		}
	}
	store, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return store, nil
}

// restoreCommand is the behalf restore command line for this server's
// database, but for the backup file.
func (m *Main) restoreCommand(force bool) string {
	cmd := "behalf restore --data-dir " + m.Config.DataDir
	if m.Config.Database != "" {
		cmd += " --database " + m.Config.Database
	}
	if force {
		cmd += " --force"
	}
	return cmd
}

// hasSQLiteData reports whether a SQLite file with content is at path (an
// empty file is what sqlstore.Open creates before anything else).
func hasSQLiteData(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Size() > 0
}
