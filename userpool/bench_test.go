package userpool_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/userpool"
)

// BenchmarkPasswordAuth runs USER_PASSWORD_AUTH end to end in process, on
// SQLite, with the default (OWASP) argon2id parameters: a SECRET_HASH
// check, one hash, an RS256 access and ID token and a stored refresh token.
func BenchmarkPasswordAuth(b *testing.B) {
	e := newEnv(b, userpool.DefaultHashParams)
	p := e.pool(b)
	c, secret := e.client(b, p.ID, true)
	e.user(b, p.ID, "alice", map[string]string{"email": "alice@example.com"})
	for b.Loop() {
		e.mustSignIn(b, c, secret, "alice")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signins/s")
}

// BenchmarkRefreshAuth runs REFRESH_TOKEN_AUTH end to end: a refresh-token
// lookup and two RS256 signatures, no password hash.
func BenchmarkRefreshAuth(b *testing.B) {
	e := newEnv(b, userpool.DefaultHashParams)
	p := e.pool(b)
	c, secret := e.client(b, p.ID, true)
	e.user(b, p.ID, "alice", nil)
	tok := e.mustSignIn(b, c, secret, "alice")
	cpu := userpool.CPUTime()
	for b.Loop() {
		if _, err := e.refresh(c, secret, "alice", tok.RefreshToken); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "refreshes/s")
	b.ReportMetric(float64(userpool.CPUTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
}

// TestConcurrentSignIns runs sign-ins, failures and refreshes at once
// through a one-slot hash semaphore (run it with -race).
func TestConcurrentSignIns(t *testing.T) {
	e := newEnv(t)
	e.svc.MaxConcurrentHashes = 1
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	for i := range 4 {
		e.user(t, p.ID, fmt.Sprintf("u%d", i), nil)
	}
	tok := e.mustSignIn(t, c, "", "u0")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			name := fmt.Sprintf("u%d", i%4)
			switch i % 3 {
			case 0:
				_, err := e.signIn(c, "", name, testPassword)
				errs <- err
			case 1:
				_, err := e.signIn(c, "", "ghost"+name, testPassword)
				if behalf.CognitoException(err) != behalf.CognitoNotAuthorized {
					errs <- fmt.Errorf("ghost: %v", err)
				}
			case 2:
				_, err := e.refresh(c, "", "u0", tok.RefreshToken)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkSignInWrongPassword measures failed USER_PASSWORD_AUTH sign-ins
// of a real user with a wrong password ("known") and of a name that does
// not exist ("unknown"), on SQLite. The two must cost the same, or the time
// taken tells which names exist. Each iteration makes one attempt of each,
// in alternating order, so that both see the same load; ns/op is the pair.
// It reports each one's median (known-p50-ms, unknown-p50-ms) and the
// difference of the medians (diff-p50-ms, known minus unknown), which is
// what an attacker could measure. The clock moves past the lockout reset
// window between attempts, so every attempt is a first failure, checked
// against a hash, and never refused as locked. The hash parameters are the
// tests' cheap ones, so that what differs between the paths (store work)
// is not lost in argon2id's cost; with the default parameters both paths
// add the same hash.
func BenchmarkSignInWrongPassword(b *testing.B) {
	e := newEnv(b)
	p := e.pool(b)
	c, _ := e.client(b, p.ID, false)
	e.user(b, p.ID, "alice", nil)
	var known, unknown []time.Duration
	attempt := func(name string, into *[]time.Duration) {
		e.clock.Add(time.Hour)
		start := time.Now()
		_, err := e.signIn(c, "", name, "Wrong-Password-1")
		*into = append(*into, time.Since(start))
		if behalf.CognitoException(err) != behalf.CognitoNotAuthorized {
			b.Fatalf("sign in %s: %v", name, err)
		}
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			attempt("alice", &known)
			attempt("mallory", &unknown)
		} else {
			attempt("mallory", &unknown)
			attempt("alice", &known)
		}
		i++
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2]) / float64(time.Millisecond)
	}
	k, u := median(known), median(unknown)
	b.ReportMetric(k, "known-p50-ms")
	b.ReportMetric(u, "unknown-p50-ms")
	b.ReportMetric(k-u, "diff-p50-ms")
}
