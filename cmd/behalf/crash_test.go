package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	_ "modernc.org/sqlite"

	"github.com/behalf-dev/behalf/identity"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
	"github.com/behalf-dev/behalf/sandbox"
)

// Ensure kill -9 in the middle of refresh and completion loops loses
// nothing that was committed and leaves nothing half-written: after every
// restart each grant that was bound or returned before the kill opens (a
// fresh access token the provider accepts), a session whose binding was cut
// off can still be bound (or already was, with its grant), no call answers
// InternalServerException, and SQLite passes PRAGMA integrity_check.
//
// The provider behaves like Google (no refresh-token rotation), so no
// refresh token is ever legitimately consumed and a committed user must
// never be sent back to consent. Access tokens live 10 s, inside Behalf's
// 60 s stale margin, so every GetResourceOauth2Token refreshes.
//
// A grant whose refresh was in flight at the kill keeps its refresh lease
// (identity.RefreshLease, 15 s) in the database; calls for it wait until the
// lease runs out. Such grants are checked at the end, once their leases have
// expired, which makes this test take about RefreshLease plus a few seconds.
func TestCrashDuringRefreshAndBinding(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	start := time.Now()
	bin := buildBehalf(t)
	dataDir := t.TempDir()
	addr := freeLoopbackAddr(t)
	google := fakeprovider.New(t, fakeprovider.Options{AccessTokenTTL: 10 * time.Second})

	proc := startBehalfProcess(t, bin, addr, dataDir)
	s := &testServer{URL: "http://" + addr, DataDir: dataDir, Log: proc.log, Captured: &syncBuffer{}}
	s.KeyID, s.Secret = readCredentials(t, filepath.Join(dataDir, "credentials"))
	f := newCrashFixture(t, s, google)
	f.setClient()

	ctx := context.Background()
	for i := range 20 {
		user := fmt.Sprintf("seed-%02d", i)
		if err := f.consent(ctx, user); err != nil {
			t.Fatalf("seed consent for %s: %v\n%s", user, err, proc.log)
		}
	}
	t.Logf("20 seed grants in %v", time.Since(start).Round(time.Millisecond))

	var deferred []string // users whose grant had an orphaned refresh lease after a kill
	for round := 1; round <= 3; round++ {
		stats := f.runLoops(round, time.Second+rand.N(time.Second), deferred, proc.kill)
		dbState := inspectDatabase(t, filepath.Join(dataDir, "behalf.db"))
		proc = startBehalfProcess(t, bin, addr, dataDir)
		f.setClient()

		leased := dbState.leasedUsers(time.Now())
		for _, u := range leased {
			if !slices.Contains(deferred, u) {
				deferred = append(deferred, u)
			}
		}
		committed, attempted, pending := f.snapshot()
		t.Logf("round %d: killed after %v: %d tokens returned, %d consents started, %d bound, %d loop errors before the kill (%d after); "+
			"%d committed users, %d uncommitted, %d sessions cut off before binding, %d orphaned refresh leases %v",
			round, stats.ran.Round(time.Millisecond), stats.tokens.Load(), stats.consents.Load(), stats.bound.Load(), stats.errors.Load(), stats.afterKill.Load(),
			len(committed), len(attempted), len(pending), len(leased), leased)
		for msg, n := range stats.sample {
			t.Logf("round %d: %4d × %s", round, n, msg)
		}
		f.verify(t, round, committed, attempted, pending, deferred, 10*time.Second)
		f.checkFailures(t)
	}

	// The grants held by a refresh lease at a kill open once it expires.
	if len(deferred) > 0 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var waits []time.Duration
		for _, u := range deferred {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), identity.RefreshLease+15*time.Second)
				defer cancel()
				t0 := time.Now()
				if err := f.expectToken(ctx, u); err != nil {
					f.fail("after the orphaned lease expired, %s: %v", u, err)
				}
				mu.Lock()
				waits = append(waits, time.Since(t0).Round(time.Millisecond))
				mu.Unlock()
			}()
		}
		wg.Wait()
		slices.Sort(waits)
		t.Logf("%d grants held by orphaned refresh leases opened; each call waited %v", len(deferred), waits)
	}
	f.checkFailures(t)
	final := inspectDatabaseLive(t, filepath.Join(dataDir, "behalf.db"))
	if final.integrity != "ok" {
		t.Fatalf("integrity_check after the run: %s", final.integrity)
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// buildBehalf builds the behalf binary into a temporary directory.
func buildBehalf(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "behalf")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeLoopbackAddr returns a loopback address with a port that was free.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// behalfProcess is `behalf serve` running as a child process.
type behalfProcess struct {
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
}

// startBehalfProcess runs the binary on addr and dataDir (SQLite in the data
// dir) and waits until /healthz answers.
func startBehalfProcess(t *testing.T, bin, addr, dataDir string) *behalfProcess {
	t.Helper()
	p, err := runBehalf(t, bin, addr, "/healthz", 15*time.Second, nil, "--data-dir", dataDir, "--allow-private-endpoints")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runBehalf runs `behalf serve --listen addr args...` with the test's
// environment less BEHALF_* (plus env), killed when t ends, and waits at
// most wait until ready (a health path) answers 200. It reports failure
// as an error, so that it may run outside the test's goroutine.
func runBehalf(t testing.TB, bin, addr, ready string, wait time.Duration, env []string, args ...string) (*behalfProcess, error) {
	p := &behalfProcess{log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--listen", addr}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BEHALF_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		return p, err
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	deadline := time.Now().Add(wait)
	for {
		resp, err := http.Get("http://" + addr + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return p, fmt.Errorf("behalf on %s exited during start: %v\n%s", addr, p.cmd.ProcessState, p.log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return p, fmt.Errorf("behalf on %s did not answer %s in %s\n%s", addr, ready, wait, p.log)
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *behalfProcess) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// crashFixture is flowFixture for many users at once: the app binds each
// session as the user who started it.
type crashFixture struct {
	server *testServer
	google *fakeprovider.Server
	appURL string
	client atomic.Pointer[dp.Client] // for the current server process

	sessions sync.Map // session URI → user, from the first call
	wats     sync.Map // user → workload access token

	mu        sync.Mutex
	committed map[string]string // user → "bound" or "returned": a grant existed before a kill
	attempted map[string]bool   // users whose consent started but never committed
	pending   map[string]string // session URI → user: the app got the callback, binding unconfirmed
	failures  []string
}

func newCrashFixture(t testing.TB, s *testServer, google *fakeprovider.Server) *crashFixture {
	t.Helper()
	f := &crashFixture{server: s, google: google, committed: map[string]string{}, attempted: map[string]bool{}, pending: map[string]string{}}
	app := httptest.NewServer(http.HandlerFunc(f.appCallback))
	t.Cleanup(app.Close)
	f.appURL = app.URL + "/callback"
	c := ctl.New(ctl.Options{
		BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, ""),
	})
	out, err := c.CreateOauth2CredentialProvider(context.Background(), &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("google-drive-provider"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: customDiscovery(google.URL+fakeprovider.DiscoveryPath, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	google.RegisterClient("cid", "csecret", aws.ToString(out.CallbackUrl))
	if _, err := c.CreateWorkloadIdentity(context.Background(), &ctl.CreateWorkloadIdentityInput{
		Name: aws.String("drive-agent"), AllowedResourceOauth2ReturnUrls: []string{f.appURL},
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

// setClient gives the fixture a data-plane client with no pooled
// connections to an earlier (killed) process.
func (f *crashFixture) setClient() {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	f.client.Store(dp.New(dp.Options{
		BaseEndpoint: aws.String(f.server.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(f.server.KeyID, f.server.Secret, ""),
		HTTPClient:  &http.Client{Transport: tr},
	}))
}

func (f *crashFixture) dp() *dp.Client { return f.client.Load() }

func (f *crashFixture) fail(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, fmt.Sprintf(format, args...))
}

func (f *crashFixture) checkFailures(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.failures) > 0 {
		t.Fatalf("%d failures:\n%s", len(f.failures), strings.Join(f.failures, "\n"))
	}
}

func (f *crashFixture) commit(user, how string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.committed[user]; !ok {
		f.committed[user] = how
	}
	delete(f.attempted, user)
}

// snapshot returns the committed users, the uncommitted ones and the
// sessions cut off between callback and binding.
func (f *crashFixture) snapshot() (committed, attempted []string, pending map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for u := range f.committed {
		committed = append(committed, u)
	}
	for u := range f.attempted {
		attempted = append(attempted, u)
	}
	slices.Sort(committed)
	slices.Sort(attempted)
	pending = map[string]string{}
	for uri, u := range f.pending {
		pending[uri] = u
	}
	return committed, attempted, pending
}

func (f *crashFixture) randomCommitted(skip map[string]bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var users []string
	for u := range f.committed {
		if !skip[u] {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return ""
	}
	return users[rand.N(len(users))]
}

// appCallback binds the session as the user who started it.
func (f *crashFixture) appCallback(w http.ResponseWriter, r *http.Request) {
	uri := r.URL.Query().Get("session_id")
	v, ok := f.sessions.Load(uri)
	if !ok {
		http.Error(w, "unknown session", http.StatusBadRequest)
		return
	}
	user := v.(string)
	f.mu.Lock()
	f.pending[uri] = user
	f.mu.Unlock()
	_, err := f.dp().CompleteResourceTokenAuth(r.Context(), &dp.CompleteResourceTokenAuthInput{
		SessionUri: aws.String(uri), UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: user},
	})
	if err != nil {
		if isInternal(err) {
			f.fail("CompleteResourceTokenAuth for %s: %v", user, err)
		}
		http.Error(w, "not bound", http.StatusForbidden)
		return
	}
	f.mu.Lock()
	delete(f.pending, uri)
	f.mu.Unlock()
	f.commit(user, "bound")
	w.Write([]byte("bound"))
}

func (f *crashFixture) request(wat, sessionURI string) *dp.GetResourceOauth2TokenInput {
	in := &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken: aws.String(wat), ResourceCredentialProviderName: aws.String("google-drive-provider"),
		Scopes: []string{driveScope}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation,
		ResourceOauth2ReturnUrl: aws.String(f.appURL), CustomParameters: map[string]string{"access_type": "offline", "prompt": "consent"},
	}
	if sessionURI != "" {
		in.SessionUri = aws.String(sessionURI)
	}
	return in
}

// wat returns a workload access token for user; they outlive restarts (the
// signing key is in the database).
func (f *crashFixture) wat(ctx context.Context, user string) (string, error) {
	if v, ok := f.wats.Load(user); ok {
		return v.(string), nil
	}
	out, err := f.dp().GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{
		WorkloadName: aws.String("drive-agent"), UserId: aws.String(user),
	})
	if err != nil {
		return "", err
	}
	f.wats.Store(user, aws.ToString(out.WorkloadAccessToken))
	return aws.ToString(out.WorkloadAccessToken), nil
}

// consent runs the three-legged flow for a new user: authorization URL, the
// browser through the provider back to the app (which binds), then the poll.
func (f *crashFixture) consent(ctx context.Context, user string) error {
	f.mu.Lock()
	f.attempted[user] = true
	f.mu.Unlock()
	wat, err := f.wat(ctx, user)
	if err != nil {
		return err
	}
	first, err := f.dp().GetResourceOauth2Token(ctx, f.request(wat, ""))
	if err != nil {
		return err
	}
	if first.AuthorizationUrl == nil || first.SessionUri == nil {
		return fmt.Errorf("first call for a new user = %+v", first)
	}
	f.sessions.Store(aws.ToString(first.SessionUri), user)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, aws.ToString(first.AuthorizationUrl), nil)
	resp, err := browser.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("browser ended at %s: %d %s", resp.Request.URL, resp.StatusCode, body)
	}
	poll, err := f.dp().GetResourceOauth2Token(ctx, f.request(wat, aws.ToString(first.SessionUri)))
	if err != nil {
		return err
	}
	if poll.AccessToken == nil {
		return fmt.Errorf("poll after binding = %+v", poll)
	}
	f.commit(user, "returned")
	return nil
}

type loopStats struct {
	ran                             time.Duration
	tokens, consents, bound, errors atomic.Int64
	afterKill                       atomic.Int64

	killed atomic.Bool // set just before SIGKILL
	mu     sync.Mutex
	sample map[string]int // error text (shortened) → count
}

// noteError counts a loop error. Errors before the kill are unexpected and
// logged by text; after it every call fails, so those are counted only.
func (st *loopStats) noteError(kind string, err error) {
	if st.killed.Load() {
		st.afterKill.Add(1)
		return
	}
	st.errors.Add(1)
	msg := err.Error()
	if i := strings.Index(msg, "request ID"); i > 0 {
		msg = msg[i:]
		if j := strings.Index(msg, ","); j > 0 {
			msg = msg[j+1:]
		}
	}
	if len(msg) > 160 {
		msg = msg[:160]
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sample == nil {
		st.sample = map[string]int{}
	}
	st.sample[kind+": "+msg]++
}

// runLoops runs refresh and consent loops against the current process,
// calls kill after d while they run, then stops them. Users in skip (whose
// grant waits for an orphaned lease) are left out of the refresh loop.
func (f *crashFixture) runLoops(round int, d time.Duration, skip []string, kill func()) *loopStats {
	st := &loopStats{}
	skipSet := map[string]bool{}
	for _, u := range skip {
		skipSet[u] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 6 { // every call refreshes
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				user := f.randomCommitted(skipSet)
				cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
				wat, err := f.wat(cctx, user)
				if err == nil {
					var out *dp.GetResourceOauth2TokenOutput
					out, err = f.dp().GetResourceOauth2Token(cctx, f.request(wat, ""))
					switch {
					case err == nil && aws.ToString(out.AccessToken) != "":
						st.tokens.Add(1)
						f.commit(user, "returned")
					case err == nil:
						f.fail("round %d: committed user %s sent to consent before any kill: %+v", round, user, out)
					}
				}
				ccancel()
				if err != nil {
					st.noteError("refresh", err)
					if isInternal(err) {
						f.fail("round %d: GetResourceOauth2Token for %s: %v", round, user, err)
					}
				}
			}
		}()
	}
	for w := range 2 { // new users consenting
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				user := fmt.Sprintf("r%d-w%d-%03d", round, w, i)
				st.consents.Add(1)
				err := f.consent(ctx, user)
				if err == nil {
					st.bound.Add(1)
					continue
				}
				st.noteError("consent", err)
				if isInternal(err) {
					f.fail("round %d: consent for %s: %v", round, user, err)
				}
			}
		}()
	}
	time.Sleep(d)
	st.ran = d
	st.killed.Store(true)
	kill()
	cancel()
	wg.Wait()
	return st
}

func isInternal(err error) bool {
	var ise *dptypes.InternalServerException
	return errors.As(err, &ise)
}

// expectToken asks for user's token and checks the Drive stand-in accepts it.
func (f *crashFixture) expectToken(ctx context.Context, user string) error {
	wat, err := f.wat(ctx, user)
	if err != nil {
		return fmt.Errorf("workload access token: %w", err)
	}
	out, err := f.dp().GetResourceOauth2Token(ctx, f.request(wat, ""))
	if err != nil {
		return err
	}
	tok := aws.ToString(out.AccessToken)
	if tok == "" {
		return fmt.Errorf("sent to consent (authorizationUrl %q) although the grant was committed and its refresh token never consumed", aws.ToString(out.AuthorizationUrl))
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.google.URL+fakeprovider.DriveFilesPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the provider refused the token: %s", resp.Status)
	}
	return nil
}

// verify checks, after a restart, every user the test knows of.
func (f *crashFixture) verify(t *testing.T, round int, committed, attempted []string, pending map[string]string, deferred []string, timeout time.Duration) {
	t.Helper()
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	run := func(fn func(ctx context.Context)) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			fn(ctx)
		}()
	}
	checked := 0
	for _, u := range committed {
		if slices.Contains(deferred, u) {
			continue // waits for its orphaned refresh lease; checked at the end
		}
		checked++
		run(func(ctx context.Context) {
			if err := f.expectToken(ctx, u); err != nil {
				f.fail("round %d: committed user %s (%s) after restart: %v", round, u, f.how(u), err)
			}
		})
	}
	// A session whose binding was cut off binds now, or was bound already
	// and its grant opens.
	for uri, u := range pending {
		if slices.Contains(committed, u) {
			continue
		}
		run(func(ctx context.Context) {
			_, err := f.dp().CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{
				SessionUri: aws.String(uri), UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: u},
			})
			var denied *dptypes.AccessDeniedException
			switch {
			case err == nil:
			case errors.As(err, &denied):
				// Completed before the kill: the grant must be there.
			default:
				f.fail("round %d: binding %s's cut-off session after restart: %v", round, u, err)
				return
			}
			if err := f.expectToken(ctx, u); err != nil {
				f.fail("round %d: user %s after binding its cut-off session again: %v", round, u, err)
				return
			}
			f.mu.Lock()
			delete(f.pending, uri)
			f.mu.Unlock()
			f.commit(u, "bound after restart")
		})
	}
	// Users whose consent never got to the app: no error but a token (if
	// bound after all) or a new consent.
	pendingUsers := map[string]bool{}
	for _, u := range pending {
		pendingUsers[u] = true
	}
	for _, u := range attempted {
		if pendingUsers[u] {
			continue
		}
		run(func(ctx context.Context) {
			wat, err := f.wat(ctx, u)
			if err != nil {
				if isInternal(err) {
					f.fail("round %d: WAT for %s: %v", round, u, err)
				}
				return
			}
			out, err := f.dp().GetResourceOauth2Token(ctx, f.request(wat, ""))
			if err != nil {
				f.fail("round %d: uncommitted user %s after restart: %v", round, u, err)
				return
			}
			if out.AccessToken == nil && out.AuthorizationUrl == nil {
				f.fail("round %d: uncommitted user %s: neither token nor authorization URL: %+v", round, u, out)
			}
		})
	}
	wg.Wait()
	t.Logf("round %d: verified %d committed users, %d cut-off sessions, %d uncommitted users after restart", round, checked, len(pending), len(attempted))
}

