package userpool_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/userpool"
)

// wrongPassword satisfies the default policy and is no user's password.
const wrongPassword = behalf.Secret("Wrong-Password-1")

// lockoutBackends runs fn on SQLite, and on PostgreSQL when
// BEHALF_TEST_POSTGRES_DSN is set.
func lockoutBackends(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, postgresEnv(t)) })
}

// TestLockoutSurvivesRestart locks a user and a name no user has out, then
// asks a new Service over a new store handle on the same database (a
// restarted server): both are still locked out, alike.
func TestLockoutSurvivesRestart(t *testing.T) {
	lockoutBackends(t, func(t *testing.T, e *env) {
		p := e.pool(t)
		c, _ := e.client(t, p.ID, false)
		e.user(t, p.ID, "alice", nil)
		for _, name := range []string{"alice", "ghost"} {
			for range 5 {
				_, err := e.signIn(c, "", name, wrongPassword)
				wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
			}
		}
		r := e.replica(t)
		e.store.Close() // the first server is gone
		for _, name := range []string{"alice", "ghost"} {
			_, err := r.signIn(c, "", name, testPassword)
			wantCognito(t, err, behalf.CognitoNotAuthorized, "Password attempts exceeded")
			_, err = r.svc.AuthenticatePassword(r.ctx, p.ID, name, testPassword)
			wantCognito(t, err, behalf.CognitoNotAuthorized, "Password attempts exceeded")
		}
		r.clock.Add(time.Second) // the fifth failure's lock ends
		if _, err := r.signIn(c, "", "alice", testPassword); err != nil {
			t.Fatalf("alice after the lock: %v", err)
		}
	})
}

// TestLockoutSharedByReplicas fails names on two Services (replicas, each
// with its own store handle) in turn: the failures add up, and the lock
// one replica sets holds on the other, for a user and an unknown name
// alike. A success on one replica resets the count on both.
func TestLockoutSharedByReplicas(t *testing.T) {
	lockoutBackends(t, func(t *testing.T, a *env) {
		b := a.replica(t)
		p := a.pool(t)
		c, _ := a.client(t, p.ID, false)
		a.user(t, p.ID, "alice", nil)
		replicas := []*env{a, b}
		for _, name := range []string{"alice", "ghost"} {
			for i := range 5 {
				_, err := replicas[i%2].signIn(c, "", name, wrongPassword)
				wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
			}
			for _, r := range replicas {
				_, err := r.signIn(c, "", name, testPassword)
				wantCognito(t, err, behalf.CognitoNotAuthorized, "Password attempts exceeded")
			}
		}
		a.clock.Add(time.Second)
		if _, err := b.signIn(c, "", "alice", testPassword); err != nil {
			t.Fatalf("alice on b after the lock: %v", err)
		}
		// b's success reset alice: four failures on a do not lock her.
		for range 4 {
			_, err := a.signIn(c, "", "alice", wrongPassword)
			wantCognito(t, err, behalf.CognitoNotAuthorized, "Incorrect username or password.")
		}
		if _, err := a.signIn(c, "", "alice", testPassword); err != nil {
			t.Fatalf("alice after four failures: %v", err)
		}
	})
}

