package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/agent/driveagent"
	"github.com/behalf-dev/behalf/agentruntime"
	"github.com/behalf-dev/behalf/internal/loadgen"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/sandbox"
	"github.com/behalf-dev/behalf/userpool"
)

const benchUsage = `[--duration 10s] [--connections 32] [--listen-host 127.0.0.1] [--output text|json] [--endpoint-url URL]

Measures a Behalf deployment from outside, as issue 12 asks: each target
beside a baseline measured by the same load generator in the same run,
printing req/s, p50, p99 and the ratio to the baseline.

  GetResourceOauth2Token, vault hit (SigV4 + WAT + grant read + open)
      vs a bare net/http handler answering the same bytes     goal ≥ 0.50
  GetWorkloadAccessTokenForJWT with a user pool access token
      vs a bare net/http handler answering the same bytes     goal ≥ 0.30
  InitiateAuth USER_PASSWORD_AUTH
      vs the argon2id floor: the server's parameters, one
      hash per CPU at once as the server does, here           goal ≥ 0.90
  InvokeAgentRuntime (bearer JWT) to a trivial agent
      vs a bare httputil.ReverseProxy to the same agent       goal ≥ 1.0
  the same at one connection: p50 added over calling the
      agent directly                                          goal ≤ 150µs

The load generator is wrk-like: --connections keep-alive HTTP/1.1
connections, each sending one pre-built request again and again. Each
request is recorded from one call of the official SDK client; a SigV4
request is then signed once with the SDK's v4 signer and replayed
unchanged (Behalf accepts a signature for 5 minutes of its X-Amz-Date and
keeps no replay cache), signed afresh for each half of a run, so
--duration is at most 8m. InitiateAuth is unsigned, as the SDK sends it,
and the invocation carries the pool's access token as its bearer. A target
and its baseline run alternately, half of --duration at a time, so that
a change in the machine's load hits both. A run takes about ten times
--duration, plus the set-up. Non-2xx answers are counted as errors, and
the first error's body is shown; the command fails if any occurred.

The baselines run on this machine, in a child process (this binary
again), so that client and server are separate processes for baselines
and targets alike; the argon2id floor runs in this process. The ratios
mean what the issue means only when behalf bench runs on the server's
host, against the server on loopback: from another machine they compare
a remote server with a local handler, network included. Sign-in from
anywhere but loopback is also limited per client IP (serve
--rate-limit-ip).

What it creates, all named behalf-bench-XXXXXXXX (behalf_bench_... for
the runtime), and deletes at the end, also when it fails or is
interrupted:
  - a user pool, an app client with a secret (USER_PASSWORD_AUTH) and one
    user with a random password; the sign-ins' refresh tokens go with
    the pool
  - a workload identity, its return URL a callback server in this process
  - the Behalf sandbox (behalf sandbox: the local stand-in for Google) in
    this process, a CustomOauth2 credential provider reading the
    sandbox's discovery URL, and one grant in the vault for user id
    behalf-bench-user, consented headlessly at the sandbox and bound with
    CompleteResourceTokenAuth, as an app does; deleting the provider
    deletes the grant (the consent's authorization session is purged
    when it expires, as every one is)
  - a trivial agent in this process (POST /invocations, GET /ping) and an
    agent runtime in front of it with a JWT authorizer for the pool's app
    client; deleting the runtime deletes its workload identity
Audit events of these calls stay in the audit log.

The server must reach the sandbox and the agent at http://LISTEN-HOST:port,
which it does only when started with --allow-private-endpoints; without
it the vault-hit and runtime rows are skipped with the server's message.
Use credentials that may create all of this (the root key; a key from
"behalf key create" is also limited by serve --rate-limit-key).`

// benchGoals are issue 12's targets.
const (
	goalVaultHit = 0.50
	goalForJWT   = 0.30
	goalSignIn   = 0.90
	goalInvoke   = 1.0
	goalAddedP50 = 150 * time.Microsecond
)

// maxBenchDuration keeps each half of a target's run inside SigV4's
// 5-minute window.
const maxBenchDuration = 8 * time.Minute

// benchOptions are the flags of `behalf bench`.
type benchOptions struct {
	duration    time.Duration
	connections int
	listenHost  string
}

// benchRow is one line of the report. Ratio, AddedP50 and Met are set on
// target rows.
type benchRow struct {
	Name        string   `json:"name"`
	Baseline    bool     `json:"baseline,omitempty"`
	Connections int      `json:"connections,omitempty"`
	OK          int64    `json:"ok"`
	Errors      int64    `json:"errors"`
	FirstError  string   `json:"firstError,omitempty"`
	ReqPerSec   float64  `json:"reqPerSec"`
	P50Micros   float64  `json:"p50Micros"`
	P99Micros   float64  `json:"p99Micros"`
	Ratio       *float64 `json:"ratio,omitempty"`
	AddedP50    *float64 `json:"addedP50Micros,omitempty"`
	Goal        string   `json:"goal,omitempty"`
	Met         *bool    `json:"met,omitempty"`
	Skipped     string   `json:"skipped,omitempty"`
	Note        string   `json:"note,omitempty"`
}

