package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf"
)

// `behalf runtime create NAME [runtime flags] -- COMMAND [ARG]...` runs an
// agent and fronts it, in the foreground: the CLI is the agent's
// supervisor.
//
//   - It picks a free loopback port and makes the runtime's upstream
//     http://127.0.0.1:PORT. Behalf must therefore run on this machine.
//   - Create or reuse: when no runtime is called NAME, it is created. When
//     one is, it is reused and updated (the flags replace its configuration,
//     as `behalf runtime update` does), so its workload identity survives:
//     the users' vaulted grants and the workload's return URLs stay valid
//     from one run to the next. A runtime is reused only if it looks like
//     one this command made and nobody serves it now: its upstream is an
//     http loopback URL and GET /ping there does not answer. Otherwise the
//     command refuses, rather than take over someone else's runtime.
//   - It creates an access key scoped to the runtime's workload identity
//     (POST /behalf/CreateAccessKey) and hands the agent that key, never
//     the key the CLI itself uses.
//   - It starts COMMAND with PORT, AWS_ENDPOINT_URL (and
//     AWS_ENDPOINT_URL_BEDROCK_AGENTCORE), AWS_ACCESS_KEY_ID,
//     AWS_SECRET_ACCESS_KEY, AWS_REGION and, with --callback-url,
//     OAUTH2_CALLBACK_URL set; other AWS credential and endpoint settings and
//     every BEHALF_* variable of the CLI's environment are removed. Its
//     stdin is /dev/null; its stdout and stderr lines reach the CLI's
//     stdout and stderr prefixed with "[NAME] ".
//   - COMMAND runs in its own process group, so whatever it starts is
//     stopped with it. When it exits it is restarted on the same port after
//     0.5 s, doubling up to 30 s while it keeps failing; a run of at least
//     60 s resets the delay.
//   - On SIGINT or SIGTERM it sends the process group SIGTERM, then SIGKILL
//     to whatever is left after 5 s, deletes the scoped key, and leaves the
//     runtime in place (invocations answer 424 until an agent serves it
//     again; the next run reuses it). --delete-on-exit deletes the runtime
//     and its workload identity instead.
//
// The supervisor's own messages go to stderr, prefixed "behalf: ".

// Supervision timings; tests shorten them.
var (
	superviseStopGrace    = 5 * time.Second        // SIGTERM → SIGKILL
	superviseBackoffMin   = 500 * time.Millisecond // first restart delay
	superviseBackoffMax   = 30 * time.Second
	superviseBackoffReset = 60 * time.Second // a run this long resets the delay
	superviseReadyTimeout = 60 * time.Second // warn if GET /ping does not answer by then
)

// superviseRemovedEnv are variables of the CLI's environment the agent does
// not inherit: credentials and endpoints (the agent gets its own) and
// Behalf's server settings (among them the root key).
var superviseRemovedEnv = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL",
	"BEDROCK_AGENTCORE_DP_ENDPOINT", "PORT", behalf.CallbackURLEnv,
}

func runtimeCreateFlags(fs *flagSet) {
	runtimeFlags(fs)
	fs.Bool("delete-on-exit", false, "with -- COMMAND: delete the runtime and its workload identity when the command stops (default: leave it, the next run reuses it)")
}

// dataEndpoint is the data-plane endpoint: --endpoint-url, else the AWS
// endpoint variables, else the local server.
func (c *cli) dataEndpoint() string {
	for _, v := range []string{c.endpoint, os.Getenv("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE"), os.Getenv("AWS_ENDPOINT_URL")} {
		if v != "" {
			return strings.TrimRight(v, "/")
		}
	}
	return defaultEndpoint
}

// supervisedRuntime is the runtime a supervising run fronts.
type supervisedRuntime struct {
	id, arn, version, workload string
	status                     types.AgentRuntimeStatus
	reused                     bool
}

