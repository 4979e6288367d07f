package agent

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// MaxPayloadBytes is the largest invocation body an App reads, the limit
// of InvokeAgentRuntime.
const MaxPayloadBytes = 100_000_000

// Handler handles one invocation. payload is the request body, valid JSON.
// The result is sent as JSON, or as server-sent events when it is a
// Stream. An error is answered 500 {"error": err.Error()}, except an
// *InvalidPayloadError, answered 400 like malformed JSON.
type Handler func(ctx context.Context, payload json.RawMessage) (any, error)

// Typed adapts a handler of a concrete payload type: the body is decoded
// into T, and a body that does not fit T is answered 400 Invalid JSON.
func Typed[T any](fn func(ctx context.Context, in T) (any, error)) Handler {
	return func(ctx context.Context, payload json.RawMessage) (any, error) {
		var in T
		if err := json.Unmarshal(payload, &in); err != nil {
			return nil, &InvalidPayloadError{Err: err}
		}
		return fn(ctx, in)
	}
}

// InvalidPayloadError is a handler's way to answer 400
// {"error":"Invalid JSON","details":...}.
type InvalidPayloadError struct{ Err error }

func (e *InvalidPayloadError) Error() string { return "invalid JSON payload: " + e.Err.Error() }
func (e *InvalidPayloadError) Unwrap() error { return e.Err }

// Stream is a streaming result. A handler returns one to answer with
// text/event-stream: the App calls it with send, which writes one frame
// "data: <json>\n\n" and flushes it to the client at once. An error
// returned by the Stream is sent as a last frame
// {"error":…,"error_type":…,"message":"An error occurred during streaming"}.
// send fails once the client has gone away.
type Stream func(send func(event any) error) error

// PingStatus is the health an App reports on GET /ping.
type PingStatus string

// Ping statuses. HealthyBusy tells the runtime the agent is working in
// the background, which keeps the session alive.
const (
	Healthy     PingStatus = "Healthy"
	HealthyBusy PingStatus = "HealthyBusy"
)

// App serves the AgentCore Runtime HTTP contract: POST /invocations and
// GET /ping. The zero value with Handler set is ready to use.
type App struct {
	// Handler handles POST /invocations.
	Handler Handler
	// Client, when set, is what AccessToken and APIKey use during
	// invocations (see WithClient); nil means the package default.
	Client *Client
	// Ping, when set, decides the /ping status; by default the App is
	// HealthyBusy while a task started with StartTask runs.
	Ping func() PingStatus
	// Log receives serving errors; nil means slog.Default().
	Log *slog.Logger

	mu         sync.Mutex
	tasks      int
	lastStatus PingStatus
	lastUpdate time.Time
}

// NewApp returns an App serving h.
func NewApp(h Handler) *App { return &App{Handler: h} }

// StartTask marks the App busy until done is called (more than once is
// harmless), like the Python SDK's @app.async_task: /ping reports
// HealthyBusy meanwhile so the runtime keeps the session.
func (a *App) StartTask() (done func()) {
	a.mu.Lock()
	a.tasks++
	a.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			a.tasks--
			a.mu.Unlock()
		})
	}
}

// Status returns the current ping status and when it last changed.
func (a *App) Status() (PingStatus, time.Time) {
	var s PingStatus
	if a.Ping != nil {
		s = a.Ping()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s == "" {
		s = Healthy
		if a.tasks > 0 {
			s = HealthyBusy
		}
	}
	if s != a.lastStatus || a.lastUpdate.IsZero() {
		a.lastStatus, a.lastUpdate = s, time.Now()
	}
	return s, a.lastUpdate
}

// ServeHTTP implements http.Handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/ping":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		s, t := a.Status()
		writeJSON(w, http.StatusOK, map[string]any{"status": s, "time_of_last_update": t.Unix()})
	case "/invocations":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
		a.invoke(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "Not Found"})
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "Method Not Allowed"})
}

func (a *App) invoke(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPayloadBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"error": "Payload too large"})
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Could not read the request body", "details": err.Error()})
		return
	}
	var payload json.RawMessage
	if err := json.Unmarshal(body, &payload); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Invalid JSON", "details": err.Error()})
		return
	}
	if a.Handler == nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "agent: App has no Handler"})
		return
	}
	ctx := requestContext(r.Context(), r)
	if a.Client != nil {
		ctx = WithClient(ctx, a.Client)
	}
	if sid := SessionID(ctx); sid != "" {
		w.Header().Set(HeaderSessionID, sid)
	}
	result, err := a.Handler(ctx, payload)
	if err != nil {
		if ip, ok := errors.AsType[*InvalidPayloadError](err); ok {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Invalid JSON", "details": ip.Err.Error()})
			return
		}
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
		return
	}
	if s, ok := result.(Stream); ok {
		a.stream(w, s)
		return
	}
	b, err := json.Marshal(result)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "could not encode the result: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// stream answers with server-sent events, flushing every frame.
func (a *App) stream(w http.ResponseWriter, s Stream) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		a.log().Warn("agent: cannot flush a streamed response", "err", err)
	}
	var broken error // set once writing to the client failed
	send := func(event any) error {
		if broken != nil {
			return broken
		}
		b, err := json.Marshal(event)
		if err != nil {
			return fmt.Errorf("agent: encoding a stream event: %w", err)
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			broken = err
			return err
		}
		if err := rc.Flush(); err != nil {
			broken = err
			return err
		}
		return nil
	}
	if err := s(send); err != nil && broken == nil {
		send(map[string]any{
			"error":      err.Error(),
			"error_type": fmt.Sprintf("%T", err),
			"message":    "An error occurred during streaming",
		})
	}
}

func (a *App) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

// DefaultAddr is the address ListenAndServe("") listens on: port $PORT
// (8080 when unset) on 127.0.0.1, or on all interfaces when
// DOCKER_CONTAINER is set (a runtime container, where the AgentCore
// contract asks for 0.0.0.0:8080), as in the Python SDK.
func DefaultAddr() string {
	host := "127.0.0.1"
	if os.Getenv("DOCKER_CONTAINER") != "" {
		host = "0.0.0.0"
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	return net.JoinHostPort(host, port)
}

// ListenAndServe serves the App on addr, or on DefaultAddr() when addr is
// "".
func (a *App) ListenAndServe(addr string) error {
	if addr == "" {
		addr = DefaultAddr()
	}
	srv := &http.Server{Addr: addr, Handler: a, ReadHeaderTimeout: 30 * time.Second}
	a.log().Info("agent listening", "addr", addr)
	return srv.ListenAndServe()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"could not encode the response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
