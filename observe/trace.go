package observe

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/behalf-dev/behalf/internal/route"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing exports OpenTelemetry traces over OTLP/HTTP. A nil *Tracing is
// off: its Handler and Transport return what they are given, its Tracer
// records nothing. Nothing is installed globally: the tracer provider and
// the propagators are handed to what uses them.
type Tracing struct {
	tp   *sdktrace.TracerProvider
	prop propagation.TextMapPropagator
}

// TracingWanted reports whether the standard environment asks for traces:
// an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or OTEL_TRACES_EXPORTER=otlp, and
// neither OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none. Any other
// exporter is an error: only OTLP is built in.
func TracingWanted(getenv func(string) string) (bool, error) {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false, nil
	}
	switch exporter := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); exporter {
	case "none":
		return false, nil
	case "otlp":
		return true, nil
	case "":
	default:
		return false, fmt.Errorf("OTEL_TRACES_EXPORTER=%s: Behalf exports traces only with otlp (over HTTP)", exporter)
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "", nil
}

// TracingFromEnv returns the tracing the standard OTEL_* environment asks
// for (see TracingWanted), or nil when it asks for none. The exporter reads
// the OTEL_EXPORTER_OTLP_* variables (endpoint, headers, timeout,
// compression; the protocol is http/protobuf whatever
// OTEL_EXPORTER_OTLP_PROTOCOL says), the resource OTEL_SERVICE_NAME
// (default "behalf") and OTEL_RESOURCE_ATTRIBUTES, the sampler
// OTEL_TRACES_SAMPLER(_ARG) and the batcher OTEL_BSP_*. Shutdown flushes it.
func TracingFromEnv(ctx context.Context) (*Tracing, error) {
	want, err := TracingWanted(os.Getenv)
	if err != nil || !want {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	// Later sources win: the default name, then the environment.
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", "behalf")),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	return &Tracing{
		tp:   sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)),
		prop: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}, nil
}

// Enabled reports whether traces are recorded.
func (t *Tracing) Enabled() bool { return t != nil }

// Tracer returns Behalf's tracer.
func (t *Tracing) Tracer() trace.Tracer {
	if t == nil {
		return noop.NewTracerProvider().Tracer("")
	}
	return t.tp.Tracer("github.com/behalf-dev/behalf")
}

// Shutdown flushes the spans not yet exported and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// Handler returns h with a server span per request, continuing the trace
// of the caller's traceparent, except for the health checks (probes).
// The span is named after the request's route (package internal/route:
// h must be inside what names requests, api.Server.Trace), "unknown" when
// it has none. Its attributes hold the URL path, never the query (which
// may carry codes and states).
func (t *Tracing) Handler(h http.Handler) http.Handler {
	if t == nil {
		return h
	}
	return otelhttp.NewHandler(h, "behalf",
		otelhttp.WithTracerProvider(t.tp), otelhttp.WithPropagators(t.prop),
		otelhttp.WithFilter(func(r *http.Request) bool {
			rt, _ := route.Of(r)
			return rt.Kind != route.Health
		}),
		// otelhttp names the span again once the handler returns (when a
		// mux matched a pattern): by the route then too.
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			rt, _ := route.Of(r)
			return operation(rt.Name)
		}),
	)
}

// Transport returns next with a client span per request, and the trace
// context injected into the request's headers (traceparent), so the agent
// behind an invocation continues the trace. The span records the method,
// host and status only: never the URL's path or query.
func (t *Tracing) Transport(next http.RoundTripper) http.RoundTripper {
	if t == nil {
		return next
	}
	return &tracingTransport{next: next, tracer: t.Tracer(), prop: t.prop}
}

type tracingTransport struct {
	next   http.RoundTripper
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

func (t *tracingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, span := t.tracer.Start(r.Context(), "HTTP "+r.Method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("server.address", r.URL.Host)))
	r = r.Clone(ctx) // a RoundTripper must not change the caller's request
	t.prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		span.SetStatus(codes.Error, "request failed")
		span.End()
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, "")
	}
	// The answer may stream for minutes: the span ends when the response
	// starts, which is what the gateway waits on.
	span.End()
	return resp, nil
}