// benchReport is what --output json prints.
type benchReport struct {
	Endpoint    string     `json:"endpoint"`
	Connections int        `json:"connections"`
	Duration    string     `json:"duration"`
	GOMAXPROCS  int        `json:"gomaxprocs"`
	Rows        []benchRow `json:"rows"`
}

// benchSetup defines the flags of `behalf bench`, a command without verbs.
func benchSetup(fs *flagSet, stdout, stderr io.Writer) func(context.Context, []string) error {
	c := &cli{stdout: stdout, stderr: stderr, fs: fs}
	o := benchOptions{}
	c.clientFlags(fs)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each target and each baseline is measured (at most 8m)")
	fs.IntVar(&o.connections, "connections", 32, "concurrent keep-alive connections")
	fs.StringVar(&o.listenHost, "listen-host", "127.0.0.1", "address of this machine where the sandbox and the test agent listen; the server must reach it")
	return func(ctx context.Context, args []string) error { return runBench(ctx, c, o, args, stdout, stderr) }
}

// runBench runs `behalf bench`.
func runBench(ctx context.Context, c *cli, o benchOptions, args []string, stdout, stderr io.Writer) error {
	if os.Getenv(benchChildEnv) == "1" {
		return serveBaselineChild(os.Stdin, stdout)
	}
	if err := needNoArgs("bench", args); err != nil {
		return err
	}
	if err := c.checkOutput(); err != nil {
		return err
	}
	switch {
	case c.output == "yaml":
		return fmt.Errorf("%w: bench prints table or json", errUsage)
	case o.duration <= 0 || o.duration > maxBenchDuration:
		return fmt.Errorf("%w: --duration must be more than 0 and at most %s", errUsage, maxBenchDuration)
	case o.connections < 1 || o.connections > 4096:
		return fmt.Errorf("%w: --connections must be 1 to 4096", errUsage)
	}
	b := &bench{c: c, o: o, log: &benchLog{w: stderr}, suffix: strings.ToLower(randid.Alnum(8))}
	err := b.run(ctx)
	if cerr := b.close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return err
	}
	if err := b.print(); err != nil {
		return err
	}
	if n := b.errorCount(); n > 0 {
		return fmt.Errorf("%d requests failed during the measurement; the figures above are not reliable", n)
	}
	return nil
}

// bench is one run's state.
type bench struct {
	c      *cli
	o      benchOptions
	log    io.Writer // progress, on stderr; the baseline processes' stderr too
	suffix string

	creds   aws.Credentials
	control *ctl.Client
	data    *dp.Client
	cognito *cip.Client

	cleanups []benchCleanup
	servers  []*http.Server
	children []*baselineChild
	google   *sandbox.Server

	poolID, clientID, clientSecret  string
	username, password, accessToken string
	workload, callbackURL           string

	rows []benchRow
}

// benchLog serializes writes to w from several goroutines (and, unlike a
// bytes.Buffer, has no ReadFrom for exec's copying goroutine to call
// while others write).
type benchLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *benchLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// benchCleanup deletes one thing the run created.
type benchCleanup struct {
	what string
	do   func(ctx context.Context) error
}

// benchUser is the user id of the vault-hit grant.
const benchUser = "behalf-bench-user"

func (b *bench) name() string           { return "behalf-bench-" + b.suffix }
func (b *bench) say(f string, a ...any) { fmt.Fprintf(b.log, f+"\n", a...) }

// onClose registers a deletion, run in reverse order by close.
func (b *bench) onClose(what string, do func(ctx context.Context) error) {
	b.cleanups = append(b.cleanups, benchCleanup{what, do})
}

// close deletes what the run created and stops its servers. Failures are
// listed, so that the operator can delete the rest by hand.
func (b *bench) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var failed []string
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		cl := b.cleanups[i]
		if err := cl.do(ctx); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", cl.what, wrapAPIError(err)))
		}
	}
	for _, s := range b.servers {
		s.Close()
	}
	for _, ch := range b.children {
		ch.stop()
	}
	if b.google != nil {
		b.google.Close()
	}
	if len(b.cleanups) > 0 && len(failed) == 0 {
		b.say("Deleted what the run created (%d resources).", len(b.cleanups))
	}
	if len(failed) > 0 {
		return fmt.Errorf("could not delete, please delete by hand:\n  %s", strings.Join(failed, "\n  "))
	}
	return nil
}