// TestLockoutConcurrentReplicas fails an unknown name from many goroutines
// on two replicas at once. Each attempt is either refused as locked (once
// an earlier one locked the name) or counted: none is lost between
// replicas.
func TestLockoutConcurrentReplicas(t *testing.T) {
	lockoutBackends(t, func(t *testing.T, a *env) {
		b := a.replica(t)
		p := a.pool(t)
		c, _ := a.client(t, p.ID, false)
		const n = 12
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			refused int
		)
		for i := range n {
			r := []*env{a, b}[i%2]
			wg.Go(func() {
				_, err := r.signIn(c, "", "ghost", wrongPassword)
				var ce *behalf.CognitoError
				switch {
				case !errors.As(err, &ce) || ce.Exception != behalf.CognitoNotAuthorized:
					t.Errorf("ghost: %v", err)
				case ce.Message == "Password attempts exceeded":
					mu.Lock()
					refused++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if l := a.lockout(t, p.ID, "ghost"); l.Failures+refused != n || l.Failures < 5 {
			t.Fatalf("%d concurrent attempts on two replicas: %d counted, %d refused as locked", n, l.Failures, refused)
		}
	})
}

// TestLockoutAnswersAlike signs in as a user with a wrong password and as
// a name no user has, attempt after attempt, through the Cognito API and
// the hosted login, across lock ends, idle resets and restarts: the two
// answers are the same every time.
func TestLockoutAnswersAlike(t *testing.T) {
	for _, tc := range []struct {
		name       string
		attrs      []string
		user, none string
	}{
		{"username", nil, "alice", "mallory"},
		{"email", []string{"email"}, "alice@example.com", "mallory@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			p := e.pool(t, tc.attrs...)
			c, _ := e.client(t, p.ID, false)
			var attrs map[string]string
			if tc.attrs != nil {
				attrs = map[string]string{"email": tc.user}
			}
			e.user(t, p.ID, tc.user, attrs)
			// Between attempts: nothing, a second, a restart, or an idle
			// reset, in a pattern that reaches locks of several lengths.
			steps := []string{"", "", "", "", "", "", "restart", "1s", "", "1s", "2s", "restart", "", "4s",
				"", "", "restart", "idle", "", "", "", "", "", "restart", "", "8s", "8s", "16s"}
			for i, step := range steps {
				switch step {
				case "":
				case "restart":
					e = e.replica(t)
				case "idle":
					e.clock.Add(31 * time.Minute)
				default:
					d, _ := time.ParseDuration(step)
					e.clock.Add(d)
				}
				var user, none error
				if i%2 == 0 {
					_, user = e.signIn(c, "", tc.user, wrongPassword)
					_, none = e.signIn(c, "", tc.none, wrongPassword)
				} else {
					_, user = e.svc.AuthenticatePassword(e.ctx, p.ID, tc.user, wrongPassword)
					_, none = e.svc.AuthenticatePassword(e.ctx, p.ID, tc.none, wrongPassword)
				}
				if user == nil || none == nil || user.Error() != none.Error() ||
					behalf.CognitoException(user) != behalf.CognitoException(none) {
					t.Fatalf("attempt %d (after %q): user %v, unknown name %v", i+1, step, user, none)
				}
			}
		})
	}
}

// TestLockoutStoresNoNames fails sign-ins with names no user has and
// checks that none of them is written to the database files, while their
// lockout records are there, under the names' hashes.
func TestLockoutStoresNoNames(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	names := []string{"mallory-7f3a9c", "Correct-Horse-Battery-Staple-as-a-name", "eve.q8z@example.com"}
	for _, name := range names {
		for range 6 {
			_, _ = e.signIn(c, "", name, wrongPassword)
		}
		if l := e.lockout(t, p.ID, name); l.Failures != 5 || l.PoolID != p.ID {
			t.Fatalf("lockout record of %q = %+v, want 5 failures", name, l)
		}
	}
	files, _ := filepath.Glob(filepath.Join(e.dir, "behalf.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if bytes.Contains(b, []byte(name)) {
				t.Errorf("%s holds the name %q", filepath.Base(f), name)
			}
		}
	}
}

// recorder is a Store that records the user pool store calls made through
// it: every write, and the reads a sign-in makes.
type recorder struct {
	userpool.Store
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, name)
}

// take returns the calls recorded since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recorder) GetUserPool(ctx context.Context, id string) (*behalf.UserPool, error) {
	r.add("GetUserPool")
	return r.Store.GetUserPool(ctx, id)
}

func (r *recorder) GetAppClient(ctx context.Context, id string) (*behalf.AppClient, error) {
	r.add("GetAppClient")
	return r.Store.GetAppClient(ctx, id)
}

func (r *recorder) GetPoolUser(ctx context.Context, poolID, username string) (*behalf.PoolUser, error) {
	r.add("GetPoolUser")
	return r.Store.GetPoolUser(ctx, poolID, username)
}

func (r *recorder) GetPoolUserBySub(ctx context.Context, poolID, sub string) (*behalf.PoolUser, error) {
	r.add("GetPoolUserBySub")
	return r.Store.GetPoolUserBySub(ctx, poolID, sub)
}

func (r *recorder) FindPoolUserByAttribute(ctx context.Context, poolID, name, value string) (*behalf.PoolUser, error) {
	r.add("FindPoolUserByAttribute")
	return r.Store.FindPoolUserByAttribute(ctx, poolID, name, value)
}

func (r *recorder) GetPoolLockout(ctx context.Context, poolID, hash string) (*behalf.PoolLockout, error) {
	r.add("GetPoolLockout")
	return r.Store.GetPoolLockout(ctx, poolID, hash)
}

func (r *recorder) CreateUserPool(ctx context.Context, p *behalf.UserPool) error {
	r.add("CreateUserPool")
	return r.Store.CreateUserPool(ctx, p)
}

