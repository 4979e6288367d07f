package main

// The checks `behalf serve` makes before it opens the database: a SQLite
// file must be sound (PRAGMA quick_check), a data directory that holds key
// or credentials files but no database is not silently started over
// (--init), and a PostgreSQL that is not reachable yet is waited for
// (--database-wait). docs/operations.md, "Startup checks".

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/seal"
	"github.com/behalf-dev/behalf/sqlstore"
)

// Backoff of the database wait: the first retry after databaseWaitFirst,
// doubling up to databaseWaitMax.
const (
	databaseWaitFirst = 100 * time.Millisecond
	databaseWaitMax   = 5 * time.Second
)

// openDatabase runs the startup checks and opens the store at dsn.
func (m *Main) openDatabase(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	if isPostgres(dsn) {
		return m.openPostgres(ctx, dsn)
	}
	if err := m.checkSQLite(ctx, dsn); err != nil {
		return nil, err
	}
	store, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return store, nil
}

// checkSQLite refuses a missing database in a data directory that holds
// another's key or credentials files (unless --init), and a damaged one.
func (m *Main) checkSQLite(ctx context.Context, dsn string) error {
	if !hasSQLiteData(dsn) {
		if kept := keptFiles(m.Config.DataDir); len(kept) > 0 {
			if !m.Config.Init {
				return fmt.Errorf("no database at %s, but %s holds %s from an earlier one: refusing to start over with an empty database.\n"+
					"If the database was lost, restore your last backup: stop every server using it and run %s BACKUP.db.\n"+
					"To start with a new, empty database anyway, start once with --init (an existing credentials file is kept aside, never overwritten)",
					dsn, m.Config.DataDir, strings.Join(kept, ", "), m.restoreCommand(false))
			}
			m.Log.Warn("--init: no database, starting a new, empty one", "database", dsn, "kept", kept)
		}
		return nil
	}
	if m.Config.Init {
		m.Log.Warn("--init has no effect: the database exists; remove --init", "database", dsn)
	}
	if err := sqlstore.CheckSQLite(ctx, dsn); err != nil {
		if errors.Is(err, sqlstore.ErrDamaged) {
			return fmt.Errorf("%w\nRefusing to serve from a damaged database. Stop every server using it and restore your last backup: "+
				"%s BACKUP.db (the damaged file is kept as %s.replaced-TIME)", err, m.restoreCommand(true), filepath.Base(dsn))
		}
		return err
	}
	return nil
}

// openPostgres opens the PostgreSQL store, waiting up to --database-wait,
// with backoff, while the database cannot be reached (a replica started
// before its database, or during its restart). Other errors (a refused
// password, a missing database, a failed migration) end the wait at once.
func (m *Main) openPostgres(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	deadline := time.Now().Add(m.Config.DatabaseWait)
	delay := databaseWaitFirst
	for attempt := 1; ; attempt++ {
		store, err := sqlstore.Open(ctx, dsn)
		if err == nil {
			if attempt > 1 {
				m.Log.Info("database reachable", "attempts", attempt)
			}
			return store, nil
		}
		if !errors.Is(err, behalf.ErrStoreUnavailable) {
			return nil, fmt.Errorf("open database: %w", err)
		}
		if left := time.Until(deadline); left <= 0 {
			return nil, fmt.Errorf("open database: unreachable for --database-wait %v (%d attempts): %w", m.Config.DatabaseWait, attempt, err)
		} else if delay > left {
			delay = left
		}
		m.Log.Warn("database unreachable; waiting for it", "err", err, "attempt", attempt, "retry_in", delay, "gives_up_in", time.Until(deadline).Round(time.Second))
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, fmt.Errorf("open database: %w", ctx.Err())
		}
		delay = min(2*delay, databaseWaitMax)
	}
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

// localKEKName matches the local key-encryption key files: kek and kek.N.
var localKEKName = regexp.MustCompile(`^` + regexp.QuoteMeta(seal.KEKFile) + `(\.[0-9]+)?$`)

// keptFiles lists the files of dataDir that outlive a database and belong
// to one: local key-encryption keys and the root credentials.
func keptFiles(dataDir string) []string {
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		return nil
	}
	var kept []string
	for _, e := range entries {
		if e.Type().IsRegular() && (localKEKName.MatchString(e.Name()) || e.Name() == credentialsFile) {
			kept = append(kept, e.Name())
		}
	}
	return kept
}

// credentialsFile is the root credentials file in the data directory.
const credentialsFile = "credentials"

// credentialsPath is DATA-DIR/credentials.
func (m *Main) credentialsPath() string {
	return filepath.Join(m.Config.DataDir, credentialsFile)
}
