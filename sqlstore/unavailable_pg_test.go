package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/internal/tcpproxy"
	"github.com/behalf-dev/behalf/sqlstore"
)

// Ensure a PostgreSQL that goes away is an unavailable database, never an
// internal error (issue 11, reliability 5: "Database unavailable answers
// 500"): with the store's connections terminated by the server (SQLSTATE
// 57P01, as at a fast shutdown) a read is retried on a fresh connection and
// succeeds, a write fails with EUNAVAILABLE; with the database unreachable
// (a TCP proxy cut) reads, writes and Ping fail with EUNAVAILABLE and a
// message that names nothing of the driver's; once it is back, everything
// works again.
func TestDatabaseUnavailablePostgres(t *testing.T) {
	admin := postgresDSN(t)
	u, err := url.Parse(newSchemaDSN(t, admin))
	if err != nil {
		t.Fatal(err)
	}
	proxy := tcpproxy.New(t, u.Host)
	app := "behalf_unavail_" + strings.ToLower(randid.Upper(8))
	u.Host = proxy.Addr
	q := u.Query()
	q.Set("application_name", app)
	q.Set("connect_timeout", "5")
	u.RawQuery = q.Encode()
	db := openStore(t, u.String())
	adminDB, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer adminDB.Close()
	ctx := t.Context()

	if err := db.CreateWorkload(ctx, &behalf.WorkloadIdentity{Name: "w0", CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}

	newWorkload := func(name string) *behalf.WorkloadIdentity {
		return &behalf.WorkloadIdentity{Name: name, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	}
	update := func() error {
		_, err := db.UpdateWorkload(ctx, "w0", func(w *behalf.WorkloadIdentity) error { return nil })
		return err
	}
	warm := func() {
		t.Helper()
		if _, err := db.ListWorkloads(ctx, behalf.ListOptions{}); err != nil {
			t.Fatalf("read: %v", err)
		}
	}
	// The connections die under the store: closed by the network (as a
	// restarting server's host does) or terminated by the server (FATAL
	// 57P01, as at a fast shutdown). Reads are retried on a fresh
	// connection and succeed, and so is a transaction whose BEGIN failed
	// (nothing was done yet); a single write cut off is unavailable.
	for i := range 3 {
		for _, kill := range []struct {
			name string
			do   func()
		}{{"dropped", proxy.Drop}, {"terminated", func() { terminate(t, adminDB, app) }}} {
			warm()
			kill.do()
			if _, err := db.GetWorkload(ctx, "w0"); err != nil {
				t.Fatalf("read on a %s connection (%d): %v (want it retried on a fresh connection)", kill.name, i, err)
			}
			warm()
			kill.do()
			if _, err := db.ListWorkloads(ctx, behalf.ListOptions{}); err != nil {
				t.Fatalf("list on a %s connection (%d): %v (want it retried on a fresh connection)", kill.name, i, err)
			}
			warm()
			kill.do()
			if err := update(); err != nil {
				t.Fatalf("transaction on a %s connection (%d): %v (want BEGIN retried on a fresh connection)", kill.name, i, err)
			}
			warm()
			kill.do()
			switch err := db.CreateWorkload(ctx, newWorkload(fmt.Sprintf("%s-%d", kill.name, i))); {
			case err == nil:
			case behalf.ErrorCode(err) == behalf.EUNAVAILABLE:
				wantUnavailable(t, "write on a "+kill.name+" connection", err)
			default:
				t.Fatalf("write on a %s connection (%d): %q %v", kill.name, i, behalf.ErrorCode(err), err)
			}
		}
	}

	// The database is unreachable.
	proxy.Cut()
	if _, err := db.GetWorkload(ctx, "w0"); err == nil {
		t.Fatal("read with the database unreachable succeeded")
	} else {
		wantUnavailable(t, "read", err)
	}
	if _, err := db.ListWorkloads(ctx, behalf.ListOptions{}); err == nil {
		t.Fatal("list with the database unreachable succeeded")
	} else {
		wantUnavailable(t, "list", err)
	}
	wantUnavailable(t, "write", db.CreateWorkload(ctx, newWorkload("during")))
	wantUnavailable(t, "update", update())
	wantUnavailable(t, "ping", db.Ping(ctx))
	time.Sleep(sqlstore.ReadyInterval)
	wantUnavailable(t, "readiness", db.Ready(ctx))

	// And back.
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetWorkload(ctx, "w0"); err != nil {
		t.Fatalf("read once the database is back: %v", err)
	}
	if err := db.CreateWorkload(ctx, newWorkload("after")); err != nil {
		t.Fatalf("write once the database is back: %v", err)
	}
	time.Sleep(sqlstore.ReadyInterval)
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("readiness once the database is back: %v", err)
	}
}

// wantUnavailable fails t unless err is the store's unavailable error with
// the fixed message.
func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want unavailable", what)
	}
	if behalf.ErrorCode(err) != behalf.EUNAVAILABLE || !errors.Is(err, behalf.ErrStoreUnavailable) {
		t.Fatalf("%s: %q, want unavailable: %v", what, behalf.ErrorCode(err), err)
	}
	if msg := behalf.ErrorMessage(err); msg != behalf.ErrStoreUnavailable.Message {
		t.Fatalf("%s: message %q", what, msg)
	}
}

// terminate ends every server process of application app, as a fast
// shutdown does (the clients get FATAL 57P01), and waits until they are gone.
func terminate(t *testing.T, adminDB *sql.DB, app string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := adminDB.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", app); err != nil {
		t.Fatal(err)
	}
	for {
		var n int
		if err := adminDB.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
