//go:build unix

package sqlstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockForServing takes, for a server about to serve the database at dsn,
// the lock RestoreSQLite needs exclusively, so that a restore never
// replaces a database in use. It is a shared flock(2) on the lock file
// next to the SQLite database (DB.lock): several servers may hold it on
// one file. It is released by the returned function, or by the kernel when
// the process dies. PostgreSQL databases are not locked.
func LockForServing(dsn string) (unlock func(), err error) {
	if isPostgres(dsn) {
		return func() {}, nil
	}
	return lockSQLite(dsn, false)
}

// lockSQLite takes the lock file next to the SQLite database at path:
// shared for a server, exclusive for a restore, which so refuses a
// database any server has open.
func lockSQLite(path string, exclusive bool) (func(), error) {
	lock, err := filepath.Abs(path + ".lock")
	if err != nil {
		return nil, fmt.Errorf("lock database: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(lock), 0o700); err != nil {
		return nil, fmt.Errorf("lock database: %w", err)
	}
	f, err := os.OpenFile(lock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock database: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock database %s: %w", lock, err)
		}
		if exclusive {
			return nil, fmt.Errorf("a Behalf server is using %s (it holds %s): stop it first; restore never replaces a database in use", path, lock)
		}
		return nil, fmt.Errorf("a restore into %s is in progress (it holds %s)", path, lock)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
