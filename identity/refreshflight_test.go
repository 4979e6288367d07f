package identity

// Refreshing vaulted tokens: one provider call however many callers and
// replicas find a token stale (the in-process singleflight and the
// store's refresh lease), and what callers get when the provider fails.
// cmd/behalf keeps the end-to-end test through the official clients
// (TestRefreshFailures).

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
	"github.com/behalf-dev/behalf/internal/randid"
)

// postgresEnv names the PostgreSQL server tests may use; unset, the
// PostgreSQL cases are skipped.
const postgresEnv = "BEHALF_TEST_POSTGRES_DSN"

// harnesses returns a harness maker per store: SQLite, and PostgreSQL
// (a fresh schema) when postgresEnv is set.
func harnesses(t *testing.T) map[string]func(t *testing.T) *harness {
	m := map[string]func(t *testing.T) *harness{"sqlite": newHarness}
	if dsn := os.Getenv(postgresEnv); dsn != "" {
		m["postgres"] = func(t *testing.T) *harness { return newHarnessOn(t, freshSchema(t, dsn)) }
	} else {
		t.Logf("%s is unset: the PostgreSQL cases are skipped", postgresEnv)
	}
	return m
}

// freshSchema creates an empty PostgreSQL schema for t and returns a DSN
// that uses it (sqlstore registers the "pgx" driver).
func freshSchema(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := "identity_" + strings.ToLower(randid.Upper(12))
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// grantOf returns u's grant at f's provider, as stored.
func (f *flow) grantOf(u behalf.User) *behalf.Grant {
	f.t.Helper()
	conns, err := f.dp.Vault().ListConnections(context.Background(), u.Key())
	if err != nil || len(conns) != 1 {
		f.t.Fatalf("%s's connections: %+v, %v; want one", u.Key(), conns, err)
	}
	g, err := f.db.GetGrantByID(context.Background(), conns[0].GrantID)
	if err != nil {
		f.t.Fatal(err)
	}
	return g
}

func (f *flow) refreshes() int {
	_, _, n, _ := f.fp.Counts()
	return n
}

// Ensure that once a vaulted token has expired, 100 concurrent callers,
// spread over two replicas sharing the store, make exactly one refresh
// call at the provider, and every one of them gets the refreshed token;
// the refresh lease is released afterwards.
func TestRefreshSingleFlight(t *testing.T) {
	for name, newH := range harnesses(t) {
		t.Run(name, func(t *testing.T) {
			f := newH(t).withFlow(fakeprovider.Options{AccessTokenTTL: 10 * time.Minute})
			alice := byID("alice")
			first := f.connect(alice)
			replicas := []*DataPlane{f.dp, f.replica()}

			f.clock.Advance(11 * time.Minute) // the access token has expired
			before := f.refreshes()
			const callers = 100
			tokens := make(chan behalf.Secret, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Add(1)
				go func(dp *DataPlane) {
					defer wg.Done()
					wat, err := dp.WorkloadAccessTokenForUserID(f.root, testWorkload, alice.Subject)
					if err != nil {
						t.Error(err)
						return
					}
					res, err := dp.ResourceOAuth2Token(f.root, f.request(wat, ""))
					if err != nil {
						t.Error(err)
						return
					}
					tokens <- res.AccessToken
				}(replicas[i%len(replicas)])
			}
			wg.Wait()
			close(tokens)
			if n := f.refreshes() - before; n != 1 {
				t.Fatalf("provider refreshes = %d, want exactly 1", n)
			}
			var refreshed behalf.Secret
			n := 0
			for tok := range tokens {
				n++
				if tok.IsZero() || tok == first || (refreshed != "" && tok != refreshed) {
					t.Fatalf("a caller got %q; want the one refreshed token, not the expired one", tok.Reveal())
				}
				refreshed = tok
			}
			if n != callers {
				t.Fatalf("%d callers got a token, want %d", n, callers)
			}
			if g := f.grantOf(alice); !g.RefreshLease.IsZero() || g.RefreshedAt.IsZero() || !g.ExpiresAt.After(f.clock.Now()) {
				t.Fatalf("grant after the refresh: lease %v, refreshed at %v, expires %v", g.RefreshLease, g.RefreshedAt, g.ExpiresAt)
			}
			if !f.driveWorks(refreshed) {
				t.Fatal("the refreshed token does not work at the provider")
			}
			if es := f.events(behalf.AuditGrantRefreshed); len(es) != 1 {
				t.Fatalf("%d grant.refreshed events, want 1", len(es))
			}
		})
	}
}

// Ensure a token within StaleMargin of its expiry is refreshed before it
// is handed out, and a fresh one is not.
func TestRefreshWhenStale(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{AccessTokenTTL: 10 * time.Minute})
	alice := byID("alice")
	first := f.connect(alice)
	before := f.refreshes()
	f.clock.Advance(10*time.Minute - StaleMargin - time.Second)
	if got := f.vaultToken(f.wat(alice)); got != first || f.refreshes() != before {
		t.Fatalf("a token %v before its stale margin: refreshed %d times, same token %v", time.Second, f.refreshes()-before, got == first)
	}
	f.clock.Advance(2 * time.Second)
	got := f.vaultToken(f.wat(alice))
	if got.IsZero() || got == first || f.refreshes() != before+1 {
		t.Fatalf("a stale token: refreshed %d times, new token %v; want one refresh and a new token", f.refreshes()-before, got != first)
	}
}

