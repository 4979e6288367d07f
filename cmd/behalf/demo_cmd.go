package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/agent"
	"github.com/behalf-dev/behalf/agent/driveagent"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/sandbox"
)

const demoUsage = `[--mcp] [--interactive] [--data-dir DIR] [--seed-files N] [--timeout 10m]

Runs the AgentCore Identity Google Drive walkthrough end to end on this
machine, offline: a user pool and a signed-in user, the Behalf sandbox as
Google, the drive agent behind an agent runtime, the first invocation's
authorization URL, consent, the session binding at the app's callback,
and the second invocation's file list. Behalf, the sandbox, the agent and
the callback server all run inside this process on loopback ports.

Consent is headless by default (the sandbox's consent page is posted by
an HTTP client with a cookie jar); --interactive prints the URL, tries to
open it in your browser, and waits for you to press Allow.

--mcp runs the Behalf Gateway walkthrough instead: the sandbox's Drive as
an OpenAPI target of a gateway whose issuer is the pool; an MCP client
(the official Go SDK's, with its OAuth support) that knows only the
gateway's URL discovers the pool, registers itself, signs alice in at the
hosted login (scripted), calls drive___listFiles, is asked to consent
(URL elicitation), and gets alice's files; bob gets his own consent and
his own files.`

// demoRegion is the region of the demo's Behalf and clients.
const demoRegion = "us-east-1"

// demoSecretsHook, when set (tests), receives every secret the demo makes
// or receives, to check none is printed.
var demoSecretsHook func(secrets ...string)

// demoOptions are the flags of `behalf demo`.
type demoOptions struct {
	interactive bool
	mcp         bool
	dataDir     string
	seedFiles   int
	timeout     time.Duration
}

// demoSetup defines the flags of `behalf demo`.
func demoSetup(fs *flagSet, stdout, stderr io.Writer) func(context.Context, []string) error {
	var o demoOptions
	fs.BoolVar(&o.interactive, "interactive", false, "consent in your browser instead of headless")
	fs.BoolVar(&o.mcp, "mcp", false, "the Behalf Gateway walkthrough: an MCP client, each user's own Google token")
	fs.StringVar(&o.dataDir, "data-dir", "", "Behalf's data directory, new or empty, kept afterwards (default: a temporary directory, removed)")
	fs.IntVar(&o.seedFiles, "seed-files", sandbox.DefaultSeedFiles, "files in the sandbox user's Google Drive")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "how long --interactive waits for your consent")
	return func(ctx context.Context, args []string) error { return runDemo(ctx, o, args, stdout, stderr) }
}

// runDemo runs `behalf demo`.
func runDemo(ctx context.Context, o demoOptions, args []string, stdout, stderr io.Writer) error {
	if err := needNoArgs("demo", args); err != nil {
		return err
	}
	if o.seedFiles < 1 || o.seedFiles > 1000 {
		return fmt.Errorf("%w: --seed-files must be 1 to 1000", errUsage)
	}
	if o.mcp && o.interactive {
		return fmt.Errorf("%w: --interactive applies to the runtime walkthrough, not --mcp", errUsage)
	}
	d := &demo{opts: o, out: stdout, errOut: stderr, start: time.Now()}
	run := d.run
	if o.mcp {
		run = d.runMCP
	}
	err := run(ctx)
	d.close()
	if err != nil {
		if tail := d.behalfLogTail(30); tail != "" {
			fmt.Fprintf(stderr, "Behalf's log (last lines):\n%s\n", tail)
		}
		return err
	}
	return nil
}

// demo is the walkthrough's state.
type demo struct {
	opts        demoOptions
	out, errOut io.Writer
	start       time.Time
	step        int

	dataDir    string
	removeDir  bool
	behalfLog  lockedBuffer
	stopBehalf func()
	servers    []*http.Server
	google     *sandbox.Server

	behalfURL string
	control   *ctl.Client
	cognito   *cip.Client
	identity  *agent.Client

	poolID, appClientID, appClientSecret string
	username, email, password            string
	accessToken                          string

	googleClientID, googleClientSecret string
	providerCallbackURL                string

	agentURL    string
	callbackURL string
	bindings    chan binding

	runtimeARN, runtimeID, workload string
	sessionID, authURL              string
}

