package userpool

import (
	"sync"
	"time"
)

// Lockout, as Cognito does it: after lockoutThreshold consecutive failed
// sign-ins the user is locked for 2^(n-5) seconds, at most maxLockout;
// attempts while locked are refused without checking the password and do
// not count; a success, or lockoutReset without attempts after the last
// failure's lock ends, starts over.
const (
	lockoutThreshold  = 5
	maxLockout        = 15 * time.Minute
	lockoutReset      = 15 * time.Minute
	ghostLockCapacity = 1 << 16
)

// lockDuration is the lock after the nth consecutive failure.
func lockDuration(n int) time.Duration {
	if n < lockoutThreshold {
		return 0
	}
	e := n - lockoutThreshold
	if e >= 10 { // 2^10 s > 15 min
		return maxLockout
	}
	return min(time.Second<<e, maxLockout)
}

// lockState is a failure count and the end of the current lock (for
// counts below the threshold, the time of the last failure).
type lockState struct {
	failures    int
	lockedUntil time.Time
}

// locked reports whether sign-ins are refused at now.
func (l lockState) locked(now time.Time) bool { return now.Before(l.lockedUntil) }

// fail returns the state after a failed attempt at now.
func (l lockState) fail(now time.Time) lockState {
	n := l.failures
	if n > 0 && !now.Before(l.lockedUntil.Add(lockoutReset)) {
		n = 0
	}
	n++
	return lockState{failures: n, lockedUntil: now.Add(lockDuration(n))}
}

// ghostLocks keeps lockout state for user names that do not exist, so
// that a locked-out answer does not reveal which users do. It is bounded:
// when full, stale entries go first, then arbitrary ones. It is per
// process; replicas each keep their own.
type ghostLocks struct {
	mu    sync.Mutex
	max   int
	state map[string]lockState
}

// newGhostLocks returns an empty table of at most max names.
func newGhostLocks(max int) *ghostLocks {
	return &ghostLocks{max: max, state: map[string]lockState{}}
}

// get returns the state of a name.
func (g *ghostLocks) get(key string) lockState {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state[key]
}

// fail records a failed attempt on a name.
func (g *ghostLocks) fail(key string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.state[key]; !ok && len(g.state) >= g.max {
		g.evict(now)
	}
	g.state[key] = g.state[key].fail(now)
}

// evict frees room: every stale entry, or else one arbitrary entry.
// Callers hold mu.
func (g *ghostLocks) evict(now time.Time) {
	for k, l := range g.state {
		if !now.Before(l.lockedUntil.Add(lockoutReset)) {
			delete(g.state, k)
		}
	}
	for k := range g.state {
		if len(g.state) < g.max {
			return
		}
		delete(g.state, k)
	}
}
