package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf"
)

// The invocation gateway's cost: a small JSON invocation of an agent (an
// httptest server answering a small JSON body) sent directly to the agent
// and through Behalf (bearer JWT from a user pool, checked against the
// runtime's authorizer; cached WAT; the answer streamed back), in the same
// run, alternating so that both see the same machine load. Client, Behalf
// and agent share this process and its cores.
//
//	go test ./cmd/behalf/ -run '^$' -bench 'BenchmarkInvoke' -benchtime 5000x
//
// BenchmarkInvokeLatency reports the p50 and p99 of each path (one caller,
// requests one after another) and added-p50-µs, the gateway's added
// median latency. BenchmarkInvokeThroughput runs b.N requests each way
// with invokeBenchWorkers concurrent callers and reports the rates and
// tput-ratio = gateway / direct, also for a bare httputil.ReverseProxy in
// front of the same agent (proxy-req/s: the cost of the second HTTP hop
// alone, which no gateway avoids). Sub-benchmarks: noop-agent answers at
// once (the worst case for the ratio: the agent costs nothing); 1ms-agent
// and 10ms-agent take that long per answer (still far quicker than a
// model call).

const invokeBenchWorkers = 16

// invokeBench is a benchmark server with one agent behind a JWT runtime.
type invokeBench struct {
	client  *http.Client
	direct  func() error
	gateway func() error
	proxy   func() error // a bare httputil.ReverseProxy
	// sdk, when set, is the same call through a bare MCP server of the
	// official Go SDK (the MCP gateway's floor: no authorization, no
	// vault, one tool that makes the same outbound request).
	sdk func() error
}

func newInvokeBench(b *testing.B, work time.Duration) *invokeBench {
	b.Helper()
	p := newBenchPool(b)
	answer := []byte(`{"result":{"role":"assistant","content":[{"text":"Hello! How can I help you today?"}]}}`)
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if work > 0 {
			time.Sleep(work)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	b.Cleanup(agent.Close)
	target, _ := url.Parse(agent.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = benchTransport()
	proxy := httptest.NewServer(rp)
	b.Cleanup(proxy.Close)
	control := ctl.New(ctl.Options{BaseEndpoint: aws.String(p.s.URL), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(p.s.KeyID, p.s.Secret, "")})
	out, err := control.CreateAgentRuntime(context.Background(), &ctl.CreateAgentRuntimeInput{
		AgentRuntimeName:     aws.String("bench_agent"),
		AgentRuntimeArtifact: &types.AgentRuntimeArtifactMemberContainerConfiguration{Value: types.ContainerConfiguration{ContainerUri: aws.String(agent.URL)}},
		RoleArn:              aws.String("arn:aws:iam::123456789012:role/agent"),
		NetworkConfiguration: &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic},
		AuthorizerConfiguration: &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: types.CustomJWTAuthorizerConfiguration{
			DiscoveryUrl:   aws.String(p.s.URL + "/" + p.f.poolID + "/.well-known/openid-configuration"),
			AllowedClients: []string{p.f.clientID}, AllowedScopes: []string{behalf.ScopeCognitoAdmin},
		}},
	})
	if err != nil {
		b.Fatal(err)
	}
	ib := &invokeBench{client: &http.Client{Transport: benchTransport()}}
	payload := `{"prompt":"Hello"}`
	send := func(url string, bearer bool) func() error {
		return func() error {
			req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(payload))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json")
			if bearer {
				req.Header.Set("Authorization", "Bearer "+p.access)
			}
			resp, err := ib.client.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			return err
		}
	}
	ib.direct = send(agent.URL+"/invocations", false)
	ib.gateway = send(invokeURL(p.s.URL, aws.ToString(out.AgentRuntimeArn), "DEFAULT"), true)
	ib.proxy = send(proxy.URL+"/invocations", false)
	for range 50 { // warm connections, the pool's keys and the WAT cache
		for _, call := range []func() error{ib.direct, ib.gateway, ib.proxy} {
			if err := call(); err != nil {
				b.Fatal(err)
			}
		}
	}
	return ib
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func BenchmarkInvokeLatency(b *testing.B) {
	ib := newInvokeBench(b, 0)
	direct := make([]time.Duration, 0, b.N)
	gateway := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := ib.direct(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := ib.gateway(); err != nil {
			b.Fatal(err)
		}
		direct, gateway = append(direct, t1.Sub(t0)), append(gateway, time.Since(t1))
	}
	b.StopTimer()
	dp50, gp50 := percentile(direct, 0.5), percentile(gateway, 0.5)
	b.ReportMetric(micros(dp50), "direct-p50-µs")
	b.ReportMetric(micros(gp50), "gw-p50-µs")
	b.ReportMetric(micros(percentile(direct, 0.99)), "direct-p99-µs")
	b.ReportMetric(micros(percentile(gateway, 0.99)), "gw-p99-µs")
	b.ReportMetric(micros(gp50-dp50), "added-p50-µs")
}

func BenchmarkInvokeThroughput(b *testing.B) {
	for _, c := range []struct {
		name string
		work time.Duration
	}{{"noop-agent", 0}, {"1ms-agent", time.Millisecond}, {"10ms-agent", 10 * time.Millisecond}} {
		b.Run(c.name, func(b *testing.B) { invokeThroughput(b, newInvokeBench(b, c.work)) })
	}
}

func invokeThroughput(b *testing.B, ib *invokeBench) {
	run := func(call func() error, n int) time.Duration {
		var wg sync.WaitGroup
		work := make(chan struct{}, n)
		for range n {
			work <- struct{}{}
		}
		close(work)
		errs := make(chan error, invokeBenchWorkers)
		start := time.Now()
		for range invokeBenchWorkers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range work {
					if err := call(); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		select {
		case err := <-errs:
			b.Fatal(err)
		default:
		}
		return time.Since(start)
	}
	b.ResetTimer()
	// Half of each way, then the other half, so that a change in the
	// machine's load during the run hits all three.
	half := max(1, b.N/2)
	var dt, gt, pt, st time.Duration
	for range 2 {
		dt += run(ib.direct, half)
		gt += run(ib.gateway, half)
		pt += run(ib.proxy, half)
		if ib.sdk != nil {
			st += run(ib.sdk, half)
		}
	}
	b.StopTimer()
	n := float64(2 * half)
	if ib.sdk != nil {
		sdk := n / st.Seconds()
		b.ReportMetric(sdk, "sdk-req/s")
		b.ReportMetric(n/gt.Seconds()/sdk, "gw/sdk")
	}
	direct, gw, proxy := n/dt.Seconds(), n/gt.Seconds(), n/pt.Seconds()
	b.ReportMetric(direct, "direct-req/s")
	b.ReportMetric(gw, "gw-req/s")
	b.ReportMetric(proxy, "proxy-req/s")
	b.ReportMetric(gw/direct, "tput-ratio")
	b.ReportMetric(gw/proxy, "gw/proxy")
}
