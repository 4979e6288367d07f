package userpool

import (
	"syscall"
	"time"
)

// cpuTime is the process's CPU time so far (user + system), for the
// benchmarks' cpu-ms/op: on a machine shared with other work, wall time
// per operation varies with the load, CPU time much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
