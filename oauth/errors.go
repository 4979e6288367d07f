package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf/internal/safehttp"
)

// ErrInvalidGrant is in the chain of a token request error when the
// provider refused the authorization code or refresh token (OAuth error
// invalid_grant, or a vendor's equivalent: see invalidGrantCodes). The
// grant is dead: the user must consent again. The *oauth2.RetrieveError
// stays in the chain too.
var ErrInvalidGrant = errors.New("the authorization server refused the grant (invalid_grant)")

// invalidGrantCodes are the error codes meaning invalid_grant: the
// standard one, GitHub's (bad_verification_code on exchange,
// bad_refresh_token on refresh) and Slack's.
var invalidGrantCodes = []string{
	"invalid_grant",
	"bad_verification_code", "bad_refresh_token",
	"invalid_code", "invalid_refresh_token",
}

// transientCodes are OAuth error codes that say "try again later".
var transientCodes = []string{"temporarily_unavailable", "server_error"}

// maxRetryAfter caps RetryAfter.
const maxRetryAfter = 24 * time.Hour

// tokenError wraps a token request error for op, adding ErrInvalidGrant
// to the chain when the provider said so.
func tokenError(op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && slices.Contains(invalidGrantCodes, re.ErrorCode) {
		return fmt.Errorf("oauth: %s: %w: %w", op, ErrInvalidGrant, err)
	}
	return fmt.Errorf("oauth: %s: %w", op, err)
}

// IsTransient reports whether a token request error is worth retrying
// later while keeping the grant: a timeout, a connection failure, or an
// answer with status 429 or 5xx or error temporarily_unavailable or
// server_error. ErrInvalidGrant, other OAuth errors, requests the safe
// HTTP client refused, and cancellation are not transient.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, ErrInvalidGrant) || errors.Is(err, context.Canceled) {
		return false
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return transientAnswer(re)
	}
	var se *safehttp.Error
	if errors.As(err, &se) {
		return false // refused by policy (private address, redirect ...): retrying won't help
	}
	return networkFailure(err)
}

// transientAnswer reports whether the token endpoint's error answer is
// transient.
func transientAnswer(re *oauth2.RetrieveError) bool {
	if slices.Contains(transientCodes, re.ErrorCode) {
		return true
	}
	if re.Response == nil {
		return false
	}
	code := re.Response.StatusCode
	return code == http.StatusTooManyRequests || code >= 500
}

// networkFailure reports whether err is a timeout or a failure to
// connect, send or read.
func networkFailure(err error) bool {
	var (
		ne net.Error
		oe *net.OpError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return true
	case errors.As(err, &oe), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	}
	// x/oauth2 formats failures to read the answer with %v, losing the
	// cause (a RetrieveError, which says the same, was handled above).
	return strings.Contains(err.Error(), "oauth2: cannot fetch token: ")
}

// RetryAfter returns how long the provider asked to wait, from the
// Retry-After header (seconds or HTTP date) of a 429 or 503 answer in
// err's chain; 0 if there is none. It is capped at 24 hours.
func RetryAfter(err error) time.Duration {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return 0
	}
	if s := re.Response.StatusCode; s != http.StatusTooManyRequests && s != http.StatusServiceUnavailable {
		return 0
	}
	return parseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
}

// parseRetryAfter parses a Retry-After value relative to now.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(n, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
