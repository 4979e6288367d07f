package main

// The replica suite's database outages (issue 11, reliability 5): a
// replica in front of a PostgreSQL that goes away, and one started before
// its PostgreSQL is up. The outage is a TCP proxy between the replica and
// the shared PostgreSQL, cut and restored (internal/tcpproxy), and server
// processes terminated with pg_terminate_backend (SQLSTATE 57P01, what a
// fast shutdown sends): the shared cluster itself is never stopped.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"

	"github.com/behalf-dev/behalf/identity"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/internal/tcpproxy"
)

// outageDatabase is a fresh schema of the test PostgreSQL reached through
// a proxy the test can cut, with an application_name naming the test's
// connections.
type outageDatabase struct {
	dsn   string // through the proxy
	app   string // application_name
	proxy *tcpproxy.Proxy
	admin *sql.DB // direct
}

func newOutageDatabase(t *testing.T, down bool) *outageDatabase {
	t.Helper()
	admin := os.Getenv("BEHALF_TEST_POSTGRES_DSN")
	if admin == "" {
		t.Skip("BEHALF_TEST_POSTGRES_DSN is unset: the database outage tests need a PostgreSQL")
	}
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	u, err := url.Parse(freshPostgresSchema(t, admin))
	if err != nil {
		t.Fatal(err)
	}
	o := &outageDatabase{app: "behalf_outage_" + strings.ToLower(randid.Upper(8))}
	if down {
		o.proxy = tcpproxy.NewDown(t, u.Host)
	} else {
		o.proxy = tcpproxy.New(t, u.Host)
	}
	u.Host = o.proxy.Addr
	q := u.Query()
	q.Set("application_name", o.app)
	q.Set("connect_timeout", "5")
	u.RawQuery = q.Encode()
	o.dsn = u.String()
	if o.admin, err = sql.Open("pgx", admin); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.admin.Close() })
	return o
}

