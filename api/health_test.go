package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Ensure /healthz answers while serving and /readyz follows the database.
func TestHealthAndReadiness(t *testing.T) {
	var dbErr error
	s := &Server{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: func(context.Context) error { return dbErr }}
	h := s.Handler()
	get := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code
	}
	if got := get("/healthz"); got != http.StatusOK {
		t.Fatalf("/healthz = %d", got)
	}
	if got := get("/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz with the database up = %d", got)
	}
	dbErr = errors.New("connection refused")
	if got := get("/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the database down = %d, want 503", got)
	}
	if got := get("/healthz"); got != http.StatusOK {
		t.Fatalf("/healthz with the database down = %d, want 200", got)
	}
}

// Ensure every answered request is logged once, at INFO, as "request" with
// its id, method, path, operation, status and duration, and not at all
// above INFO.
func TestRequestLogLine(t *testing.T) {
	var buf bytes.Buffer
	s := &Server{Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	h := s.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	want := map[string]any{"level": "INFO", "msg": "request", "request_id": rec.Header().Get("X-Amzn-RequestId"),
		"method": "GET", "path": "/healthz", "op": "Healthz", "status": float64(200), "duration_ms": float64(0)}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %#v, want %#v (line %s)", k, line[k], v, buf.String())
		}
	}
	if _, ok := line["time"]; !ok || len(line) != len(want)+1 {
		t.Errorf("line %s, want exactly %v and time", buf.String(), want)
	}

	buf.Reset()
	s = &Server{Log: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	if buf.Len() != 0 {
		t.Errorf("logged at WARN level: %s", buf.String())
	}
}

// blockingHandler is a slog handler whose Handle waits for release.
type blockingHandler struct {
	slog.Handler
	release chan struct{}
}

func (h blockingHandler) Handle(ctx context.Context, r slog.Record) error {
	<-h.release
	return h.Handler.Handle(ctx, r)
}

// Ensure a complete answer (with a Content-Length, as every JSON answer
// has) reaches the client before the request is logged: the log line is
// off the latency the client sees (issue 12).
func TestAnswerSentBeforeLog(t *testing.T) {
	release := make(chan struct{})
	s := &Server{Log: slog.New(blockingHandler{slog.NewTextHandler(io.Discard, nil), release})}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	defer close(release)
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(srv.URL + "/no/such/operation")
	if err != nil {
		t.Fatalf("the answer waited for the log line: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusNotFound || resp.ContentLength != int64(len(body)) || !bytes.Contains(body, []byte("UnknownOperationException")) {
		t.Fatalf("answer %d (Content-Length %d) %q %v", resp.StatusCode, resp.ContentLength, body, err)
	}
}
