//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDatabase takes the lock file next to a SQLite database (DB.lock):
// shared for a server, so that several may run on one file, or exclusive
// for a restore, which so refuses a database any server has open. The
// lock is released by the returned function, or by the kernel when the
// process dies. PostgreSQL databases are not locked.
func lockDatabase(dsn string, exclusive bool) (func(), error) {
	if isPostgres(dsn) {
		return func() {}, nil
	}
	path, err := filepath.Abs(dsn + ".lock")
	if err != nil {
		return nil, fmt.Errorf("lock database: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock database: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
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
			return nil, fmt.Errorf("lock database %s: %w", path, err)
		}
		if exclusive {
			return nil, fmt.Errorf("a Behalf server is using %s (it holds %s): stop it first; restore never replaces a database in use", dsn, path)
		}
		return nil, fmt.Errorf("a restore into %s is in progress (it holds %s)", dsn, path)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
