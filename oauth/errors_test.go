package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/oauth"
)

// retrieveError is a token endpoint answer as x/oauth2 reports it.
func retrieveError(status int, code, retryAfter string) error {
	h := http.Header{}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	re := &oauth2.RetrieveError{Response: &http.Response{StatusCode: status, Header: h}, ErrorCode: code}
	return fmt.Errorf("wrapped: %w", oauth.TokenErrorOf(re))
}

func TestIsTransientAndRetryAfter(t *testing.T) {
	soon := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name      string
		err       error
		transient bool
		after     time.Duration // exact, or -1 for "between 80s and 90s"
	}{
		{"nil", nil, false, 0},
		{"plain", errors.New("boom"), false, 0},
		{"400 invalid_request", retrieveError(400, "invalid_request", ""), false, 0},
		{"401 invalid_client", retrieveError(401, "invalid_client", ""), false, 0},
		{"429 seconds", retrieveError(429, "", "12"), true, 12 * time.Second},
		{"503 date", retrieveError(503, "", soon), true, -1},
		{"503 past date", retrieveError(503, "", "Mon, 02 Jan 2006 15:04:05 GMT"), true, 0},
		{"503 garbage", retrieveError(503, "", "soon"), true, 0},
		{"503 negative", retrieveError(503, "", "-5"), true, 0},
		{"503 huge", retrieveError(503, "", "99999999999999999"), true, 24 * time.Hour},
		{"500", retrieveError(500, "", "3"), true, 0},
		{"200 temporarily_unavailable", retrieveError(200, "temporarily_unavailable", ""), true, 0},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true, 0},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), false, 0},
	}
	for _, tt := range tests {
		if got := oauth.IsTransient(tt.err); got != tt.transient {
			t.Errorf("%s: IsTransient = %v, want %v", tt.name, got, tt.transient)
		}
		got := oauth.RetryAfter(tt.err)
		if tt.after >= 0 && got != tt.after || tt.after < 0 && (got < 80*time.Second || got > 90*time.Second) {
			t.Errorf("%s: RetryAfter = %v, want %v", tt.name, got, tt.after)
		}
	}
}

// rawClient is a Client for a token endpoint at url.
func rawClient(url string, hc *http.Client) *oauth.Client {
	p := &behalf.OAuth2Provider{ClientID: "c", ClientAuthMethod: behalf.ClientSecretBasic,
		Metadata: behalf.AuthServerMetadata{TokenEndpoint: url}}
	return &oauth.Client{Provider: p, ClientSecret: "s", HTTP: hc}
}

func TestIsTransientNetwork(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err := rawClient(closed.URL+"/token", privateClient()).Refresh(context.Background(), "r", nil)
	if err == nil || !oauth.IsTransient(err) {
		t.Errorf("connection refused: err = %v, want transient", err)
	}

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm() // the server notices the client hang up only once the body is read
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	hc := safehttp.NewClient(safehttp.Options{AllowPrivate: true, Timeout: 100 * time.Millisecond})
	_, err = rawClient(slow.URL+"/token", hc).Refresh(context.Background(), "r", nil)
	if err == nil || !oauth.IsTransient(err) {
		t.Errorf("timeout: err = %v, want transient", err)
	}

	strict := safehttp.NewClient(safehttp.Options{})
	_, err = rawClient(slow.URL+"/token", strict).Refresh(context.Background(), "r", nil)
	if err == nil || oauth.IsTransient(err) {
		t.Errorf("refused private endpoint: err = %v, want not transient", err)
	}
}