func (f *crashFixture) how(user string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.committed[user]
}

// dbState is what inspectDatabase found.
type dbState struct {
	integrity string
	leases    map[string]time.Time // user key → refresh lease end, for held leases
}

// leasedUsers returns the users (by id) whose grant's lease outlasts now.
func (d dbState) leasedUsers(now time.Time) []string {
	var out []string
	for key, until := range d.leases {
		if until.After(now) {
			_, user, _ := strings.Cut(key, ":") // "0:" + user id
			out = append(out, user)
		}
	}
	slices.Sort(out)
	return out
}

// inspectDatabase checks the SQLite file of a dead server: integrity,
// every grant has a sealed token, every completed session's grant exists,
// and which grants still hold a refresh lease.
func inspectDatabase(t *testing.T, path string) dbState {
	t.Helper()
	st := inspectDatabaseLive(t, path)
	if st.integrity != "ok" {
		t.Fatalf("PRAGMA integrity_check after kill -9: %s", st.integrity)
	}
	return st
}

func inspectDatabaseLive(t *testing.T, path string) dbState {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := dbState{leases: map[string]time.Time{}}
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		lines = append(lines, s)
	}
	rows.Close()
	st.integrity = strings.Join(lines, "; ")
	var bad int
	if err := db.QueryRow("SELECT count(*) FROM grants WHERE length(token) = 0 OR token IS NULL").Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d grants without a sealed token", bad)
	}
	if err := db.QueryRow(`SELECT count(*) FROM auth_sessions s WHERE s.status = 'COMPLETED'
		AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.id = s.grant_id)`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d completed sessions whose grant is missing", bad)
	}
	lrows, err := db.Query("SELECT user_key, refresh_lease FROM grants WHERE refresh_lease > 0")
	if err != nil {
		t.Fatal(err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var key string
		var us int64
		if err := lrows.Scan(&key, &us); err != nil {
			t.Fatal(err)
		}
		st.leases[key] = time.UnixMicro(us)
	}
	return st
}

