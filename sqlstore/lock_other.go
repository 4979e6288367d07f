//go:build !unix

package sqlstore

// LockForServing does nothing where flock(2) is missing: stop the server
// before a restore (docs/operations.md).
func LockForServing(dsn string) (unlock func(), err error) {
	return func() {}, nil
}

// lockSQLite does nothing where flock(2) is missing.
func lockSQLite(path string, exclusive bool) (func(), error) {
	return func() {}, nil
}
