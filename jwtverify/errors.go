package jwtverify

import (
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
)

// Messages of Verify's errors; safe to show callers. None contains the token.
const (
	MsgMalformed   = "The token is not a valid JWT."
	MsgExpired     = "The token has expired."
	MsgNotYetValid = "The token is not valid yet."
	MsgNoExpiry    = "The token has no expiry."
	MsgNoSubject   = "The token has no subject."
	MsgUntrusted   = "The token's issuer is not trusted."
	MsgSignature   = "The token's signature is invalid."
	MsgAudience    = "The token's audience is not allowed."
	MsgKeysDown    = "The token's issuer keys could not be fetched."
)

// unauthorized returns a behalf.EUNAUTHORIZED error with msg, wrapping
// cause (if any) for logs.
func unauthorized(msg string, cause error) error {
	return wrap(&behalf.Error{Code: behalf.EUNAUTHORIZED, Message: msg}, cause)
}

// unavailable returns a behalf.EUNAVAILABLE error for a key set that could
// not be fetched, asking callers to retry after retry.
func unavailable(cause error, retry time.Duration) error {
	return wrap(&behalf.Error{Code: behalf.EUNAVAILABLE, Message: MsgKeysDown, Retry: retry}, cause)
}

// wrap joins e and cause so that errors.As finds e and logs see cause.
func wrap(e *behalf.Error, cause error) error {
	if cause == nil {
		return e
	}
	return fmt.Errorf("%w: %w", e, cause)
}
