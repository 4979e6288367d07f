package userpool_test

import (
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
