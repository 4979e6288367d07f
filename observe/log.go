package observe

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// ParseLevel parses a --log-level value: debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q is not debug, info, warn or error", s)
}

// NewLogger returns a logger writing format ("json" or "text") to w at
// level and above, through NewLogHandler.
func NewLogger(w io.Writer, format string, level slog.Level, requestID func(context.Context) string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(NewLogHandler(h, requestID))
}

// NewLogHandler wraps h so that every record logged with a context carries
// the request id requestID finds in it (unless the record names one
// itself) and, when the context holds a sampled span, trace_id and span_id.
func NewLogHandler(h slog.Handler, requestID func(context.Context) string) slog.Handler {
	return &logHandler{next: h, requestID: requestID}
}

type logHandler struct {
	next      slog.Handler
	requestID func(context.Context) string
	// named: an attribute added with With already holds request_id.
	named bool
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if h.requestID != nil && !h.named {
			if id := h.requestID(ctx); id != "" && !hasAttr(r, "request_id") {
				r.AddAttrs(slog.String("request_id", id))
			}
		}
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
		}
	}
	return h.next.Handle(ctx, r)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	named := h.named
	for _, a := range as {
		named = named || a.Key == "request_id"
	}
	return &logHandler{next: h.next.WithAttrs(as), requestID: h.requestID, named: named}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name), requestID: h.requestID, named: h.named}
}

func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}