// refreshTrap sits in front of a provider's token endpoint and, when
// armed, lets the next refresh reach the provider, which answers (and
// rotates the refresh token), then SIGKILLs Behalf: before the answer is
// delivered, or just after it was written to Behalf's connection.
type refreshTrap struct {
	next http.Handler

	mu      sync.Mutex
	kill    func() // armed: kill Behalf after the provider's answer
	deliver bool   // write the answer to Behalf before the kill
	fired   chan int
}

// arm makes the next refresh kill Behalf with kill; fired gets the
// provider's status once it did.
func (tr *refreshTrap) arm(kill func(), deliver bool) <-chan int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.kill, tr.deliver, tr.fired = kill, deliver, make(chan int, 1)
	return tr.fired
}

func (tr *refreshTrap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != fakeprovider.TokenPath {
		tr.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	tr.mu.Lock()
	kill, deliver, fired := tr.kill, tr.deliver, tr.fired
	if form.Get("grant_type") == "refresh_token" {
		tr.kill = nil
	} else {
		kill = nil
	}
	tr.mu.Unlock()
	if kill == nil {
		tr.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	tr.next.ServeHTTP(rec, r) // the provider has answered: the old refresh token is rotated out
	if deliver {
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		http.NewResponseController(w).Flush()
	}
	fired <- rec.Code // before the kill: the fetch it ends cannot return sooner
	kill()
}

// Ensure a kill -9 right after a provider that rotates refresh tokens has
// answered a refresh loses no grant when the provider keeps the replaced
// token usable for a grace window (as Okta, Auth0 and Cognito can): after
// the restart, once the dead refresher's lease has run out, Behalf
// refreshes with the token it still holds, inside the window, stores the
// successor, and serves a token the provider accepts; no consent is asked
// for. The kill lands once before Behalf received the answer and once
// just after it was delivered. Without a grace window the grant is lost
// (the provider refuses the replaced token): then Behalf sends the user
// to consent, logs a WARN saying a refresh was interrupted and the
// provider may have rotated the token, and audits that reason.
//
// The test waits for the orphaned leases (identity.RefreshLease) to run
// out; the provider's grace window (one minute) outlasts that wait.
func TestCrashMidRefreshWithRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildBehalf(t)
	dataDir := t.TempDir()
	addr := freeLoopbackAddr(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Options{
		URL: "http://" + ln.Addr().String(), AutoConsent: true, AccessTokenTTL: 10 * time.Second,
		RotateRefreshTokens: true, RotationGrace: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	trap := &refreshTrap{next: sb.Handler()}
	provider := &http.Server{Handler: trap}
	go provider.Serve(ln)
	t.Cleanup(func() { provider.Close() })
	google := &fakeprovider.Server{Server: sb}

	proc := startBehalfProcess(t, bin, addr, dataDir)
	s := &testServer{URL: "http://" + addr, DataDir: dataDir, Log: proc.log, Captured: &syncBuffer{}}
	s.KeyID, s.Secret = readCredentials(t, filepath.Join(dataDir, "credentials"))
	f := newCrashFixture(t, s, google)
	f.setClient()
	ctx := context.Background()
	users := []string{"killed-before-answer", "killed-after-answer", "no-grace"}
	for _, u := range users {
		if err := f.consent(ctx, u); err != nil {
			t.Fatalf("consent for %s: %v\n%s", u, err, proc.log)
		}
	}
	dbPath := filepath.Join(dataDir, "behalf.db")
	lostGrant := grantIDOf(t, dbPath, "no-grace")

	// Each user's next fetch refreshes (access tokens live 10 s, inside the
	// 60 s stale margin); the trap kills Behalf on the provider's answer.
	for i, u := range users {
		if u == "no-grace" {
			sb.SetRotationGrace(0)
		}
		fired := trap.arm(proc.kill, u == "killed-after-answer")
		wat, err := f.wat(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = f.dp().GetResourceOauth2Token(cctx, f.request(wat, ""))
		cancel()
		select {
		case status := <-fired:
			if status != http.StatusOK {
				t.Fatalf("%s: the provider answered the trapped refresh with %d", u, status)
			}
		default:
			t.Fatalf("%s: the fetch (%v) made no refresh for the trap to kill\n%s", u, err, proc.log)
		}
		proc = startBehalfProcess(t, bin, addr, dataDir)
		f.setClient()
		t.Logf("kill %d: %s, right after the provider rotated its refresh token (answer delivered: %v); the fetch got %v", i+1, u, u == "killed-after-answer", err)
	}

	// Wait until the dead refreshers' leases have run out; every access
	// token Behalf holds has expired by then, so each fetch refreshes.
	st := inspectDatabaseLive(t, dbPath)
	var last time.Time
	for _, until := range st.leases {
		if until.After(last) {
			last = until
		}
	}
	t.Logf("%d orphaned refresh leases, the last until %v", len(st.leases), last.Format(time.TimeOnly))
	time.Sleep(time.Until(last) + 200*time.Millisecond)

	graceBefore := sb.GraceRefreshes()
	for _, u := range users[:2] {
		cctx, cancel := context.WithTimeout(ctx, identity.RefreshLease+15*time.Second)
		if err := f.expectToken(cctx, u); err != nil {
			t.Errorf("%s after the restart: %v\n%s", u, err, proc.log)
		}
		cancel()
	}
	graced := sb.GraceRefreshes() - graceBefore
	t.Logf("after the restart both users were served; %d refreshes used the replaced token inside the grace window", graced)
	if graced < 1 {
		t.Errorf("the provider answered %d refreshes with a replaced token inside its grace window; want at least 1 (the answer never delivered)", graced)
	}
	// The stored refresh token is the successor: refreshing again rotates
	// it, with no grace needed.
	for _, u := range users[:2] {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		if err := f.expectToken(cctx, u); err != nil {
			t.Errorf("%s, refreshing again: %v", u, err)
		}
		cancel()
	}
	if n := sb.GraceRefreshes() - graceBefore; n != graced {
		t.Errorf("refreshing again used a replaced token %d times, want 0", n-graced)
	}

	// Without a grace window the replaced token is refused: a new consent,
	// a WARN that says why, and the audit reason.
	wat, _ := f.wat(ctx, "no-grace")
	cctx, cancel := context.WithTimeout(ctx, identity.RefreshLease+15*time.Second)
	out, err := f.dp().GetResourceOauth2Token(cctx, f.request(wat, ""))
	cancel()
	if err != nil || out.AccessToken != nil || out.AuthorizationUrl == nil {
		t.Fatalf("no-grace after the restart: %+v %v, want a consent", out, err)
	}
	var warned bool
	for _, line := range strings.Split(proc.log.String(), "\n") {
		if strings.Contains(line, "refresh token refused after an interrupted refresh (lease expired unfinished); the provider may have rotated it") &&
			strings.Contains(line, lostGrant) && strings.Contains(line, "WARN") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no WARN about the interrupted refresh of grant %s:\n%s", lostGrant, proc.log)
	}
	if detail := lastAuditDetail(t, dbPath, "grant.refresh_failed"); !strings.HasPrefix(detail, "invalid_grant after an interrupted refresh") {
		t.Errorf("audit detail %q, want it to say the refresh was interrupted", detail)
	}
	f.checkFailures(t)
}

// grantIDOf returns the id of user's grant in the SQLite file at path.
func grantIDOf(t *testing.T, path, user string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id string
	if err := db.QueryRow("SELECT id FROM grants WHERE user_key = ?", "0:"+user).Scan(&id); err != nil {
		t.Fatalf("grant of %s: %v", user, err)
	}
	return id
}

// lastAuditDetail returns the detail of the newest audit event of kind in
// the SQLite file at path.
func lastAuditDetail(t *testing.T, path, kind string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var detail string
	if err := db.QueryRow("SELECT detail FROM audit_events WHERE kind = ? ORDER BY id DESC LIMIT 1", kind).Scan(&detail); err != nil {
		t.Fatalf("audit event %s: %v", kind, err)
	}
	return detail
}
