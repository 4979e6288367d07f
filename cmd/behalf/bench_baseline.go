package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/behalf-dev/behalf/internal/loadgen"
)

// The baselines of `behalf bench` run in a child process, the same binary
// started again with benchChildEnv set: the load generator and the server
// it measures are then separate processes for the baselines as for the
// targets. (A handler inside the load generator's own process answered
// 2.5 to 3 times fewer requests a second than the same handler in a
// process of its own, on a busy 2-core machine: it shares one Go runtime
// and one process's share of the CPU with the client.)

// benchChildEnv, set to 1, makes `behalf bench` serve one baseline for the
// process that started it (see serveBaselineChild).
const benchChildEnv = "BEHALF_BENCH_BASELINE_CHILD"

// baselineSpec is what a baseline child serves: an answer, byte for byte,
// or a reverse proxy.
type baselineSpec struct {
	Answer      *bareAnswer `json:"answer,omitempty"`
	ProxyTo     string      `json:"proxyTo,omitempty"`
	Connections int         `json:"connections,omitempty"` // the proxy's to its target
}

// bareAnswer is an HTTP answer to repeat.
type bareAnswer struct {
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// handler returns the baseline's handler.
func (s baselineSpec) handler() (http.Handler, error) {
	switch {
	case s.Answer != nil:
		a := *s.Answer
		header := a.Header.Clone()
		for _, h := range []string{"Date", "Content-Length", "Connection", "Keep-Alive", "Transfer-Encoding"} {
			header.Del(h)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			for k, v := range header {
				w.Header()[k] = v
			}
			w.WriteHeader(a.Status)
			w.Write(a.Body)
		}), nil
	case s.ProxyTo != "":
		target, err := url.Parse(s.ProxyTo)
		if err != nil {
			return nil, err
		}
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.Transport = loadgen.NewTransport(max(1, s.Connections))
		rp.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
		return rp, nil
	}
	return nil, errors.New("empty baseline")
}

// serveBaselineChild reads one baselineSpec (a JSON line) from in, serves
// it on 127.0.0.1, writes its base URL as a line to out, and serves until
// in is closed (the parent closes it, or exits).
func serveBaselineChild(in io.Reader, out io.Writer) error {
	r := bufio.NewReader(in)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("bench baseline: read the spec: %w", err)
	}
	var spec baselineSpec
	if err := json.Unmarshal(line, &spec); err != nil {
		return fmt.Errorf("bench baseline: %w", err)
	}
	h, err := spec.handler()
	if err != nil {
		return fmt.Errorf("bench baseline: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)}
	go srv.Serve(ln)
	defer srv.Close()
	if _, err := fmt.Fprintf(out, "http://%s\n", ln.Addr()); err != nil {
		return err
	}
	io.Copy(io.Discard, r)
	return nil
}

// baselineChild is a running baseline process.
type baselineChild struct {
	cmd   *exec.Cmd
	stdin io.Closer
	done  chan struct{}
}

// stop closes the child's stdin and waits for it to exit, killing it
// after a few seconds.
func (c *baselineChild) stop() {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// startBaseline starts a child process serving spec and returns its base
// URL; close stops it.
func (b *bench) startBaseline(ctx context.Context, spec baselineSpec) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("start the baseline: %w", err)
	}
	line, err := json.Marshal(spec)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(exe, "bench")
	cmd.Env = append(os.Environ(), benchChildEnv+"=1")
	cmd.Stderr = b.log
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start the baseline: %w", err)
	}
	c := &baselineChild{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() { cmd.Wait(); close(c.done) }()
	b.children = append(b.children, c)
	if _, err := stdin.Write(append(line, '\n')); err != nil {
		return "", fmt.Errorf("start the baseline: %w", err)
	}
	got := make(chan string, 1)
	go func() {
		u, _ := bufio.NewReader(stdout).ReadString('\n')
		got <- strings.TrimSpace(u)
	}()
	select {
	case u := <-got:
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			return "", fmt.Errorf("the baseline process did not start (it printed %q)", u)
		}
		return u, nil
	case <-time.After(30 * time.Second):
		return "", errors.New("the baseline process did not start within 30s")
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
