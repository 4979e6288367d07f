package userpool_test

import (
	"runtime"
	"runtime/metrics"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/srpclient"
	"github.com/behalf-dev/behalf/userpool"
)

// BenchmarkSRPSignIn runs USER_SRP_AUTH end to end in process, on SQLite,
// with the default argon2id parameters (not on this path once the user has
// a verifier): InitiateAuth (user and lockout reads, g^b, the sealed
// SECRET_BLOCK) and RespondToAuthChallenge (the block opened, user and
// lockout reads, v^u and (A·v^u)^b, the nonce spent, two RS256 tokens and
// a stored refresh token). The client's own arithmetic, which runs on the
// user's device, is left out of the timing. Compare with BenchmarkSRPFloor.
func BenchmarkSRPSignIn(b *testing.B) {
	e := newEnv(b, userpool.DefaultHashParams)
	p := e.pool(b)
	c := e.srpAppClient(b, p.ID)
	e.user(b, p.ID, "alice", nil)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		cl := srpclient.New(p.ID)
		b.StartTimer()
		c0 := userpool.CPUTime()
		ch, err := e.svc.InitiateAuth(e.ctx, c.ID, "USER_SRP_AUTH", map[string]behalf.Secret{"USERNAME": "alice", "SRP_A": behalf.Secret(cl.SRPA())})
		if err != nil {
			b.Fatal(err)
		}
		cpu += userpool.CPUTime() - c0
		b.StopTimer()
		answer := e.srpAnswer(b, cl, ch, testPassword)
		b.StartTimer()
		c0 = userpool.CPUTime()
		res, err := e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", answer)
		if err != nil || res.Tokens == nil {
			b.Fatalf("%+v %v", res, err)
		}
		cpu += userpool.CPUTime() - c0
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signins/s")
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
}

// BenchmarkSRPSignInStorm runs both round trips of SRP sign-ins from 16
// goroutines at once (client arithmetic included: it is what keeps many
// sign-ins in flight), and reports the peak live heap (as of each GC,
// sampled every 5 ms): SRP holds no argon2id memory, so it must stay flat
// however many sign-ins run.
func BenchmarkSRPSignInStorm(b *testing.B) {
	e := newEnv(b, userpool.DefaultHashParams)
	p := e.pool(b)
	c := e.srpAppClient(b, p.ID)
	e.user(b, p.ID, "alice", nil)
	runtime.GC() // the live heap of the set-up (its argon2id hash) is gone
	b.ResetTimer()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			cl := srpclient.New(p.ID)
			ch, err := e.svc.InitiateAuth(e.ctx, c.ID, "USER_SRP_AUTH", map[string]behalf.Secret{"USERNAME": "alice", "SRP_A": behalf.Secret(cl.SRPA())})
			if err != nil {
				b.Error(err)
				return
			}
			res, err := e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", e.srpAnswer(b, cl, ch, testPassword))
			if err != nil || res.Tokens == nil {
				b.Errorf("%+v %v", res, err)
				return
			}
		}
	})
	close(stop)
	<-sampled
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-live-heap-MiB")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signins/s")
}

// BenchmarkSRPWrongPassword times both steps of a failed SRP sign-in, for
// a user's wrong password and for a name that is no user, interleaved,
// and reports each step's median of both and their difference: the
// answers must not tell them apart by time.
func BenchmarkSRPWrongPassword(b *testing.B) {
	e := newEnv(b)
	p := e.pool(b)
	c := e.srpAppClient(b, p.ID)
	e.user(b, p.ID, "alice", nil)
	e.srpStart(b, c, "mallory")     // the simulation key, made once
	var times [2][2][]time.Duration // [known, unknown][initiate, respond]
	attempt := func(name string, into *[2][]time.Duration) {
		e.clock.Add(time.Hour) // no lockout
		cl := srpclient.New(p.ID)
		start := time.Now()
		ch, err := e.svc.InitiateAuth(e.ctx, c.ID, "USER_SRP_AUTH", map[string]behalf.Secret{"USERNAME": behalf.Secret(name), "SRP_A": behalf.Secret(cl.SRPA())})
		into[0] = append(into[0], time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		answer := e.srpAnswer(b, cl, ch, "Wrong-Password-1")
		start = time.Now()
		_, err = e.svc.RespondToAuthChallenge(e.ctx, c.ID, "PASSWORD_VERIFIER", "", answer)
		into[1] = append(into[1], time.Since(start))
		if behalf.CognitoException(err) != behalf.CognitoNotAuthorized {
			b.Fatalf("sign in %s: %v", name, err)
		}
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			attempt("alice", &times[0])
			attempt("mallory", &times[1])
		} else {
			attempt("mallory", &times[1])
			attempt("alice", &times[0])
		}
		i++
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2]) / float64(time.Millisecond)
	}
	for step, name := range []string{"initiate", "respond"} {
		k, u := median(times[0][step]), median(times[1][step])
		b.ReportMetric(k, name+"-known-p50-ms")
		b.ReportMetric(u, name+"-unknown-p50-ms")
		b.ReportMetric(k-u, name+"-diff-p50-ms")
	}
}