// runtimeSupervise runs `behalf runtime create NAME [flags] -- COMMAND ARGS`.
func runtimeSupervise(ctx context.Context, c *cli, name string, argv []string) (err error) {
	if c.set("upstream") {
		return fmt.Errorf("%w: give either --upstream URL (an agent that already runs) or -- COMMAND (an agent for this command to run), not both", errUsage)
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return fmt.Errorf("cannot run the agent: %w", err)
	}
	stdout, stderr := &lockedWriter{w: c.stdout}, &lockedWriter{w: c.fs.Output()}
	status := &prefixWriter{out: stderr, prefix: "behalf: "}

	port, err := freeLoopbackPort()
	if err != nil {
		return fmt.Errorf("find a free port for the agent: %w", err)
	}
	upstream := "http://127.0.0.1:" + port
	if err := c.fs.Set("upstream", upstream); err != nil {
		return err
	}
	rc, err := c.runtimeConfig()
	if err != nil {
		return err
	}
	tags, err := parseTags(c.list("tag"))
	if err != nil {
		return err
	}
	cfg, err := c.awsConfig(ctx)
	if err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	rt, err := superviseRuntime(ctx, client, name, rc, tags)
	if err != nil {
		return err
	}
	deleteOnExit := c.fs.Lookup("delete-on-exit").Value.(flagGetter).Get().(bool)
	if err := c.printSupervisedRuntime(rt, name, upstream, tags); err != nil {
		return err
	}

	// Whatever happens from here on, clean up on the way out.
	var keyID string
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if keyID != "" {
			if derr := c.behalfCall(cctx, "DeleteAccessKey", map[string]string{"accessKeyId": keyID}, nil); derr != nil {
				status.printf("could not delete the agent's access key %s: %v (delete it with `behalf key delete %s`)", keyID, derr, keyID)
				err = errors.Join(err, fmt.Errorf("delete access key %s: %w", keyID, derr))
			} else {
				status.printf("deleted the agent's access key %s", keyID)
			}
		}
		if deleteOnExit {
			if _, derr := client.DeleteAgentRuntime(cctx, &ctl.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(rt.id)}); derr != nil {
				status.printf("could not delete agent runtime %s: %v", rt.id, wrapAPIError(derr))
				err = errors.Join(err, wrapAPIError(derr))
			} else {
				status.printf("deleted agent runtime %s and its workload identity %s", rt.id, rt.workload)
			}
		} else {
			status.printf("left agent runtime %s in place: invocations answer 424 until an agent serves it again; the same command reuses it, `behalf runtime delete %s` removes it", rt.id, name)
		}
	}()

	var key struct {
		ID     string `json:"accessKeyId"`
		Secret string `json:"secretAccessKey"`
	}
	if err := c.behalfCall(ctx, "CreateAccessKey", map[string]string{"workloadName": rt.workload}, &key); err != nil {
		return fmt.Errorf("create the agent's access key: %w", err)
	}
	if key.ID == "" || key.Secret == "" {
		return errors.New("create the agent's access key: the answer holds no key")
	}
	keyID = key.ID
	status.printf("created access key %s for the agent, scoped to workload %s (deleted when this command stops)", key.ID, rt.workload)

	set := map[string]string{
		"PORT":                               port,
		"AWS_ENDPOINT_URL":                   c.dataEndpoint(),
		"AWS_ENDPOINT_URL_BEDROCK_AGENTCORE": c.dataEndpoint(),
		"AWS_ACCESS_KEY_ID":                  key.ID,
		"AWS_SECRET_ACCESS_KEY":              key.Secret,
		"AWS_REGION":                         cfg.Region,
	}
	shown := fmt.Sprintf("PORT=%s AWS_ENDPOINT_URL=%s AWS_REGION=%s AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=(not shown)", port, c.dataEndpoint(), cfg.Region, key.ID)
	if cb := rc.env[behalf.CallbackURLEnv]; cb != "" {
		set[behalf.CallbackURLEnv] = cb
		shown += " " + behalf.CallbackURLEnv + "=" + cb
	}
	s := &supervisor{
		name: name, path: path, argv: argv, port: port,
		env:    agentEnv(os.Environ(), set),
		stdout: &prefixWriter{out: stdout, prefix: "[" + name + "] "},
		stderr: &prefixWriter{out: stderr, prefix: "[" + name + "] "},
		status: status,
	}
	status.printf("agent environment: %s", shown)
	return s.run(ctx)
}