// binding is one request to the callback server and how it ended.
type binding struct {
	sessionURI string
	status     int
	page       string
}

// secret records s as a secret the demo must never print.
func (d *demo) secret(s ...string) {
	if demoSecretsHook != nil {
		demoSecretsHook(s...)
	}
}

// printStep starts step n.
func (d *demo) printStep(title string) {
	d.step++
	fmt.Fprintf(d.out, "\n%2d. %s\n", d.step, title)
}

// say prints an indented line of the current step.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "    "+format+"\n", args...)
}

// fail wraps err with the current step.
func (d *demo) fail(err error) error {
	return fmt.Errorf("demo failed at step %d: %w", d.step, err)
}

func (d *demo) run(ctx context.Context) error {
	fmt.Fprintln(d.out, "Behalf demo: the AgentCore Identity Google Drive walkthrough, offline, on this machine.")
	fmt.Fprintln(d.out, "Behalf, the Google sandbox, the drive agent and the app's callback server run in this process on loopback ports.")
	for _, step := range []func(context.Context) error{
		d.startBehalf, d.createPoolAndUser, d.signIn, d.startSandbox, d.createProvider,
		d.startAgent, d.startCallbackServer, d.createRuntime, d.allowReturnURL,
		d.firstInvoke, d.bindSession, d.secondInvoke,
	} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := step(ctx); err != nil {
			return d.fail(err)
		}
	}
	fmt.Fprintf(d.out, "\nDone in %.1fs: the agent listed %s's Google Drive files through Behalf, acting for the signed-in user.\n",
		time.Since(d.start).Seconds(), d.email)
	if d.removeDir {
		fmt.Fprintln(d.out, "Everything ran in this process and is gone now; `behalf demo --data-dir DIR` keeps Behalf's data.")
	} else {
		fmt.Fprintf(d.out, "Behalf's data is in %s (`behalf serve --data-dir %s --allow-private-endpoints` reopens it).\n", d.dataDir, d.dataDir)
	}
	return nil
}

// startBehalf runs Behalf's Main on a loopback port with a fresh data
// directory.
func (d *demo) startBehalf(ctx context.Context) error {
	d.printStep("Start Behalf (empty data directory, loopback port, --allow-private-endpoints)")
	if d.opts.dataDir == "" {
		dir, err := os.MkdirTemp("", "behalf-demo-")
		if err != nil {
			return err
		}
		d.dataDir, d.removeDir = dir, true
	} else {
		entries, err := os.ReadDir(d.opts.dataDir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if len(entries) > 0 {
			return fmt.Errorf("--data-dir %s is not empty: the demo needs a fresh Behalf; remove it or choose another directory", d.opts.dataDir)
		}
		d.dataDir = d.opts.dataDir
	}
	m := NewMain(&d.behalfLog)
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", d.dataDir, "--allow-private-endpoints", "--region", demoRegion}); err != nil {
		return err
	}
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	// A library in Behalf's hosted login logs its routes to slog's default
	// logger while starting; keep that in Behalf's log, not the demo's output.
	restore := captureDefaultLog(&d.behalfLog)
	go func() { done <- m.Run(bctx) }()
	defer restore()
	d.stopBehalf = func() {
		cancel()
		<-done
	}
	select {
	case addr := <-m.Addr:
		d.behalfURL = "http://" + addr
	case err := <-done:
		d.stopBehalf = func() {}
		return fmt.Errorf("the Behalf server did not start: %w", err)
	case <-time.After(30 * time.Second):
		return errors.New("the Behalf server did not start within 30s")
	}
	id, secret, err := d.rootCredentials()
	if err != nil {
		return err
	}
	d.secret(secret)
	creds := credentials.NewStaticCredentialsProvider(id, secret, "")
	d.control = ctl.New(ctl.Options{BaseEndpoint: aws.String(d.behalfURL), Region: demoRegion, Credentials: creds, RetryMaxAttempts: 1})
	d.cognito = cip.New(cip.Options{BaseEndpoint: aws.String(d.behalfURL), Region: demoRegion, Credentials: creds, RetryMaxAttempts: 1})
	d.identity = agent.NewClient(dp.New(dp.Options{BaseEndpoint: aws.String(d.behalfURL), Region: demoRegion, Credentials: creds, RetryMaxAttempts: 1}))
	d.say("Behalf:   %s", d.behalfURL)
	d.say("Data dir: %s (root key in its credentials file)", d.dataDir)
	return nil
}

