package sqlstore

import (
	"context"
	"database/sql/driver"
	"sync/atomic"

	"modernc.org/sqlite"
)

// A server that is a SQLite database's only writer (OwnWrites) knows every
// change to it: rows it read since its last write began are still what the
// database holds, and the token path's reads (a grant at every vault hit,
// a workload at every mint) are answered from memory until the next write.
//
// writeClock counts this process's writes: started before a statement or
// transaction that may write runs, finished once it has ended (committed,
// or rolled back). Where no write is in progress, started says which
// writes a read has seen: a row read while started stayed at n, with
// finished at n, is current for as long as started is still n.
//
// Every write is announced by the code that runs it (inTx, conn.exec, a
// conn.queryRow that is not a SELECT, Ready). SQLite's commit hook checks
// the announcements: a commit with no write announced would mean a write
// path this file does not know, and turns memory reads off for good.
type writeClock struct {
	// owned is set by OwnWrites: memory reads are allowed.
	owned atomic.Bool
	// started and finished count announced writes.
	started, finished atomic.Uint64
	// unannounced counts commits made while no write was announced.
	unannounced atomic.Uint64
}

// begin announces a write about to run; end, that it has ended.
func (w *writeClock) begin() { w.started.Add(1) }
func (w *writeClock) end()   { w.finished.Add(1) }

// now returns the count of writes begun, and whether the database is
// quiet: owned, no write in progress, and no unannounced commit ever seen.
// A row read from the database after a quiet now() returned at reflects
// every write up to at (they had ended); any later write starts at+1. So
// the row is what the database holds for as long as now() returns (at,
// true) again.
func (w *writeClock) now() (at uint64, quiet bool) {
	if !w.owned.Load() || w.unannounced.Load() != 0 {
		return 0, false
	}
	f := w.finished.Load() // before started: equal, no write was in progress when started was read
	s := w.started.Load()
	return s, s == f
}

// commitHook is SQLite's commit hook on every connection: a commit with no
// write announced stops memory reads.
func (w *writeClock) commitHook() int32 {
	if w.started.Load() == w.finished.Load() {
		w.unannounced.Add(1)
	}
	return 0 // never vetoes the commit
}

// OwnWrites declares that this process is the only writer of the database:
// it holds the serving lock (LockForServing, exclusive on SQLite), so no
// other server writes the file, and restore refuses it. From then on, the
// token path's reads of a row this process read since its last write are
// answered from memory; any write invalidates them all. It does nothing on
// PostgreSQL, where replicas write the same database: there every read
// goes to the database.
func (db *DB) OwnWrites() {
	if db.d == sqliteDialect && servingLockExclusive {
		db.clock.owned.Store(true)
	}
}

// sqliteDriver opens the SQLite connections of every DB.
var sqliteDriver = &sqlite.Driver{}

// sqliteConnector opens SQLite connections with the commit hook of clock.
type sqliteConnector struct {
	source string
	clock  *writeClock
}

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := sqliteDriver.Open(c.source)
	if err != nil {
		return nil, err
	}
	if h, ok := conn.(sqlite.HookRegisterer); ok {
		h.RegisterCommitHook(c.clock.commitHook)
	} else {
		c.clock.unannounced.Add(1) // no hook, no check: no memory reads
	}
	return conn, nil
}

func (c sqliteConnector) Driver() driver.Driver { return sqliteDriver }
