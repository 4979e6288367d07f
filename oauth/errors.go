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
// grant is dead: the user must consent again. The error is a *TokenError.
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

// Limits on what a provider's error answer contributes to an error text.
const (
	maxErrorCode   = 64
	maxDescription = 200
)

// TokenError is a token endpoint's error answer (RFC 6749 section 5.2),
// in words safe to log and to show: the provider's raw body is never
// kept, and its error code and description pass through redact, which
// removes every secret the request carried (client secret, code, PKCE
// verifier, refresh token) and caps their length. A provider that echoes
// its request (some do, in error_description or an HTML page) cannot put
// a secret into Behalf's logs this way.
type TokenError struct {
	Op          string // the request: "exchange authorization code", "refresh token", "client credentials"
	StatusCode  int    // the HTTP status of the answer (200 for an error in a 200 answer)
	Code        string // the OAuth error code, redacted; may be empty
	Description string // error_description, redacted and capped; may be empty
	// RetryAfter is the provider's Retry-After of a 429 or 503, capped
	// at 24 hours; zero if none.
	RetryAfter time.Duration
	grant      bool // the code meant invalid_grant
}

// Error says what the provider answered.
func (e *TokenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "oauth: %s: HTTP %d", e.Op, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	return b.String()
}

// Is reports whether the provider refused the grant (ErrInvalidGrant).
func (e *TokenError) Is(target error) bool {
	return target == ErrInvalidGrant && e.grant
}

// transient reports whether the answer says "try again later": status
// 429 or 5xx, or error temporarily_unavailable or server_error.
func (e *TokenError) transient() bool {
	return slices.Contains(transientCodes, e.Code) || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// tokenError turns a token request error for op into a *TokenError when
// the provider answered (x/oauth2's RetrieveError, which holds the raw
// body, is dropped), and otherwise wraps err (network failures, which
// carry nothing of the provider's answer). secrets are what the request
// carried.
func tokenError(op string, err error, secrets redactor) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("oauth: %s: %w", op, err)
	}
	e := &TokenError{
		Op:          op,
		Code:        secrets.code(re.ErrorCode),
		Description: secrets.text(re.ErrorDescription, maxDescription),
		grant:       slices.Contains(invalidGrantCodes, re.ErrorCode),
	}
	if re.Response != nil {
		e.StatusCode = re.Response.StatusCode
		e.RetryAfter = retryAfter(e.StatusCode, re.Response.Header)
	}
	return e
}

// TokenRequestError is what Exchange, Refresh and ClientCredentials do to
// their errors, for token requests made with x/oauth2 directly (a relying
// party's code exchange): an error answer of the provider becomes a
// *TokenError for op, redacted of the request's secrets (the client
// secret first, then the code, PKCE verifier or refresh token); other
// errors are wrapped. It returns nil for a nil err.
func TokenRequestError(op string, err error, clientID string, secrets ...string) error {
	if err == nil {
		return nil
	}
	return tokenError(op, err, newRedactor(clientID, secrets...))
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
	var te *TokenError
	if errors.As(err, &te) {
		return te.transient()
	}
	var se *safehttp.Error
	if errors.As(err, &se) {
		return false // refused by policy (private address, redirect ...): retrying won't help
	}
	return networkFailure(err)
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
// err's chain (a *TokenError); 0 if there is none. It is capped at 24
// hours.
func RetryAfter(err error) time.Duration {
	var te *TokenError
	if !errors.As(err, &te) {
		return 0
	}
	return te.RetryAfter
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