// captureDefaultLog sends slog's default logger (and the log package) to
// w until the returned function restores them.
func captureDefaultLog(w io.Writer) (restore func()) {
	prev, out, flags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.NewTextHandler(w, nil)))
	return func() {
		slog.SetDefault(prev)
		log.SetOutput(out)
		log.SetFlags(flags)
	}
}

// rootCredentials returns the root key Behalf wrote, or the one it took
// from the environment.
func (d *demo) rootCredentials() (id, secret string, err error) {
	if id, secret := os.Getenv("BEHALF_ROOT_ACCESS_KEY_ID"), os.Getenv("BEHALF_ROOT_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return id, secret, nil
	}
	path := filepath.Join(d.dataDir, "credentials")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("read Behalf's root credentials: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, _ := strings.Cut(line, " = ")
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	if id == "" || secret == "" {
		return "", "", fmt.Errorf("%s holds no access key", path)
	}
	return id, secret, nil
}

// createPoolAndUser creates the Cognito-compatible pool, an app client
// with a secret, and a user with a permanent password.
func (d *demo) createPoolAndUser(ctx context.Context) error {
	d.printStep("Create the user pool, its app client and a user (official Cognito client)")
	pool, err := d.cognito.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("DriveAgentUsers")})
	if err != nil {
		return wrapAPIError(err)
	}
	d.poolID = aws.ToString(pool.UserPool.Id)
	d.say("$ behalf userpool create DriveAgentUsers")
	d.say("User pool:  %s  %s", d.poolID, aws.ToString(pool.UserPool.Arn))

	client, err := d.cognito.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: pool.UserPool.Id, ClientName: aws.String("drive-agent-app"), GenerateSecret: true,
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowUserPasswordAuth, ciptypes.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		return wrapAPIError(err)
	}
	d.appClientID, d.appClientSecret = aws.ToString(client.UserPoolClient.ClientId), aws.ToString(client.UserPoolClient.ClientSecret)
	d.secret(d.appClientSecret)
	d.say("$ behalf userpool client create %s drive-agent-app --generate-secret --auth-flow ALLOW_USER_PASSWORD_AUTH", d.poolID)
	d.say("App client: %s (with a client secret, not shown)", d.appClientID)

	d.username, d.email = "alice", sandbox.DefaultUser
	temporary := "Tmp-" + randid.Alnum(16) + "-1a"
	d.password = "Pw-" + randid.Alnum(20) + "-9z"
	d.secret(temporary, d.password)
	if _, err := d.cognito.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(d.poolID), Username: aws.String(d.username), MessageAction: ciptypes.MessageActionTypeSuppress,
		TemporaryPassword: aws.String(temporary),
		UserAttributes:    []ciptypes.AttributeType{{Name: aws.String("email"), Value: aws.String(d.email)}, {Name: aws.String("email_verified"), Value: aws.String("true")}},
	}); err != nil {
		return wrapAPIError(err)
	}
	if _, err := d.cognito.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(d.poolID), Username: aws.String(d.username), Password: aws.String(d.password), Permanent: true,
	}); err != nil {
		return wrapAPIError(err)
	}
	d.say("$ behalf user create %s %s --attribute email=%s", d.poolID, d.username, d.email)
	d.say("$ behalf user set-password %s %s --password-file PASSWORD_FILE --permanent", d.poolID, d.username)
	d.say("User:       %s (%s), permanent password (not shown)", d.username, d.email)
	return nil
}

