package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"

	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// BenchmarkSoak offers a constant mixed load for BEHALF_SOAK (a duration,
// e.g. 10m; the benchmark is skipped without it) and prints, per tenth of
// the run, the token fetch's p50/p99, the process's open descriptors (all,
// and on behalf.db*) and the SQLite WAL's size, then the descriptors after
// 5 s idle. The mix at
// BEHALF_SOAK_RATE operations per second (default 200); lines go to
// standard error as they are measured: 75 % vault hits for
// 32 consented users, 20 % WATs for a user id, 5 % a new user's whole
// three-legged consent. docs/benchmarks.md has figures and the command:
//
//	BEHALF_SOAK=10m go test ./cmd/behalf -run '^$' -bench Soak -benchtime 1x
func BenchmarkSoak(b *testing.B) {
	d, err := time.ParseDuration(os.Getenv("BEHALF_SOAK"))
	if err != nil || d <= 0 {
		b.Skip("set BEHALF_SOAK to a duration (e.g. 10m) to run the soak")
	}
	rate := 200
	if v := os.Getenv("BEHALF_SOAK_RATE"); v != "" {
		fmt.Sscan(v, &rate)
	}
	google := fakeprovider.New(b, fakeprovider.Options{AccessTokenTTL: 24 * time.Hour})
	s := startBenchServer(b)
	f := newCrashFixture(b, s, google)
	f.setClient()
	ctx := context.Background()
	const users = 32
	for i := range users {
		if err := f.consent(ctx, fmt.Sprintf("soak-%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	fdsNow := func() (all, db int) {
		ents, _ := os.ReadDir("/proc/self/fd")
		for _, e := range ents {
			target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
			if err != nil {
				continue
			}
			all++
			if strings.HasPrefix(filepath.Base(target), "behalf.db") {
				db++
			}
		}
		return all, db
	}

	var (
		mu       sync.Mutex
		lat      []time.Duration
		errs     atomic.Int64
		newUsers atomic.Int64
		wg       sync.WaitGroup
	)
	op := func(n int) {
		defer wg.Done()
		switch {
		case n%20 == 0: // 5 %: a new user's consent
			if err := f.consent(ctx, fmt.Sprintf("soak-new-%d", newUsers.Add(1))); err != nil {
				errs.Add(1)
			}
		case n%20 <= 4: // 20 %: a WAT for a user id
			if _, err := f.dp().GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{
				WorkloadName: aws.String("drive-agent"), UserId: aws.String(fmt.Sprintf("soak-%d", n%users)),
			}); err != nil {
				errs.Add(1)
			}
		default:
			wat, err := f.wat(ctx, fmt.Sprintf("soak-%d", n%users))
			if err != nil {
				errs.Add(1)
				return
			}
			t0 := time.Now()
			out, err := f.dp().GetResourceOauth2Token(ctx, f.request(wat, ""))
			el := time.Since(t0)
			if err != nil || aws.ToString(out.AccessToken) == "" {
				errs.Add(1)
				return
			}
			mu.Lock()
			lat = append(lat, el)
			mu.Unlock()
		}
	}
	report := func(label string) {
		mu.Lock()
		l := lat
		lat = nil
		mu.Unlock()
		slices.Sort(l)
		q := func(p float64) float64 {
			if len(l) == 0 {
				return 0
			}
			return float64(l[min(int(p*float64(len(l))), len(l)-1)].Microseconds()) / 1e3
		}
		all, db := fdsNow()
		var wal int64
		if fi, err := os.Stat(filepath.Join(s.DataDir, "behalf.db-wal")); err == nil {
			wal = fi.Size()
		}
		fmt.Fprintf(os.Stderr, "soak %-8s fetch p50 %6.2f ms p99 %6.2f ms (n=%d)  fds %d (behalf.db* %d)  WAL %d KiB  errors %d\n",
			label, q(0.5), q(0.99), len(l), all, db, wal>>10, errs.Load())
	}

	b.ResetTimer()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	start := time.Now()
	next := start.Add(d / 10)
	for n := 0; time.Since(start) < d; n++ {
		<-tick.C
		wg.Add(1)
		go op(n)
		if time.Now().After(next) {
			report(time.Since(start).Round(time.Second).String())
			next = next.Add(d / 10)
		}
	}
	wg.Wait()
	report("end")
	time.Sleep(5 * time.Second)
	all, db := fdsNow()
	fmt.Fprintf(os.Stderr, "soak idle 5s  fds %d (behalf.db* %d)\n", all, db)
	b.ReportMetric(float64(db), "idle-db-fds")
}