func (b *bench) run(ctx context.Context) error {
	cfg, err := b.c.awsConfig(ctx)
	if err != nil {
		return err
	}
	if b.creds, err = cfg.Credentials.Retrieve(ctx); err != nil {
		return fmt.Errorf("load credentials: %w", err)
	}
	b.control = ctl.NewFromConfig(cfg, func(o *ctl.Options) {
		o.BaseEndpoint = aws.String(b.c.baseEndpoint())
		o.RetryMaxAttempts = 1
	})
	b.data = dp.NewFromConfig(cfg, func(o *dp.Options) {
		o.BaseEndpoint = aws.String(b.c.dataEndpoint())
		o.RetryMaxAttempts = 1
	})
	b.cognito = cip.NewFromConfig(cfg, func(o *cip.Options) {
		o.BaseEndpoint = aws.String(b.c.cognitoEndpoint())
		o.RetryMaxAttempts = 1
	})
	b.say("behalf bench: %s, %d connections, %s per target and per baseline (two halves each, alternating)",
		b.c.dataEndpoint(), b.o.connections, b.o.duration)
	for _, step := range []func(context.Context) error{b.setUpPool, b.setUpWorkload, b.vaultHit, b.forJWT, b.signIn, b.invoke} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// setUpPool creates the pool, its app client and the user, and signs in
// once.
func (b *bench) setUpPool(ctx context.Context) error {
	b.say("Setting up: user pool %s, app client, user", b.name())
	pool, err := b.cognito.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(b.name())})
	if err != nil {
		return fmt.Errorf("CreateUserPool: %w", wrapAPIError(err))
	}
	b.poolID = aws.ToString(pool.UserPool.Id)
	b.onClose("user pool "+b.poolID, func(ctx context.Context) error {
		_, err := b.cognito.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: aws.String(b.poolID)})
		return err
	})
	client, err := b.cognito.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(b.poolID), ClientName: aws.String(b.name()), GenerateSecret: true,
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowUserPasswordAuth, ciptypes.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		return fmt.Errorf("CreateUserPoolClient: %w", wrapAPIError(err))
	}
	b.clientID, b.clientSecret = aws.ToString(client.UserPoolClient.ClientId), aws.ToString(client.UserPoolClient.ClientSecret)
	b.onClose("app client "+b.clientID, func(ctx context.Context) error {
		_, err := b.cognito.DeleteUserPoolClient(ctx, &cip.DeleteUserPoolClientInput{UserPoolId: aws.String(b.poolID), ClientId: aws.String(b.clientID)})
		return err
	})
	b.username, b.password = "bench-user", "Bench-"+randid.Alnum(24)+"-9z"
	if _, err := b.cognito.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(b.poolID), Username: aws.String(b.username), MessageAction: ciptypes.MessageActionTypeSuppress,
	}); err != nil {
		return fmt.Errorf("AdminCreateUser: %w", wrapAPIError(err))
	}
	b.onClose("user "+b.username, func(ctx context.Context) error {
		_, err := b.cognito.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(b.poolID), Username: aws.String(b.username)})
		return err
	})
	if _, err := b.cognito.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(b.poolID), Username: aws.String(b.username), Password: aws.String(b.password), Permanent: true,
	}); err != nil {
		return fmt.Errorf("AdminSetUserPassword: %w", wrapAPIError(err))
	}
	out, _, err := b.signInOnce(ctx)
	if err != nil {
		return err
	}
	b.accessToken = aws.ToString(out.AuthenticationResult.AccessToken)
	return nil
}

// signInOnce signs in with USER_PASSWORD_AUTH and SECRET_HASH through the
// official client, recording the request.
func (b *bench) signInOnce(ctx context.Context) (*cip.InitiateAuthOutput, *replay, error) {
	mac := hmac.New(sha256.New, []byte(b.clientSecret))
	mac.Write([]byte(b.username + b.clientID))
	rec := &recordingClient{}
	out, err := b.cognito.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(b.clientID), AuthFlow: ciptypes.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": b.username, "PASSWORD": b.password, "SECRET_HASH": base64.StdEncoding.EncodeToString(mac.Sum(nil))},
	}, func(o *cip.Options) { o.HTTPClient = rec })
	if err != nil {
		return nil, nil, fmt.Errorf("InitiateAuth: %w", wrapAPIError(err))
	}
	if out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.AccessToken) == "" {
		return nil, nil, fmt.Errorf("InitiateAuth answered challenge %q instead of tokens", out.ChallengeName)
	}
	return out, rec.last, nil
}

