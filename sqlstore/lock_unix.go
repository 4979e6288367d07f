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
// the lock file next to the SQLite database (DB.lock), exclusively: one
// server per SQLite database, which may then own its writes (OwnWrites),
// and a restore never replaces a database in use. It is an flock(2),
// released by the returned function, or by the kernel when the process
// dies. PostgreSQL databases, which replicas share, are not locked.
func LockForServing(dsn string) (unlock func(), err error) {
	if isPostgres(dsn) {
		return func() {}, nil
	}
	return lockSQLite(dsn, "another Behalf server, or a restore, is using %s (it holds %s): one server per SQLite database; "+
		"stop the other, or use PostgreSQL (--database postgres://…) for several replicas")
}

// servingLockExclusive reports whether LockForServing keeps every other
// server and restore out (here: yes).
const servingLockExclusive = true

// lockSQLite takes the lock file next to the SQLite database at path,
// exclusively, as a server and a restore both do. While another process
// holds it, the error is inUse, a format given the database's path and the
// lock file's.
func lockSQLite(path, inUse string) (func(), error) {
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
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock database %s: %w", lock, err)
		}
		return nil, fmt.Errorf(inUse, path, lock)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
