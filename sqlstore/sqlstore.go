package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/behalf-dev/behalf"
)

// DB is a behalf.Store kept in one SQLite file or PostgreSQL database.
// It is safe for concurrent use.
type DB struct {
	// Now returns the current time for the values the store stamps itself
	// (today only the applied_at column of schema_migrations). Record
	// timestamps are never taken from it: callers set them in the structs
	// they pass. Open sets it to time.Now.
	Now func() time.Time

	sql *sql.DB
	d   *dialect
	// stmts holds the prepared statements of single-row reads outside
	// transactions (the token path's reads), so SQL is parsed once.
	stmts stmtCache
	// grants are the grants GetGrant read last (grant.go).
	grants grantCache
	// workloads are the workloads GetWorkload read since the last write,
	// when the database is owned (OwnWrites).
	workloads workloadCache
	// clock counts this process's writes (writeclock.go).
	clock writeClock
	// ready is the readiness probe's last result (Ready).
	ready readyProbe
}

var _ behalf.Store = (*DB)(nil)

// sqliteBusyTimeout is how long a SQLite connection waits for another
// connection's lock before it fails with SQLITE_BUSY.
const sqliteBusyTimeout = 5 * time.Second

// The connection pool's bounds (see SetMaxConns). database/sql's own
// defaults open connections without limit and keep only two idle: under a
// burst every waiting request opened its own connection (for SQLite a file
// handle on the database, its WAL and its shared memory), and each was
// closed again as soon as it was returned. Bounded, a request waits for a
// pooled connection instead (as long as its context allows).
const (
	// connMaxIdleTime closes a connection idle this long, so the pool
	// shrinks back after a burst.
	connMaxIdleTime = 5 * time.Minute
	// postgresConnMaxLifetime replaces a PostgreSQL connection after this
	// long, so replicas spread again over a server that failed over or a
	// pooler that was rebalanced. SQLite connections live on.
	postgresConnMaxLifetime = 30 * time.Minute
)

// DefaultMaxConns is the bound on open connections Open sets: four per
// GOMAXPROCS, at least 8.
func DefaultMaxConns() int { return max(8, 4*runtime.GOMAXPROCS(0)) }

// SetMaxConns bounds the connections db holds open at once to n (below 1:
// DefaultMaxConns), and keeps up to n of them idle: reopening a connection
// costs more than keeping it (SQLite parses the schema again, PostgreSQL
// authenticates). A query beyond the bound waits for a connection to be
// returned, or for its context to end.
func (db *DB) SetMaxConns(n int) {
	if n < 1 {
		n = DefaultMaxConns()
	}
	db.sql.SetMaxOpenConns(n)
	db.sql.SetMaxIdleConns(n)
	db.sql.SetConnMaxIdleTime(connMaxIdleTime)
	if db.d == postgresDialect {
		db.sql.SetConnMaxLifetime(postgresConnMaxLifetime)
	}
}

// Stats returns the connection pool's statistics.
func (db *DB) Stats() sql.DBStats { return db.sql.Stats() }

// Open opens the store named by dsn and brings its schema up to date. A dsn
// starting with postgres:// or postgresql:// is a PostgreSQL connection URL
// (pgx syntax; runtime parameters such as search_path may be given as query
// parameters). Anything else is the path of a SQLite file, created with
// mode 0600 (and its missing parent directories with mode 0700) if absent.
// The connection pool is bounded by DefaultMaxConns (see SetMaxConns).
func Open(ctx context.Context, dsn string) (*DB, error) {
	d, source, err := dataSource(dsn)
	if err != nil {
		return nil, err
	}
	db := &DB{Now: time.Now, d: d, ready: readyProbe{sem: make(chan struct{}, 1)}}
	var sqldb *sql.DB
	if d == sqliteDialect {
		sqldb = sql.OpenDB(sqliteConnector{source: source, clock: &db.clock})
	} else if sqldb, err = sql.Open(d.driver, source); err != nil {
		return nil, fmt.Errorf("open %s database: %w", d.name, err)
	}
	db.sql = sqldb
	db.SetMaxConns(0)
	if err := db.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("migrate %s database: %w", d.name, err)
	}
	return db, nil
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database: %w", db.d.name, classify(err))
	}
	return nil
}

// ReadyInterval is how long Ready reuses its last result: /readyz is
// unauthenticated, and its write must not become load.
const ReadyInterval = time.Second