// setUpWorkload starts the app's callback server and creates the
// workload identity returning to it.
func (b *bench) setUpWorkload(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		_, err := b.data.CompleteResourceTokenAuth(r.Context(), &dp.CompleteResourceTokenAuthInput{
			SessionUri: aws.String(r.URL.Query().Get("session_id")), UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: benchUser},
		})
		if err != nil {
			http.Error(w, "CompleteResourceTokenAuth: "+wrapAPIError(err).Error(), http.StatusBadGateway)
			return
		}
		w.Write([]byte("bound"))
	})
	u, err := b.serve("127.0.0.1", mux) // only this process's browser comes here
	if err != nil {
		return err
	}
	b.callbackURL = u + "/callback"
	b.workload = b.name()
	b.say("Setting up: workload identity %s", b.workload)
	if _, err := b.control.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
		Name: aws.String(b.workload), AllowedResourceOauth2ReturnUrls: []string{b.callbackURL},
	}); err != nil {
		return fmt.Errorf("CreateWorkloadIdentity: %w", wrapAPIError(err))
	}
	b.onClose("workload identity "+b.workload, func(ctx context.Context) error {
		_, err := b.control.DeleteWorkloadIdentity(ctx, &ctl.DeleteWorkloadIdentityInput{Name: aws.String(b.workload)})
		return err
	})
	return nil
}

// serve serves h on host:0 and returns its base URL.
func (b *bench) serve(host string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)}
	b.servers = append(b.servers, srv)
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// privateRefused reports whether err is the server refusing a private or
// http URL (it was not started with --allow-private-endpoints).
func privateRefused(err error) bool {
	msg := wrapAPIError(err).Error()
	return strings.Contains(msg, "--allow-private-endpoints") || strings.Contains(msg, "must use https")
}

// skip adds a skipped row.
func (b *bench) skip(name, goal, why string) {
	b.say("Skipping %s: %s", name, why)
	b.rows = append(b.rows, benchRow{Name: name, Goal: goal, Skipped: why})
}

// vaultHit seeds a grant through the sandbox and measures
// GetResourceOauth2Token for it against a bare handler.
func (b *bench) vaultHit(ctx context.Context) error {
	const name = "GetResourceOauth2Token, vault hit"
	goal := fmt.Sprintf("≥ %.2f", goalVaultHit)
	b.say("Setting up: the sandbox (the stand-in for Google), credential provider %s, one grant", b.name())
	g, err := sandbox.Start(net.JoinHostPort(b.o.listenHost, "0"), sandbox.Options{SeedFiles: -1})
	if err != nil {
		return fmt.Errorf("start the sandbox: %w", err)
	}
	b.google = g
	clientID, clientSecret := "behalf-bench."+b.suffix, "GOCSPX-"+randid.Alnum(28)
	prov, err := b.control.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String(b.name()), CredentialProviderVendor: ctltypes.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: &ctltypes.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: ctltypes.CustomOauth2ProviderConfigInput{
			OauthDiscovery: &ctltypes.Oauth2DiscoveryMemberDiscoveryUrl{Value: g.DiscoveryURL()},
			ClientId:       aws.String(clientID), ClientSecret: aws.String(clientSecret),
		}},
	})
	if err != nil {
		if privateRefused(err) {
			b.skip(name, goal, "the server cannot reach the sandbox at "+g.URL+": "+wrapAPIError(err).Error())
			return nil
		}
		return fmt.Errorf("CreateOauth2CredentialProvider: %w", wrapAPIError(err))
	}
	b.onClose("credential provider "+b.name()+" and its grant", func(ctx context.Context) error {
		_, err := b.control.DeleteOauth2CredentialProvider(ctx, &ctl.DeleteOauth2CredentialProviderInput{Name: aws.String(b.name())})
		return err
	})
	g.RegisterClient(clientID, clientSecret, aws.ToString(prov.CallbackUrl))

	wat, err := b.data.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{
		WorkloadName: aws.String(b.workload), UserId: aws.String(benchUser),
	})
	if err != nil {
		return fmt.Errorf("GetWorkloadAccessTokenForUserId: %w", wrapAPIError(err))
	}
	in := &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String(b.name()),
		Scopes: []string{driveagent.Scope}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation,
		ResourceOauth2ReturnUrl: aws.String(b.callbackURL), CustomParameters: map[string]string{"access_type": "offline"},
	}
	first, err := b.data.GetResourceOauth2Token(ctx, in)
	if err != nil {
		return fmt.Errorf("GetResourceOauth2Token (no grant yet): %w", wrapAPIError(err))
	}
	if aws.ToString(first.AuthorizationUrl) == "" {
		return fmt.Errorf("GetResourceOauth2Token for a new user answered no authorization URL: %+v", first)
	}
	browser := sandbox.NewBrowser()
	browser.Timeout = 30 * time.Second
	_, end, err := sandbox.Consent(ctx, browser, aws.ToString(first.AuthorizationUrl), "", true)
	if err != nil {
		return fmt.Errorf("consent at the sandbox: %w", err)
	}
	if end.Status != http.StatusOK || end.URL.Path != "/callback" {
		return fmt.Errorf("consent ended at %d %s%s, not bound by the callback server: %s", end.Status, end.URL.Host, end.URL.Path, end.Text(300))
	}

	rec := &recordingClient{}
	out, err := b.data.GetResourceOauth2Token(ctx, in, func(o *dp.Options) { o.HTTPClient = rec })
	if err != nil {
		return fmt.Errorf("GetResourceOauth2Token (vault hit): %w", wrapAPIError(err))
	}
	if aws.ToString(out.AccessToken) == "" {
		return fmt.Errorf("GetResourceOauth2Token after consent answered no token: %+v", out)
	}
	_, exchanges, refreshes, _ := g.Counts()
	if err := b.measureReplay(ctx, name, goalVaultHit, rec.last); err != nil {
		return err
	}
	if _, e2, r2, _ := g.Counts(); e2 != exchanges || r2 != refreshes {
		b.rows[len(b.rows)-2].Note = fmt.Sprintf("the server called the sandbox during the run (%d code exchanges, %d refreshes): not only vault hits", e2-exchanges, r2-refreshes)
	}
	return nil
}

