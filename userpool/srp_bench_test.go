package userpool_test

import (
	"runtime"
	"runtime/metrics"
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
