package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// cognitoLockout is the policy the user pool service uses: Cognito's.
var cognitoLockout = behalf.LockoutPolicy{Threshold: 5, Base: time.Second, Max: 15 * time.Minute, Reset: 15 * time.Minute}

// Name hashes of the fixtures: what the service stores, opaque to the store.
const (
	hashAlice = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
	hashBob   = "81b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce9"
)

// wantLockout fails t unless l has the given count and lock end.
func wantLockout(t *testing.T, what string, l *behalf.PoolLockout, poolID, hash string, failures int, lockedUntil time.Time) {
	t.Helper()
	wantEqual(t, what, l, &behalf.PoolLockout{PoolID: poolID, NameHash: hash, Failures: failures, LockedUntil: lockedUntil})
}

// failLockout counts a failure, failing t on error.
func failLockout(t *testing.T, s behalf.Store, poolID, hash string, now time.Time, p behalf.LockoutPolicy) *behalf.PoolLockout {
	t.Helper()
	l, err := s.FailPoolLockout(t.Context(), poolID, hash, now, p)
	if err != nil {
		t.Fatalf("FailPoolLockout(%s, %s): %v", poolID, hash, err)
	}
	return l
}

// getLockout reads a lockout record, failing t on error.
func getLockout(t *testing.T, s behalf.Store, poolID, hash string) *behalf.PoolLockout {
	t.Helper()
	l, err := s.GetPoolLockout(t.Context(), poolID, hash)
	if err != nil {
		t.Fatalf("GetPoolLockout(%s, %s): %v", poolID, hash, err)
	}
	return l
}

// testPoolLockouts checks the lockout methods of UserPoolStore.
func testPoolLockouts(t *testing.T, open openFunc) {
	t.Run("Missing", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		_, err := s.GetPoolLockout(t.Context(), poolA, hashAlice)
		wantCode(t, err, behalf.ENOTFOUND)
		ok(t, s.DeletePoolLockout(t.Context(), poolA, hashAlice))
		_, err = s.FailPoolLockout(t.Context(), poolB, hashAlice, t0, cognitoLockout)
		wantCode(t, err, behalf.ENOTFOUND) // no such pool
		_, err = s.GetPoolLockout(t.Context(), poolB, hashAlice)
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("Schedule", func(t *testing.T) {
		for _, p := range []behalf.LockoutPolicy{
			cognitoLockout,
			{Threshold: 3, Base: 250 * time.Millisecond, Max: 5 * time.Second, Reset: time.Minute},
			{Threshold: 1, Base: time.Minute, Max: time.Minute, Reset: time.Hour},
		} {
			t.Run(fmt.Sprintf("%d-%v-%v", p.Threshold, p.Base, p.Max), func(t *testing.T) { testLockoutSchedule(t, open, p) })
		}
	})
	t.Run("Reset", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		p := cognitoLockout
		now := t0
		var l *behalf.PoolLockout
		for range 6 {
			l = failLockout(t, s, poolA, hashAlice, now, p)
		}
		wantLockout(t, "after 6 failures", l, poolA, hashAlice, 6, now.Add(2*time.Second))
		// A microsecond before the reset window ends, the count goes on.
		now = l.LockedUntil.Add(p.Reset - time.Microsecond)
		l = failLockout(t, s, poolA, hashAlice, now, p)
		wantLockout(t, "just inside the window", l, poolA, hashAlice, 7, now.Add(4*time.Second))
		// At the end of the window, it starts over.
		now = l.LockedUntil.Add(p.Reset)
		l = failLockout(t, s, poolA, hashAlice, now, p)
		wantLockout(t, "at the end of the window", l, poolA, hashAlice, 1, now)
		wantLockout(t, "GetPoolLockout", getLockout(t, s, poolA, hashAlice), poolA, hashAlice, 1, now)
	})
	t.Run("ManyFailures", func(t *testing.T) {
		// A long run of failures within the window: the lock stays at Max,
		// however high the count (no overflow in the doubling).
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		var l *behalf.PoolLockout
		for i := range 80 {
			l = failLockout(t, s, poolA, hashAlice, t0.Add(time.Duration(i)*time.Second), cognitoLockout)
		}
		now := t0.Add(79 * time.Second)
		wantLockout(t, "after 80 failures", l, poolA, hashAlice, 80, now.Add(15*time.Minute))
	})
	t.Run("Isolated", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		for range 3 {
			failLockout(t, s, poolA, hashAlice, t0, cognitoLockout)
		}
		failLockout(t, s, poolA, hashBob, t0, cognitoLockout)
		failLockout(t, s, poolB, hashAlice, t0, cognitoLockout)
		wantLockout(t, "A/alice", getLockout(t, s, poolA, hashAlice), poolA, hashAlice, 3, t0)
		wantLockout(t, "A/bob", getLockout(t, s, poolA, hashBob), poolA, hashBob, 1, t0)
		wantLockout(t, "B/alice", getLockout(t, s, poolB, hashAlice), poolB, hashAlice, 1, t0)

		ok(t, s.DeletePoolLockout(t.Context(), poolA, hashAlice))
		_, err := s.GetPoolLockout(t.Context(), poolA, hashAlice)
		wantCode(t, err, behalf.ENOTFOUND)
		wantLockout(t, "A/bob after deleting A/alice", getLockout(t, s, poolA, hashBob), poolA, hashBob, 1, t0)
		wantLockout(t, "B/alice after deleting A/alice", getLockout(t, s, poolB, hashAlice), poolB, hashAlice, 1, t0)
		wantLockout(t, "A/alice counted anew", failLockout(t, s, poolA, hashAlice, t0, cognitoLockout), poolA, hashAlice, 1, t0)

		// Deleting a pool deletes its lockout records; a pool re-created
		// with the id starts with none.
		ok(t, s.DeleteUserPool(t.Context(), poolA))
		createUserPool(t, s, newUserPool(poolA))
		for _, h := range []string{hashAlice, hashBob} {
			_, err := s.GetPoolLockout(t.Context(), poolA, h)
			wantCode(t, err, behalf.ENOTFOUND)
		}
		wantLockout(t, "B/alice after deleting pool A", getLockout(t, s, poolB, hashAlice), poolB, hashAlice, 1, t0)
	})
	t.Run("DeleteStale", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		n, err := s.DeleteStalePoolLockouts(t.Context(), t0)
		ok(t, err)
		if n != 0 {
			t.Fatalf("DeleteStalePoolLockouts on an empty store = %d", n)
		}
		// Lock ends t0-2m, t0-1µs, t0, t0+1µs (first failures: the lock
		// ends at the failure), in both pools.
		ends := []time.Duration{-2 * time.Minute, -time.Microsecond, 0, time.Microsecond}
		for i, d := range ends {
			for _, pool := range []string{poolA, poolB} {
				failLockout(t, s, pool, fmt.Sprintf("%064x", i), t0.Add(d), cognitoLockout)
			}
		}
		n, err = s.DeleteStalePoolLockouts(t.Context(), t0)
		ok(t, err)
		if n != 4 {
			t.Fatalf("DeleteStalePoolLockouts(t0) = %d, want 4", n)
		}
		for i, d := range ends {
			for _, pool := range []string{poolA, poolB} {
				h := fmt.Sprintf("%064x", i)
				l, err := s.GetPoolLockout(t.Context(), pool, h)
				if d < 0 {
					wantCode(t, err, behalf.ENOTFOUND)
					continue
				}
				ok(t, err)
				wantLockout(t, "kept "+h, l, pool, h, 1, t0.Add(d))
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Concurrent failures of one name, starting with no record, all
		// count: none is lost to a race between the insert and the updates
		// or between two updates.
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		const n = 24
		var wg sync.WaitGroup
		start := make(chan struct{})
		seen := make([]int, n)
		for i := range n {
			wg.Go(func() {
				<-start
				l, err := s.FailPoolLockout(t.Context(), poolA, hashAlice, t0, cognitoLockout)
				if err != nil {
					t.Errorf("FailPoolLockout %d: %v", i, err)
					return
				}
				seen[i] = l.Failures
			})
		}
		close(start)
		wg.Wait()
		if got := getLockout(t, s, poolA, hashAlice).Failures; got != n {
			t.Fatalf("after %d concurrent failures Failures = %d, want %d", n, got, n)
		}
		// Each call saw its own count: 1..n once each.
		counts := map[int]bool{}
		for _, c := range seen {
			counts[c] = true
		}
		if len(counts) != n {
			t.Fatalf("the concurrent failures returned counts %v, want each of 1..%d once", seen, n)
		}
	})
}

