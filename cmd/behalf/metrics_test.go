package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/behalf-dev/behalf/agentruntime"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// metricSet is one scrape of /metrics: series name{k="v",...} (labels
// sorted by name) → value.
type metricSet map[string]float64

// series names a series: metric name and label pairs.
func series(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	var pairs []string
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, labels[i]+`="`+labels[i+1]+`"`)
	}
	sort.Strings(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// scrapeMetrics reads url (a /metrics endpoint) in the Prometheus text format.
func scrapeMetrics(t *testing.T, url string) metricSet {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	m := metricSet{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		name, labels := line[:i], ""
		if j := strings.IndexByte(name, '{'); j >= 0 {
			name, labels = name[:j], strings.TrimSuffix(name[j+1:], "}")
		}
		var kv []string
		for _, p := range strings.Split(labels, ",") {
			if k, v, ok := strings.Cut(p, "="); ok {
				kv = append(kv, k, strings.Trim(v, `"`))
			}
		}
		m[series(name, kv...)] = v
	}
	return m
}

// assertDeltas checks that each series moved by exactly its delta.
func assertDeltas(t *testing.T, before, after metricSet, want map[string]float64) {
	t.Helper()
	for s, d := range want {
		if got := after[s] - before[s]; got != d {
			t.Errorf("%s moved by %v, want %v", s, got, d)
		}
	}
}

// Ensure the metrics move as the flows run: a three-legged consent with
// the poll that gets the token, a vault hit, a refresh, a consent needed,
// a binding refused, a session failed at the provider, one that expired,
// and user-pool sign-ins (good password, wrong password, refresh).
func TestMetricsMoveWithFlows(t *testing.T) {
	clock := &testClock{}
	google := fakeprovider.New(t, fakeprovider.Options{Now: clock.Now})
	metricsAddr := freeLoopbackAddr(t)
	metricsURL := "http://" + metricsAddr + "/metrics"
	s := startMain(t, serverOptions{now: clock.Now, args: []string{"--allow-private-endpoints", "--metrics-listen", metricsAddr}})
	f := newFlowFixture(t, s, google)
	ctx := context.Background()
	before := scrapeMetrics(t, metricsURL)

	// A three-legged flow: consent needed, then (after binding) the poll's vault hit.
	first := f.consent(f.wat("alice"))
	// A vault hit.
	out, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), ""))
	if err != nil || aws.ToString(out.AccessToken) != first {
		t.Fatalf("vault hit: %+v %v", out, err)
	}
	// A refresh: the hour-long token has gone stale.
	clock.Advance(2 * time.Hour)
	_, _, refreshes, _ := google.Counts()
	out, err = f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), ""))
	if err != nil || out.AccessToken == nil || aws.ToString(out.AccessToken) == first {
		t.Fatalf("refresh: %+v %v", out, err)
	}
	if _, _, r, _ := google.Counts(); r != refreshes+1 {
		t.Fatalf("provider refreshes %d→%d", refreshes, r)
	}
	// Consent needed: bob has no grant (his session will expire).
	bob, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("bob"), ""))
	if err != nil || bob.AuthorizationUrl == nil {
		t.Fatalf("bob: %+v %v", bob, err)
	}
	// A binding refused: carol consents, the app completes as mallory.
	f.appUser.Store("mallory")
	carol, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("carol"), ""))
	if err != nil || carol.AuthorizationUrl == nil {
		t.Fatalf("carol: %+v %v", carol, err)
	}
	resp, err := newBrowser(t).Get(aws.ToString(carol.AuthorizationUrl))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-f.bound; err == nil {
		t.Fatal("mallory completed carol's session")
	}
	f.appUser.Store("alice")
	// A session failed: the provider denies dave's consent.
	google.Deny(true)
	dave, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("dave"), ""))
	if err != nil || dave.AuthorizationUrl == nil {
		t.Fatalf("dave: %+v %v", dave, err)
	}
	resp, err = newBrowser(t).Get(aws.ToString(dave.AuthorizationUrl))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-f.bound; err == nil || !strings.Contains(err.Error(), "provider error") {
		t.Fatalf("dave's consent: %v, want the provider's error", err)
	}
	google.Deny(false)
	// An expired session: bob never consented; his agent polls too late.
	clock.Advance(11 * time.Minute)
	poll, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("bob"), aws.ToString(bob.SessionUri)))
	if err != nil || poll.SessionStatus != dptypes.SessionStatusFailed {
		t.Fatalf("bob's late poll: %+v %v", poll, err)
	}

	// User-pool sign-ins.
	cog := s.cognito(t)
	pool := newPoolFixture(t, ctx, cog, "metrics")
	pool.createUser(t, ctx, cog, "erin", "Corr3ct-Horse!")
	tokens := mustTokens(t)(pool.signIn(ctx, cog, "erin", "Corr3ct-Horse!"))
	if _, err := pool.signIn(ctx, cog, "erin", "wrong-Password1"); err == nil {
		t.Fatal("a wrong password signed in")
	}
	mustTokens(t)(pool.refresh(ctx, cog, "erin", aws.ToString(tokens.RefreshToken)))

	after := scrapeMetrics(t, metricsURL)
	const provider = "google-drive-provider"
	assertDeltas(t, before, after, map[string]float64{
		series("behalf_token_fetches_total", "result", "consent_needed"):                                     4, // alice, bob, carol, dave
		series("behalf_token_fetches_total", "result", "vault_hit"):                                          2, // alice's poll, then a hit
		series("behalf_token_fetches_total", "result", "refreshed"):                                          1,
		series("behalf_token_fetches_total", "result", "failed"):                                             1, // bob's expired session
		series("behalf_token_fetches_total", "result", "m2m"):                                                0,
		series("behalf_sessions_total", "event", "started"):                                                  4,
		series("behalf_sessions_total", "event", "completed"):                                                1,
		series("behalf_sessions_total", "event", "failed"):                                                   2, // carol's refused binding ends her session; dave's denied consent
		series("behalf_sessions_total", "event", "expired"):                                                  1,
		series("behalf_bindings_refused_total"):                                                              1,
		series("behalf_provider_call_duration_seconds_count", "provider", provider, "call", "exchange"):      2, // alice, carol
		series("behalf_provider_call_duration_seconds_count", "provider", provider, "call", "refresh"):       1,
		series("behalf_provider_call_errors_total", "provider", provider, "call", "exchange"):                0,
		series("behalf_requests_total", "operation", "GetResourceOauth2Token", "outcome", "success"):         8,
		series("behalf_request_duration_seconds_count", "operation", "GetResourceOauth2Token"):               8,
		series("behalf_requests_total", "operation", "CompleteResourceTokenAuth", "outcome", "success"):      1,
		series("behalf_requests_total", "operation", "CompleteResourceTokenAuth", "outcome", "client_error"): 1,
		series("behalf_requests_total", "operation", "ConsentAuthorize", "outcome", "success"):               3,
		series("behalf_requests_total", "operation", "ConsentCallback", "outcome", "success"):                3,
		series("behalf_requests_total", "operation", "InitiateAuth", "outcome", "success"):                   2,
		series("behalf_requests_total", "operation", "InitiateAuth", "outcome", "client_error"):              1,
		series("behalf_request_duration_seconds_count", "operation", "InitiateAuth"):                         3,
		series("behalf_rate_limited_total", "limit", "ip"):                                                   0,
		series("behalf_rate_limited_total", "limit", "key"):                                                  0,
	})
	// No label holds a user, a session or a token.
	for name := range after {
		for _, bad := range []string{"alice", "carol", "mallory", "erin", "urn:ietf", first} {
			if strings.Contains(name, `"`+bad) {
				t.Errorf("series %s holds %q", name, bad)
			}
		}
	}
}

