package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
)

// TestOverloadLoad offers a `behalf serve` child process (SQLite, default
// flags but for BEHALF_OVERLOAD_ARGS) a multiple of its sustainable rate
// and reports what the clients got and what the server held. It is a
// measurement, not a check, and runs only when asked:
//
//	BEHALF_OVERLOAD=1 go test ./cmd/behalf -run TestOverloadLoad -v -timeout 20m
//
// Two loads, each on a fresh server: GetWorkloadAccessToken signed with
// the root key (token), and Cognito InitiateAuth USER_PASSWORD_AUTH
// (signin). Each first measures the sustainable rate (a closed loop of
// BEHALF_OVERLOAD_WORKERS clients, default 8, for 5 s), then offers
// BEHALF_OVERLOAD_FACTOR (default 10) times it, open loop, for
// BEHALF_OVERLOAD_SECONDS (default 20); clients give up after
// BEHALF_OVERLOAD_TIMEOUT (default 5s), over as many connections as they
// need, or BEHALF_OVERLOAD_CONNS; at most BEHALF_OVERLOAD_OUTSTANDING
// (default 4096) requests are outstanding, the rest not sent (the load
// generator, in the same machine, saturated). BEHALF_OVERLOAD_TOKEN_RATE and
// BEHALF_OVERLOAD_SIGNIN_RATE offer a fixed rate instead (to compare two
// builds at the same rate), BEHALF_OVERLOAD_BIN runs another build of
// behalf (e.g. an older one), BEHALF_OVERLOAD_ONLY=token|signin runs one.
//
// Reported: ok/s, throttled/s (429, TooManyRequestsException, 503),
// client timeouts, other errors and 5xx; p50/p99 of the answers; and the
// server's peak RSS, goroutines (go_goroutines), file descriptors and
// those open on behalf.db*, sampled every 250 ms from /proc and the
// metrics; ERROR lines in its log and behalf_requests_total's
// server_error at the end. Linux only (/proc).
func TestOverloadLoad(t *testing.T) {
	if os.Getenv("BEHALF_OVERLOAD") == "" {
		t.Skip("a measurement: set BEHALF_OVERLOAD=1 to run it (docs/benchmarks.md, Overload)")
	}
	bin := os.Getenv("BEHALF_OVERLOAD_BIN")
	if bin == "" {
		bin = buildBehalf(t)
	}
	only := os.Getenv("BEHALF_OVERLOAD_ONLY")
	for _, load := range []string{"token", "signin"} {
		if only != "" && only != load {
			continue
		}
		t.Run(load, func(t *testing.T) { runOverload(t, bin, load) })
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && v > 0 {
		return v
	}
	return def
}

// loadServer is a behalf child process under load.
type loadServer struct {
	*testServer
	cmd        *exec.Cmd
	metricsURL string
	logPath    string
	done       chan struct{}
}

func startLoadServer(t *testing.T, bin string) *loadServer {
	t.Helper()
	addr, metricsAddr, dir := freeLoopbackAddr(t), freeLoopbackAddr(t), t.TempDir()
	keyID, secret := "BHLFOVERLOAD0001", "overload-secret-0123456789abcdef"
	args := []string{"serve", "--listen", addr, "--data-dir", dir, "--metrics-listen", metricsAddr, "--allow-private-endpoints"}
	args = append(args, strings.Fields(os.Getenv("BEHALF_OVERLOAD_ARGS"))...)
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	s := &loadServer{
		testServer: &testServer{URL: "http://" + addr, DataDir: dir, KeyID: keyID, Secret: secret, Log: &syncBuffer{}, Captured: &syncBuffer{}},
		cmd:        exec.Command(bin, args...), metricsURL: "http://" + metricsAddr + "/metrics", logPath: logPath, done: make(chan struct{}),
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BEHALF_") {
			s.cmd.Env = append(s.cmd.Env, kv)
		}
	}
	s.cmd.Env = append(s.cmd.Env, "BEHALF_ROOT_ACCESS_KEY_ID="+keyID, "BEHALF_ROOT_SECRET_ACCESS_KEY="+secret)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
	})
	for start := time.Now(); ; {
		if resp, err := http.Get(s.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case <-s.done:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("behalf exited during start: %s", b)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Since(start) > 30*time.Second {
			t.Fatal("behalf did not answer /healthz in 30 s")
		}
	}
}

