//go:build !unix

package sqlstore

// LockForServing does nothing where flock(2) is missing: run one server
// per SQLite database, and stop it before a restore (docs/operations.md).
func LockForServing(dsn string) (unlock func(), err error) {
	return func() {}, nil
}

// lockSQLite does nothing where flock(2) is missing.
func lockSQLite(path, inUse string) (func(), error) {
	return func() {}, nil
}

// servingLockExclusive reports whether LockForServing keeps every other
// server and restore out: not here, so no store owns its writes.
const servingLockExclusive = false