// forJWT measures GetWorkloadAccessTokenForJWT with the pool's access
// token against a bare handler.
func (b *bench) forJWT(ctx context.Context) error {
	rec := &recordingClient{}
	out, err := b.data.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{
		WorkloadName: aws.String(b.workload), UserToken: aws.String(b.accessToken),
	}, func(o *dp.Options) { o.HTTPClient = rec })
	if err != nil {
		return fmt.Errorf("GetWorkloadAccessTokenForJWT: %w", wrapAPIError(err))
	}
	if aws.ToString(out.WorkloadAccessToken) == "" {
		return fmt.Errorf("GetWorkloadAccessTokenForJWT answered no token")
	}
	return b.measureReplay(ctx, "GetWorkloadAccessTokenForJWT, pool token", goalForJWT, rec.last)
}

// measureReplay measures a recorded SDK request against a bare handler
// answering the bytes the server answered it.
func (b *bench) measureReplay(ctx context.Context, name string, goal float64, rp *replay) error {
	if rp == nil {
		return fmt.Errorf("%s: no request recorded", name)
	}
	base, err := b.startBaseline(ctx, baselineSpec{Answer: &bareAnswer{Status: rp.status, Header: rp.respHeader, Body: rp.respBody}})
	if err != nil {
		return err
	}
	orig, err := url.Parse(rp.url)
	if err != nil {
		return err
	}
	bareURL := base + orig.RequestURI()
	b.say("Measuring %s against a bare net/http handler", name)
	target := func(ctx context.Context, o loadgen.Options) (loadgen.Result, error) {
		req, err := rp.signed(ctx, b.creds, rp.url)
		if err != nil {
			return loadgen.Result{}, err
		}
		return loadgen.Run(ctx, req, o)
	}
	bare := func(ctx context.Context, o loadgen.Options) (loadgen.Result, error) {
		req, err := rp.signed(ctx, b.creds, bareURL)
		if err != nil {
			return loadgen.Result{}, err
		}
		return loadgen.Run(ctx, req, o)
	}
	t, bl, err := b.pair(ctx, b.o.connections, b.o.connections, target, bare)
	if err != nil {
		return err
	}
	b.addPair(name, fmt.Sprintf("≥ %.2f", goal), goal, b.o.connections, t, "bare net/http handler, same answer bytes", b.o.connections, bl)
	return nil
}