func (r *recorder) UpdateUserPool(ctx context.Context, id string, fn func(*behalf.UserPool) error) (*behalf.UserPool, error) {
	r.add("UpdateUserPool")
	return r.Store.UpdateUserPool(ctx, id, fn)
}

func (r *recorder) DeleteUserPool(ctx context.Context, id string) error {
	r.add("DeleteUserPool")
	return r.Store.DeleteUserPool(ctx, id)
}

func (r *recorder) CreateAppClient(ctx context.Context, c *behalf.AppClient) error {
	r.add("CreateAppClient")
	return r.Store.CreateAppClient(ctx, c)
}

func (r *recorder) UpdateAppClient(ctx context.Context, id string, fn func(*behalf.AppClient) error) (*behalf.AppClient, error) {
	r.add("UpdateAppClient")
	return r.Store.UpdateAppClient(ctx, id, fn)
}

func (r *recorder) DeleteAppClient(ctx context.Context, id string) error {
	r.add("DeleteAppClient")
	return r.Store.DeleteAppClient(ctx, id)
}

func (r *recorder) CreatePoolUser(ctx context.Context, u *behalf.PoolUser) error {
	r.add("CreatePoolUser")
	return r.Store.CreatePoolUser(ctx, u)
}

func (r *recorder) UpdatePoolUser(ctx context.Context, poolID, username string, fn func(*behalf.PoolUser) error) (*behalf.PoolUser, error) {
	r.add("UpdatePoolUser")
	return r.Store.UpdatePoolUser(ctx, poolID, username, fn)
}

func (r *recorder) DeletePoolUser(ctx context.Context, poolID, username string) error {
	r.add("DeletePoolUser")
	return r.Store.DeletePoolUser(ctx, poolID, username)
}

func (r *recorder) CreatePoolRefreshToken(ctx context.Context, t *behalf.PoolRefreshToken) error {
	r.add("CreatePoolRefreshToken")
	return r.Store.CreatePoolRefreshToken(ctx, t)
}

func (r *recorder) RevokePoolRefreshTokens(ctx context.Context, poolID, username, clientID string) (int, error) {
	r.add("RevokePoolRefreshTokens")
	return r.Store.RevokePoolRefreshTokens(ctx, poolID, username, clientID)
}

func (r *recorder) RevokePoolRefreshToken(ctx context.Context, hash string) error {
	r.add("RevokePoolRefreshToken")
	return r.Store.RevokePoolRefreshToken(ctx, hash)
}

func (r *recorder) CreatePoolAuthRequest(ctx context.Context, a *behalf.PoolAuthRequest) error {
	r.add("CreatePoolAuthRequest")
	return r.Store.CreatePoolAuthRequest(ctx, a)
}

func (r *recorder) UpdatePoolAuthRequest(ctx context.Context, id string, fn func(*behalf.PoolAuthRequest) error) (*behalf.PoolAuthRequest, error) {
	r.add("UpdatePoolAuthRequest")
	return r.Store.UpdatePoolAuthRequest(ctx, id, fn)
}

func (r *recorder) DeletePoolAuthRequest(ctx context.Context, id string) error {
	r.add("DeletePoolAuthRequest")
	return r.Store.DeletePoolAuthRequest(ctx, id)
}

func (r *recorder) DeleteExpiredPoolAuthRequests(ctx context.Context, before time.Time) (int, error) {
	r.add("DeleteExpiredPoolAuthRequests")
	return r.Store.DeleteExpiredPoolAuthRequests(ctx, before)
}

func (r *recorder) FailPoolLockout(ctx context.Context, poolID, hash string, now time.Time, p behalf.LockoutPolicy) (*behalf.PoolLockout, error) {
	r.add("FailPoolLockout")
	return r.Store.FailPoolLockout(ctx, poolID, hash, now, p)
}

func (r *recorder) DeletePoolLockout(ctx context.Context, poolID, hash string) error {
	r.add("DeletePoolLockout")
	return r.Store.DeletePoolLockout(ctx, poolID, hash)
}

func (r *recorder) DeleteStalePoolLockouts(ctx context.Context, before time.Time) (int, error) {
	r.add("DeleteStalePoolLockouts")
	return r.Store.DeleteStalePoolLockouts(ctx, before)
}

func (r *recorder) CreateSigningKey(ctx context.Context, k *behalf.SigningKey) error {
	r.add("CreateSigningKey")
	return r.Store.CreateSigningKey(ctx, k)
}

