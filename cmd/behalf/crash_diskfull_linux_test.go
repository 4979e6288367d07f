//go:build linux

package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
)

// Ensure /readyz fails while the database cannot be written (issue 11,
// reliability 3: with the disk full every write was a 500 while /readyz
// stayed 200). The disk fills up for the server process only: its file
// size limit (RLIMIT_FSIZE, set from outside with prlimit) drops to one
// byte, so SQLite cannot add a byte to its WAL, as on a full file system;
// reads go on, and writes answer 503 ServiceUnavailableException. /readyz goes 503 within a couple of seconds, and back to 200
// once the limit is lifted, when writes work again.
func TestReadyzFailsWhenDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildBehalf(t)
	dataDir := t.TempDir()
	addr := freeLoopbackAddr(t)
	proc := startBehalfProcess(t, bin, addr, dataDir)
	s := &testServer{URL: "http://" + addr, DataDir: dataDir, Log: proc.log, Captured: &syncBuffer{}}
	s.KeyID, s.Secret = readCredentials(t, filepath.Join(dataDir, "credentials"))
	c := s.client(t)
	ctx := context.Background()
	n := 0
	create := func() error {
		n++
		_, err := c.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String(fmt.Sprintf("w-%d", n))})
		return err
	}
	if err := create(); err != nil {
		t.Fatal(err)
	}
	waitReadyz(t, s.URL, http.StatusOK, 5*time.Second)

	setFileSizeLimit(t, proc.cmd.Process.Pid, 1)
	// The write is refused as the service's trouble, for a while: 503
	// ServiceUnavailableException with Retry-After, not a 500.
	if err := create(); err == nil {
		t.Fatal("a write succeeded with the disk full")
	} else if !strings.Contains(err.Error(), "ServiceUnavailableException") || !strings.Contains(err.Error(), "StatusCode: 503") {
		t.Errorf("write with the disk full: %v, want 503 ServiceUnavailableException", err)
	}
	if _, err := c.ListWorkloadIdentities(ctx, &ctl.ListWorkloadIdentitiesInput{}); err != nil {
		t.Fatalf("read with the disk full: %v", err)
	}
	waitReadyz(t, s.URL, http.StatusServiceUnavailable, 5*time.Second)

	setFileSizeLimit(t, proc.cmd.Process.Pid, ^uint64(0)) // RLIM_INFINITY
	waitReadyz(t, s.URL, http.StatusOK, 5*time.Second)
	if err := create(); err != nil {
		t.Fatalf("write once the disk has room: %v\n%s", err, proc.log)
	}
}

// setFileSizeLimit sets the soft RLIMIT_FSIZE of process pid (prlimit(2)).
func setFileSizeLimit(t *testing.T, pid int, limit uint64) {
	t.Helper()
	var old syscall.Rlimit
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_FSIZE, 0, uintptr(unsafe.Pointer(&old)), 0, 0); e != 0 {
		t.Skipf("prlimit: %v", e)
	}
	lim := syscall.Rlimit{Cur: limit, Max: old.Max}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_FSIZE, uintptr(unsafe.Pointer(&lim)), 0, 0, 0); e != 0 {
		t.Skipf("prlimit: %v", e)
	}
}

// waitReadyz polls /readyz until it answers want, or fails t after d.
func waitReadyz(t *testing.T, base string, want int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	got := 0
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if got = resp.StatusCode; got == want {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("/readyz = %d after %v, want %d", got, d, want)
}