// testLockoutSchedule fails a name again and again under p, each time at
// the lock's end or just after, and checks every record against the
// policy: Failures one more each time, LockedUntil now + LockAfter(n).
// LockAfter itself is checked against Cognito's numbers in cognitoLocks.
func testLockoutSchedule(t *testing.T, open openFunc, p behalf.LockoutPolicy) {
	s := open(t)
	createUserPool(t, s, newUserPool(poolA))
	now := t0
	for n := 1; n <= 25; n++ {
		l := failLockout(t, s, poolA, hashAlice, now, p)
		want := now.Add(p.LockAfter(n))
		wantLockout(t, fmt.Sprintf("failure %d", n), l, poolA, hashAlice, n, want)
		wantLockout(t, fmt.Sprintf("GetPoolLockout after failure %d", n), getLockout(t, s, poolA, hashAlice), poolA, hashAlice, n, want)
		// The next failure comes at the lock's end or a little after.
		now = l.LockedUntil.Add(time.Duration(n%3) * time.Millisecond)
	}
	if got := p.LockAfter(25); got != p.Max {
		t.Fatalf("LockAfter(25) = %v, want the maximum %v", got, p.Max)
	}
	if p == cognitoLockout {
		for n, want := range cognitoLocks {
			if got := p.LockAfter(n); got != want {
				t.Errorf("LockAfter(%d) = %v, want %v", n, got, want)
			}
		}
	}
}

// cognitoLocks are Cognito's locks by failure count: none before the
// fifth, then 2^(n-5) s, at most 15 minutes.
var cognitoLocks = map[int]time.Duration{
	0: 0, 1: 0, 4: 0, 5: time.Second, 6: 2 * time.Second, 7: 4 * time.Second,
	14: 512 * time.Second, 15: 15 * time.Minute, 16: 15 * time.Minute, 1000: 15 * time.Minute,
}