// readyProbe serializes Ready's writes and keeps the last result.
type readyProbe struct {
	sem chan struct{} // one probe at a time
	mu  sync.Mutex
	at  time.Time
	err error
}

// Ready reports whether the database takes writes: it writes the one row
// of readiness_probe, which needs what every write needs (on SQLite the
// write lock and room for the WAL, on PostgreSQL a live primary with room
// for its WAL). A database that answers reads but cannot write is not
// ready. Within ReadyInterval of a probe, Ready returns its result without
// writing again. An unreachable database is behalf.ErrStoreUnavailable.
func (db *DB) Ready(ctx context.Context) error {
	p := &db.ready
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("readiness probe of the %s database: %w", db.d.name, ctx.Err())
	}
	defer func() { <-p.sem }()
	p.mu.Lock()
	at, err := p.at, p.err
	p.mu.Unlock()
	if now := time.Now(); !at.IsZero() && now.Sub(at) >= 0 && now.Sub(at) < ReadyInterval {
		return err
	}
	db.clock.begin()
	_, err = db.sql.ExecContext(ctx, db.d.rebind(
		"INSERT INTO readiness_probe (id, probed_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at"),
		micros(time.Now()))
	db.clock.end()
	if err != nil {
		err = fmt.Errorf("write to the %s database: %w", db.d.name, classify(err))
		if ctx.Err() != nil {
			return err // the caller gave up (or its deadline passed): no verdict to keep
		}
	}
	p.mu.Lock()
	p.at, p.err = time.Now(), err
	p.mu.Unlock()
	return err
}

// Close releases the database.
func (db *DB) Close() error {
	db.stmts.close()
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("close %s database: %w", db.d.name, err)
	}
	return nil
}

// dataSource picks the dialect for dsn and returns the driver's data source
// name, preparing the SQLite file if dsn names one.
func dataSource(dsn string) (*dialect, string, error) {
	if isPostgres(dsn) {
		return postgresDialect, dsn, nil
	}
	source, err := sqliteSource(dsn)
	if err != nil {
		return nil, "", err
	}
	return sqliteDialect, source, nil
}

// isPostgres reports whether dsn names a PostgreSQL database.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// walSizeLimit is the size the SQLite WAL file is cut back to after a
// checkpoint (PRAGMA journal_size_limit).
const walSizeLimit = 16 << 20

// sqliteSource creates the SQLite file at path if it is missing and returns
// the modernc.org/sqlite data source name that opens it with WAL, full
// synchronous commits, foreign keys, a busy timeout, a WAL size limit and BEGIN IMMEDIATE for
// writing transactions. Every pooled connection applies these settings.
func sqliteSource(path string) (string, error) {
	if path == "" {
		return "", errors.New("open sqlite database: empty path")
	}
	if strings.ContainsRune(path, '?') {
		return "", fmt.Errorf("open sqlite database %q: path must not contain '?'", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	if err := createFile(abs); err != nil {
		return "", err
	}
	params := url.Values{
		"_pragma": {
			"busy_timeout(" + strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10) + ")",
			"foreign_keys(1)",
			"journal_mode(WAL)",
			// After a checkpoint, the WAL file is cut back to 16 MiB: under
			// steady load with readers always open it can outgrow the
			// auto-checkpoint size, and SQLite otherwise keeps the file at
			// its largest.
			"journal_size_limit(" + strconv.Itoa(walSizeLimit) + ")",
			"synchronous(FULL)",
		},
		"_txlock": {"immediate"},
	}
	return abs + "?" + params.Encode(), nil
}

// createFile creates the file at path with mode 0600, and its missing
// parent directories with mode 0700, unless the file exists.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create sqlite database directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create sqlite database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create sqlite database file: %w", err)
	}
	return nil
}

// dialect is what differs between the SQL backends.
type dialect struct {
	name   string // "sqlite" or "postgres", for messages and migration directories
	driver string // database/sql driver name

	// numbered reports whether placeholders are $1, $2, … rather than ?.
	numbered bool
	// forUpdate is appended to a SELECT inside a writing transaction to lock
	// the rows it reads. SQLite needs none: BEGIN IMMEDIATE already holds
	// the database's write lock.
	forUpdate string
	// migrationLock is run first in the migration transaction so that
	// several processes opening the database at once migrate one at a time.
	// SQLite needs none, for the same reason.
	migrationLock string
	// isUniqueViolation reports whether err is a unique or primary key
	// constraint violation.
	isUniqueViolation func(err error) bool
	// isForeignKeyViolation reports whether err is a foreign key
	// constraint violation.
	isForeignKeyViolation func(err error) bool
}

