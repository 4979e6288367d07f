//go:build unix

package supervise

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/behalf-dev/behalf/internal/supervise/supervisetest"
)

// agentEnvVar makes the test binary the agent: "serve" listens on
// 127.0.0.1:$PORT and answers GET /ping (with a grandchild that ignores
// SIGTERM if SUPERVISE_TEST_GRANDCHILD is set); "exit" exits at once with
// status 3; "silent" sleeps without listening; "sleep" (the grandchild)
// ignores SIGTERM and sleeps.
const agentEnvVar = "SUPERVISE_TEST_AGENT"

func TestMain(m *testing.M) {
	switch os.Getenv(agentEnvVar) {
	case "":
		os.Exit(m.Run())
	case "serve":
		serveAgent()
	case "exit":
		fmt.Println("exiting")
		os.Exit(3)
	case "silent":
		time.Sleep(time.Hour)
	case "sleep":
		signal.Ignore(syscall.SIGTERM)
		fmt.Printf("grandchild %d sleeping\n", os.Getpid())
		time.Sleep(time.Hour)
	}
	os.Exit(0)
}

func serveAgent() {
	if os.Getenv("SUPERVISE_TEST_GRANDCHILD") != "" {
		exe, _ := os.Executable()
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), agentEnvVar+"=sleep")
		cmd.Stdout = os.Stdout // holds the supervisor's pipe open
		if err := cmd.Start(); err != nil {
			panic(err)
		}
		fmt.Printf("grandchild %d started\n", cmd.Process.Pid)
	}
	port := os.Getenv("PORT")
	fmt.Printf("agent %d listening on 127.0.0.1:%s\n", os.Getpid(), port)
	fmt.Fprintf(os.Stderr, "agent %d: a line on stderr\n", os.Getpid())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"status":"Healthy"}`) })
	fmt.Fprintln(os.Stderr, http.ListenAndServe("127.0.0.1:"+port, mux))
	os.Exit(1)
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// running is a Supervisor running in a goroutine.
type running struct {
	out, errOut *syncBuffer
	cancel      context.CancelFunc
	done        chan error
}

// supervise runs the test binary as an agent in mode, with short restart
// delays and the changes of tune, until stop or the test's end.
func supervise(t *testing.T, mode string, grandchild bool, tune func(*Supervisor)) *running {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	port, err := FreeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]string{"PORT": port, agentEnvVar: mode}
	if grandchild {
		set["SUPERVISE_TEST_GRANDCHILD"] = "1"
	}
	r := &running{out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan error, 1)}
	stdout, stderr := NewOutput(r.out), NewOutput(r.errOut)
	s := &Supervisor{
		Name: "t", Path: exe, Args: []string{filepath.Base(exe), mode}, Port: port,
		Env:    Env(os.Environ(), set),
		Stdout: stdout.Lines("[t] "), Stderr: stderr.Lines("[t] "), Status: stderr.Lines("sup: "),
		BackoffMin: 40 * time.Millisecond, BackoffMax: 160 * time.Millisecond,
	}
	if tune != nil {
		tune(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			t.Errorf("the supervisor did not stop")
		}
	})
	return r
}

// stop cancels the supervisor and returns Run's answer.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("the supervisor did not stop\nstdout:\n%s\nstderr:\n%s", r.out, r.errOut)
		return nil
	}
}

// waitFor waits until buf, from byte since on, matches re, and returns the
// submatches.
func (r *running) waitFor(t *testing.T, buf *syncBuffer, since int, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := rx.FindStringSubmatch(buf.String()[since:]); m != nil {
			return m
		}
	}
	t.Fatalf("no %q in 20s\nstdout:\n%s\nstderr:\n%s", re, r.out, r.errOut)
	return nil
}

// Ensure the supervisor prefixes the agent's lines, reports it ready,
// restarts it on the same port when it dies (with what it started gone),
// and when stopped sends the process group SIGTERM, then SIGKILL to the
// grandchild that ignores it.
func TestSupervisorRestartsAndStops(t *testing.T) {
	r := supervise(t, "serve", true, func(s *Supervisor) { s.StopGrace = time.Second })
	m := r.waitFor(t, r.errOut, 0, `sup: \[t\] ready: pid (\d+) answers GET http://127\.0\.0\.1:(\d+)/ping`)
	pid1, _ := strconv.Atoi(m[1])
	port := m[2]
	r.waitFor(t, r.out, 0, fmt.Sprintf(`(?m)^\[t\] agent %d listening on 127\.0\.0\.1:%s$`, pid1, port))
	r.waitFor(t, r.errOut, 0, fmt.Sprintf(`(?m)^\[t\] agent %d: a line on stderr$`, pid1))
	g := r.waitFor(t, r.out, 0, `(?m)^\[t\] grandchild (\d+) sleeping$`)
	grandchild1, _ := strconv.Atoi(g[1])

	mark, outMark := len(r.errOut.String()), len(r.out.String())
	if err := syscall.Kill(pid1, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, r.errOut, mark, fmt.Sprintf(`sup: \[t\] pid %d exited \(signal: killed\) after \S+; restarting in 40ms`, pid1))
	m = r.waitFor(t, r.errOut, mark, `sup: \[t\] ready: pid (\d+) answers GET http://127\.0\.0\.1:`+port+`/ping`)
	pid2, _ := strconv.Atoi(m[1])
	if pid2 == pid1 {
		t.Fatalf("the same pid %d after the restart", pid1)
	}
	supervisetest.WaitGone(t, "the first agent's grandchild", grandchild1)
	g = r.waitFor(t, r.out, outMark, `(?m)^\[t\] grandchild (\d+) sleeping$`)
	grandchild2, _ := strconv.Atoi(g[1])

	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
	supervisetest.WaitGone(t, "the agent", pid2)
	supervisetest.WaitGone(t, "the second agent's grandchild", grandchild2)
	want := fmt.Sprintf("sup: [t] stopped pid %d with SIGKILL: its process group still ran 1s after SIGTERM (signal: terminated)", pid2)
	if !strings.Contains(r.errOut.String(), want) {
		t.Fatalf("stderr lacks %q:\n%s", want, r.errOut)
	}
}

