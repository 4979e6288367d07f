package userpool_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/seal"
	"github.com/behalf-dev/behalf/sqlstore"
	"github.com/behalf-dev/behalf/userpool"
)

// testHashParams are cheap argon2id parameters that keep the suite fast.
var testHashParams = userpool.HashParams{Memory: 64, Time: 1, Threads: 1}

// testPassword satisfies the default policy.
const testPassword = behalf.Secret("Correct-Horse-9")

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a Service on a fresh SQLite store with a settable clock.
type env struct {
	svc   *userpool.Service
	clock *clock
	store *sqlstore.DB
	seal  behalf.Sealer
	ctx   context.Context
	dir   string // the data directory: the key, and the SQLite file
	dsn   string // the store's DSN
}

// newEnv opens a store in t.TempDir and returns a Service with cheap hash
// parameters (hp overrides them when given).
func newEnv(tb testing.TB, hp ...userpool.HashParams) *env {
	tb.Helper()
	dir := tb.TempDir()
	return newEnvAt(tb, dir, filepath.Join(dir, "behalf.db"), newClock(), hp...)
}

// newEnvAt opens the store at dsn, with the local key of dir, and returns
// a Service on it with the clock c: over the same dir, dsn and clock, a
// restarted server or another replica.
func newEnvAt(tb testing.TB, dir, dsn string, c *clock, hp ...userpool.HashParams) *env {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		tb.Fatalf("sqlstore.Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	keeper, err := seal.OpenKeeper(ctx, "", dir)
	if err != nil {
		tb.Fatalf("OpenKeeper: %v", err)
	}
	tb.Cleanup(func() { keeper.Close() })
	sealer := seal.New(keeper, db, seal.Options{})
	params := testHashParams
	if len(hp) > 0 {
		params = hp[0]
	}
	svc := &userpool.Service{
		Store: db, Sealer: sealer, PublicURL: "https://behalf.example", Now: c.Now,
		HashParams: params,
	}
	return &env{svc: svc, clock: c, store: db, seal: sealer, ctx: ctx, dir: dir, dsn: dsn}
}

// replica returns another Service on e's database, through a store of its
// own, with e's clock: a second replica, or e after a restart.
func (e *env) replica(tb testing.TB) *env {
	tb.Helper()
	return newEnvAt(tb, e.dir, e.dsn, e.clock)
}

// postgresEnv is newEnv on a fresh schema of the PostgreSQL database that
// BEHALF_TEST_POSTGRES_DSN names; it skips tb when that is unset.
func postgresEnv(tb testing.TB) *env {
	tb.Helper()
	admin := os.Getenv("BEHALF_TEST_POSTGRES_DSN")
	if admin == "" {
		tb.Skip("BEHALF_TEST_POSTGRES_DSN is unset: the PostgreSQL case is skipped")
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		tb.Fatal(err)
	}
	schema := "userpool_" + strings.ToLower(rand.Text())
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return newEnvAt(tb, tb.TempDir(), u.String(), newClock())
}

// pool creates a pool with the default policy.
func (e *env) pool(tb testing.TB, attrs ...string) *behalf.UserPool {
	tb.Helper()
	p, err := e.svc.CreateUserPool(e.ctx, behalf.CreateUserPoolInput{Name: "test pool", UsernameAttributes: attrs})
	if err != nil {
		tb.Fatalf("CreateUserPool: %v", err)
	}
	return p
}

// client creates an app client allowing password and refresh flows.
func (e *env) client(tb testing.TB, poolID string, secret bool) (*behalf.AppClient, behalf.Secret) {
	tb.Helper()
	c, s, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{
		PoolID: poolID, Name: "app", GenerateSecret: secret,
		ExplicitAuthFlows: []string{behalf.AllowUserPasswordAuth, behalf.AllowAdminUserPasswordAuth, behalf.AllowRefreshTokenAuth},
	})
	if err != nil {
		tb.Fatalf("CreateUserPoolClient: %v", err)
	}
	return c, s
}

// user creates a CONFIRMED user with testPassword and attributes.
func (e *env) user(tb testing.TB, poolID, name string, attrs map[string]string) *behalf.PoolUser {
	tb.Helper()
	u, _, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: poolID, Username: name, Attributes: attrs, MessageAction: "SUPPRESS"})
	if err != nil {
		tb.Fatalf("AdminCreateUser: %v", err)
	}
	if err := e.svc.AdminSetUserPassword(e.ctx, poolID, u.Username, testPassword, true); err != nil {
		tb.Fatalf("AdminSetUserPassword: %v", err)
	}
	return u
}

// signIn runs USER_PASSWORD_AUTH.
func (e *env) signIn(c *behalf.AppClient, secret behalf.Secret, username string, password behalf.Secret) (*behalf.AuthResult, error) {
	params := map[string]behalf.Secret{"USERNAME": behalf.Secret(username), "PASSWORD": password}
	if !secret.IsZero() {
		params["SECRET_HASH"] = behalf.Secret(userpool.SecretHash(secret, username, c.ID))
	}
	return e.svc.InitiateAuth(e.ctx, c.ID, behalf.AuthFlowUserPassword, params)
}

// mustSignIn signs in and returns the tokens.
func (e *env) mustSignIn(tb testing.TB, c *behalf.AppClient, secret behalf.Secret, username string) *behalf.PoolTokens {
	tb.Helper()
	res, err := e.signIn(c, secret, username, testPassword)
	if err != nil {
		tb.Fatalf("sign in %s: %v", username, err)
	}
	if res.Tokens == nil {
		tb.Fatalf("sign in %s: challenge %s, want tokens", username, res.ChallengeName)
	}
	return res.Tokens
}

// refresh runs REFRESH_TOKEN_AUTH.
func (e *env) refresh(c *behalf.AppClient, secret behalf.Secret, username string, token behalf.Secret) (*behalf.AuthResult, error) {
	params := map[string]behalf.Secret{"REFRESH_TOKEN": token}
	if !secret.IsZero() {
		params["SECRET_HASH"] = behalf.Secret(userpool.SecretHash(secret, username, c.ID))
	}
	return e.svc.InitiateAuth(e.ctx, c.ID, behalf.AuthFlowRefreshToken, params)
}

// lockout returns the lockout record of a name (a user's username, or a
// name no user has), or a zero record (with no PoolID) if it has none.
func (e *env) lockout(tb testing.TB, poolID, name string) *behalf.PoolLockout {
	tb.Helper()
	l, err := e.store.GetPoolLockout(e.ctx, poolID, userpool.LockoutKey(poolID, name))
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return &behalf.PoolLockout{}
	}
	if err != nil {
		tb.Fatalf("GetPoolLockout: %v", err)
	}
	return l
}

// wantCognito fails unless err is a CognitoError with exception and,
// when msg is not empty, that message.
func wantCognito(tb testing.TB, err error, exception, msg string) {
	tb.Helper()
	var ce *behalf.CognitoError
	if !errors.As(err, &ce) {
		tb.Fatalf("error = %v, want %s", err, exception)
	}
	if ce.Exception != exception || (msg != "" && ce.Message != msg) {
		tb.Fatalf("error = %s %q, want %s %q", ce.Exception, ce.Message, exception, msg)
	}
}