// signIn measures InitiateAuth USER_PASSWORD_AUTH against argon2id at the
// server's parameters on as many goroutines as connections.
func (b *bench) signIn(ctx context.Context) error {
	const name = "InitiateAuth USER_PASSWORD_AUTH"
	_, rp, err := b.signInOnce(ctx)
	if err != nil {
		return err
	}
	hash, err := userpool.HashPassword(behalf.Secret(b.password), userpool.DefaultHashParams)
	if err != nil {
		return err
	}
	phc, err := userpool.ParsePHC(hash)
	if err != nil {
		return err
	}
	p := userpool.DefaultHashParams
	// The server runs at most one hash per CPU at once (userpool's
	// MaxConcurrentHashes); so does the floor: more at once only share
	// the same cores (and take 19 MiB each).
	hashers := min(b.o.connections, runtime.GOMAXPROCS(0))
	b.say("Measuring %s against argon2id (m=%d KiB, t=%d, p=%d) on %d goroutines in this process", name, p.Memory, p.Time, p.Threads, hashers)
	target := func(ctx context.Context, o loadgen.Options) (loadgen.Result, error) {
		req, err := rp.signed(ctx, b.creds, rp.url)
		if err != nil {
			return loadgen.Result{}, err
		}
		return loadgen.Run(ctx, req, o)
	}
	floor := func(ctx context.Context, o loadgen.Options) (loadgen.Result, error) {
		pw := behalf.Secret(b.password)
		r := loadgen.RunFunc(ctx, o, func() error {
			if !phc.Matches(pw) {
				return errors.New("argon2id: the password does not match its hash")
			}
			return nil
		})
		return r, ctx.Err()
	}
	// Two connections per hash slot keep every slot busy. More only
	// queue in the server, which sheds a sign-in that waits over
	// 500 ms for a slot (serve --max-password-hashes): 32 connections
	// on 2 slots would measure the shedding, not the sign-ins.
	conns := min(b.o.connections, 2*hashers)
	t, fl, err := b.pair(ctx, conns, hashers, target, floor)
	if err != nil {
		return err
	}
	b.addPair(name, fmt.Sprintf("≥ %.2f", goalSignIn), goalSignIn, conns, t,
		fmt.Sprintf("argon2id floor (m=%d KiB, t=%d, p=%d), hashes", p.Memory, p.Time, p.Threads), hashers, fl)
	return nil
}