// terminate ends the replica's server processes (FATAL 57P01) and waits
// until they are gone.
func (o *outageDatabase) terminate(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := o.admin.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", o.app); err != nil {
		t.Fatal(err)
	}
	for {
		var n int
		if err := o.admin.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", o.app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startServeProcess runs `behalf serve` with args and the root key from the
// environment, and returns at once.
func startServeProcess(t *testing.T, bin, keyID, secret string, args ...string) *behalfProcess {
	t.Helper()
	p := &behalfProcess{log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BEHALF_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, "BEHALF_ROOT_ACCESS_KEY_ID="+keyID, "BEHALF_ROOT_SECRET_ACCESS_KEY="+secret)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	return p
}

// waitStatus polls base+path until it answers want; it fails t after d or
// if the process exits.
func waitStatus(t *testing.T, p *behalfProcess, base, path string, want int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	got := 0
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + path); err == nil {
			resp.Body.Close()
			if got = resp.StatusCode; got == want {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("behalf exited: %v\n%s", p.cmd.ProcessState, p.log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s = %d after %v, want %d\n%s", path, got, d, want, p.log)
}

// Ensure a replica started while its PostgreSQL is unreachable waits for
// it (issue 11, reliability 5: it used to exit in 26 ms): it retries with
// backoff, serves once the database is back, and gives up after
// --database-wait with an error that says so.
func TestReplicaWaitsForDatabase(t *testing.T) {
	db := newOutageDatabase(t, true)
	bin := buildBehalf(t)
	id, secret := identity.NewAccessKeyPair()
	addr := freeLoopbackAddr(t)
	start := time.Now()
	p := startServeProcess(t, bin, id, secret.Reveal(), "--listen", addr, "--data-dir", t.TempDir(), "--database", db.dsn)
	select {
	case <-p.done:
		t.Fatalf("exited after %v with the database unreachable: %v\n%s", time.Since(start), p.cmd.ProcessState, p.log)
	case <-time.After(2 * time.Second):
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("serving before its database is reachable: /healthz %d", resp.StatusCode)
	}
	if !strings.Contains(p.log.String(), "database unreachable; waiting for it") {
		t.Fatalf("no word of the wait in the log:\n%s", p.log)
	}
	if err := db.proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, p, "http://"+addr, "/readyz", http.StatusOK, 15*time.Second)
	t.Logf("served %v after start, the database reachable after 2s", time.Since(start).Round(time.Millisecond))

	// A deadline: with --database-wait 1s it gives up.
	db.proxy.Cut()
	start = time.Now()
	p2 := startServeProcess(t, bin, id, secret.Reveal(), "--listen", freeLoopbackAddr(t), "--data-dir", t.TempDir(), "--database", db.dsn, "--database-wait", "1s")
	select {
	case <-p2.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("still waiting 15s after start with --database-wait 1s\n%s", p2.log)
	}
	took := time.Since(start)
	if p2.cmd.ProcessState.ExitCode() == 0 || took < time.Second ||
		!strings.Contains(p2.log.String(), "unreachable for --database-wait 1s") || strings.Contains(p2.log.String(), "panic") {
		t.Fatalf("with --database-wait 1s: exit %v after %v\n%s", p2.cmd.ProcessState, took, p2.log)
	}
}

// Ensure a PostgreSQL that goes away answers "unavailable, retry", never an
// internal error (issue 11, reliability 5: with PostgreSQL stopped,
// requests got 500 InternalServerException with the driver's "FATAL:
// terminating connection … (SQLSTATE 57P01)"). With the replica's
// connections terminated by the server, reads are retried on a fresh
// connection and succeed, and nothing answers 500. With the database
// unreachable, the AgentCore APIs answer 503 ServiceUnavailableException
// and the Cognito API InternalErrorException, both with Retry-After and no
// word of the driver's; /readyz is 503, /healthz 200. Once the database is
// back, everything answers again.
func TestDatabaseUnavailableAnswers503(t *testing.T) {
	db := newOutageDatabase(t, false)
	bin := buildBehalf(t)
	id, secret := identity.NewAccessKeyPair()
	addr := freeLoopbackAddr(t)
	p := startServeProcess(t, bin, id, secret.Reveal(), "--listen", addr, "--data-dir", t.TempDir(), "--database", db.dsn)
	waitStatus(t, p, "http://"+addr, "/readyz", http.StatusOK, 30*time.Second)
	s := &testServer{URL: "http://" + addr, KeyID: id, Secret: secret.Reveal(), Log: p.log, Captured: &syncBuffer{}}
	control, data, pools := s.client(t), s.dataPlane(t, id, secret.Reveal()), s.cognito(t)
	ctx := context.Background()
	if _, err := control.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("agent")}); err != nil {
		t.Fatal(err)
	}
	if _, err := control.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("serp"), ApiKey: aws.String("serp-key-123")}); err != nil {
		t.Fatal(err)
	}
	if _, err := pools.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("users")}); err != nil {
		t.Fatal(err)
	}
	wat, err := data.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("agent")})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	calls := []struct {
		name string
		read bool
		call func() error
		cogn bool
	}{
		{name: "GetWorkloadIdentity", read: true, call: func() error {
			_, err := control.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: aws.String("agent")})
			return err
		}},
		{name: "ListWorkloadIdentities", read: true, call: func() error {
			_, err := control.ListWorkloadIdentities(ctx, &ctl.ListWorkloadIdentitiesInput{})
			return err
		}},
		{name: "CreateWorkloadIdentity", call: func() error {
			n++
			_, err := control.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String(fmt.Sprintf("w-%d", n))})
			return err
		}},
		{name: "GetResourceApiKey", read: true, call: func() error {
			_, err := data.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("serp")})
			return err
		}},
		{name: "ListUserPools", read: true, cogn: true, call: func() error {
			_, err := pools.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)})
			return err
		}},
	}

	// The server terminates the replica's connections, three times.
	for round := range 3 {
		db.terminate(t)
		for _, c := range calls {
			err := c.call()
			if err == nil {
				continue
			}
			status, code, _ := wireError(err)
			if c.read || status == http.StatusInternalServerError {
				t.Fatalf("round %d, %s on terminated connections: %d %s: %v\n%s", round, c.name, status, code, err, p.log)
			}
			wantUnavailableWire(t, c.name, err, c.cogn)
		}
	}

	// The database is unreachable.
	db.proxy.Cut()
	time.Sleep(identity.ConfigCacheTTL) // the data plane's cached provider and workload expire
	for _, c := range calls {
		wantUnavailableWire(t, c.name+" with the database unreachable", c.call(), c.cogn)
	}
	waitStatus(t, p, s.URL, "/readyz", http.StatusServiceUnavailable, 5*time.Second)
	waitStatus(t, p, s.URL, "/healthz", http.StatusOK, time.Second)
	for _, leak := range []string{"SQLSTATE", "FATAL", "dial", "refused", db.proxy.Addr, "InternalServerException"} {
		if strings.Contains(s.Captured.String(), leak) {
			t.Fatalf("a response says %q:\n%s", leak, s.Captured)
		}
	}
	log := p.log.String()
	if strings.Contains(log, "internal error") || !strings.Contains(log, "database unavailable") {
		t.Fatalf("log:\n%s", log)
	}

	// And back.
	if err := db.proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, p, s.URL, "/readyz", http.StatusOK, 10*time.Second)
	for _, c := range calls {
		if err := c.call(); err != nil {
			t.Fatalf("%s once the database is back: %v", c.name, err)
		}
	}
}

// wireError returns the HTTP status, error code and Retry-After of an SDK
// error.
func wireError(err error) (status int, code, retryAfter string) {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status, retryAfter = re.HTTPStatusCode(), re.Response.Header.Get("Retry-After")
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	return status, code, retryAfter
}

// wantUnavailableWire fails t unless err is the API's "unavailable, retry"
// answer: 503 ServiceUnavailableException on AgentCore, 500
// InternalErrorException on Cognito, with Retry-After.
func wantUnavailableWire(t *testing.T, what string, err error, cognito bool) {
	t.Helper()
	status, code, retryAfter := wireError(err)
	wantStatus, wantCode := http.StatusServiceUnavailable, "ServiceUnavailableException"
	if cognito {
		wantStatus, wantCode = http.StatusInternalServerError, "InternalErrorException"
	}
	if status != wantStatus || code != wantCode || retryAfter == "" {
		t.Fatalf("%s: %d %s Retry-After %q, want %d %s with Retry-After: %v", what, status, code, retryAfter, wantStatus, wantCode, err)
	}
}