// migrationLockKey is the PostgreSQL advisory lock key held while migrating.
const migrationLockKey = 0x62656861_6c66 // "behalf"

var sqliteDialect = &dialect{
	name:                  "sqlite",
	driver:                "sqlite",
	isUniqueViolation:     isSQLiteUniqueViolation,
	isForeignKeyViolation: isSQLiteForeignKeyViolation,
}

var postgresDialect = &dialect{
	name:                  "postgres",
	driver:                "pgx",
	numbered:              true,
	forUpdate:             " FOR UPDATE",
	migrationLock:         "SELECT pg_advisory_xact_lock(" + strconv.FormatInt(migrationLockKey, 10) + ")",
	isUniqueViolation:     isPostgresUniqueViolation,
	isForeignKeyViolation: isPostgresForeignKeyViolation,
}

// isSQLiteUniqueViolation reports whether err is SQLite's extended result
// code for a UNIQUE or PRIMARY KEY constraint failure.
func isSQLiteUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isSQLiteForeignKeyViolation reports whether err is SQLite's extended
// result code for a FOREIGN KEY constraint failure.
func isSQLiteForeignKeyViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// PostgreSQL's SQLSTATEs unique_violation and foreign_key_violation.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// isPostgresUniqueViolation reports whether err carries SQLSTATE 23505.
func isPostgresUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == pgUniqueViolation
}

// isPostgresForeignKeyViolation reports whether err carries SQLSTATE 23503.
func isPostgresForeignKeyViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == pgForeignKeyViolation
}

// rebind rewrites the ? placeholders of query into the dialect's syntax.
// Queries in this package never contain a literal '?'.
func (d *dialect) rebind(query string) string {
	if !d.numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs queries written with ? placeholders on the database or on a
// transaction, in the store's dialect.
type conn struct {
	q querier
	d *dialect
	// stmts, outside transactions, prepares single-row reads once.
	stmts *stmtCache
	// writing is set inside a writing transaction, where reads lock the
	// rows they return.
	writing bool
	// clock, outside transactions, is told of every statement that may
	// write (inTx tells it of transactions).
	clock *writeClock
}

// exec runs a statement. A connection-level failure is classified
// (unavailable.go), never retried: the statement may have been applied.
func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if !c.writing && c.clock != nil {
		c.clock.begin()
		defer c.clock.end()
	}
	res, err := c.q.ExecContext(ctx, c.d.rebind(query), args...)
	return res, classify(err)
}

// query runs a query returning rows; connection-level failures are
// classified. queryAll, its caller outside transactions, retries reads.
// Outside a transaction it runs reads only: a write there could not be
// announced to the write clock until its rows were closed.
func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if !c.writing && !isRead(query) {
		return nil, fmt.Errorf("sqlstore: %.40q… writes outside a transaction: use exec or queryRow", query)
	}
	rows, err := c.q.QueryContext(ctx, c.d.rebind(query), args...)
	return rows, classify(err)
}

// queryRow runs a query returning at most one row. A read outside a
// transaction that fails at the connection level is retried once on a
// fresh connection when scanned (row.Scan).
func (c conn) queryRow(ctx context.Context, query string, args ...any) row {
	query = c.d.rebind(query)
	r := row{ctx: ctx, c: c, query: query, args: args}
	if !c.writing && c.clock != nil && !isRead(query) {
		// INSERT or UPDATE … RETURNING: it ends when Scan has read the row.
		c.clock.begin()
		r.announced = true
	}
	if db, ok := c.q.(*sql.DB); ok && c.stmts != nil {
		if st := c.stmts.get(ctx, db, query); st != nil {
			qctx := ctx
			if c.d == sqliteDialect {
				// A request's context can be cancelled, and for such a
				// context database/sql and the SQLite driver each start a
				// goroutine per query to watch it (a fifth of a grant
				// read's cost). These reads take microseconds, and a read
				// never waits for a writer under WAL (any other wait is
				// bounded by the busy timeout): they run to the end.
				qctx = context.WithoutCancel(ctx)
			}
			r.r = st.QueryRowContext(qctx, args...)
			return r
		}
	}
	r.r = c.q.QueryRowContext(ctx, query, args...)
	return r
}

// stmtCache maps query text to its prepared statement. The set of queries
// is the code's own, so it stays small.
type stmtCache struct{ m sync.Map }