// signIn runs InitiateAuth USER_PASSWORD_AUTH with SECRET_HASH.
func (d *demo) signIn(ctx context.Context) error {
	d.printStep("Sign in as " + d.username + " (InitiateAuth USER_PASSWORD_AUTH with SECRET_HASH)")
	mac := hmac.New(sha256.New, []byte(d.appClientSecret))
	mac.Write([]byte(d.username + d.appClientID))
	out, err := d.cognito.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(d.appClientID), AuthFlow: ciptypes.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": d.username, "PASSWORD": d.password, "SECRET_HASH": base64.StdEncoding.EncodeToString(mac.Sum(nil))},
	})
	if err != nil {
		return wrapAPIError(err)
	}
	res := out.AuthenticationResult
	if res == nil || aws.ToString(res.AccessToken) == "" {
		return fmt.Errorf("sign-in answered challenge %q instead of tokens", out.ChallengeName)
	}
	d.accessToken = aws.ToString(res.AccessToken)
	d.secret(d.accessToken, aws.ToString(res.IdToken), aws.ToString(res.RefreshToken))
	d.say("$ behalf login --pool %s --client %s --username %s", d.poolID, d.appClientID, d.username)
	d.say("Access token: %s (a JWT from the pool, %ds; the bearer token for the agent runtime)", tokenPrefix(d.accessToken), res.ExpiresIn)
	return nil
}

// tokenPrefix shows the first characters of a token, never the token.
func tokenPrefix(tok string) string {
	if len(tok) > 7 {
		tok = tok[:7]
	}
	return tok + "…"
}

// startSandbox starts the Google stand-in.
func (d *demo) startSandbox(context.Context) error {
	d.printStep("Start the Google sandbox (Google's OAuth 2.0 endpoints and Drive files.list, seeded files)")
	s, err := sandbox.Start("127.0.0.1:0", sandbox.Options{SeedFiles: d.opts.seedFiles})
	if err != nil {
		return err
	}
	d.google = s
	d.say("$ behalf sandbox --listen 127.0.0.1:%s --seed-files %d", portOf(s.URL), d.opts.seedFiles)
	d.say("Discovery URL:  %s", s.DiscoveryURL())
	d.say("Drive endpoint: %s", s.DriveEndpoint())
	return nil
}

func portOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return "0"
	}
	return pu.Port()
}

// createProvider creates the CustomOauth2 provider from the sandbox's
// discovery URL and registers its callback URL at the sandbox.
func (d *demo) createProvider(ctx context.Context) error {
	d.printStep("Create the Google credential provider (CustomOauth2, from the sandbox's discovery URL)")
	d.googleClientID = "drive-agent-demo.apps.sandbox.local"
	d.googleClientSecret = "GOCSPX-" + randid.Alnum(28)
	d.secret(d.googleClientSecret)
	out, err := d.control.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String(driveagent.DefaultProvider), CredentialProviderVendor: ctltypes.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: &ctltypes.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: ctltypes.CustomOauth2ProviderConfigInput{
			OauthDiscovery: &ctltypes.Oauth2DiscoveryMemberDiscoveryUrl{Value: d.google.DiscoveryURL()},
			ClientId:       aws.String(d.googleClientID), ClientSecret: aws.String(d.googleClientSecret),
		}},
	})
	if err != nil {
		return wrapAPIError(err)
	}
	d.providerCallbackURL = aws.ToString(out.CallbackUrl)
	d.say("$ behalf provider create %s --vendor CustomOauth2 --discovery-url %s --client-id %s --client-secret-file SECRET_FILE",
		driveagent.DefaultProvider, d.google.DiscoveryURL(), d.googleClientID)
	d.say("Provider:     %s", aws.ToString(out.CredentialProviderArn))
	d.say("Callback URL: %s", d.providerCallbackURL)
	if err := sandbox.RegisterClientAt(ctx, nil, d.google.URL, sandbox.Client{
		ID: d.googleClientID, Secret: d.googleClientSecret, Name: "Drive Agent (Behalf demo)", RedirectURIs: []string{d.providerCallbackURL},
	}); err != nil {
		return err
	}
	d.say("Registered OAuth client %s at the sandbox with that callback URL as its redirect URI", d.googleClientID)
	d.say("(POST %s%s; at Google: the OAuth client's authorized redirect URIs)", d.google.URL, sandbox.ClientsPath)
	return nil
}

