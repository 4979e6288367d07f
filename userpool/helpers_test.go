package userpool_test

import (
	"context"
	"errors"
	"path/filepath"
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
}

// newEnv opens a store in t.TempDir and returns a Service with cheap hash
// parameters (hp overrides them when given).
func newEnv(tb testing.TB, hp ...userpool.HashParams) *env {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "behalf.db"))
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
	c := newClock()
	params := testHashParams
	if len(hp) > 0 {
		params = hp[0]
	}
	svc := &userpool.Service{
		Store: db, Sealer: sealer, PublicURL: "https://behalf.example", Now: c.Now,
		HashParams: params,
	}
	return &env{svc: svc, clock: c, store: db, seal: sealer, ctx: ctx}
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
