package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/behalf-dev/behalf"
)

// Ensure connection-level database failures (issue 11, reliability 5:
// "Database unavailable answers 500") are classified as
// behalf.ErrStoreUnavailable — EUNAVAILABLE, a message that names no
// driver detail — and nothing else is: statement errors, configuration
// errors and a caller giving up keep their own classification.
func TestDatabaseUnavailableClassification(t *testing.T) {
	// A real connection refused, through pgx, as at a replica's start or
	// with PostgreSQL stopped.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()
	pg, err := sql.Open("pgx", "postgres://behalf:secret-password@"+closedPort+"/behalf?connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	refused := pg.PingContext(t.Context())
	if refused == nil {
		t.Fatalf("ping of %s succeeded", closedPort)
	}
	// A real SQLite constraint error: never a connection failure.
	lite, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	lite.Exec("CREATE TABLE t (id TEXT PRIMARY KEY)")
	lite.Exec("INSERT INTO t VALUES ('a')")
	_, liteDup := lite.Exec("INSERT INTO t VALUES ('a')")
	if liteDup == nil {
		t.Fatal("duplicate insert succeeded")
	}

	unavailable := map[string]error{
		"connection refused (pgx ConnectError)": refused,
		"57P01 admin_shutdown":                  &pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"},
		"57P02 crash_shutdown":                  &pgconn.PgError{Severity: "FATAL", Code: "57P02"},
		"57P03 cannot_connect_now":              &pgconn.PgError{Severity: "FATAL", Code: "57P03", Message: "the database system is starting up"},
		"08006 connection_failure":              &pgconn.PgError{Code: "08006"},
		"08001 unable to connect":               &pgconn.PgError{Code: "08001"},
		"53300 too_many_connections":            &pgconn.PgError{Code: "53300"},
		"wrapped 57P01":                         fmt.Errorf("select grant: %w", &pgconn.PgError{Code: "57P01"}),
		"broken pipe":                           &net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE},
		"connection reset":                      fmt.Errorf("read: %w", syscall.ECONNRESET),
		"unexpected EOF":                        fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF),
		"bad connection":                        driver.ErrBadConn,
		"connection done":                       sql.ErrConnDone,
	}
	for name, err := range unavailable {
		if !isConnectionFailure(err) {
			t.Errorf("%s: not a connection failure: %v", name, err)
			continue
		}
		c := classify(err)
		if behalf.ErrorCode(c) != behalf.EUNAVAILABLE || !errors.Is(c, behalf.ErrStoreUnavailable) {
			t.Errorf("%s: classified as %q: %v", name, behalf.ErrorCode(c), c)
		}
		if msg := behalf.ErrorMessage(c); msg != behalf.ErrStoreUnavailable.Message {
			t.Errorf("%s: message %q", name, msg)
		}
		if !errors.Is(c, err) || !strings.Contains(c.Error(), err.Error()) {
			t.Errorf("%s: the cause is lost for the log: %v", name, c)
		}
		var ra behalf.RetryAfterError
		if !errors.As(c, &ra) || ra.RetryAfter() <= 0 {
			t.Errorf("%s: no retry-after", name)
		}
		if twice := classify(fmt.Errorf("again: %w", c)); strings.Count(twice.Error(), "database unavailable") != 1 {
			t.Errorf("%s: classified twice: %v", name, twice)
		}
	}
	// The driver's text (host, user, SQLSTATE) reaches no caller.
	if msg := behalf.ErrorMessage(classify(refused)); strings.Contains(msg, closedPort) || strings.Contains(msg, "behalf") || strings.Contains(msg, "connect") {
		t.Errorf("message leaks the driver's text: %q", msg)
	}

	others := map[string]error{
		"no rows":                    sql.ErrNoRows,
		"23505 unique_violation":     &pgconn.PgError{Code: "23505"},
		"40001 serialization":        &pgconn.PgError{Code: "40001"},
		"28P01 invalid_password":     &pgconn.PgError{Severity: "FATAL", Code: "28P01"},
		"3D000 invalid_catalog_name": &pgconn.PgError{Severity: "FATAL", Code: "3D000"},
		"sqlite unique violation":    liteDup,
		"context canceled":           fmt.Errorf("query: %w", context.Canceled),
		"deadline exceeded":          context.DeadlineExceeded,
		"plain error":                errors.New("boom"),
		"nil":                        nil,
	}
	// A full disk is unavailable too, but not a connection failure: it is
	// never retried at once.
	full := &pgconn.PgError{Code: "53100"}
	if isConnectionFailure(full) || !errors.Is(classify(full), behalf.ErrStoreUnavailable) {
		t.Errorf("53100 disk_full: connection failure %v, classified %v", isConnectionFailure(full), classify(full))
	}
	for name, err := range others {
		if isConnectionFailure(err) {
			t.Errorf("%s: classified as a connection failure: %v", name, err)
		}
		if c := classify(err); c != err {
			t.Errorf("%s: classify changed it to %v", name, c)
		}
	}
}

// Ensure only reads are retried.
func TestDatabaseUnavailableRetriesOnlyReads(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":                              true,
		"  select id FROM grants WHERE id = $1": true,
		"INSERT INTO audit_events (x) VALUES (?) RETURNING id":  false,
		"UPDATE grants SET x = 1":                               false,
		"DELETE FROM grants":                                    false,
		"WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x": false,
	} {
		if got := isRead(q); got != want {
			t.Errorf("isRead(%q) = %v, want %v", q, got, want)
		}
	}
}
