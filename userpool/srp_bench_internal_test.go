package userpool

import (
	"crypto/rand"
	"math/big"
	"testing"
)

// BenchmarkSRPFloor is the floor of an SRP sign-in: the 3072-bit modular
// exponentiations the server must do, alone, with math/big: g^b at the
// challenge, then v^u and (A·v^u)^b at the verifier (b and u of 256 bits),
// on values of the real sizes. BenchmarkSRPSignIn (srp_bench_test.go) is
// the whole sign-in, both round trips, in the same run.
func BenchmarkSRPFloor(b *testing.B) {
	v := srpVerifier(new(big.Int).SetBytes(srpHash([]byte("floor verifier"))))
	aBytes := make([]byte, 128)
	rand.Read(aBytes)
	a := new(big.Int).Exp(srpG, new(big.Int).SetBytes(aBytes), srpN)
	sec := make([]byte, srpSecretBytes)
	cpu := cpuTime()
	for b.Loop() {
		rand.Read(sec)
		x := new(big.Int).SetBytes(sec)
		bigB := srpServerB(v, x)
		u := srpU(a, bigB)
		_ = srpServerS(a, v, u, x)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signins/s")
	b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
}

// CPUTime is cpuTime, for the benchmarks of package userpool_test.
var CPUTime = cpuTime