// sample is one reading of the server process.
type sample struct {
	rssKB, goroutines, fds, dbFDs int
}

// cpuSeconds returns the CPU time (user and system) process pid used.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces): utime and stime
	// are the 14th and 15th, in clock ticks (100 a second on Linux).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100
}

func (s *loadServer) sample() sample {
	pid := s.cmd.Process.Pid
	var out sample
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				out.rssKB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			}
		}
	}
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	if ents, err := os.ReadDir(dir); err == nil {
		out.fds = len(ents)
		for _, e := range ents {
			if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.Contains(target, "behalf.db") {
				out.dbFDs++
			}
		}
	}
	if v, ok := s.metric("go_goroutines"); ok {
		out.goroutines = int(v)
	}
	return out
}

// metric sums the series of name that carry every label pair given
// (k="v").
func (s *loadServer) metric(name string, labels ...string) (float64, bool) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(s.metricsURL)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sum, found := 0.0, false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		series := line[:i]
		if series != name && !strings.HasPrefix(series, name+"{") {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(series, l)
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil && match {
			sum, found = sum+v, true
		}
	}
	return sum, found
}

// errorKinds counts the ERROR lines of a text log by message and the
// last part of their err.
func errorKinds(log []byte) map[string]int {
	kinds := map[string]int{}
	for _, line := range strings.Split(string(log), "\n") {
		if !strings.Contains(line, "level=ERROR") {
			continue
		}
		_, msg, _ := strings.Cut(line, "msg=")
		if i := strings.Index(msg, " op="); i >= 0 {
			msg = msg[:i]
		} else if i := strings.Index(msg, " err="); i >= 0 {
			msg = msg[:i]
		}
		_, cause, _ := strings.Cut(line, "err=")
		cause, _, _ = strings.Cut(cause, " request_id=")
		if i := strings.LastIndex(cause, ": "); i >= 0 {
			cause = cause[i+2:]
		}
		kinds[strings.Trim(msg, `"`)+": "+strings.Trim(cause, `"\`)]++
	}
	return kinds
}

// durationBuckets reads behalf_request_duration_seconds' buckets, summed
// over operations: upper bound → requests.
func (s *loadServer) durationBuckets() map[float64]float64 {
	out := map[float64]float64{}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(s.metricsURL)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "behalf_request_duration_seconds_bucket{") {
			continue
		}
		_, rest, _ := strings.Cut(line, `le="`)
		le, rest, _ := strings.Cut(rest, `"`)
		bound, err1 := strconv.ParseFloat(le, 64)
		v, err2 := strconv.ParseFloat(strings.TrimSpace(rest[strings.LastIndexByte(rest, ' '):]), 64)
		if err1 == nil && err2 == nil {
			out[bound] += v
		}
	}
	return out
}

// bucketQuantile is the upper bound of the bucket holding quantile q of
// the requests counted between before and after.
func bucketQuantile(before, after map[float64]float64, q float64) string {
	var bounds []float64
	for b := range after {
		bounds = append(bounds, b)
	}
	slices.Sort(bounds)
	total := after[math.Inf(1)] - before[math.Inf(1)]
	for _, b := range bounds {
		if after[b]-before[b] >= q*total {
			if math.IsInf(b, 1) {
				return "> 30 s"
			}
			return "≤ " + (time.Duration(b * float64(time.Second))).String()
		}
	}
	return "?"
}

// loadResult is what one run of a load got.
type loadResult struct {
	mu                      sync.Mutex
	ok, throttled, timeouts int
	serverErrors, otherErrs int
	otherStatus             map[int]int
	errSamples              map[string]int // other client errors, by kind
	okLatency, allLatency   []time.Duration
	dropped                 atomic.Int64 // not sent: too many outstanding in the client
}

func (r *loadResult) add(status int, throttled bool, err error, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout")):
		r.timeouts++
		return
	case err != nil:
		r.otherErrs++
		if r.errSamples == nil {
			r.errSamples = map[string]int{}
		}
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		r.errSamples[msg]++
		return
	case status >= 200 && status < 300:
		r.ok++
		r.okLatency = append(r.okLatency, d)
	case throttled:
		r.throttled++
	case status >= 500:
		r.serverErrors++
	default:
		if r.otherStatus == nil {
			r.otherStatus = map[int]int{}
		}
		r.otherStatus[status]++
	}
	r.allLatency = append(r.allLatency, d)
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(math.Ceil(p*float64(len(d))))-1)]
}

