// Package observe is Behalf's observability: Prometheus metrics on a
// private registry (Metrics, served at GET /metrics), OpenTelemetry traces
// exported over OTLP/HTTP when the standard OTEL_* environment variables
// ask for them (Tracing), and a log/slog handler that stamps every log line
// written in a request's context with its request id and trace ids
// (NewLogHandler).
//
// Labels are bounded: operations are the names routes get where they are
// mounted (package internal/route; "unknown" for a request no route
// matched), providers are provider names, results and events are fixed
// vocabularies. No label ever holds a user, a token or any other value a
// caller chooses freely.
package observe
