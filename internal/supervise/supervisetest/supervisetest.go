// Package supervisetest is test support for the agent supervisor's tests
// (internal/supervise, and cmd/behalf's `runtime create -- COMMAND`):
// whether a process still runs, and waiting until it does not.
package supervisetest

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Alive reports whether pid runs (a zombie does not).
func Alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false
		}
		return syscall.Kill(pid, 0) == nil // no /proc
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// WaitGone waits until pid no longer runs, failing t after 10 s; what
// names the process in the failure.
func WaitGone(t testing.TB, what string, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); Alive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s (pid %d) still runs", what, pid)
		}
	}
}