// invoke runs a trivial agent behind a runtime and measures invocations
// against a bare reverse proxy, then the p50 added at one connection.
func (b *bench) invoke(ctx context.Context) error {
	const name = "InvokeAgentRuntime, trivial agent"
	const latencyName = "InvokeAgentRuntime, 1 connection"
	answer := []byte(`{"result":{"role":"assistant","content":[{"text":"Hello! How can I help you today?"}]}}`)
	agentMux := http.NewServeMux()
	agentMux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"Healthy"}`))
	})
	agentMux.HandleFunc("POST /invocations", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})
	agentURL, err := b.serve(b.o.listenHost, agentMux)
	if err != nil {
		return err
	}
	runtimeName := strings.ReplaceAll(b.name(), "-", "_")
	b.say("Setting up: agent runtime %s in front of a trivial agent at %s", runtimeName, agentURL)
	discovery := strings.TrimSuffix(b.c.cognitoEndpoint(), "/") + "/" + b.poolID + "/.well-known/openid-configuration"
	rt, err := b.control.CreateAgentRuntime(ctx, &ctl.CreateAgentRuntimeInput{
		AgentRuntimeName:     aws.String(runtimeName),
		AgentRuntimeArtifact: &ctltypes.AgentRuntimeArtifactMemberContainerConfiguration{Value: ctltypes.ContainerConfiguration{ContainerUri: aws.String(agentURL)}},
		RoleArn:              aws.String(""),
		Description:          aws.String("behalf bench: a trivial agent, deleted at the end of the run"),
		AuthorizerConfiguration: &ctltypes.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: ctltypes.CustomJWTAuthorizerConfiguration{
			DiscoveryUrl: aws.String(discovery), AllowedClients: []string{b.clientID},
		}},
	})
	if err != nil {
		if privateRefused(err) {
			why := "the server cannot reach the agent at " + agentURL + ": " + wrapAPIError(err).Error()
			b.skip(name, fmt.Sprintf("≥ %.1f", goalInvoke), why)
			b.rows = append(b.rows, benchRow{Name: latencyName, Goal: "added p50 ≤ " + fmtMicros(goalAddedP50), Skipped: why})
			return nil
		}
		return fmt.Errorf("CreateAgentRuntime: %w", wrapAPIError(err))
	}
	runtimeID := aws.ToString(rt.AgentRuntimeId)
	b.onClose("agent runtime "+runtimeID+" and its workload identity", func(ctx context.Context) error {
		_, err := b.control.DeleteAgentRuntime(ctx, &ctl.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(runtimeID)})
		return err
	})

	proxyURL, err := b.startBaseline(ctx, baselineSpec{ProxyTo: agentURL, Connections: b.o.connections})
	if err != nil {
		return err
	}
	req := loadgen.Request{
		Method: http.MethodPost, URL: invokeURL(b.c.dataEndpoint(), aws.ToString(rt.AgentRuntimeArn), behalf.DefaultEndpoint),
		Body: []byte(`{"prompt":"Hello"}`),
		Header: http.Header{
			"Content-Type": {"application/json"}, "Accept": {"application/json"},
			"Authorization":              {"Bearer " + b.accessToken},
			agentruntime.HeaderSessionID: {"behalf-bench-session-" + strings.ToLower(randid.Alnum(32))},
		},
	}
	viaProxy, direct := req, req
	viaProxy.URL, direct.URL = proxyURL+"/invocations", agentURL+"/invocations"
	if err := checkOnce(ctx, req); err != nil {
		return fmt.Errorf("InvokeAgentRuntime: %w", err)
	}
	runReq := func(r loadgen.Request) func(context.Context, loadgen.Options) (loadgen.Result, error) {
		return func(ctx context.Context, o loadgen.Options) (loadgen.Result, error) { return loadgen.Run(ctx, r, o) }
	}
	b.say("Measuring %s against a bare httputil.ReverseProxy to the same agent", name)
	t, bl, err := b.pair(ctx, b.o.connections, b.o.connections, runReq(req), runReq(viaProxy))
	if err != nil {
		return err
	}
	b.addPair(name, fmt.Sprintf("≥ %.1f", goalInvoke), goalInvoke, b.o.connections, t, "bare httputil.ReverseProxy, same agent", b.o.connections, bl)

	b.say("Measuring %s against the agent directly", latencyName)
	t, bl, err = b.pair(ctx, 1, 1, runReq(req), runReq(direct))
	if err != nil {
		return err
	}
	added := t.Percentile(0.5) - bl.Percentile(0.5)
	row := resultRow(latencyName, 1, t)
	row.AddedP50 = ptr(benchMicros(added))
	row.Goal = "added p50 ≤ " + fmtMicros(goalAddedP50)
	row.Met = ptr(added <= goalAddedP50)
	base := resultRow("the agent directly, 1 connection", 1, bl)
	base.Baseline = true

	// What any proxy hop adds on this host: a bare ReverseProxy, against
	// the agent directly in the same way.
	b.say("Measuring a bare httputil.ReverseProxy, 1 connection, against the agent directly")
	px, dl, err := b.pair(ctx, 1, 1, runReq(viaProxy), runReq(direct))
	if err != nil {
		return err
	}
	hop := resultRow("bare httputil.ReverseProxy, 1 connection", 1, px)
	hop.Baseline = true
	hop.AddedP50 = ptr(benchMicros(px.Percentile(0.5) - dl.Percentile(0.5)))
	b.rows = append(b.rows, row, base, hop)
	return nil
}

// checkOnce sends req once and fails unless it is answered 2xx.
func checkOnce(ctx context.Context, req loadgen.Request) error {
	r, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return err
	}
	r.Header = req.Header.Clone()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// measureFunc is one measurement of a target or a baseline.
type measureFunc func(ctx context.Context, o loadgen.Options) (loadgen.Result, error)

// pair measures target (on conns connections) and baseline (on
// baseConns) alternately, half the duration at a time, and merges each
// one's halves.
func (b *bench) pair(ctx context.Context, conns, baseConns int, target, baseline measureFunc) (loadgen.Result, loadgen.Result, error) {
	half := b.o.duration / 2
	var ts, bs []loadgen.Result
	for range 2 {
		t, err := target(ctx, loadgen.Options{Connections: conns, Duration: half})
		if err != nil {
			return loadgen.Result{}, loadgen.Result{}, err
		}
		bl, err := baseline(ctx, loadgen.Options{Connections: baseConns, Duration: half})
		if err != nil {
			return loadgen.Result{}, loadgen.Result{}, err
		}
		ts, bs = append(ts, t), append(bs, bl)
	}
	return loadgen.Merge(ts...), loadgen.Merge(bs...), nil
}

// addPair adds a target row with its ratio to the baseline, and the
// baseline's row.
func (b *bench) addPair(name, goalText string, goal float64, conns int, t loadgen.Result, baseName string, baseConns int, bl loadgen.Result) {
	row := resultRow(name, conns, t)
	if bl.Rate() > 0 {
		ratio := t.Rate() / bl.Rate()
		row.Ratio = &ratio
		row.Met = ptr(ratio >= goal)
	}
	row.Goal = goalText
	base := resultRow(baseName, baseConns, bl)
	base.Baseline = true
	b.rows = append(b.rows, row, base)
}

func resultRow(name string, conns int, r loadgen.Result) benchRow {
	return benchRow{
		Name: name, Connections: conns, OK: r.OK, Errors: r.Errors, FirstError: r.FirstError,
		ReqPerSec: r.Rate(), P50Micros: benchMicros(r.Percentile(0.5)), P99Micros: benchMicros(r.Percentile(0.99)),
	}
}

func ptr[T any](v T) *T { return &v }

func benchMicros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// fmtMicros prints a duration in µs below 1 ms, else in ms: two decimals
// below 100 ms, none above.
func fmtMicros(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d < time.Millisecond && d > -time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case ms < 100 && ms > -100:
		return fmt.Sprintf("%.2fms", ms)
	}
	return fmt.Sprintf("%.0fms", ms)
}

func (b *bench) errorCount() int64 {
	var n int64
	for _, r := range b.rows {
		n += r.Errors
	}
	return n
}

// print writes the report.
func (b *bench) print() error {
	rep := benchReport{Endpoint: b.c.dataEndpoint(), Connections: b.o.connections, Duration: b.o.duration.String(), GOMAXPROCS: runtime.GOMAXPROCS(0), Rows: b.rows}
	return b.c.print(rep, func(w io.Writer) {
		fmt.Fprintf(w, "behalf bench: %s, %d connections, %s per row (two alternating halves), GOMAXPROCS %d here\n\n",
			rep.Endpoint, rep.Connections, rep.Duration, rep.GOMAXPROCS)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TARGET\tCONNS\tREQ/S\tP50\tP99\tERRORS\tRATIO\tGOAL\tMET")
		for _, r := range b.rows {
			name := r.Name
			if r.Baseline {
				name = "  vs " + name
			}
			if r.Skipped != "" {
				fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\tskipped\t%s\t-\n", name, r.Goal)
				continue
			}
			ratio, met := "", ""
			switch {
			case r.AddedP50 != nil:
				added := time.Duration(*r.AddedP50 * float64(time.Microsecond))
				ratio = "+" + fmtMicros(added)
				if added < 0 {
					ratio = "-" + fmtMicros(-added)
				}
			case r.Ratio != nil:
				ratio = fmt.Sprintf("%.2f", *r.Ratio)
			}
			if r.Met != nil {
				met = map[bool]string{true: "yes", false: "no"}[*r.Met]
			}
			fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%d\t%s\t%s\t%s\n", name, r.Connections, r.ReqPerSec,
				fmtMicros(time.Duration(r.P50Micros*float64(time.Microsecond))), fmtMicros(time.Duration(r.P99Micros*float64(time.Microsecond))),
				r.Errors, ratio, r.Goal, met)
		}
		tw.Flush()
		var notes []string
		said := map[string]bool{}
		for _, r := range b.rows {
			if r.Skipped != "" && !said[r.Skipped] {
				said[r.Skipped] = true
				notes = append(notes, fmt.Sprintf("%s skipped: %s", r.Name, r.Skipped))
			}
			if r.FirstError != "" {
				notes = append(notes, fmt.Sprintf("%s: %d errors, the first: %s", r.Name, r.Errors, r.FirstError))
			}
			if r.Note != "" {
				notes = append(notes, fmt.Sprintf("%s: %s", r.Name, r.Note))
			}
		}
		if len(notes) > 0 {
			fmt.Fprintln(w)
			for _, n := range notes {
				fmt.Fprintln(w, n)
			}
		}
		fmt.Fprintln(w, "\nRATIO is the target's req/s ÷ the baseline's below it; for the 1-connection rows, the p50 added over the agent directly.")
		fmt.Fprintln(w, "The baselines ran on this machine: the ratios are the issue's only when this ran on the server's host.")
	})
}

// replay is a request an official SDK client sent, without its
// signature, and the answer it got.
type replay struct {
	method, url     string
	header          http.Header
	body            []byte
	service, region string // the signature's scope; "" when unsigned

	status     int
	respHeader http.Header
	respBody   []byte
}

// signed returns the request for u, signed now with the SDK's v4 signer
// when the recorded one was signed.
func (rp *replay) signed(ctx context.Context, creds aws.Credentials, u string) (loadgen.Request, error) {
	req, err := http.NewRequestWithContext(ctx, rp.method, rp.url, bytes.NewReader(rp.body))
	if err != nil {
		return loadgen.Request{}, err
	}
	req.Header = rp.header.Clone()
	if rp.service != "" {
		sum := sha256.Sum256(rp.body)
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), rp.service, rp.region, time.Now()); err != nil {
			return loadgen.Request{}, fmt.Errorf("sign: %w", err)
		}
	}
	return loadgen.Request{Method: rp.method, URL: u, Header: req.Header, Body: rp.body}, nil
}

// recordingClient is an SDK HTTP client that records the last request
// and its answer.
type recordingClient struct {
	last *replay
}

func (rc *recordingClient) Do(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	rp := &replay{method: req.Method, url: req.URL.String(), header: req.Header.Clone(), body: body}
	if auth := req.Header.Get("Authorization"); auth != "" {
		rp.service, rp.region = signatureScope(auth)
		if rp.service == "" {
			return nil, fmt.Errorf("bench: cannot read the scope of the SDK's signature")
		}
	}
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		rp.header.Del(h)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	rp.status, rp.respHeader, rp.respBody = resp.StatusCode, resp.Header.Clone(), rb
	rc.last = rp
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	return resp, nil
}

// signatureScope reads service and region from a SigV4 Authorization
// header's Credential=AKID/DATE/REGION/SERVICE/aws4_request.
func signatureScope(auth string) (service, region string) {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return "", ""
	}
	return parts[3], parts[2]
}
