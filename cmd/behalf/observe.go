package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/api"
	"github.com/behalf-dev/behalf/observe"
	"github.com/behalf-dev/behalf/ratelimit"
)

// Observability is the configuration of logs, metrics, traces and rate
// limits. Traces are configured by the standard OTEL_* environment
// variables only (see observe.TracingFromEnv).
type Observability struct {
	LogLevel string // debug, info, warn or error
	// MetricsListen, when set, serves GET /metrics on this address. The
	// metrics are unauthenticated, so they are never served on Listen.
	MetricsListen string
	// Pprof serves net/http/pprof's profiles under /debug/pprof/ on
	// MetricsListen (never on Listen); it needs MetricsListen.
	Pprof bool
	// Rate limits in requests per second (0 disables) and bursts: per
	// access key on every SigV4-signed call, per client IP on the sign-in
	// and consent endpoints.
	RateLimitKey      float64
	RateLimitKeyBurst int
	RateLimitIP       float64
	RateLimitIPBurst  int
	// RateLimitRoot applies RateLimitKey to the root key too.
	RateLimitRoot bool
	// TrustProxy keys the per-IP limits by the last X-Forwarded-For entry.
	TrustProxy bool
}

func defaultObservability() Observability {
	return Observability{LogLevel: "info", RateLimitKey: 100, RateLimitKeyBurst: 500, RateLimitIP: 10, RateLimitIPBurst: 50}
}

func (c *Observability) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.MetricsListen, "metrics-listen", c.MetricsListen, "serve GET /metrics (unauthenticated) on this address, e.g. 127.0.0.1:9600; without it no metrics are served (never on --listen)")
	fs.BoolVar(&c.Pprof, "pprof", c.Pprof, "also serve Go's profiles (net/http/pprof, unauthenticated) under /debug/pprof/ on --metrics-listen; needs --metrics-listen")
	fs.Float64Var(&c.RateLimitKey, "rate-limit-key", c.RateLimitKey, "requests per second each access key from CreateAccessKey may make (SigV4-signed calls); 0 disables")
	fs.IntVar(&c.RateLimitKeyBurst, "rate-limit-key-burst", c.RateLimitKeyBurst, "burst of --rate-limit-key")
	fs.BoolVar(&c.RateLimitRoot, "rate-limit-root", c.RateLimitRoot, "apply --rate-limit-key to the root key too (the operator's key is not limited by default)")
	fs.Float64Var(&c.RateLimitIP, "rate-limit-ip", c.RateLimitIP, "requests per second each client IP may make to the sign-in and consent endpoints (loopback clients are not limited); 0 disables")
	fs.IntVar(&c.RateLimitIPBurst, "rate-limit-ip-burst", c.RateLimitIPBurst, "burst of --rate-limit-ip")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "take the client IP of the per-IP limits from the last X-Forwarded-For entry (only behind one proxy that appends it, such as a reverse proxy on loopback)")
}

func (c Observability) validate() []error {
	var errs []error
	if _, err := observe.ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("--log-level must be debug, info, warn or error"))
	}
	if c.Pprof && c.MetricsListen == "" {
		errs = append(errs, fmt.Errorf("--pprof needs --metrics-listen: profiles are served only there"))
	}
	if c.RateLimitKey < 0 || c.RateLimitIP < 0 {
		errs = append(errs, fmt.Errorf("--rate-limit-key and --rate-limit-ip must not be negative (0 disables)"))
	}
	if (c.RateLimitKey > 0 && c.RateLimitKeyBurst < 1) || (c.RateLimitIP > 0 && c.RateLimitIPBurst < 1) {
		errs = append(errs, fmt.Errorf("--rate-limit-key-burst and --rate-limit-ip-burst must be at least 1"))
	}
	return errs
}

// observability is what Run builds from Observability.
type observability struct {
	metrics *observe.Metrics
	tracing *observe.Tracing
	keys    *ratelimit.Limiter
	ips     *ratelimit.Limiter
}

// newLogger returns the logger --log-format and --log-level ask for; every
// line logged in a request's context carries its request_id.
func (m *Main) newLogger() *slog.Logger {
	level, _ := observe.ParseLevel(m.Config.LogLevel)
	return observe.NewLogger(m.logOut, m.Config.LogFormat, level, api.RequestID)
}

// startObservability starts tracing (when the environment asks for it),
// the metrics (and their listener, with --metrics-listen) and the rate
// limiters. stop flushes the traces and closes the metrics listener.
func (m *Main) startObservability(ctx context.Context) (stop func(), err error) {
	c := m.Config.Observability
	tracing, err := observe.TracingFromEnv(ctx)
	if err != nil {
		return nil, err
	}
	if tracing.Enabled() {
		m.Log.Info("exporting traces over OTLP/HTTP")
	}
	m.obs = observability{
		metrics: observe.NewMetrics(tracing.Tracer()),
		tracing: tracing,
		keys:    ratelimit.New(c.RateLimitKey, c.RateLimitKeyBurst),
		ips:     ratelimit.New(c.RateLimitIP, c.RateLimitIPBurst),
	}
	var ms *http.Server
	if c.MetricsListen != "" {
		ln, err := net.Listen("tcp", c.MetricsListen)
		if err != nil {
			tracing.Shutdown(ctx)
			return nil, fmt.Errorf("metrics listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.obs.metrics.Handler())
		if c.Pprof {
			mountPprof(mux)
		}
		ms = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := ms.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.Log.Error("metrics listener", "err", err)
			}
		}()
		m.Log.Info("serving metrics", "addr", ln.Addr().String())
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if ms != nil {
			ms.Shutdown(sctx)
		}
		if err := tracing.Shutdown(sctx); err != nil {
			m.Log.Warn("flush traces", "err", err)
		}
	}, nil
}

// mountPprof serves net/http/pprof's handlers under /debug/pprof/ on mux
// (the metrics listener's: never the API's). They are registered here by
// hand, not through the package's init on http.DefaultServeMux, which
// Behalf never serves.
func mountPprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// onLimited is told of each request a rate limit refuses: it counts and
// logs it by limit.
func (m *Main) onLimited(limit string) func(*http.Request) {
	return func(r *http.Request) {
		m.obs.metrics.RateLimited(limit)
		m.Log.DebugContext(r.Context(), "rate limited", "limit", limit)
	}
}

// keyLimit returns what puts a SigV4 verifier behind the per-key rate
// limit (the root key exempt unless --rate-limit-root), or leaves it as
// it is when that limit is off.
func (m *Main) keyLimit() func(ratelimit.Authenticator) ratelimit.Authenticator {
	if m.obs.keys == nil {
		return func(a ratelimit.Authenticator) ratelimit.Authenticator { return a }
	}
	var exempt func(behalf.Principal) bool
	if !m.Config.RateLimitRoot {
		exempt = behalf.Principal.IsRoot
	}
	return func(a ratelimit.Authenticator) ratelimit.Authenticator {
		return &ratelimit.KeyLimit{Next: a, Limiter: m.obs.keys, Exempt: exempt, OnLimit: m.onLimited("key")}
	}
}