// serve serves h on a new loopback port and returns its base URL.
func (d *demo) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)}
	d.servers = append(d.servers, srv)
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// startAgent runs the drive agent, with the sandbox as its Drive API.
func (d *demo) startAgent(context.Context) error {
	d.printStep("Start the drive agent (examples/drive-agent: POST /invocations, GET /ping)")
	app := driveagent.New(driveagent.Config{DriveEndpoint: d.google.DriveEndpoint()}, d.identity)
	app.Log = slog.New(slog.DiscardHandler)
	u, err := d.serve(app)
	if err != nil {
		return err
	}
	d.agentURL = u
	d.say("$ DRIVE_ENDPOINT=%s PORT=%s go run ./examples/drive-agent", d.google.DriveEndpoint(), portOf(u))
	d.say("Agent: %s (provider %s, scope %s)", d.agentURL, driveagent.DefaultProvider, driveagent.Scope)
	return nil
}

// startCallbackServer runs the app's session-binding endpoint: it
// completes sessions as the signed-in user, by the user's JWT.
func (d *demo) startCallbackServer(context.Context) error {
	d.printStep("Start the app's callback server (agent.CallbackHandler, completing as the signed-in user's JWT)")
	d.bindings = make(chan binding, 8)
	h := agent.CallbackHandler(d.identity, func(*http.Request) (dptypes.UserIdentifier, error) {
		return agent.UserToken(d.accessToken), nil
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusSeeOther {
			return // completed: the result page, which it redirects to, is the binding's outcome
		}
		select {
		case d.bindings <- binding{sessionURI: r.URL.Query().Get("session_id"), status: rec.status, page: pageMessage(rec.body.String())}:
		default:
		}
	})
	u, err := d.serve(mux)
	if err != nil {
		return err
	}
	d.callbackURL = u + "/callback"
	d.say("$ USER_TOKEN=<alice's JWT> go run ./examples/callback-server --listen 127.0.0.1:%s", portOf(u))
	d.say("Callback URL: %s", d.callbackURL)
	return nil
}

// paragraph matches an HTML paragraph.
var paragraph = regexp.MustCompile(`(?s)<p[^>]*>(.*?)</p>`)

// pageMessage is the first paragraph's text of an HTML page (the
// callback page's message), else the page's text.
func pageMessage(page string) string {
	if m := paragraph.FindStringSubmatch(page); m != nil {
		page = m[1]
	}
	return (&sandbox.Page{Body: page}).Text(200)
}

// recorder keeps a response's status and body.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// createRuntime registers the running agent as an agent runtime with a
// JWT authorizer for the pool's tokens.
func (d *demo) createRuntime(ctx context.Context) error {
	d.printStep("Create the agent runtime for the drive agent (JWT authorizer: the pool's tokens from the app client)")
	discovery := d.behalfURL + "/" + d.poolID + "/.well-known/openid-configuration"
	out, err := d.control.CreateAgentRuntime(ctx, &ctl.CreateAgentRuntimeInput{
		AgentRuntimeName:     aws.String("drive_agent"),
		AgentRuntimeArtifact: &ctltypes.AgentRuntimeArtifactMemberContainerConfiguration{Value: ctltypes.ContainerConfiguration{ContainerUri: aws.String(d.agentURL)}},
		RoleArn:              aws.String(""),
		Description:          aws.String("The Google Drive walkthrough agent"),
		AuthorizerConfiguration: &ctltypes.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: ctltypes.CustomJWTAuthorizerConfiguration{
			DiscoveryUrl: aws.String(discovery), AllowedClients: []string{d.appClientID},
		}},
		EnvironmentVariables: map[string]string{behalf.CallbackURLEnv: d.callbackURL},
	})
	if err != nil {
		return wrapAPIError(err)
	}
	d.runtimeARN, d.runtimeID = aws.ToString(out.AgentRuntimeArn), aws.ToString(out.AgentRuntimeId)
	d.workload = workloadFromDetails(out.WorkloadIdentityDetails)
	d.say("$ behalf runtime create drive_agent --upstream %s --discovery-url %s --allowed-client %s --callback-url %s",
		d.agentURL, discovery, d.appClientID, d.callbackURL)
	d.say("Runtime:           %s (%s, version %s)", d.runtimeARN, out.Status, aws.ToString(out.AgentRuntimeVersion))
	d.say("Workload identity: %s", d.workload)
	return nil
}