// Ensure the unauthenticated metrics are never served on the API's
// (public) listener: by default not at all, with --metrics-listen only
// there (issue 11, Security 7).
func TestMetricsListen(t *testing.T) {
	notOnAPI := func(s *testServer) {
		t.Helper()
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			req, _ := http.NewRequest(method, s.URL+"/metrics", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "behalf_") {
				t.Fatalf("%s /metrics on the API listener: %d %.80s, want 404", method, resp.StatusCode, body)
			}
		}
	}
	notOnAPI(mustRunMain(t, ""))

	addr := freeLoopbackAddr(t)
	s := mustRunMain(t, "", "--metrics-listen", addr)
	m := scrapeMetrics(t, "http://"+addr+"/metrics")
	if _, ok := m[series("behalf_bindings_refused_total")]; !ok {
		t.Fatal("the metrics listener serves no Behalf metrics")
	}
	notOnAPI(s)
}

// otlpReceiver is an OTLP/HTTP trace receiver: it decodes every export.
type otlpReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	posts int
	bad   []string
	spans []recvSpan
}

type recvSpan struct {
	name              string
	trace, id, parent string
	service           string
	attrs             map[string]string
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.posts++
		if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
			r.bad = append(r.bad, req.Method+" "+req.URL.Path+" "+req.Header.Get("Content-Type"))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var export coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &export); err != nil {
			r.bad = append(r.bad, "undecodable: "+err.Error())
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for _, rs := range export.ResourceSpans {
			service := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					attrs := map[string]string{}
					for _, a := range sp.Attributes {
						if v, ok := a.GetValue().GetValue().(interface{ GetIntValue() int64 }); ok {
							attrs[a.Key] = strconv.FormatInt(v.GetIntValue(), 10)
						} else {
							attrs[a.Key] = a.GetValue().GetStringValue()
						}
					}
					r.spans = append(r.spans, recvSpan{name: sp.Name, trace: hex.EncodeToString(sp.TraceId),
						id: hex.EncodeToString(sp.SpanId), parent: hex.EncodeToString(sp.ParentSpanId), service: service, attrs: attrs})
				}
			}
		}
		b, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(b)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// waitSpan waits for a span named name and returns the spans so far.