// Ensure what callers get when a refresh fails: while the old token is
// still valid, the old token; once it has expired, a transient failure is
// EUNAVAILABLE with the provider's Retry-After and keeps the grant (the
// next call after the provider recovers refreshes it); invalid_grant
// deletes the grant and starts a consent.
func TestRefreshFailures(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{AccessTokenTTL: 10 * time.Minute})
	alice := byID("alice")
	first := f.connect(alice)

	f.clock.Advance(10*time.Minute - StaleMargin/2) // stale, not expired
	f.fp.FailRefreshWith(503, "temporarily_unavailable")
	if got := f.vaultToken(f.wat(alice)); got != first {
		t.Fatal("a failed refresh of a token still valid did not return that token")
	}

	f.clock.Advance(StaleMargin) // expired
	f.fp.SetRetryAfter(7 * time.Second)
	_, err := f.dp.ResourceOAuth2Token(f.root, f.request(f.wat(alice), ""))
	var ra behalf.RetryAfterError
	if behalf.ErrorCode(err) != behalf.EUNAVAILABLE || !errors.As(err, &ra) || ra.RetryAfter() != 7*time.Second {
		t.Fatalf("a transient refresh failure after expiry: %v, want EUNAVAILABLE retrying after 7s", err)
	}
	if g := f.grantOf(alice); !g.RefreshLease.IsZero() {
		t.Fatalf("the failed refresh kept its lease until %v", g.RefreshLease)
	}
	if es := f.events(behalf.AuditRefreshFailed); len(es) != 2 || es[0].Detail != "transient" {
		t.Fatalf("refresh.failed events %v, want two transient", details(es))
	}

	f.fp.FailRefreshWith(0, "")
	recovered := f.vaultToken(f.wat(alice))
	if recovered.IsZero() || recovered == first {
		t.Fatal("after the provider recovered the grant was not refreshed")
	}

	f.clock.Advance(11 * time.Minute)
	f.fp.FailRefreshWith(400, "invalid_grant")
	res := f.fetchAs(f.root, f.request(f.wat(alice), ""))
	if !res.AccessToken.IsZero() || res.AuthorizationURL == "" {
		t.Fatalf("after invalid_grant: %+v, want a consent", res)
	}
	if conns, err := f.dp.Vault().ListConnections(context.Background(), alice.Key()); err != nil || len(conns) != 0 {
		t.Fatalf("alice's connections after invalid_grant: %+v, %v; want none", conns, err)
	}
}

// Ensure a replica that finds an expired token while another replica
// holds the grant's refresh lease calls no provider and waits; once the
// lease is given back it refreshes, once.
func TestRefreshWaitsForLease(t *testing.T) {
	for name, newH := range harnesses(t) {
		t.Run(name, func(t *testing.T) {
			f := newH(t).withFlow(fakeprovider.Options{AccessTokenTTL: 10 * time.Minute})
			ctx := context.Background()
			alice := byID("alice")
			first := f.connect(alice)
			f.clock.Advance(11 * time.Minute)
			g := f.grantOf(alice)
			now := f.clock.Now()
			if claimed, err := f.db.ClaimGrantRefresh(ctx, g.ID, now, now.Add(RefreshLease)); err != nil || !claimed {
				t.Fatalf("claim the lease as another replica: %v %v", claimed, err)
			}
			before := f.refreshes()
			type result struct {
				res *behalf.TokenResult
				err error
			}
			done := make(chan result, 1)
			wat := f.wat(alice)
			go func() {
				res, err := f.replica().ResourceOAuth2Token(f.root, f.request(wat, ""))
				done <- result{res, err}
			}()
			select {
			case r := <-done:
				t.Fatalf("a fetch while another replica holds the lease answered at once: %+v, %v", r.res, r.err)
			case <-time.After(300 * time.Millisecond):
			}
			if n := f.refreshes() - before; n != 0 {
				t.Fatalf("%d provider refreshes while another replica held the lease, want none", n)
			}
			if _, err := f.db.UpdateGrant(ctx, g.ID, func(x *behalf.Grant) error { x.RefreshLease = time.Time{}; return nil }); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-done:
				if r.err != nil || r.res.AccessToken.IsZero() || r.res.AccessToken == first {
					t.Fatalf("fetch after the lease was given back: %+v, %v; want a refreshed token", r.res, r.err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the waiting fetch never answered")
			}
			if n := f.refreshes() - before; n != 1 {
				t.Fatalf("%d provider refreshes, want 1", n)
			}
		})
	}
}