// allowReturnURL lets the runtime's workload return users to the
// callback server.
func (d *demo) allowReturnURL(ctx context.Context) error {
	d.printStep("Allow the callback server as the workload's OAuth return URL (UpdateWorkloadIdentity)")
	out, err := d.control.UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{
		Name: aws.String(d.workload), AllowedResourceOauth2ReturnUrls: []string{d.callbackURL},
	})
	if err != nil {
		return wrapAPIError(err)
	}
	d.say("$ behalf workload update %s --return-url %s", d.workload, d.callbackURL)
	d.say("%s: allowedResourceOauth2ReturnUrls = %s", aws.ToString(out.Name), strings.Join(out.AllowedResourceOauth2ReturnUrls, ", "))
	return nil
}

// demoPrompt is what the user asks the agent.
const demoPrompt = "List my Google Drive files"

// invoke calls InvokeAgentRuntime with the bearer token and decodes the
// agent's JSON answer.
func (d *demo) invoke(ctx context.Context) (map[string]any, error) {
	escaped := strings.ReplaceAll(url.QueryEscape(d.runtimeARN), "+", "%20")
	u := d.behalfURL + "/runtimes/" + escaped + "/invocations?qualifier=" + behalf.DefaultEndpoint
	body, _ := json.Marshal(map[string]string{"prompt": demoPrompt})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+d.accessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", d.sessionID)
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("InvokeAgentRuntime: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("InvokeAgentRuntime: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("InvokeAgentRuntime: %s %s: %s", resp.Status, resp.Header.Get("X-Amzn-ErrorType"), strings.TrimSpace(string(b)))
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("InvokeAgentRuntime: the agent's answer is not JSON: %.200s", b)
	}
	return out, nil
}

// firstInvoke invokes the runtime before consent: the agent answers
// auth_required with Behalf's authorization URL.
func (d *demo) firstInvoke(ctx context.Context) error {
	d.printStep(fmt.Sprintf("Invoke the agent as %s: %q", d.username, demoPrompt))
	d.sessionID = "demo-session-" + strings.ToLower(randid.Alnum(24))
	escaped := strings.ReplaceAll(url.QueryEscape(d.runtimeARN), "+", "%20")
	d.say("$ behalf invoke %s '{\"prompt\": \"%s\"}' --bearer-token-file TOKEN_FILE", d.runtimeARN, demoPrompt)
	d.say("POST %s/runtimes/%s/invocations?qualifier=DEFAULT", d.behalfURL, escaped)
	d.say("     Authorization: Bearer %s   X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: %s", tokenPrefix(d.accessToken), d.sessionID)
	out, err := d.invoke(ctx)
	if err != nil {
		return err
	}
	authURL, _ := out["auth_url"].(string)
	if out["status"] != "auth_required" || authURL == "" {
		return fmt.Errorf("expected status auth_required with an auth_url, got %v", out)
	}
	d.say("→ status:   %s", out["status"])
	d.say("  message:  %s", out["message"])
	d.say("  auth_url: %s", authURL)
	d.authURL = authURL
	return nil
}

// bindSession has the user consent at the sandbox, then waits for the
// callback server to bind the session.
func (d *demo) bindSession(ctx context.Context) error {
	if d.opts.interactive {
		return d.consentInteractive(ctx)
	}
	d.printStep("Consent at \"Google\" (headless: the sandbox's consent page, posted by an HTTP client with a cookie jar)")
	browser := sandbox.NewBrowser()
	browser.Timeout = 30 * time.Second
	page, err := sandbox.OpenConsent(ctx, browser, d.authURL)
	if err != nil {
		return err
	}
	d.say("GET auth_url → Behalf redirects to the sandbox's consent page %s%s", d.google.URL, page.URL.Path)
	d.say("The page: %q wants to access %s's Google Account:", page.Client, page.User)
	for _, sc := range page.Scopes {
		d.say("  - %s", sc)
	}
	end, err := page.Submit(ctx, browser, "", true)
	if err != nil {
		return err
	}
	d.say("Allow → sandbox redirects to Behalf's callback URL with a code → Behalf stores the tokens and")
	d.say("        redirects to the app's callback server with session_id")
	if end.URL.Scheme+"://"+end.URL.Host+end.URL.Path != d.callbackURL {
		return fmt.Errorf("consent ended on %d %s%s, not at the callback server: %s", end.Status, end.URL.Host, end.URL.Path, end.Text(300))
	}
	return d.printBinding(ctx, time.Second)
}

