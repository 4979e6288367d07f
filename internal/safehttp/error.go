package safehttp

import "fmt"

// AllowFlag is the command-line flag that lifts the private-address ban;
// refusals name it so operators know how to allow a private endpoint.
const AllowFlag = "--allow-private-endpoints"

// Error is a refused or failed outbound request. Error returns a plain
// message safe to show API callers (no Go or network internals); Unwrap
// returns the underlying cause, if any, for logs.
type Error struct {
	Msg string // plain words, lower case, no trailing period
	Err error  // underlying cause; may be nil
}

// Error returns the plain message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// refusef returns an *Error without an underlying cause.
func refusef(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// failf returns an *Error wrapping cause.
func failf(cause error, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Err: cause}
}

// notPublic is the refusal for a host or address that is not public.
func notPublic(what, kind string) *Error {
	return refusef("%s is %s; start behalf with %s to allow it", what, kind, AllowFlag)
}