// loadRequest sends one request of the load and reports its status and
// whether it was a throttling answer.
type loadRequest func(ctx context.Context, c *http.Client) (int, bool, error)

func throttledAnswer(resp *http.Response) bool {
	t := resp.Header.Get("X-Amzn-ErrorType")
	return resp.StatusCode == 429 || resp.StatusCode == 503 || t == "TooManyRequestsException" || t == "ThrottlingException"
}

func send(c *http.Client, req *http.Request) (int, bool, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, throttledAnswer(resp), err
}

// loadClient is the load's HTTP client: keep-alive, and at most
// BEHALF_OVERLOAD_CONNS connections (default: as many as requests
// outstanding, as clients that open a connection per waiting request).
func loadClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 4096, 4096
	tr.MaxConnsPerHost = envInt("BEHALF_OVERLOAD_CONNS", 0)
	return &http.Client{Transport: tr, Timeout: timeout}
}

// sustainable runs workers clients in a closed loop for d and returns the
// rate of ok answers.
func sustainable(t *testing.T, do loadRequest, workers int, d time.Duration) float64 {
	c := loadClient(10 * time.Second)
	var ok atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range workers {
		wg.Go(func() {
			for time.Now().Before(end) {
				if status, _, err := do(context.Background(), c); err == nil && status < 300 {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(ok.Load()) / d.Seconds()
}

// offer sends rate requests a second for d, open loop (each on its own,
// whatever the answers before), each given up after timeout.
func offer(s *loadServer, do loadRequest, rate float64, d, timeout time.Duration) (*loadResult, sample) {
	res := &loadResult{}
	c := loadClient(timeout)
	maxOutstanding := int64(envInt("BEHALF_OVERLOAD_OUTSTANDING", 4096))
	var outstanding atomic.Int64
	var wg sync.WaitGroup
	var peak sample
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			x := s.sample()
			peak.rssKB, peak.goroutines = max(peak.rssKB, x.rssKB), max(peak.goroutines, x.goroutines)
			peak.fds, peak.dbFDs = max(peak.fds, x.fds), max(peak.dbFDs, x.dbFDs)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	sent := 0.0
	for now := range tick.C {
		elapsed := now.Sub(start)
		if elapsed >= d {
			break
		}
		for ; sent < rate*elapsed.Seconds(); sent++ {
			if outstanding.Load() >= maxOutstanding {
				res.dropped.Add(1)
				continue
			}
			outstanding.Add(1)
			wg.Go(func() {
				defer outstanding.Add(-1)
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				t0 := time.Now()
				status, throttled, err := do(ctx, c)
				res.add(status, throttled, err, time.Since(t0))
			})
		}
	}
	tick.Stop()
	wg.Wait()
	close(stop)
	<-sampled
	c.CloseIdleConnections()
	return res, peak
}

func runOverload(t *testing.T, bin, load string) {
	s := startLoadServer(t, bin)
	ctx := context.Background()
	var do loadRequest
	switch load {
	case "token":
		if _, err := s.client(t).CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("agent")}); err != nil {
			t.Fatal(err)
		}
		// Signed once: the signature stays valid for 5 minutes, and
		// signing each request would make the client the bottleneck.
		body := []byte(`{"workloadName":"agent"}`)
		req, _ := http.NewRequest("POST", s.URL+"/identities/GetWorkloadAccessToken", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: s.KeyID, SecretAccessKey: s.Secret}, req, hex.EncodeToString(sum[:]), "bedrock-agentcore", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		header := req.Header
		do = func(ctx context.Context, c *http.Client) (int, bool, error) {
			r, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/identities/GetWorkloadAccessToken", bytes.NewReader(body))
			r.Header = header.Clone()
			return send(c, r)
		}
	case "signin":
		cog := s.cognito(t)
		pool := newPoolFixture(t, ctx, cog, "overload")
		pool.createUser(t, ctx, cog, "alice", "Corr3ct-Horse!")
		body, _ := json.Marshal(map[string]any{
			"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": pool.clientID,
			"AuthParameters": map[string]string{"USERNAME": "alice", "PASSWORD": "Corr3ct-Horse!", "SECRET_HASH": secretHash(pool.clientSecret, "alice", pool.clientID)},
		})
		do = func(ctx context.Context, c *http.Client) (int, bool, error) {
			r, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			r.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth")
			return send(c, r)
		}
	}
	if status, _, err := do(ctx, loadClient(10*time.Second)); err != nil || status != 200 {
		t.Fatalf("%s: first request: %d %v", load, status, err)
	}
	idle := s.sample()

	rate := envFloat("BEHALF_OVERLOAD_"+strings.ToUpper(load)+"_RATE", 0)
	if rate == 0 {
		base := sustainable(t, do, envInt("BEHALF_OVERLOAD_WORKERS", 8), 5*time.Second)
		rate = base * envFloat("BEHALF_OVERLOAD_FACTOR", 10)
		t.Logf("%s: sustainable %.0f ok/s (closed loop); offering %.0f/s", load, base, rate)
	}
	d := time.Duration(envInt("BEHALF_OVERLOAD_SECONDS", 20)) * time.Second
	timeout, err := time.ParseDuration(os.Getenv("BEHALF_OVERLOAD_TIMEOUT"))
	if err != nil || timeout <= 0 {
		timeout = 5 * time.Second
	}
	serverCPU, clientCPU := cpuSeconds(s.cmd.Process.Pid), cpuSeconds(os.Getpid())
	bucketsBefore := s.durationBuckets()
	res, peak := offer(s, do, rate, d, timeout)
	bucketsAfter := s.durationBuckets()
	after := s.sample()
	serverCPU, clientCPU = cpuSeconds(s.cmd.Process.Pid)-serverCPU, cpuSeconds(os.Getpid())-clientCPU
	loadavg, _ := os.ReadFile("/proc/loadavg")

	logText, _ := os.ReadFile(s.logPath)
	errorLines := bytes.Count(logText, []byte("level=ERROR"))
	serverErrors, _ := s.metric("behalf_requests_total", `outcome="server_error"`)
	secs := d.Seconds()
	t.Logf("%s: offered %.0f/s for %v (client timeout %v, client connections %s), args %q", load, rate, d, timeout,
		cmp.Or(os.Getenv("BEHALF_OVERLOAD_CONNS"), "unbounded"), os.Getenv("BEHALF_OVERLOAD_ARGS"))
	t.Logf("  ok %.0f/s, throttled %.0f/s, client timeouts %d, other client errors %d, 5xx %d, other statuses %v, not sent %d",
		float64(res.ok)/secs, float64(res.throttled)/secs, res.timeouts, res.otherErrs, res.serverErrors, res.otherStatus, res.dropped.Load())
	if len(res.errSamples) > 0 {
		t.Logf("  other client errors: %v", res.errSamples)
	}
	t.Logf("  latency: ok p50 %v p99 %v; all answers p50 %v p99 %v",
		pct(res.okLatency, .5).Round(time.Microsecond), pct(res.okLatency, .99).Round(time.Microsecond),
		pct(res.allLatency, .5).Round(time.Microsecond), pct(res.allLatency, .99).Round(time.Microsecond))
	t.Logf("  server-side time to answer (behalf_request_duration_seconds): p50 %s, p99 %s",
		bucketQuantile(bucketsBefore, bucketsAfter, .5), bucketQuantile(bucketsBefore, bucketsAfter, .99))
	t.Logf("  server: RSS %d → peak %d MB (%d after); goroutines %d → peak %d; fds %d → peak %d (behalf.db* %d → peak %d)",
		idle.rssKB/1024, peak.rssKB/1024, after.rssKB/1024, idle.goroutines, peak.goroutines, idle.fds, peak.fds, idle.dbFDs, peak.dbFDs)
	t.Logf("  ERROR log lines %d; server_error requests (metrics) %.0f", errorLines, serverErrors)
	if errorLines > 0 {
		t.Logf("  ERROR lines by message and cause: %v", errorKinds(logText))
	}
	t.Logf("  CPU: server %.1f s, load generator %.1f s, of %.0f s × %d CPUs; load average %s",
		serverCPU, clientCPU, secs, runtime.NumCPU(), strings.Join(strings.Fields(string(loadavg))[:3], " "))
}
