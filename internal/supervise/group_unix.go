//go:build unix

package supervise

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// The supervised agent runs in its own process group (its pgid is its
// pid), so signals reach whatever it started too, and a Ctrl-C at the
// terminal reaches only the supervisor, which then stops the group.

func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminateProcessGroup sends SIGTERM to p's process group.
func terminateProcessGroup(p *os.Process) error {
	return signalGroup(p, syscall.SIGTERM)
}

// killProcessGroup sends SIGKILL to p's process group; an empty group is
// not an error.
func killProcessGroup(p *os.Process) error {
	return signalGroup(p, syscall.SIGKILL)
}

func signalGroup(p *os.Process, sig syscall.Signal) error {
	err := syscall.Kill(-p.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// processGroupAlive reports whether p's process group has members left.
// On Linux, zombies do not count: an orphan that exited stays a zombie
// until init reaps it, which some container inits never do.
func processGroupAlive(p *os.Process) bool {
	err := syscall.Kill(-p.Pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if runtime.GOOS != "linux" {
		return true
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) >= 3 && f[0] != "Z" && f[0] != "X" && f[2] == strconv.Itoa(p.Pid) {
			return true
		}
	}
	return false
}
