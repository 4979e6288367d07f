//go:build unix

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/behalf-dev/behalf/internal/supervise/supervisetest"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

// goBuild builds the main package pkg (a path relative to this package)
// into a temporary directory and returns the binary's path.
func goBuild(t *testing.T, pkg string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build %s: %v", pkg, err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	start := time.Now()
	if b, err := exec.Command(goTool, "build", "-o", out, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	t.Logf("built %s in %s", pkg, time.Since(start).Round(time.Millisecond))
	return out
}

// supervising is a `behalf runtime create NAME ... -- COMMAND` running in
// a goroutine.
type supervising struct {
	out, errOut *syncBuffer
	cancel      context.CancelFunc
	done        chan error
}

// startSupervise runs `behalf runtime create` against s with args (which
// end with -- COMMAND) until stop or the test's end.
func startSupervise(t *testing.T, s *testServer, args ...string) *supervising {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sv := &supervising{out: &syncBuffer{}, errOut: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	args = append([]string{"runtime", "create", "--endpoint-url", s.URL, "--data-dir", s.DataDir}, args...)
	go func() { sv.done <- run(ctx, args, sv.out, sv.errOut) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-sv.done:
		case <-time.After(30 * time.Second):
			t.Errorf("the supervisor did not stop")
		}
	})
	return sv
}

// stop cancels the supervisor (as SIGINT does) and returns its error.
func (sv *supervising) stop(t *testing.T) error {
	t.Helper()
	sv.cancel()
	select {
	case err := <-sv.done:
		sv.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("the supervisor did not stop in 30s\nstdout:\n%s\nstderr:\n%s", sv.out, sv.errOut)
		return nil
	}
}

// waitFor waits until buf matches re and returns the submatches.
func (sv *supervising) waitFor(t *testing.T, buf *syncBuffer, re string) []string {
	t.Helper()
	return sv.waitForSince(t, buf, 0, re)
}

// waitForSince waits until buf, from byte since on, matches re.
func (sv *supervising) waitForSince(t *testing.T, buf *syncBuffer, since int, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := rx.FindStringSubmatch(buf.String()[since:]); m != nil {
			return m
		}
		select {
		case err := <-sv.done:
			sv.done <- err
			t.Fatalf("the supervisor ended (%v) before printing %q\nstdout:\n%s\nstderr:\n%s", err, re, sv.out, sv.errOut)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in 30s\nstdout:\n%s\nstderr:\n%s", re, sv.out, sv.errOut)
		}
	}
}

// pingInfo is the test agent's GET /ping answer.
type pingInfo struct {
	Status     string `json:"status"`
	PID        int    `json:"pid"`
	Grandchild int    `json:"grandchild"`
}

func ping(upstream string) (pingInfo, error) {
	var p pingInfo
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(upstream + "/ping")
	if err != nil {
		return p, err
	}
	defer resp.Body.Close()
	return p, json.NewDecoder(resp.Body).Decode(&p)
}

// agentAnswer is the test agent's invocation answer.
type agentAnswer struct {
	PID          int               `json:"pid"`
	WAT          bool              `json:"wat"`
	Callback     string            `json:"callback"`
	Body         string            `json:"body"`
	Env          map[string]string `json:"env"`
	SecretSHA256 string            `json:"secret_sha256"`
}

// invokeAgent invokes the runtime through Behalf with SigV4 (the official
// client) as user.
func invokeAgent(c *dp.Client, arn, user string) (agentAnswer, error) {
	var a agentAnswer
	out, err := c.InvokeAgentRuntime(context.Background(), &dp.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(arn), RuntimeUserId: aws.String(user),
		Payload: []byte(`{"prompt":"hello"}`), ContentType: aws.String("application/json"),
	})
	if err != nil {
		return a, err
	}
	defer out.Response.Close()
	b, err := io.ReadAll(out.Response)
	if err != nil {
		return a, err
	}
	return a, json.Unmarshal(b, &a)
}

