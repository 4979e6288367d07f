package behalf

import (
	"errors"
	"fmt"
	"time"
)

// Error codes: the one vocabulary every layer uses. Transports map them to
// their wire shapes (see api/error.go); anything without a code is internal.
const (
	EINVALID        = "invalid"         // bad input; Field names it
	ENOTFOUND       = "not_found"       // the named resource does not exist
	ECONFLICT       = "conflict"        // the resource already exists / changed underneath
	EUNAUTHORIZED   = "unauthorized"    // no or bad credentials (401)
	EFORBIDDEN      = "forbidden"       // credentials known but not allowed (403)
	ETOOLARGE       = "too_large"       // request body over the limit
	ETHROTTLED      = "throttled"       // rate limited
	EUNAVAILABLE    = "unavailable"     // a dependency is down; retry later
	EINTERNAL       = "internal"        // a bug or an unexpected failure; never shown
	ENOTIMPLEMENTED = "not_implemented" // a known operation Behalf does not serve
)

// ErrStoreUnavailable is in the chain of every error a store returns
// because its database could not be reached: the connection was refused,
// lost or cut (the database restarting, shutting down or not yet
// accepting connections). It is an EUNAVAILABLE error whose message never
// names the cause: the driver's text (which may name hosts, users and
// SQLSTATEs) stays in the error's own text, for logs. Match it with
// errors.Is.
var ErrStoreUnavailable = &Error{Code: EUNAVAILABLE, Message: "The service is temporarily unavailable; try again shortly.", Retry: StoreRetryAfter}

// StoreRetryAfter is the Retry-After answered with ErrStoreUnavailable.
const StoreRetryAfter = 2 * time.Second

// Error is an application error with a code and a message safe to show to
// the caller. Field names the offending input field for EINVALID.
type Error struct {
	Code    string
	Message string
	Field   string
	// Retry, for EUNAVAILABLE and ETHROTTLED, says when to try again.
	Retry time.Duration
}

// RetryAfter implements RetryAfterError.
func (e *Error) RetryAfter() time.Duration { return e.Retry }

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("behalf error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("behalf error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err: the *Error's message,
// or "Internal error." for anything uncoded, so internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the field an EINVALID error names, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