// TestSignInSameStoreWork records the store calls of failed sign-ins: a
// user's wrong password and a name no user has make the same calls, in the
// same order, with the same one write; so do a locked user and a locked
// unknown name (no write). A success with no failures before writes
// nothing; one after failures deletes the lockout record.
func TestSignInSameStoreWork(t *testing.T) {
	for _, tc := range []struct {
		name       string
		attrs      []string
		user, none string
	}{
		{"username", nil, "alice", "mallory"},
		{"email", []string{"email"}, "alice@example.com", "mallory@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			rec := &recorder{Store: e.store}
			e.svc.Store = rec
			p := e.pool(t, tc.attrs...)
			c, _ := e.client(t, p.ID, false)
			var attrs map[string]string
			if tc.attrs != nil {
				attrs = map[string]string{"email": tc.user}
			}
			e.user(t, p.ID, tc.user, attrs)

			// The hosted login's path: a success with no failure before.
			rec.take()
			if _, err := e.svc.AuthenticatePassword(e.ctx, p.ID, tc.user, testPassword); err != nil {
				t.Fatal(err)
			}
			success := rec.take()
			if w := writes(success); len(w) != 0 {
				t.Errorf("a success without failures wrote %v (calls %v)", w, success)
			}
			for attempt := 1; attempt <= 6; attempt++ {
				_, _ = e.signIn(c, "", tc.user, wrongPassword)
				user := rec.take()
				_, _ = e.signIn(c, "", tc.none, wrongPassword)
				none := rec.take()
				if !slices.Equal(user, none) {
					t.Fatalf("attempt %d: the user's wrong password made the calls %v, the unknown name %v", attempt, user, none)
				}
				want := []string{"FailPoolLockout"}
				if attempt == 6 { // locked: no hash, no write
					want = nil
				}
				if w := writes(user); !slices.Equal(w, want) {
					t.Fatalf("attempt %d wrote %v, want %v", attempt, w, want)
				}
			}
			e.clock.Add(time.Second)
			if _, err := e.svc.AuthenticatePassword(e.ctx, p.ID, tc.user, testPassword); err != nil {
				t.Fatal(err)
			}
			if w := writes(rec.take()); !slices.Equal(w, []string{"DeletePoolLockout"}) {
				t.Errorf("a success after failures wrote %v, want the lockout record deleted", w)
			}
		})
	}
}

// writes returns the writes among recorded calls.
func writes(calls []string) []string {
	var w []string
	for _, c := range calls {
		if !slices.Contains([]string{"GetUserPool", "GetAppClient", "GetPoolUser", "GetPoolUserBySub",
			"FindPoolUserByAttribute", "GetPoolLockout"}, c) {
			w = append(w, c)
		}
	}
	return w
}

// TestLockoutSweep deletes stale lockout records: not while they count, and
// every one once its lock ended more than the reset window and the grace
// ago, in every pool.
func TestLockoutSweep(t *testing.T) {
	e := newEnv(t)
	p, q := e.pool(t), e.pool(t)
	c, _ := e.client(t, p.ID, false)
	d, _ := e.client(t, q.ID, false)
	e.user(t, p.ID, "alice", nil)
	for range 5 {
		_, _ = e.signIn(c, "", "alice", wrongPassword) // locked until now + 1 s
		_, _ = e.signIn(d, "", "ghost", wrongPassword)
	}
	const grace = 5 * time.Minute
	sweep := func() int {
		n, err := e.svc.DeleteStaleLockouts(e.ctx, grace)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	e.clock.Add(time.Second + 15*time.Minute + grace - time.Microsecond)
	if n := sweep(); n != 0 {
		t.Fatalf("swept %d records still within the window", n)
	}
	e.clock.Add(2 * time.Microsecond)
	if n := sweep(); n != 2 {
		t.Fatalf("swept %d stale records, want 2", n)
	}
	for _, k := range []struct{ pool, name string }{{p.ID, "alice"}, {q.ID, "ghost"}} {
		if l := e.lockout(t, k.pool, k.name); l.Failures != 0 {
			t.Fatalf("%s still has a record after the sweep: %+v", k.name, l)
		}
	}
}

// TestAdminSetUserPasswordClearsLockout: an administrator's new password
// unlocks the user.
func TestAdminSetUserPasswordClearsLockout(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	for range 5 {
		_, _ = e.signIn(c, "", "alice", wrongPassword)
	}
	_, err := e.signIn(c, "", "alice", testPassword)
	wantCognito(t, err, behalf.CognitoNotAuthorized, "Password attempts exceeded")
	if err := e.svc.AdminSetUserPassword(e.ctx, p.ID, "alice", testPassword, true); err != nil {
		t.Fatal(err)
	}
	e.mustSignIn(t, c, "", "alice")
}
