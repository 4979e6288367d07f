package signer

import (
	"errors"
	"fmt"

	"github.com/behalf-dev/behalf"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Messages of Verify's errors; safe to show callers.
const (
	msgMalformed = "The token is not a valid JWT."
	msgSignature = "The token's signature is invalid."
	msgExpired   = "The token has expired."
	msgNotYet    = "The token is not valid yet."
	msgNoExpiry  = "The token has no expiry."
)

// maxTokenBytes caps the size of a token Verify parses.
const maxTokenBytes = 64 << 10

// header is what Verify reads from a token's protected header before the
// signature is checked: only enough to pick the key.
type header struct {
	alg string
	kid string
}

// parseCompact parses a compact JWS without verifying it and returns the
// message and its protected alg and kid. Nothing it returns is trusted
// until the signature verifies.
func parseCompact(token string) (*jws.Message, header, error) {
	if len(token) > maxTokenBytes {
		return nil, header{}, fmt.Errorf("token larger than %d bytes", maxTokenBytes)
	}
	msg, err := jws.ParseString(token, jws.WithCompact())
	if err != nil {
		return nil, header{}, err
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 || sigs[0].ProtectedHeaders() == nil {
		return nil, header{}, errors.New("token must have exactly one signature")
	}
	h := sigs[0].ProtectedHeaders()
	alg, ok := h.Algorithm()
	if !ok {
		return nil, header{}, errors.New("token header has no alg")
	}
	kid, _ := h.KeyID()
	return msg, header{alg: alg.String(), kid: kid}, nil
}

// parseError maps an error of jwt.Parse to a caller-safe error.
func parseError(err error) error {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return unauthorized(msgExpired, err)
	case errors.Is(err, jwt.TokenNotYetValidError()), errors.Is(err, jwt.InvalidIssuedAtError()):
		return unauthorized(msgNotYet, err)
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return unauthorized(msgNoExpiry, err)
	case errors.Is(err, jws.VerificationError()), errors.Is(err, jws.VerifyError()):
		return unauthorized(msgSignature, err)
	}
	return unauthorized(msgMalformed, err)
}

// unauthorized returns a behalf.EUNAUTHORIZED error with msg, wrapping
// cause (if any) for logs.
func unauthorized(msg string, cause error) error {
	e := &behalf.Error{Code: behalf.EUNAUTHORIZED, Message: msg}
	if cause == nil {
		return e
	}
	return fmt.Errorf("%w: %w", e, cause)
}