func (r *otlpReceiver) waitSpan(t *testing.T, name string) []recvSpan {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r.mu.Lock()
		spans, bad := append([]recvSpan(nil), r.spans...), r.bad
		r.mu.Unlock()
		if len(bad) > 0 {
			t.Fatalf("the receiver got bad exports: %v", bad)
		}
		for _, s := range spans {
			if s.name == name {
				return spans
			}
		}
		if time.Now().After(deadline) {
			var names []string
			for _, s := range spans {
				names = append(names, s.name)
			}
			t.Fatalf("no span %q arrived; got %v", name, names)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Ensure OTEL_EXPORTER_OTLP_ENDPOINT turns traces on and one trace spans
// runtime → agent → identity → provider: an invocation's span, the
// gateway's call to the agent (which receives the traceparent), the
// agent's GetResourceOauth2Token (M2M) continuing that trace, and the
// provider's client-credentials call under it. Nothing is exported without
// the environment.
func TestTracingOTLP(t *testing.T) {
	recv := newOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", recv.srv.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
	t.Setenv("OTEL_SERVICE_NAME", "behalf-under-test")
	google := fakeprovider.New(t, fakeprovider.Options{})
	s := mustRunMain(t, "", "--allow-private-endpoints")
	f := newFlowFixture(t, s, google)
	ctx := context.Background()

	// The agent: takes the WAT the gateway injects and asks the data
	// plane for an M2M token, passing the trace on.
	var agentTraceparent, agentAnswer string
	var agentMu sync.Mutex
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		body, _ := json.Marshal(map[string]any{
			"workloadIdentityToken": r.Header.Get(agentruntime.HeaderWAT), "resourceCredentialProviderName": "google-drive-provider",
			"scopes": []string{driveScope}, "oauth2Flow": "M2M",
		})
		req := signedRequest(t, s, "/identities/oauth2/token", body, s.KeyID, s.Secret, time.Now())
		req.Header.Set("Traceparent", r.Header.Get("Traceparent"))
		resp, err := http.DefaultClient.Do(req)
		answer := ""
		if err != nil {
			answer = err.Error()
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			answer = fmt.Sprintf("%d %s", resp.StatusCode, b)
		}
		agentMu.Lock()
		agentTraceparent, agentAnswer = r.Header.Get("Traceparent"), answer
		agentMu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(agent.Close)
	rt, err := f.ctl.CreateAgentRuntime(ctx, &ctl.CreateAgentRuntimeInput{
		AgentRuntimeName:     aws.String("traced_agent"),
		AgentRuntimeArtifact: &types.AgentRuntimeArtifactMemberContainerConfiguration{Value: types.ContainerConfiguration{ContainerUri: aws.String(agent.URL)}},
		RoleArn:              aws.String("arn:aws:iam::123456789012:role/agent"),
		NetworkConfiguration: &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic},
	})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := f.dp.InvokeAgentRuntime(ctx, &dp.InvokeAgentRuntimeInput{
		AgentRuntimeArn: rt.AgentRuntimeArn, RuntimeUserId: aws.String("alice"),
		Payload: []byte(`{"prompt":"hi"}`), ContentType: aws.String("application/json"),
	})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, inv.Response)
	inv.Response.Close()
	agentMu.Lock()
	tp, answer := agentTraceparent, agentAnswer
	agentMu.Unlock()
	if !strings.HasPrefix(answer, "200 ") || !strings.Contains(answer, "accessToken") {
		t.Fatalf("the agent's M2M call: %s", answer)
	}

	spans := recv.waitSpan(t, "provider client_credentials")
	find := func(name string) recvSpan {
		t.Helper()
		for _, s := range spans {
			if s.name == name {
				return s
			}
		}
		t.Fatalf("no span %q", name)
		return recvSpan{}
	}
	invoke, token, provider := find("InvokeAgentRuntime"), find("GetResourceOauth2Token"), find("provider client_credentials")
	var toAgent recvSpan
	for _, s := range spans {
		if s.name == "HTTP POST" && s.parent == invoke.id {
			toAgent = s
		}
	}
	if toAgent.id == "" {
		t.Fatal("no client span for the call to the agent under the invocation's span")
	}
	parts := strings.Split(tp, "-")
	if len(parts) != 4 || parts[1] != invoke.trace || parts[2] != toAgent.id {
		t.Fatalf("the agent got traceparent %q, want trace %s parent %s", tp, invoke.trace, toAgent.id)
	}
	if token.trace != invoke.trace || token.parent != toAgent.id {
		t.Fatalf("GetResourceOauth2Token is in trace %s under %s, want trace %s under the agent call %s", token.trace, token.parent, invoke.trace, toAgent.id)
	}
	if provider.trace != invoke.trace || provider.parent != token.id || provider.attrs["behalf.provider"] != "google-drive-provider" {
		t.Fatalf("provider span %+v, want under %s with the provider's name", provider, token.id)
	}
	if invoke.service != "behalf-under-test" {
		t.Fatalf("service.name %q, want OTEL_SERVICE_NAME", invoke.service)
	}
	// No span records a query string, a token or a WAT.
	for _, sp := range spans {
		for k, v := range sp.attrs {
			if strings.Contains(v, "?") || strings.Contains(strings.ToLower(v), "token=") {
				t.Errorf("span %s attribute %s = %q", sp.name, k, v)
			}
		}
	}
	// Log lines in a traced request carry its trace id.
	if !strings.Contains(s.Log.String(), "trace_id="+invoke.trace) {
		t.Error("no log line carries the invocation's trace id")
	}
}

