package observe

import (
	"context"
	"database/sql"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Fixed label vocabularies. Unknown values are counted as "other".
var (
	// TokenFetchResults are the results of GetResourceOauth2Token.
	TokenFetchResults = []string{"vault_hit", "refreshed", "consent_needed", "failed", "m2m", "on_behalf_of"}
	// SessionEvents are the events of authorization sessions.
	SessionEvents = []string{"started", "completed", "failed", "expired"}
	// Outcomes are the outcomes of requests (see Outcome).
	Outcomes = []string{"success", "client_error", "throttled", "server_error", "client_closed"}
	// Limits are the rate limits and the in-flight bounds (package
	// ratelimit) that refuse requests.
	Limits = []string{"key", "ip", "in_flight", "invocations_in_flight"}
)

// Metrics holds Behalf's Prometheus metrics on a registry of its own (never
// the global default one). Its methods are safe for concurrent use; a nil
// *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	tokenFetches    *prometheus.CounterVec
	providerCalls   *prometheus.HistogramVec
	providerErrors  *prometheus.CounterVec
	sessions        *prometheus.CounterVec
	bindingsRefused prometheus.Counter
	rateLimited     *prometheus.CounterVec

	tracer trace.Tracer
}

// NewMetrics returns the metrics on a new registry, with the Go runtime and
// process collectors. tracer, when not nil, records a span per provider
// call (see ProviderCall).
func NewMetrics(tracer trace.Tracer) *Metrics {
	if tracer == nil {
		tracer = noop.NewTracerProvider().Tracer("")
	}
	m := &Metrics{
		reg:    prometheus.NewRegistry(),
		tracer: tracer,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "behalf_requests_total",
			Help: "Requests answered, by operation and outcome (success, client_error, throttled, server_error, client_closed: the client went away first).",
		}, []string{"operation", "outcome"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "behalf_request_duration_seconds",
			Help:    "Time to answer a request, by operation (until the handler returns: whole streams for invocations).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
		tokenFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "behalf_token_fetches_total",
			Help: "GetResourceOauth2Token answers, by result (vault_hit, refreshed, consent_needed, failed, m2m, on_behalf_of).",
		}, []string{"result"}),
		providerCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "behalf_provider_call_duration_seconds",
			Help:    "Calls to credential providers' token endpoints, by provider name and call (exchange, refresh, client_credentials).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"provider", "call"}),
		providerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "behalf_provider_call_errors_total",
			Help: "Failed calls to credential providers' token endpoints, by provider name and call.",
		}, []string{"provider", "call"}),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "behalf_sessions_total",
			Help: "Authorization session events (started, completed, failed, expired: a poll found it expired unfinished).",
		}, []string{"event"}),
		bindingsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "behalf_bindings_refused_total",
			Help: "Sessions a user other than the one who started them tried to complete.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "behalf_rate_limited_total",
			Help: "Requests refused by a rate limit, by limit (key: per access key; ip: per client IP on sign-in and consent endpoints; in_flight, invocations_in_flight: the server's bounds on requests in progress).",
		}, []string{"limit"}),
	}
	m.reg.MustRegister(m.requests, m.requestDuration, m.tokenFetches, m.providerCalls, m.providerErrors,
		m.sessions, m.bindingsRefused, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The fixed vocabularies start at zero, so rates exist before the first event.
	for _, r := range TokenFetchResults {
		m.tokenFetches.WithLabelValues(r)
	}
	for _, e := range SessionEvents {
		m.sessions.WithLabelValues(e)
	}
	for _, l := range Limits {
		m.rateLimited.WithLabelValues(l)
	}
	return m
}

// Registry returns the private registry (tests, extra collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request records one answered request. It suits api.Server.Observe: op is
// the name of the request's route (package internal/route), "" when it
// has none (counted as "unknown"); h is the response's header (see
// Outcome). The request's trace span, if any, gets the operation as an
// attribute.
func (m *Metrics) Request(r *http.Request, op string, status int, h http.Header, elapsed time.Duration) {
	op = operation(op)
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetAttributes(attribute.String("behalf.operation", op))
	}
	if m == nil {
		return
	}
	outcome := Outcome(status)
	if t := h.Get("X-Amzn-ErrorType"); t == "TooManyRequestsException" || t == "ThrottlingException" {
		outcome = "throttled" // cognito-idp throttles with 400
	}
	m.requests.WithLabelValues(op, outcome).Inc()
	m.requestDuration.WithLabelValues(op).Observe(elapsed.Seconds())
}

