package sigv4

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/behalf-dev/behalf"
)

// checkSignature re-signs a copy of r with the official signer and compares
// the result with the signature r carries, in constant time.
func checkSignature(r *http.Request, auth authHeader, secret behalf.Secret, payloadHash string, signingTime time.Time) error {
	req, err := signedCopy(r, auth)
	if err != nil {
		return err
	}
	creds := aws.Credentials{AccessKeyID: auth.AccessKeyID, SecretAccessKey: secret.Reveal()}
	// A fresh signer per call: the signer caches derived keys by access key
	// id and day, not by secret, so a shared one would keep accepting a
	// rotated secret until midnight.
	err = v4.NewSigner().SignHTTP(r.Context(), creds, req, payloadHash, auth.Service, auth.Region, signingTime)
	if err != nil {
		return fmt.Errorf("sigv4: re-sign request: %w", err)
	}
	want, err := parseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		return fmt.Errorf("sigv4: parse re-signed Authorization header: %w", err)
	}
	if want.credential() != auth.credential() ||
		!slices.Equal(want.SignedHeaders, auth.SignedHeaders) ||
		subtle.ConstantTimeCompare([]byte(want.Signature), []byte(auth.Signature)) != 1 {
		return forbidden(msgSignatureMismatch)
	}
	return nil
}

// signedCopy returns a request with r's method, escaped path, raw query and
// Host, carrying only the headers auth signs, for the signer to sign.
func signedCopy(r *http.Request, auth authHeader) (*http.Request, error) {
	req := &http.Request{
		Method: r.Method,
		// The signer canonicalises Opaque ("//host/path") in preference to
		// URL.EscapedPath, so the path is signed exactly as it arrived; the
		// placeholder host only marks where the path begins.
		URL:    &url.URL{Opaque: "//host" + requestPath(r), RawQuery: r.URL.RawQuery},
		Host:   r.Host,
		Header: make(http.Header, len(auth.SignedHeaders)),
	}
	for _, name := range auth.SignedHeaders {
		switch name {
		case "host": // the signer takes it from req.Host
		case "content-length": // the signer takes it from req.ContentLength
			n, err := contentLength(r)
			if err != nil {
				return nil, err
			}
			req.ContentLength = n
		default:
			values, ok := r.Header[textproto.CanonicalMIMEHeaderKey(name)]
			if !ok {
				return nil, forbidden(msgSignatureMismatch)
			}
			// A copy: the signer rewrites X-Amz-Date in place.
			req.Header[textproto.CanonicalMIMEHeaderKey(name)] = slices.Clone(values)
		}
	}
	return req, nil
}

// requestPath returns r's path as it was sent: from the origin-form request
// target when there is one, else the URL's escaped path.
func requestPath(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		path, _, _ := strings.Cut(r.RequestURI, "?")
		return path
	}
	return r.URL.EscapedPath()
}

// contentLength returns the signed Content-Length of r. The signer signs a
// content-length only when it is positive, so zero cannot match.
func contentLength(r *http.Request) (int64, error) {
	v := r.Header.Get("Content-Length")
	if v == "" {
		if r.ContentLength > 0 {
			return r.ContentLength, nil
		}
		return 0, forbidden(msgSignatureMismatch)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, forbidden(msgSignatureMismatch)
	}
	return n, nil
}
