//go:build !unix

package supervise

import (
	"os"
	"os/exec"
)

// Without Unix process groups the supervisor stops only the agent's own
// process, and "SIGTERM" is an immediate kill.

func setProcessGroup(*exec.Cmd) {}

func terminateProcessGroup(p *os.Process) error { return p.Kill() }

func killProcessGroup(p *os.Process) error { return p.Kill() }

func processGroupAlive(*os.Process) bool { return false }