// invokeAgentSoon retries invokeAgent for a few seconds: the gateway may
// use a runtime's previous upstream for agentruntime.RuntimeCacheTTL.
func invokeAgentSoon(t *testing.T, c *dp.Client, arn, user string) agentAnswer {
	t.Helper()
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var a agentAnswer
		if a, err = invokeAgent(c, arn, user); err == nil {
			return a
		}
	}
	t.Fatalf("InvokeAgentRuntime: %v", err)
	return agentAnswer{}
}

// accessKeys lists the server's access keys: id → workload ("" for root).
func accessKeys(t *testing.T, s *testServer) map[string]string {
	t.Helper()
	code, body := signedPost(t, s, "/behalf/ListAccessKeys", `{}`)
	var out struct {
		AccessKeys []struct {
			ID       string `json:"accessKeyId"`
			Workload string `json:"workloadName"`
		} `json:"accessKeys"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("ListAccessKeys: %d %s", code, body)
	}
	keys := map[string]string{}
	for _, k := range out.AccessKeys {
		keys[k.ID] = k.Workload
	}
	return keys
}

// Ensure `behalf runtime create NAME -- COMMAND` supervises an agent: it
// creates the runtime with a loopback upstream and a key scoped to its
// workload, starts the agent with that key (not the CLI's), Behalf's
// endpoint, the port and the callback URL, prefixes its output, restarts it
// when it dies (with what it started gone), and on interruption stops the
// whole process group, deletes the key and leaves the runtime; the next
// run reuses the runtime (the same workload identity), a concurrent one
// is refused, and --delete-on-exit removes it.
func TestSupervise(t *testing.T) {
	isolateAWSEnv(t)
	defer func(g time.Duration) { superviseStopGrace = g }(superviseStopGrace)
	superviseStopGrace = time.Second
	s := mustRunMain(t, "", "--allow-private-endpoints")
	agentBin := goBuild(t, "./testdata/supervised-agent")
	// The CLI finds the root key in its environment, as a user's shell
	// might hold it, and Behalf's own variables are set: none of it may
	// reach the agent. Other variables do.
	t.Setenv("AWS_ACCESS_KEY_ID", s.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.Secret)
	t.Setenv("BEHALF_ROOT_ACCESS_KEY_ID", s.KeyID)
	t.Setenv("BEHALF_ROOT_SECRET_ACCESS_KEY", s.Secret)
	t.Setenv("SUPERVISE_TEST_KEPT", "kept")
	root := s.dataPlane(t, s.KeyID, s.Secret)
	control := s.client(t)
	ctx := context.Background()

	sv := startSupervise(t, s, "sup_agent", "--callback-url", "http://localhost:9090/callback", "--", agentBin, "-grandchild")
	m := sv.waitFor(t, sv.errOut, `behalf: \[sup_agent\] ready: pid (\d+) answers GET (http://127\.0\.0\.1:(\d+))/ping`)
	pid1, _ := strconv.Atoi(m[1])
	upstream, port := m[2], m[3]
	out := sv.out.String()
	arn := regexp.MustCompile(`ARN: +(arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/(sup_agent-[A-Za-z0-9]{10}))`).FindStringSubmatch(out)
	workload := regexp.MustCompile(`Workload identity: (sup_agent-\S+)`).FindStringSubmatch(out)
	if arn == nil || workload == nil || !strings.Contains(out, "Created agent runtime "+arn[2]) || !strings.Contains(out, "Upstream:          "+upstream) {
		t.Fatalf("summary:\n%s", out)
	}
	runtimeID := arn[2]
	keyLine := sv.waitFor(t, sv.errOut, `behalf: created access key (\S+) for the agent, scoped to workload `+regexp.QuoteMeta(workload[1]))
	agentKey := keyLine[1]
	// The agent's lines, prefixed; the grandchild's too (it shares stdout).
	sv.waitFor(t, sv.out, fmt.Sprintf(`(?m)^\[sup_agent\] agent %d listening on 127\.0\.0\.1:%s$`, pid1, port))
	sv.waitFor(t, sv.errOut, fmt.Sprintf(`(?m)^\[sup_agent\] agent %d: a line on stderr$`, pid1))
	sv.waitFor(t, sv.out, `(?m)^\[sup_agent\] grandchild \d+ sleeping$`)
	if strings.Contains(sv.out.String()+sv.errOut.String(), s.Secret) {
		t.Fatal("the supervisor printed the root secret")
	}

	// An invocation through Behalf reaches the agent with a WAT; the agent
	// has the scoped key, Behalf's endpoint, its port and the callback URL.
	a, err := invokeAgent(root, arn[1], "alice")
	if err != nil {
		t.Fatalf("InvokeAgentRuntime: %v\n%s", err, sv.errOut)
	}
	rootSecret := sha256.Sum256([]byte(s.Secret))
	want := map[string]string{
		"PORT": port, "AWS_ENDPOINT_URL": s.URL, "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE": s.URL, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": agentKey, "OAUTH2_CALLBACK_URL": "http://localhost:9090/callback",
		"BEHALF_ROOT_ACCESS_KEY_ID": "", "BEHALF_ROOT_SECRET_ACCESS_KEY": "", "SUPERVISE_TEST_KEPT": "kept",
	}
	for k, v := range want {
		if a.Env[k] != v {
			t.Errorf("the agent's %s = %q, want %q", k, a.Env[k], v)
		}
	}
	if a.PID != pid1 || !a.WAT || a.Callback != "http://localhost:9090/callback" || a.Body != `{"prompt":"hello"}` ||
		agentKey == s.KeyID || a.SecretSHA256 == hex.EncodeToString(rootSecret[:]) {
		t.Fatalf("the agent answered %+v", a)
	}
	if keys := accessKeys(t, s); keys[agentKey] != workload[1] {
		t.Fatalf("access keys %v: want %s scoped to %s", keys, agentKey, workload[1])
	}

	// Killed, the agent comes back on the same port; its grandchild (which
	// ignores SIGTERM) does not survive it.
	p1, err := ping(upstream)
	if err != nil || p1.PID != pid1 || p1.Grandchild == 0 {
		t.Fatalf("ping: %+v %v", p1, err)
	}
	mark := len(sv.errOut.String())
	if err := syscall.Kill(pid1, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	sv.waitForSince(t, sv.errOut, mark, fmt.Sprintf(`behalf: \[sup_agent\] pid %d exited \(signal: killed\) after \S+; restarting in 500ms`, pid1))
	m = sv.waitForSince(t, sv.errOut, mark, `behalf: \[sup_agent\] ready: pid (\d+) answers GET `+regexp.QuoteMeta(upstream)+`/ping`)
	pid2, _ := strconv.Atoi(m[1])
	if pid2 == pid1 {
		t.Fatalf("the same pid %d after the restart", pid1)
	}
	supervisetest.WaitGone(t, "the first agent's grandchild", p1.Grandchild)
	if a := invokeAgentSoon(t, root, arn[1], "alice"); a.PID != pid2 {
		t.Fatalf("after the restart the agent answered from pid %d, want %d", a.PID, pid2)
	}
	p2, err := ping(upstream)
	if err != nil || p2.PID != pid2 || p2.Grandchild == 0 {
		t.Fatalf("ping: %+v %v", p2, err)
	}

	// Interrupted: SIGTERM stops the agent, the grandchild needs SIGKILL;
	// the key is deleted, the runtime stays (and answers 424).
	if err := sv.stop(t); err != nil {
		t.Fatalf("the supervisor ended with %v\n%s", err, sv.errOut)
	}
	t.Logf("first run's stdout:\n%s\nstderr:\n%s", sv.out, sv.errOut)
	supervisetest.WaitGone(t, "the agent", pid2)
	supervisetest.WaitGone(t, "the agent's grandchild", p2.Grandchild)
	for _, want := range []string{
		fmt.Sprintf("behalf: [sup_agent] stopped pid %d with SIGKILL: its process group still ran 1s after SIGTERM (signal: terminated)", pid2),
		"behalf: deleted the agent's access key " + agentKey,
		"behalf: left agent runtime " + runtimeID + " in place",
	} {
		if !strings.Contains(sv.errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, sv.errOut)
		}
	}
	if _, ok := accessKeys(t, s)[agentKey]; ok {
		t.Fatal("the agent's key survived the supervisor")
	}
	if _, err := control.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(runtimeID)}); err != nil {
		t.Fatalf("the runtime is gone: %v", err)
	}
	time.Sleep(2100 * time.Millisecond) // the gateway's runtime cache
	var rce *dptypes.RuntimeClientError
	if _, err := invokeAgent(root, arn[1], "alice"); !errors.As(err, &rce) {
		t.Fatalf("invoking a stopped agent: %v", err)
	}

	// The next run reuses the runtime (same workload identity, new
	// upstream), without the grandchild this time.
	sv2 := startSupervise(t, s, "sup_agent", "--delete-on-exit", "--", agentBin)
	m = sv2.waitFor(t, sv2.errOut, `behalf: \[sup_agent\] ready: pid (\d+) answers GET (http://127\.0\.0\.1:\d+)/ping`)
	pid3, _ := strconv.Atoi(m[1])
	out = sv2.out.String()
	if !strings.Contains(out, "Reusing agent runtime "+runtimeID) || !strings.Contains(out, "Workload identity: "+workload[1]) || !strings.Contains(out, "Upstream:          "+m[2]) {
		t.Fatalf("second run:\n%s", out)
	}
	if a := invokeAgentSoon(t, root, arn[1], "bob"); a.PID != pid3 || a.Callback != "" || a.Env["OAUTH2_CALLBACK_URL"] != "" {
		t.Fatalf("second run's agent answered %+v (pid %d; no --callback-url this time)", a, pid3)
	}

	// While it serves, a third run of the same name is refused; so are
	// --upstream with a command, a command that does not exist, and a
	// runtime that fronts someone else's agent.
	cli := func(args ...string) error {
		args = append([]string{"runtime", "create", "--endpoint-url", s.URL, "--data-dir", s.DataDir}, args...)
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var o, e syncBuffer
		return run(ctx, args, &o, &e)
	}
	if err := cli("sup_agent", "--", agentBin); err == nil || !strings.Contains(err.Error(), "is in use: an agent answers GET /ping") {
		t.Errorf("a concurrent run: %v", err)
	}
	if err := cli("sup_x", "--upstream", "http://127.0.0.1:1", "--", agentBin); !errors.Is(err, errUsage) {
		t.Errorf("--upstream with a command: %v", err)
	}
	if err := cli("sup_missing", "--", filepath.Join(t.TempDir(), "no-such-agent")); err == nil || !strings.Contains(err.Error(), "cannot run the agent") {
		t.Errorf("a missing command: %v", err)
	}
	if err := cli("sup_other", "--upstream", "http://10.1.2.3:8080"); err != nil {
		t.Fatal(err)
	}
	if err := cli("sup_other", "--", agentBin); err == nil || !strings.Contains(err.Error(), "which this command did not start") {
		t.Errorf("someone else's runtime: %v", err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := control.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String("sup_missing")}); !errors.As(err, &nf) {
		t.Errorf("a failed start left runtime sup_missing: %v", err)
	}

	// --delete-on-exit: the runtime and its workload identity are gone.
	if err := sv2.stop(t); err != nil {
		t.Fatalf("second run ended with %v\n%s", err, sv2.errOut)
	}
	supervisetest.WaitGone(t, "the second run's agent", pid3)
	if !strings.Contains(sv2.errOut.String(), fmt.Sprintf("behalf: [sup_agent] stopped pid %d after SIGTERM", pid3)) ||
		!strings.Contains(sv2.errOut.String(), "behalf: deleted agent runtime "+runtimeID+" and its workload identity "+workload[1]) {
		t.Errorf("second run's stderr:\n%s", sv2.errOut)
	}
	if _, err := control.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(runtimeID)}); !errors.As(err, &nf) {
		t.Errorf("--delete-on-exit left the runtime: %v", err)
	}
	for id, wl := range accessKeys(t, s) {
		if wl != "" {
			t.Errorf("a scoped key %s (%s) is left", id, wl)
		}
	}
}