// superviseRuntime creates the runtime NAME, or reuses it when it is one a
// supervising run left behind and nobody serves it now.
func superviseRuntime(ctx context.Context, client *ctl.Client, name string, rc runtimeConfig, tags map[string]string) (supervisedRuntime, error) {
	got, err := client.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(name)})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf) || err == nil && aws.ToString(got.AgentRuntimeName) != name:
		out, err := client.CreateAgentRuntime(ctx, &ctl.CreateAgentRuntimeInput{
			AgentRuntimeName:           aws.String(name),
			AgentRuntimeArtifact:       rc.artifact,
			RoleArn:                    rc.roleARN,
			Description:                rc.description,
			AuthorizerConfiguration:    rc.authorizer,
			RequestHeaderConfiguration: rc.headers,
			EnvironmentVariables:       rc.env,
			Tags:                       tags,
		})
		if err != nil {
			return supervisedRuntime{}, wrapAPIError(err)
		}
		return supervisedRuntime{id: aws.ToString(out.AgentRuntimeId), arn: aws.ToString(out.AgentRuntimeArn),
			version: aws.ToString(out.AgentRuntimeVersion), status: out.Status, workload: workloadFromDetails(out.WorkloadIdentityDetails)}, nil
	case err != nil:
		return supervisedRuntime{}, wrapAPIError(err)
	}
	id := aws.ToString(got.AgentRuntimeId)
	old := upstreamOf(got.AgentRuntimeArtifact)
	if !isLoopbackHTTP(old) {
		return supervisedRuntime{}, fmt.Errorf("agent runtime %s (%s) exists and fronts %s, which this command did not start: choose another name, or remove it first with `behalf runtime delete %s`", name, id, old, name)
	}
	if pingAnswers(ctx, old) {
		return supervisedRuntime{}, fmt.Errorf("agent runtime %s (%s) is in use: an agent answers GET /ping at its upstream %s (is another `behalf runtime create %s -- …` running?)", name, id, old, name)
	}
	out, err := client.UpdateAgentRuntime(ctx, &ctl.UpdateAgentRuntimeInput{
		AgentRuntimeId:             aws.String(id),
		AgentRuntimeArtifact:       rc.artifact,
		RoleArn:                    rc.roleARN,
		Description:                rc.description,
		AuthorizerConfiguration:    rc.authorizer,
		RequestHeaderConfiguration: rc.headers,
		EnvironmentVariables:       rc.env,
	})
	if err != nil {
		return supervisedRuntime{}, wrapAPIError(err)
	}
	return supervisedRuntime{id: id, arn: aws.ToString(out.AgentRuntimeArn), version: aws.ToString(out.AgentRuntimeVersion),
		status: out.Status, workload: workloadFromDetails(out.WorkloadIdentityDetails), reused: true}, nil
}

func (c *cli) printSupervisedRuntime(rt supervisedRuntime, name, upstream string, tags map[string]string) error {
	return c.print(map[string]any{
		"AgentRuntimeArn": rt.arn, "AgentRuntimeId": rt.id, "AgentRuntimeVersion": rt.version, "Status": rt.status,
		"WorkloadIdentityName": rt.workload, "InvocationUrl": c.invocationURL(rt.arn), "Upstream": upstream, "Reused": rt.reused,
	}, func(w io.Writer) {
		if rt.reused {
			fmt.Fprintf(w, "Reusing agent runtime %s (updated: this command's flags, the new upstream)\n", rt.id)
		} else {
			fmt.Fprintf(w, "Created agent runtime %s\n", rt.id)
		}
		fmt.Fprintf(w, "  ARN:               %s\n", rt.arn)
		fmt.Fprintf(w, "  Status:            %s (version %s)\n", rt.status, rt.version)
		fmt.Fprintf(w, "  Upstream:          %s (the agent this command runs)\n", upstream)
		fmt.Fprintf(w, "  Workload identity: %s\n", rt.workload)
		fmt.Fprintf(w, "  Invocation URL:    %s\n", c.invocationURL(rt.arn))
		if rt.reused && len(tags) > 0 {
			fmt.Fprintf(w, "  (--tag ignored: tags are set when a runtime is created)\n")
		}
	})
}

// freeLoopbackPort returns a TCP port free on 127.0.0.1 right now.
func freeLoopbackPort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// isLoopbackHTTP reports whether u is an http URL of this machine, as the
// supervisor makes them.
func isLoopbackHTTP(u string) bool {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "http" {
		return false
	}
	h := pu.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// pingAnswers reports whether an agent at base answers GET /ping.
func pingAnswers(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/ping", nil)
	if err != nil {
		return false
	}
	resp, err := pingClient.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// pingClient reaches agents on loopback: no proxy, no keep-alive.
var pingClient = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: 2 * time.Second}

// agentEnv is base without superviseRemovedEnv and BEHALF_* variables,
// plus set.
func agentEnv(base []string, set map[string]string) []string {
	removed := map[string]bool{}
	for _, k := range superviseRemovedEnv {
		removed[k] = true
	}
	env := make([]string, 0, len(base)+len(set))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if removed[k] || strings.HasPrefix(k, "BEHALF_") || set[k] != "" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// supervisor runs one agent command, restarting it, until its context ends.
type supervisor struct {
	name, path, port string
	argv, env        []string
	stdout, stderr   *prefixWriter // the agent's output
	status           *prefixWriter // the supervisor's messages
}

// agentProcess is one run of the agent.
type agentProcess struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's answer, once done
	output  sync.WaitGroup
}

// run starts the agent and keeps it running until ctx ends, then stops it.
// It fails only if the agent cannot be started the first time.
func (s *supervisor) run(ctx context.Context) error {
	backoff := superviseBackoffMin
	for first := true; ; first = false {
		p, err := s.start()
		if err != nil {
			if first {
				return fmt.Errorf("start %s: %w", s.argv[0], err)
			}
			s.status.printf("[%s] could not start: %v; trying again in %s", s.name, err, backoff)
		} else {
			go s.watchReady(ctx, p)
			select {
			case <-ctx.Done():
				s.stop(p)
				return nil
			case <-p.done:
			}
			ran := time.Since(p.started)
			killProcessGroup(p.cmd.Process) // what it started dies with it
			s.waitOutput(p, time.Second)
			if ran >= superviseBackoffReset {
				backoff = superviseBackoffMin
			}
			s.status.printf("[%s] pid %d exited (%v) after %s; restarting in %s", s.name, p.cmd.Process.Pid, p.err, ran.Round(time.Millisecond), backoff)
		}
		select {
		case <-ctx.Done():
			s.status.printf("[%s] not restarted: stopping", s.name)
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, superviseBackoffMax)
	}
}

// start starts the agent in its own process group, its output prefixed.
func (s *supervisor) start() (*agentProcess, error) {
	cmd := &exec.Cmd{Path: s.path, Args: s.argv, Env: s.env}
	setProcessGroup(cmd)
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	// *os.File outputs: no copying goroutines inside os/exec, so Wait
	// returns when the agent exits even if something it started still
	// holds the pipes.
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, err
	}
	p := &agentProcess{cmd: cmd, started: time.Now(), done: make(chan struct{})}
	p.output.Add(2)
	go func() { defer p.output.Done(); copyLines(s.stdout, outR) }()
	go func() { defer p.output.Done(); copyLines(s.stderr, errR) }()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.status.printf("[%s] started pid %d: %s", s.name, cmd.Process.Pid, strings.Join(s.argv, " "))
	return p, nil
}

