package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
)

// storeDown is an error as sqlstore returns it when PostgreSQL has gone
// away: behalf.ErrStoreUnavailable with the driver's text in its chain.
func storeDown() error {
	cause := errors.New("FATAL: terminating connection due to administrator command (SQLSTATE 57P01) host=db.internal user=behalf")
	return fmt.Errorf("select grant %q: %w", "g-1", fmt.Errorf("%w: %w", behalf.ErrStoreUnavailable, cause))
}

// Ensure an unavailable database answers each API's service-side error
// with Retry-After and without the driver's text (issue 11, reliability 5:
// "Database unavailable answers 500"): 503 ServiceUnavailableException on
// the AgentCore APIs; on the Cognito API its documented service-side
// error, InternalErrorException; the cause is logged as a warning, not as
// an internal error.
func TestDatabaseUnavailableWire(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	rec := httptest.NewRecorder()
	writeError(rec, httptest.NewRequest("POST", "/identities/oauth2/token", nil), log, storeDown())
	var body map[string]any
	json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("X-Amzn-ErrorType") != "ServiceUnavailableException" ||
		body["__type"] != "ServiceUnavailableException" || body["message"] != behalf.ErrStoreUnavailable.Message {
		t.Fatalf("AgentCore: %d %s %s", rec.Code, rec.Header().Get("X-Amzn-ErrorType"), rec.Body)
	}
	if rec.Header().Get("Retry-After") != "2" || body["retryAfterSeconds"] != float64(2) {
		t.Fatalf("AgentCore: Retry-After %q, retryAfterSeconds %v", rec.Header().Get("Retry-After"), body["retryAfterSeconds"])
	}

	s := &Server{UserPools: &stubPools{err: storeDown()}, Log: log}
	resp, cbody := cognitoCall(t, s, "GetUser", `{"AccessToken":"x"}`)
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("X-Amzn-ErrorType") != "InternalErrorException" ||
		cbody["__type"] != "InternalErrorException" || cbody["message"] != behalf.ErrStoreUnavailable.Message {
		t.Fatalf("Cognito: %d %s %v", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), cbody)
	}
	if resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("Cognito: Retry-After %q", resp.Header.Get("Retry-After"))
	}

	for _, b := range []string{rec.Body.String(), fmt.Sprint(cbody)} {
		if strings.Contains(b, "57P01") || strings.Contains(b, "db.internal") || strings.Contains(b, "FATAL") {
			t.Fatalf("the driver's text reached the caller: %s", b)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") || strings.Count(logs.String(), "level=WARN") != 2 || strings.Count(logs.String(), "57P01") != 2 {
		t.Fatalf("log:\n%s", logs.String())
	}
}
