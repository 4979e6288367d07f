package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
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