// get returns the prepared statement for query, preparing it on first use;
// nil if preparing failed (the caller then runs the query unprepared).
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	if v, ok := c.m.Load(query); ok {
		return v.(*sql.Stmt)
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if v, loaded := c.m.LoadOrStore(query, st); loaded {
		st.Close()
		return v.(*sql.Stmt)
	}
	return st
}

// close closes every prepared statement.
func (c *stmtCache) close() {
	c.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		c.m.Delete(k)
		return true
	})
}

// lock returns the suffix that locks selected rows for the rest of a
// writing transaction, or "" outside one.
func (c conn) lock() string {
	if !c.writing {
		return ""
	}
	return c.d.forUpdate
}

// conn returns a conn that runs each statement on its own.
func (db *DB) conn() conn {
	return conn{q: db.sql, d: db.d, stmts: &db.stmts, clock: &db.clock}
}

// inTx runs fn in a writing transaction and commits it. If fn fails (or
// panics) the transaction is rolled back and fn's error is returned
// unchanged.
func (db *DB) inTx(ctx context.Context, fn func(c conn) error) error {
	db.clock.begin()
	defer db.clock.end() // runs last: after the commit or the rollback
	tx, release, err := db.beginTx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", classify(err))
	}
	defer release()
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if err := fn(conn{q: tx, d: db.d, writing: true}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", classify(err))
	}
	committed = true
	return nil
}

// modify is the read-modify-write of every Update method, in one
// transaction: load reads and locks the record, fn edits it, keep restores
// the fields fn may not change from the original, save writes it back, and
// load reads the result as stored. fn's error is returned unchanged.
func modify[T any](ctx context.Context, db *DB, load func(conn) (*T, error), fn func(*T) error, keep func(edited, orig *T), save func(conn, *T) error) (*T, error) {
	var out *T
	err := db.inTx(ctx, func(c conn) error {
		rec, err := load(c)
		if err != nil {
			return err
		}
		orig := *rec
		if err := fn(rec); err != nil {
			return err
		}
		keep(rec, &orig)
		if err := save(c, rec); err != nil {
			return err
		}
		out, err = load(c)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// queryAll runs query and scans every row with scan. Outside a
// transaction, a read that fails at the connection level (at the start or
// midway) is run once more, whole, on a fresh connection.
func queryAll[T any](ctx context.Context, c conn, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	out, err := queryAllOn(ctx, c, scan, query, args...)
	if err != nil && isConnectionFailure(err) && c.retryable(query) {
		err = c.onFreshConn(ctx, func(q querier) error {
			fresh := conn{q: q, d: c.d}
			out, err = queryAllOn(ctx, fresh, scan, query, args...)
			return err
		})
	}
	if err != nil {
		return nil, classify(err)
	}
	return out, nil
}

func queryAllOn[T any](ctx context.Context, c conn, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := c.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		rec, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// affectedOne reports whether res changed a row; ok is false when the
// statement matched none.
func affectedOne(res sql.Result) (ok bool, err error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// notFound returns the ENOTFOUND error for the record of kind named key.
func notFound(kind, key string) error {
	return behalf.Errorf(behalf.ENOTFOUND, "%s %q not found.", kind, key)
}

// conflict classifies an insert error: a unique violation becomes
// ECONFLICT for the record of kind named key; anything else is wrapped
// with what was being done.
func (c conn) conflict(err error, doing, kind, key string) error {
	if c.d.isUniqueViolation(err) {
		return behalf.Errorf(behalf.ECONFLICT, "%s %q already exists.", kind, key)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// pageClause returns the WHERE, ORDER BY and LIMIT clauses selecting opt's
// page of rows keyed by column key, with their arguments.
func pageClause(key string, opt behalf.ListOptions) (string, []any) {
	return scopedPageClause("", "", key, opt)
}

// scopedPageClause is pageClause over the rows whose column scope equals
// value; an empty scope selects every row.
func scopedPageClause(scope, value, key string, opt behalf.ListOptions) (string, []any) {
	var conds []string
	var args []any
	if scope != "" {
		conds = append(conds, scope+" = ?")
		args = append(args, value)
	}
	if opt.After != "" {
		conds = append(conds, key+" > ?")
		args = append(args, opt.After)
	}
	var q strings.Builder
	if len(conds) > 0 {
		q.WriteString(" WHERE " + strings.Join(conds, " AND "))
	}
	q.WriteString(" ORDER BY " + key)
	if opt.Limit > 0 {
		q.WriteString(" LIMIT ?")
		args = append(args, opt.Limit)
	}
	return q.String(), args
}