// consentInteractive prints the URL, tries to open it, and waits for the
// person's consent to reach the callback server.
func (d *demo) consentInteractive(ctx context.Context) error {
	d.printStep("Consent at \"Google\" (interactive: in your browser)")
	d.say("Open this URL, check the sandbox user, and press Allow:")
	fmt.Fprintf(d.out, "\n    %s\n\n", d.authURL)
	if err := openBrowser(d.authURL); err == nil {
		d.say("(asked your desktop to open it in your browser)")
	} else {
		d.say("(could not open a browser: %v; open the URL yourself, on this machine)", err)
	}
	d.say("Waiting up to %s for the callback server…", d.opts.timeout)
	return d.printBinding(ctx, d.opts.timeout)
}

// openerWait is how long openBrowser waits for the opener to say whether
// it failed; one still running then is taken to have worked.
const openerWait = 5 * time.Second

// openBrowser asks the desktop to open u, and reports the opener's
// failure (xdg-open exits non-zero when it finds no browser).
func openBrowser(u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(cmd.Path), err)
		}
		return nil
	case <-time.After(openerWait):
		return nil
	}
}

// printBinding waits for the callback server's answer and prints it.
func (d *demo) printBinding(ctx context.Context, wait time.Duration) error {
	d.printStep("The app binds the session (callback server → CompleteResourceTokenAuth as the signed-in user)")
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case b := <-d.bindings:
		d.say("GET %s?session_id=%s", d.callbackURL, b.sessionURI)
		d.say("CompleteResourceTokenAuth(sessionUri=%s, userIdentifier.userToken=%s)", b.sessionURI, tokenPrefix(d.accessToken))
		if b.status != http.StatusOK {
			return fmt.Errorf("the callback server answered %d: %s", b.status, b.page)
		}
		d.say("→ %d %q", b.status, b.page)
		d.say("Behalf's token vault now holds %s's Google token for workload %s.", d.username, d.workload)
		return nil
	case <-timer.C:
		return fmt.Errorf("the callback server was not called within %s", wait)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// secondInvoke invokes again: the agent gets the vaulted token and lists
// the files.
func (d *demo) secondInvoke(ctx context.Context) error {
	d.printStep(fmt.Sprintf("Invoke the agent again (same bearer token and session): %q", demoPrompt))
	out, err := d.invoke(ctx)
	if err != nil {
		return err
	}
	files, _ := out["files"].([]any)
	if out["status"] != "success" {
		return fmt.Errorf("expected status success, got %v", out)
	}
	d.say("→ status: %s, %d files from %s's Google Drive (the sandbox):", out["status"], len(files), d.email)
	fmt.Fprintln(d.out)
	fmt.Fprintf(d.out, "    %-28s %-42s %s\n", "NAME", "MIME TYPE", "ID")
	for _, f := range files {
		m, _ := f.(map[string]any)
		fmt.Fprintf(d.out, "    %-28v %-42v %v\n", m["name"], m["mimeType"], m["id"])
	}
	return nil
}

// close stops everything the demo started and removes a temporary data
// directory.
func (d *demo) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range d.servers {
		s.Shutdown(ctx)
	}
	if d.google != nil {
		d.google.Close()
	}
	if d.stopBehalf != nil {
		d.stopBehalf()
	}
	if d.removeDir {
		os.RemoveAll(d.dataDir)
	}
}

// behalfLogTail returns the last n lines of Behalf's log.
func (d *demo) behalfLogTail(n int) string {
	lines := strings.Split(strings.TrimSpace(d.behalfLog.String()), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