// Outcome classes an HTTP status: success (below 400), throttled (429),
// client_closed (499: the client went away before the answer, see
// api.StatusClientClosed), client_error (other 4xx) or server_error.
// Request also counts as throttled the answers whose X-Amzn-ErrorType is
// ThrottlingException or TooManyRequestsException, whatever their status.
func Outcome(status int) string {
	switch {
	case status < 400:
		return "success"
	case status == http.StatusTooManyRequests:
		return "throttled"
	case status == statusClientClosed:
		return "client_closed"
	case status < 500:
		return "client_error"
	}
	return "server_error"
}

// operation is the label of a route's name: "unknown" when it has none, so
// a client cannot mint label values.
func operation(name string) string {
	if name == "" {
		return "unknown"
	}
	return name
}

// statusClientClosed is api.StatusClientClosed.
const statusClientClosed = 499

// TokenFetch counts one GetResourceOauth2Token answer.
func (m *Metrics) TokenFetch(result string) {
	if m == nil {
		return
	}
	m.tokenFetches.WithLabelValues(known(result, TokenFetchResults)).Inc()
}

// ProviderCall records one call to a provider that started at start and
// ended at end with err, and a span for it under ctx's span.
func (m *Metrics) ProviderCall(ctx context.Context, provider, call string, start, end time.Time, err error) {
	if m == nil {
		return
	}
	m.providerCalls.WithLabelValues(provider, call).Observe(end.Sub(start).Seconds())
	if err != nil {
		m.providerErrors.WithLabelValues(provider, call).Inc()
	}
	if !trace.SpanFromContext(ctx).SpanContext().IsValid() {
		return // no trace to join: tracing is off
	}
	_, span := m.tracer.Start(ctx, "provider "+call, trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("behalf.provider", provider), attribute.String("behalf.provider_call", call)))
	if err != nil {
		// The error's text may quote the provider's answer: only its kind is kept.
		span.SetStatus(codes.Error, "provider call failed")
	}
	span.End(trace.WithTimestamp(end))
}

// Session counts one authorization session event.
func (m *Metrics) Session(event string) {
	if m == nil {
		return
	}
	m.sessions.WithLabelValues(known(event, SessionEvents)).Inc()
}

// BindingRefused counts one refused session binding.
func (m *Metrics) BindingRefused() {
	if m == nil {
		return
	}
	m.bindingsRefused.Inc()
}

// RateLimited counts one request refused by limit ("key" or "ip").
func (m *Metrics) RateLimited(limit string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(known(limit, Limits)).Inc()
}

// InFlight exports n, the requests a bound (package ratelimit's InFlight)
// holds, as behalf_in_flight_requests{bound}. Call it once per bound,
// before serving.
func (m *Metrics) InFlight(bound string, n func() int) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "behalf_in_flight_requests",
		Help:        "Requests in progress under a bound (in_flight: --max-in-flight; invocations_in_flight: --max-invocations-in-flight).",
		ConstLabels: prometheus.Labels{"bound": known(bound, Limits)},
	}, func() float64 { return float64(n()) }))
}

// DBPool exports the database connection pool's statistics (sqlstore.DB's
// Stats). Call it once, before serving.
func (m *Metrics) DBPool(stats func() sql.DBStats) {
	if m == nil {
		return
	}
	m.reg.MustRegister(dbPoolCollector(stats))
}

// dbPoolCollector reads the pool's statistics at each scrape.
type dbPoolCollector func() sql.DBStats

var (
	dbConnections    = prometheus.NewDesc("behalf_db_connections", "Database connections open, by state (in_use, idle).", []string{"state"}, nil)
	dbMaxConnections = prometheus.NewDesc("behalf_db_max_connections", "The bound on open database connections (--db-max-conns).", nil, nil)
	dbWaits          = prometheus.NewDesc("behalf_db_waits_total", "Queries that waited for a database connection, all being in use.", nil, nil)
	dbWaitSeconds    = prometheus.NewDesc("behalf_db_wait_seconds_total", "Time spent waiting for a database connection.", nil, nil)
)

func (c dbPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- dbConnections
	ch <- dbMaxConnections
	ch <- dbWaits
	ch <- dbWaitSeconds
}

func (c dbPoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c()
	ch <- prometheus.MustNewConstMetric(dbConnections, prometheus.GaugeValue, float64(s.InUse), "in_use")
	ch <- prometheus.MustNewConstMetric(dbConnections, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(dbMaxConnections, prometheus.GaugeValue, float64(s.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(dbWaits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(dbWaitSeconds, prometheus.CounterValue, s.WaitDuration.Seconds())
}

func known(v string, vocabulary []string) string {
	for _, k := range vocabulary {
		if v == k {
			return v
		}
	}
	return "other"
}