// watchReady reports when the agent first answers GET /ping, or warns when
// it does not within superviseReadyTimeout.
func (s *supervisor) watchReady(ctx context.Context, p *agentProcess) {
	base := "http://127.0.0.1:" + s.port
	deadline := time.After(superviseReadyTimeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.done:
			return
		case <-deadline:
			s.status.printf("[%s] pid %d has not answered GET %s/ping in %s: does it listen on $PORT (%s)?", s.name, p.cmd.Process.Pid, base, superviseReadyTimeout, s.port)
			return
		case <-tick.C:
			if pingAnswers(ctx, base) {
				select {
				case <-p.done: // someone else's answer
				default:
					s.status.printf("[%s] ready: pid %d answers GET %s/ping", s.name, p.cmd.Process.Pid, base)
				}
				return
			}
		}
	}
}

// stop ends the agent: SIGTERM to its process group, SIGKILL to what is
// left of the group after superviseStopGrace.
func (s *supervisor) stop(p *agentProcess) {
	pid := p.cmd.Process.Pid
	start := time.Now()
	if err := terminateProcessGroup(p.cmd.Process); err != nil {
		s.status.printf("[%s] SIGTERM to pid %d: %v", s.name, pid, err)
	}
	grace := time.NewTimer(superviseStopGrace)
	defer grace.Stop()
	graceful := false
	select {
	case <-p.done:
		// The agent has exited; what it started gets the rest of the grace.
		graceful = waitGroupGone(p.cmd.Process, grace.C)
	case <-grace.C:
	}
	how := "after SIGTERM"
	if !graceful {
		killProcessGroup(p.cmd.Process)
		<-p.done
		how = fmt.Sprintf("with SIGKILL: its process group still ran %s after SIGTERM", superviseStopGrace)
	}
	s.waitOutput(p, time.Second)
	s.status.printf("[%s] stopped pid %d %s (%v) in %s", s.name, pid, how, p.err, time.Since(start).Round(time.Millisecond))
}

// waitGroupGone waits until p's process group is empty (true) or until
// deadline fires (false).
func waitGroupGone(p *os.Process, deadline <-chan time.Time) bool {
	for processGroupAlive(p) {
		select {
		case <-deadline:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}

// waitOutput waits up to d for the agent's last output lines.
func (s *supervisor) waitOutput(p *agentProcess, d time.Duration) {
	done := make(chan struct{})
	go func() { p.output.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// copyLines copies r to w line by line (w prefixes each), until r ends.
// Lines longer than 64 KiB are cut in pieces.
func copyLines(w *prefixWriter, r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			w.line(line)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// prefixWriter writes whole lines with a prefix, one Write each; the
// writers of one output share its lock.
type prefixWriter struct {
	out    *lockedWriter
	prefix string
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *prefixWriter) line(b []byte) {
	buf := make([]byte, 0, len(p.prefix)+len(b)+1)
	buf = append(append(buf, p.prefix...), b...)
	if buf[len(buf)-1] != '\n' {
		buf = append(buf, '\n')
	}
	p.out.mu.Lock()
	defer p.out.mu.Unlock()
	p.out.w.Write(buf)
}

func (p *prefixWriter) printf(format string, args ...any) {
	p.line([]byte(fmt.Sprintf(format, args...)))
}
