package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/behalf-dev/behalf"
)

// Connection-level failures: the database went away, or never answered.
// They are classified as behalf.ErrStoreUnavailable (EUNAVAILABLE, 503 on
// the wire) rather than internal errors, and a read outside a transaction
// is tried once more on a connection that has just answered a ping.

// unavailableError is a connection-level failure of the database: it
// unwraps to behalf.ErrStoreUnavailable (what the caller is told) and to
// the driver's error (what the log says).
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string   { return "database unavailable: " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{behalf.ErrStoreUnavailable, e.cause} }

// classify returns err as an unavailableError if it is a connection-level
// failure or the database has no room to write, and unchanged otherwise.
func classify(err error) error {
	if err == nil || errors.Is(err, behalf.ErrStoreUnavailable) || !(isConnectionFailure(err) || isStorageFull(err)) {
		return err
	}
	return &unavailableError{cause: err}
}

// isStorageFull reports whether err says the database could not write for
// want of room: SQLite's SQLITE_FULL, or its write refused by the file
// system (SQLITE_IOERR_WRITE: a file size limit, a full disk on some file
// systems); PostgreSQL's disk_full (53100). Like a database gone away, it
// is the service's trouble, passing once an operator frees room: 503 with
// Retry-After, not an internal error. It is never retried at once.
func isStorageFull(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == pgDiskFull
	}
	var le *sqlite.Error
	if errors.As(err, &le) {
		return le.Code()&0xff == sqlite3.SQLITE_FULL || le.Code() == sqlite3.SQLITE_IOERR_WRITE
	}
	return false
}

// pgDiskFull is PostgreSQL's SQLSTATE disk_full.
const pgDiskFull = "53100"

// PostgreSQL SQLSTATEs that say the server cannot serve this connection:
// class 08 (connection exception) and these.
var pgUnavailableStates = map[string]bool{
	"57P01": true, // admin_shutdown: terminating connection due to administrator command
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now: the database system is starting up / shutting down
	"53300": true, // too_many_connections
}

// isConnectionFailure reports whether err says the database could not be
// reached or dropped the connection, as opposed to refusing a statement
// (constraint violations, serialization failures, syntax) or the caller
// giving up (context canceled or past its deadline).
func isConnectionFailure(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// The server answered: only these codes are about the connection
		// (a refused password, 28P01, or a missing database, 3D000, are
		// configuration errors, reported as they are).
		return strings.HasPrefix(pe.Code, "08") || pgUnavailableStates[pe.Code]
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) {
		return true // never reached the server, or failed before sending anything
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EPIPE, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN, syscall.ETIMEDOUT} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// isRead reports whether query only reads, so that running it again
// changes nothing.
func isRead(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	return len(q) >= 6 && strings.EqualFold(q[:6], "SELECT")
}

// retryable reports whether a failed query may be run once more on a
// fresh connection: a read, outside a transaction.
func (c conn) retryable(query string) bool {
	_, ok := c.q.(*sql.DB)
	return ok && isRead(query)
}

// onFreshConn runs fn on a connection that has just answered a ping.
// c must be outside a transaction.
func (c conn) onFreshConn(ctx context.Context, fn func(q querier) error) error {
	sc, err := freshConn(ctx, c.q.(*sql.DB))
	if err != nil {
		return err
	}
	defer sc.Close()
	return fn(sc)
}

// freshConn returns a pooled connection that has just answered a ping,
// trying a few: after the database restarted, every idle connection in
// the pool is dead, and the pool hands them out until they fail.
func freshConn(ctx context.Context, db *sql.DB) (*sql.Conn, error) {
	var err error
	for range 3 {
		var sc *sql.Conn
		if sc, err = db.Conn(ctx); err != nil {
			return nil, err
		}
		if err = sc.PingContext(ctx); err == nil {
			return sc, nil
		}
		sc.Close() // a connection that failed its ping is discarded
		if !isConnectionFailure(err) {
			return nil, err
		}
	}
	return nil, err
}

// beginTx starts a writing transaction. A BEGIN that failed at the
// connection level did nothing, so it is tried once more, on a fresh
// connection; release returns that connection once the transaction is
// over.
func (db *DB) beginTx(ctx context.Context) (tx *sql.Tx, release func(), err error) {
	tx, err = db.sql.BeginTx(ctx, nil)
	if err == nil || !isConnectionFailure(err) {
		return tx, func() {}, err
	}
	sc, err := freshConn(ctx, db.sql)
	if err != nil {
		return nil, nil, err
	}
	if tx, err = sc.BeginTx(ctx, nil); err != nil {
		sc.Close()
		return nil, nil, err
	}
	return tx, func() { sc.Close() }, nil
}

// row is the result of conn.queryRow: its error, if any, comes from Scan.
// A read outside a transaction that fails at the connection level is run
// once more on a fresh connection; a failure that remains is classified.
type row struct {
	ctx   context.Context
	c     conn
	query string
	args  []any
	r     *sql.Row
	// announced is set when the query may write: Scan ends the write.
	announced bool
}

// Scan copies the row's columns into dest, like sql.Row.Scan.
func (r row) Scan(dest ...any) error {
	if r.announced {
		defer r.c.clock.end()
	}
	err := r.r.Scan(dest...)
	if !isConnectionFailure(err) {
		return err
	}
	if r.c.retryable(r.query) {
		err = r.c.onFreshConn(r.ctx, func(q querier) error {
			return q.QueryRowContext(r.ctx, r.query, r.args...).Scan(dest...)
		})
	}
	return classify(err)
}
