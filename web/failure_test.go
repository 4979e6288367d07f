package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
)

// Ensure pages show the message of a caller's error and hide the cause of
// anything else: an unreachable issuer's error text (which names hosts and
// addresses) and an internal error never reach the page.
func TestFailure(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		err    error
		status int
		msg    string
	}{
		{behalf.Errorf(behalf.EINVALID, "Invalid request: no session."), http.StatusBadRequest, "Invalid request: no session."},
		{behalf.Errorf(behalf.ENOTFOUND, "No such thing."), http.StatusBadRequest, "No such thing."},
		{behalf.Errorf(behalf.EFORBIDDEN, "Not yours."), http.StatusForbidden, "Not yours."},
		{behalf.Errorf(behalf.EUNAVAILABLE, "dial tcp 10.0.0.7:443: connection refused"), http.StatusBadGateway, "could not be reached"},
		{errors.New("open inbound client secret: cipher: message authentication failed"), http.StatusInternalServerError, "Something went wrong"},
	} {
		status, msg := failure(context.Background(), log, "test page", tc.err)
		if status != tc.status || !strings.Contains(msg, tc.msg) || strings.Contains(msg, "10.0.0.7") || strings.Contains(msg, "cipher") {
			t.Errorf("failure(%v) = %d %q, want %d and %q", tc.err, status, msg, tc.status, tc.msg)
		}
	}
}
