package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrDamaged is in the chain of CheckSQLite's error when the file is not a
// sound SQLite database.
var ErrDamaged = errors.New("the database is damaged")

// CheckSQLite runs PRAGMA quick_check on the SQLite database at path (which
// must exist): the b-tree pages, records and free list, in time linear in
// the file's size, without comparing indexes with their tables (PRAGMA
// integrity_check, which InspectSQLite runs, does). A file that is damaged,
// or is not a SQLite database, returns an error wrapping ErrDamaged that
// names the first problems found.
func CheckSQLite(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if strings.ContainsRune(abs, '?') {
		return fmt.Errorf("check sqlite database %q: path must not contain '?'", abs)
	}
	db, err := sql.Open(sqliteDialect.driver, abs+"?_pragma=busy_timeout("+fmt.Sprint(sqliteBusyTimeout.Milliseconds())+")")
	if err != nil {
		return fmt.Errorf("check sqlite database %s: %w", abs, err)
	}
	defer db.Close()
	fail := func(err error) error {
		if isSQLiteDamage(err) {
			return fmt.Errorf("check sqlite database %s: PRAGMA quick_check: %w: %w", abs, ErrDamaged, err)
		}
		return fmt.Errorf("check sqlite database %s: %w", abs, err)
	}
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check(10)")
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fail(err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("check sqlite database %s: PRAGMA quick_check: %w: %s", abs, ErrDamaged, strings.Join(problems, "; "))
	}
	return nil
}

// isSQLiteDamage reports whether err is SQLite's "database disk image is
// malformed" or "file is not a database".
func isSQLiteDamage(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	code := e.Code() & 0xff
	return code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB
}
