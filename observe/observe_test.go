package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf/internal/route"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("GET /metrics: %d", w.Code)
	}
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

// Ensure each counter moves with its method, unknown label values are
// folded into "other", and the fixed vocabularies start at zero.
func TestMetrics(t *testing.T) {
	m := NewMetrics(nil)
	text := scrape(t, m)
	for _, want := range []string{
		`behalf_token_fetches_total{result="consent_needed"} 0`,
		`behalf_sessions_total{event="expired"} 0`,
		`behalf_bindings_refused_total 0`,
		`behalf_rate_limited_total{limit="ip"} 0`,
		"go_goroutines ",
	} {
		if !strings.Contains(text, want) {
			t.Fatalf("fresh metrics lack %q:\n%s", want, text)
		}
	}
	m.TokenFetch("vault_hit")
	m.TokenFetch("vault_hit")
	m.TokenFetch("user-chosen-value")
	m.ProviderCall(context.Background(), "google", "refresh", time.Now().Add(-30*time.Millisecond), time.Now(), nil)
	m.ProviderCall(context.Background(), "google", "refresh", time.Now(), time.Now(), errors.New("boom"))
	m.Session("started")
	m.BindingRefused()
	m.RateLimited("key")
	r := httptest.NewRequest("POST", "/identities/oauth2/token", nil)
	m.Request(r, "GetResourceOauth2Token", 200, nil, 5*time.Millisecond)
	m.Request(r, "GetResourceOauth2Token", 429, nil, time.Millisecond)
	m.Request(httptest.NewRequest("POST", "/eu-west-1_Abc9/oauth2/token", nil), "HostedLoginToken", 400, nil, time.Millisecond)
	m.Request(httptest.NewRequest("POST", "/", nil), "InitiateAuth", 400, http.Header{"X-Amzn-Errortype": {"TooManyRequestsException"}}, time.Millisecond)
	m.Request(httptest.NewRequest("GET", "/random/path/1234", nil), "", 404, nil, time.Millisecond)
	text = scrape(t, m)
	for _, want := range []string{
		`behalf_token_fetches_total{result="vault_hit"} 2`,
		`behalf_token_fetches_total{result="other"} 1`,
		`behalf_provider_call_duration_seconds_count{call="refresh",provider="google"} 2`,
		`behalf_provider_call_errors_total{call="refresh",provider="google"} 1`,
		`behalf_sessions_total{event="started"} 1`,
		`behalf_bindings_refused_total 1`,
		`behalf_rate_limited_total{limit="key"} 1`,
		`behalf_requests_total{operation="GetResourceOauth2Token",outcome="success"} 1`,
		`behalf_requests_total{operation="GetResourceOauth2Token",outcome="throttled"} 1`,
		`behalf_request_duration_seconds_count{operation="GetResourceOauth2Token"} 2`,
		`behalf_requests_total{operation="HostedLoginToken",outcome="client_error"} 1`,
		`behalf_requests_total{operation="unknown",outcome="client_error"} 1`,
		`behalf_requests_total{operation="InitiateAuth",outcome="throttled"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(text, "user-chosen-value") || strings.Contains(text, "/random/path") {
		t.Error("a caller's value became a label")
	}
	var nilMetrics *Metrics
	nilMetrics.TokenFetch("vault_hit") // no panic
	nilMetrics.Request(r, "x", 200, nil, 0)
}

// Ensure Tracing.Handler names each request's span after its route
// ("unknown" without one, never its path) and traces no health check.
func TestTracingNamesSpansByRoute(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr := &Tracing{tp: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)), prop: propagation.TraceContext{}}
	m := NewMetrics(tr.Tracer())
	// As api.Server mounts them: the route named outside the span, the
	// metrics told inside it.
	h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, _ := route.Of(r)
		m.Request(r, rt.Name, 200, http.Header{}, time.Millisecond)
	}))
	for _, c := range []struct {
		path string
		rt   route.Route
	}{
		{"/identities/oauth2/token", route.Route{Name: "GetResourceOauth2Token", Kind: route.AWSJSON}},
		{"/us-east-1_Ab12/login", route.Route{Name: "HostedLogin", Kind: route.HTML}},
		{"/healthz", route.Route{Name: "Healthz", Kind: route.Health}},
		{"/random/path/1234", route.Route{}},
	} {
		r := httptest.NewRequest("GET", c.path, nil)
		if c.rt != (route.Route{}) {
			r = route.With(r, c.rt)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
		for _, a := range s.Attributes() {
			if a.Key == "behalf.operation" && a.Value.AsString() != s.Name() {
				t.Errorf("span %s has behalf.operation %s", s.Name(), a.Value.AsString())
			}
		}
	}
	if got := strings.Join(names, " "); got != "GetResourceOauth2Token HostedLogin unknown" {
		t.Fatalf("spans %q, want GetResourceOauth2Token HostedLogin unknown (no health check)", got)
	}
}

func TestOutcome(t *testing.T) {
	for status, want := range map[int]string{200: "success", 204: "success", 302: "success", 400: "client_error", 404: "client_error", 429: "throttled", 499: "client_closed", 500: "server_error", 503: "server_error"} {
		if got := Outcome(status); got != want {
			t.Errorf("Outcome(%d) = %q, want %q", status, got, want)
		}
	}
}

type ridKey struct{}

// Ensure log lines in a request's context carry its request id once, and
// the level filters.
func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	rid := func(ctx context.Context) string { s, _ := ctx.Value(ridKey{}).(string); return s }
	log := NewLogger(&buf, "json", slog.LevelInfo, rid)
	ctx := context.WithValue(context.Background(), ridKey{}, "req-123")
	log.InfoContext(ctx, "in a request", "k", "v")
	log.InfoContext(ctx, "names its own", "request_id", "req-123")
	log.With("request_id", "req-123").InfoContext(ctx, "with")
	log.Info("no context")
	log.DebugContext(ctx, "filtered")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), buf.String())
	}
	for i, l := range lines[:3] {
		if n := strings.Count(l, `"request_id"`); n != 1 {
			t.Errorf("line %d has %d request_id: %s", i, n, l)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["request_id"] != "req-123" {
			t.Errorf("line %d: %s", i, l)
		}
	}
	if strings.Contains(lines[3], "request_id") {
		t.Errorf("a line outside any request has a request id: %s", lines[3])
	}
	for s, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := ParseLevel(s); err != nil || got != want {
			t.Errorf("ParseLevel(%s) = %v %v", s, got, err)
		}
	}
	if _, err := ParseLevel("verbose"); err == nil {
		t.Error("ParseLevel(verbose) succeeded")
	}
}

func TestTracingWanted(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want bool
		err  bool
	}{
		{nil, false, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false, false},
		{map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, false, true},
	} {
		got, err := TracingWanted(func(k string) string { return c.env[k] })
		if got != c.want || (err != nil) != c.err {
			t.Errorf("TracingWanted(%v) = %v, %v; want %v, error %v", c.env, got, err, c.want, c.err)
		}
	}
	// Off: the wrappers return what they are given.
	var off *Tracing
	h := http.NotFoundHandler()
	if off.Enabled() || off.Transport(http.DefaultTransport) != http.DefaultTransport || off.Shutdown(context.Background()) != nil {
		t.Fatal("a nil Tracing is not off")
	}
	_ = off.Handler(h)
}
