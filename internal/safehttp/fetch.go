package safehttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// DefaultMaxBytes is the response size limit GetJSON uses when given none.
const DefaultMaxBytes = 1 << 20

// GetJSON fetches rawURL with c and decodes the JSON response body into v.
// It checks rawURL with the client's rule (see CheckURL) first, fails on a
// non-2xx status, and reads at most maxBytes of body (DefaultMaxBytes if
// maxBytes <= 0), failing if the body is larger. The Content-Type is not
// checked. c should come from NewClient; a nil c means NewClient(Options{}),
// and other clients get the static URL checks only. Errors are *Error.
func GetJSON(ctx context.Context, c *http.Client, rawURL string, maxBytes int64, v any) error {
	if c == nil {
		c = NewClient(Options{})
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	u, err := policyOf(c).checkRaw(rawURL)
	if err != nil {
		return err
	}
	body, err := get(ctx, c, u, maxBytes)
	if err != nil {
		return err
	}
	return decode(body, v)
}

// get sends the request and returns the body of a 2xx response.
func get(ctx context.Context, c *http.Client, u *url.URL, maxBytes int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, failf(err, "URL is not valid")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, describe(ctx, c.Timeout, u.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, refusef("server answered %d", resp.StatusCode)
	}
	if resp.ContentLength > maxBytes {
		return nil, refusef("response larger than %s", size(maxBytes))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, describe(ctx, c.Timeout, u.Host, err)
	}
	if int64(len(body)) > maxBytes {
		return nil, refusef("response larger than %s", size(maxBytes))
	}
	return body, nil
}

// decode unmarshals a JSON body into v.
func decode(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return failf(err, "response field %s has the wrong type (JSON %s)", te.Field, te.Value)
		}
		return failf(err, "response is a JSON %s, not the expected object", te.Value)
	}
	return failf(err, "response is not valid JSON")
}

// describe turns a request error into an *Error with a plain message,
// keeping err as the cause.
func describe(ctx context.Context, timeout time.Duration, host string, err error) *Error {
	var se *Error
	if errors.As(err, &se) {
		return &Error{Msg: se.Msg, Err: err}
	}
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return failf(err, "request canceled")
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return failf(err, "timed out")
	case isTimeout(err):
		return failf(err, "timed out after %s", timeout)
	}
	return failf(err, "%s", connectFailure(host, err))
}

// isTimeout reports whether err is a timeout.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &te) && te.Timeout())
}

// connectFailure names common network and TLS failures in plain words.
func connectFailure(host string, err error) string {
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		hostErr x509.HostnameError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("host %s not found", dnsErr.Name)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("could not look up host %s", dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection to %s refused", host)
	case errors.As(err, &certErr), errors.As(err, &hostErr):
		return fmt.Sprintf("TLS certificate of %s is not valid", host)
	case errors.As(err, &recErr):
		return fmt.Sprintf("%s did not answer with TLS", host)
	}
	return fmt.Sprintf("request to %s failed", host)
}

// size formats a byte count as "512 KiB", "1 MiB" or "1000 bytes".
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
