// Package supervise runs an agent process on this machine and keeps it
// running: the process side of `behalf runtime create NAME -- COMMAND`,
// whose command creates the runtime and the agent's scoped key and hands
// them to a Supervisor.
//
//   - The agent runs in its own process group, so whatever it starts is
//     stopped with it. Its stdin is /dev/null; its stdout and stderr lines
//     are written whole, prefixed (Lines).
//   - When it exits it is restarted after BackoffMin, doubling up to
//     BackoffMax while it keeps failing; a run of at least BackoffReset
//     resets the delay.
//   - When the context ends, the group gets SIGTERM, and SIGKILL for
//     whatever is left after StopGrace.
//   - Env builds its environment: the caller's, without credentials,
//     endpoints and Behalf's own settings, plus what the agent is given.
//
// It is internal, not a package beside agentruntime, because only the
// behalf binary imports it: Behalf's server never starts processes (an
// agent runtime fronts an upstream someone else runs), and agent authors
// get the agent SDK, not a process manager. Its API is the CLI's, free to
// change with it.
package supervise

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Default timings, for a Supervisor's zero fields.
const (
	DefaultStopGrace    = 5 * time.Second        // SIGTERM → SIGKILL
	DefaultBackoffMin   = 500 * time.Millisecond // first restart delay
	DefaultBackoffMax   = 30 * time.Second
	DefaultBackoffReset = 60 * time.Second // a run this long resets the delay
	DefaultReadyTimeout = 60 * time.Second // warn if GET /ping does not answer by then
)

// Supervisor runs one agent command, restarting it, until its context
// ends. Its messages name the agent "[Name]".
type Supervisor struct {
	Name string
	// Path is the executable (exec.LookPath's answer); Args its argument
	// list, Args[0] the command as given.
	Path string
	Args []string
	// Env is the agent's whole environment (see Env).
	Env []string
	// Port is the loopback port the agent listens on ($PORT): the
	// supervisor reports when GET /ping first answers there.
	Port string
	// Stdout and Stderr take the agent's output lines; Status the
	// supervisor's messages.
	Stdout, Stderr, Status *Lines

	// Timings; zero means the Default of each.
	StopGrace, BackoffMin, BackoffMax, BackoffReset, ReadyTimeout time.Duration
}

// agentProcess is one run of the agent.
type agentProcess struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's answer, once done
	output  sync.WaitGroup
}

// orDefault is d, or def if d is zero.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Run starts the agent and keeps it running until ctx ends, then stops it.
// It fails only if the agent cannot be started the first time.
func (s *Supervisor) Run(ctx context.Context) error {
	backoffMin := orDefault(s.BackoffMin, DefaultBackoffMin)
	backoffMax := orDefault(s.BackoffMax, DefaultBackoffMax)
	backoffReset := orDefault(s.BackoffReset, DefaultBackoffReset)
	backoff := backoffMin
	for first := true; ; first = false {
		p, err := s.start()
		if err != nil {
			if first {
				return fmt.Errorf("start %s: %w", s.Args[0], err)
			}
			s.Status.Printf("[%s] could not start: %v; trying again in %s", s.Name, err, backoff)
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
			if ran >= backoffReset {
				backoff = backoffMin
			}
			s.Status.Printf("[%s] pid %d exited (%v) after %s; restarting in %s", s.Name, p.cmd.Process.Pid, p.err, ran.Round(time.Millisecond), backoff)
		}
		select {
		case <-ctx.Done():
			s.Status.Printf("[%s] not restarted: stopping", s.Name)
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, backoffMax)
	}
}

// start starts the agent in its own process group, its output prefixed.
func (s *Supervisor) start() (*agentProcess, error) {
	cmd := &exec.Cmd{Path: s.Path, Args: s.Args, Env: s.Env}
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
	go func() { defer p.output.Done(); copyLines(s.Stdout, outR) }()
	go func() { defer p.output.Done(); copyLines(s.Stderr, errR) }()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.Status.Printf("[%s] started pid %d: %s", s.Name, cmd.Process.Pid, strings.Join(s.Args, " "))
	return p, nil
}

// watchReady reports when the agent first answers GET /ping, or warns when
// it does not within the ready timeout.
func (s *Supervisor) watchReady(ctx context.Context, p *agentProcess) {
	base := "http://127.0.0.1:" + s.Port
	timeout := orDefault(s.ReadyTimeout, DefaultReadyTimeout)
	deadline := time.After(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.done:
			return
		case <-deadline:
			s.Status.Printf("[%s] pid %d has not answered GET %s/ping in %s: does it listen on $PORT (%s)?", s.Name, p.cmd.Process.Pid, base, timeout, s.Port)
			return
		case <-tick.C:
			if PingAnswers(ctx, base) {
				select {
				case <-p.done: // someone else's answer
				default:
					s.Status.Printf("[%s] ready: pid %d answers GET %s/ping", s.Name, p.cmd.Process.Pid, base)
				}
				return
			}
		}
	}
}

// stop ends the agent: SIGTERM to its process group, SIGKILL to what is
// left of the group after the stop grace.
func (s *Supervisor) stop(p *agentProcess) {
	pid := p.cmd.Process.Pid
	start := time.Now()
	if err := terminateProcessGroup(p.cmd.Process); err != nil {
		s.Status.Printf("[%s] SIGTERM to pid %d: %v", s.Name, pid, err)
	}
	stopGrace := orDefault(s.StopGrace, DefaultStopGrace)
	grace := time.NewTimer(stopGrace)
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
		how = fmt.Sprintf("with SIGKILL: its process group still ran %s after SIGTERM", stopGrace)
	}
	s.waitOutput(p, time.Second)
	s.Status.Printf("[%s] stopped pid %d %s (%v) in %s", s.Name, pid, how, p.err, time.Since(start).Round(time.Millisecond))
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
func (s *Supervisor) waitOutput(p *agentProcess, d time.Duration) {
	done := make(chan struct{})
	go func() { p.output.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// copyLines copies r to w line by line (w prefixes each), until r ends.
// Lines longer than 64 KiB are cut in pieces.
func copyLines(w *Lines, r io.ReadCloser) {
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
