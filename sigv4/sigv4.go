package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// DefaultMaxSkew is the clock skew a Verifier tolerates when MaxSkew is zero.
const DefaultMaxSkew = 5 * time.Minute

// Caller-facing messages, worded like AWS's.
const (
	msgMissingToken      = "Missing Authentication Token"
	msgInvalidToken      = "The security token included in the request is invalid."
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgUnsignedPayload = "UNSIGNED-PAYLOAD and streaming payloads are not supported; sign the SHA-256 of the body."
	msgPayloadMismatch = "The provided 'x-amz-content-sha256' header does not match what was computed."
)

// Verifier verifies SigV4-signed requests. Its fields are read-only once it
// is in use; a Verifier is safe for concurrent use.
type Verifier struct {
	// Lookup returns the secret and principal name of an access key id; it
	// returns an error with code behalf.ENOTFOUND for an unknown key.
	Lookup func(ctx context.Context, accessKeyID string) (behalf.Secret, string, error)
	// Services lists the accepted signing names, e.g. {"bedrock-agentcore"}.
	// Any region is accepted.
	Services []string
	// Now returns the server time; nil means time.Now.
	Now func() time.Time
	// MaxSkew is the tolerated difference between the request's X-Amz-Date
	// and Now; zero means DefaultMaxSkew.
	MaxSkew time.Duration

	keys signingKeys // derived signing keys (canonical.go)
}

// Verify checks r's signature over body (the full request body, already
// read) and returns the caller. Rejections are *behalf.Error with code
// behalf.EFORBIDDEN; a failing Lookup is returned wrapped. r is not modified.
func (v *Verifier) Verify(r *http.Request, body []byte) (behalf.Principal, error) {
	if v.Lookup == nil {
		return behalf.Principal{}, errors.New("sigv4: Verifier.Lookup is nil")
	}
	auth, err := authorization(r)
	if err != nil {
		return behalf.Principal{}, err
	}
	signingTime, err := v.checkScope(r, auth)
	if err != nil {
		return behalf.Principal{}, err
	}
	hash, err := payloadHash(r, body)
	if err != nil {
		return behalf.Principal{}, err
	}
	secret, name, err := v.lookup(r.Context(), auth.AccessKeyID)
	if err != nil {
		return behalf.Principal{}, err
	}
	if err := checkSignature(r, auth, secret, hash, signingTime, &v.keys); err != nil {
		return behalf.Principal{}, err
	}
	return behalf.Principal{AccessKeyID: auth.AccessKeyID, Name: name}, nil
}

// authorization parses r's single Authorization header.
func authorization(r *http.Request) (authHeader, error) {
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0 || values[0] == "":
		return authHeader{}, forbidden(msgMissingToken)
	case len(values) > 1:
		return authHeader{}, malformed("Only one Authorization header is allowed.")
	}
	return parseAuthorization(values[0])
}

// checkScope checks the credential scope's service and date against r and
// the clock, and returns the signing time from X-Amz-Date.
func (v *Verifier) checkScope(r *http.Request, auth authHeader) (time.Time, error) {
	if !slices.Contains(v.Services, auth.Service) {
		return time.Time{}, wrongService(v.Services)
	}
	signingTime, err := amzDate(r)
	if err != nil {
		return time.Time{}, err
	}
	var buf [len(shortLayout)]byte
	if day := signingTime.AppendFormat(buf[:0], shortLayout); string(day) != auth.Date {
		return time.Time{}, forbidden("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			auth.Date, day, signingTime.Format(amzLayout))
	}
	return signingTime, v.checkSkew(signingTime)
}

// wrongService returns the rejection of a credential scoped to another service.
func wrongService(services []string) error {
	if len(services) == 0 {
		return forbidden("Credential should be scoped to correct service.")
	}
	return forbidden("Credential should be scoped to correct service: '%s'.", strings.Join(services, "' or '"))
}

// amzDate parses r's single X-Amz-Date header strictly.
func amzDate(r *http.Request) (time.Time, error) {
	values := r.Header.Values("X-Amz-Date")
	if len(values) != 1 {
		return time.Time{}, malformed("Authorization header requires existence of exactly one 'X-Amz-Date' header.")
	}
	t, err := time.Parse(amzLayout, values[0])
	var buf [len(amzLayout)]byte
	if err != nil || string(t.AppendFormat(buf[:0], amzLayout)) != values[0] {
		return time.Time{}, malformed("X-Amz-Date must be in the ISO-8601 basic format YYYYMMDD'T'HHMMSS'Z'.")
	}
	return t, nil
}

// checkSkew rejects a signing time more than MaxSkew away from Now.
func (v *Verifier) checkSkew(t time.Time) error {
	now, skew := v.now().UTC(), v.maxSkew()
	switch {
	case t.Before(now.Add(-skew)):
		return forbidden("Signature expired: %s is now earlier than %s (%s - %s.)",
			t.Format(amzLayout), now.Add(-skew).Format(amzLayout), now.Format(amzLayout), minutes(skew))
	case t.After(now.Add(skew)):
		return forbidden("Signature not yet current: %s is still later than %s (%s + %s.)",
			t.Format(amzLayout), now.Add(skew).Format(amzLayout), now.Format(amzLayout), minutes(skew))
	}
	return nil
}

// payloadHash returns the hex SHA-256 of body, checked against an
// X-Amz-Content-Sha256 header if the client sent one.
func payloadHash(r *http.Request, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	values := r.Header.Values("X-Amz-Content-Sha256")
	switch {
	case len(values) == 0:
		return hash, nil
	case len(values) > 1:
		return "", malformed("Only one 'x-amz-content-sha256' header is allowed.")
	case values[0] == "UNSIGNED-PAYLOAD" || strings.HasPrefix(values[0], "STREAMING-"):
		return "", forbidden(msgUnsignedPayload)
	case values[0] != hash:
		return "", forbidden(msgPayloadMismatch)
	}
	return hash, nil
}

// lookup resolves an access key id, mapping ENOTFOUND to an invalid token.
func (v *Verifier) lookup(ctx context.Context, id string) (behalf.Secret, string, error) {
	secret, name, err := v.Lookup(ctx, id)
	switch {
	case behalf.ErrorCode(err) == behalf.ENOTFOUND:
		return "", "", forbidden(msgInvalidToken)
	case err != nil:
		return "", "", fmt.Errorf("sigv4: look up access key: %w", err)
	case secret.IsZero():
		return "", "", errors.New("sigv4: look up access key: empty secret")
	}
	return secret, name, nil
}

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew <= 0 {
		return DefaultMaxSkew
	}
	return v.MaxSkew
}

// minutes formats a skew the way AWS does ("5 min"), falling back to Go's
// duration format for fractions of a minute.
func minutes(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return d.String()
}

// forbidden returns an EFORBIDDEN *behalf.Error.
func forbidden(format string, args ...any) error {
	return behalf.Errorf(behalf.EFORBIDDEN, format, args...)
}

// malformed returns an EFORBIDDEN *behalf.Error for a malformed signature.
func malformed(msg string) error {
	return &behalf.Error{Code: behalf.EFORBIDDEN, Message: msg}
}