// Ensure an agent that leaves nothing behind is stopped with SIGTERM
// alone.
func TestSupervisorStopsGracefully(t *testing.T) {
	r := supervise(t, "serve", false, nil) // the default grace: 5s
	m := r.waitFor(t, r.errOut, 0, `sup: \[t\] ready: pid (\d+) answers`)
	pid, _ := strconv.Atoi(m[1])
	start := time.Now()
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("stopping took %s: the grace was waited out", d)
	}
	supervisetest.WaitGone(t, "the agent", pid)
	if !strings.Contains(r.errOut.String(), fmt.Sprintf("sup: [t] stopped pid %d after SIGTERM (signal: terminated)", pid)) {
		t.Fatalf("stderr:\n%s", r.errOut)
	}
}

// Ensure an agent that keeps exiting is restarted with a doubling delay,
// up to the maximum.
func TestSupervisorBackoff(t *testing.T) {
	r := supervise(t, "exit", false, nil)
	r.waitFor(t, r.errOut, 0, `(?s)restarting in 40ms.*restarting in 80ms.*restarting in 160ms.*restarting in 160ms`)
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if !strings.Contains(r.errOut.String(), "exited (exit status 3)") || !strings.Contains(r.out.String(), "[t] exiting\n") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", r.out, r.errOut)
	}
}

// Ensure an agent that does not answer GET /ping in time is reported.
func TestSupervisorWarnsNotReady(t *testing.T) {
	r := supervise(t, "silent", false, func(s *Supervisor) { s.ReadyTimeout = 300 * time.Millisecond })
	m := r.waitFor(t, r.errOut, 0, `sup: \[t\] pid \d+ has not answered GET http://127\.0\.0\.1:(\d+)/ping in 300ms: does it listen on \$PORT \((\d+)\)\?`)
	if m[1] != m[2] {
		t.Fatalf("the warning names port %s and $PORT %s", m[1], m[2])
	}
}

// Ensure Run fails when the agent cannot be started the first time.
func TestSupervisorStartFails(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-agent")
	var buf syncBuffer
	out := NewOutput(&buf)
	s := &Supervisor{Name: "t", Path: missing, Args: []string{missing}, Stdout: out.Lines(""), Stderr: out.Lines(""), Status: out.Lines("")}
	if err := s.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "start "+missing) {
		t.Fatalf("Run = %v", err)
	}
}