// Ensure Go's profiles (net/http/pprof) are served only with --pprof, only
// on --metrics-listen, never on the API's listener; --pprof without
// --metrics-listen is refused (issue 12).
func TestPprof(t *testing.T) {
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	paths := []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline", "/debug/pprof/profile?seconds=1"}
	absent := func(base, where string) {
		t.Helper()
		for _, p := range paths {
			if status, body := get(base + p); status != http.StatusNotFound || strings.Contains(body, "Types of profiles") || strings.Contains(body, "goroutine profile") {
				t.Errorf("GET %s on %s: %d %.80q, want 404", p, where, status, body)
			}
		}
	}

	// Default: no profiles on the API listener nor on the metrics listener.
	addr := freeLoopbackAddr(t)
	s := mustRunMain(t, "", "--metrics-listen", addr)
	absent(s.URL, "the API listener")
	absent("http://"+addr, "the metrics listener without --pprof")

	// --pprof: on the metrics listener only.
	addr = freeLoopbackAddr(t)
	s = mustRunMain(t, "", "--metrics-listen", addr, "--pprof")
	absent(s.URL, "the API listener with --pprof")
	if status, body := get("http://" + addr + "/debug/pprof/"); status != http.StatusOK || !strings.Contains(body, "Types of profiles") {
		t.Errorf("GET /debug/pprof/ on the metrics listener with --pprof: %d %.200q", status, body)
	}
	if status, body := get("http://" + addr + "/debug/pprof/goroutine?debug=1"); status != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("GET /debug/pprof/goroutine on the metrics listener: %d %.200q", status, body)
	}
	if status, _ := get("http://" + addr + "/metrics"); status != http.StatusOK {
		t.Errorf("GET /metrics beside the profiles: %d", status)
	}

	c := DefaultConfig()
	c.Pprof = true
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--pprof needs --metrics-listen") {
		t.Errorf("--pprof without --metrics-listen: %v", err)
	}
}
