package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/ttlcache"
)

// checkSignature recomputes r's signature with the secret and compares it
// with the signature r carries, in constant time. The canonical request is
// built exactly as the official signer (github.com/aws/aws-sdk-go-v2/aws/
// signer/v4) builds it for the signed headers alone (the tests compare the
// two on many requests); the signing key comes from keys.
func checkSignature(r *http.Request, auth authHeader, secret behalf.Secret, payloadHash string, signingTime time.Time, keys *signingKeys) error {
	got, err := signature(r, auth, secret, payloadHash, signingTime, keys)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got[:], []byte(auth.Signature)) != 1 {
		return forbidden(msgSignatureMismatch)
	}
	return nil
}

// signature computes r's signature (lower-case hex), or refuses r as a
// mismatch when the official signer could not have signed what auth says
// it signed.
func signature(r *http.Request, auth authHeader, secret behalf.Secret, payloadHash string, signingTime time.Time, keys *signingKeys) ([2 * sha256.Size]byte, error) {
	var got [2 * sha256.Size]byte
	canonical, err := canonicalRequest(r, auth, payloadHash, signingTime)
	if err != nil {
		return got, err
	}
	sum := sha256.Sum256(canonical)
	var toSign []byte
	toSign = append(toSign, algorithm+"\n"...)
	toSign = signingTime.AppendFormat(toSign, amzLayout)
	toSign = append(toSign, '\n')
	toSign = append(toSign, auth.Date...)
	toSign = append(toSign, '/')
	toSign = append(toSign, auth.Region...)
	toSign = append(toSign, '/')
	toSign = append(toSign, auth.Service...)
	toSign = append(toSign, "/"+terminator+"\n"...)
	toSign = hex.AppendEncode(toSign, sum[:])

	mac := hmac.New(sha256.New, keys.key(secret, auth))
	mac.Write(toSign)
	hex.Encode(got[:], mac.Sum(nil))
	return got, nil
}

// ignoredHeaders are the headers the official signer never signs: a
// request whose SignedHeaders names one cannot match what it computes.
var ignoredHeaders = []string{"authorization", "expect", "transfer-encoding", "user-agent", "x-amzn-trace-id"}

// canonicalRequest returns SigV4's canonical request for r:
//
//	method \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload hash
//
// as the official signer computes it over a copy of r that carries only
// the headers auth signs (and X-Amz-Date set from signingTime).
func canonicalRequest(r *http.Request, auth authHeader, payloadHash string, signingTime time.Time) ([]byte, error) {
	b := make([]byte, 0, 512)
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = appendEscapedPath(b, uriPath(requestPath(r)))
	b = append(b, '\n')
	b = appendCanonicalQuery(b, r.URL.RawQuery)
	b = append(b, '\n')
	for _, name := range auth.SignedHeaders {
		if slices.Contains(ignoredHeaders, name) {
			return nil, forbidden(msgSignatureMismatch)
		}
		b = append(b, name...)
		b = append(b, ':')
		switch name {
		case "host":
			// The signer signs the Host as is (it strips a default port
			// only from a URL with a scheme, and the copy has none).
			b = append(b, stripExcessSpaces(r.Host)...)
		case "content-length":
			n, err := contentLength(r)
			if err != nil {
				return nil, err
			}
			b = strconv.AppendInt(b, n, 10)
		case "x-amz-date":
			b = signingTime.AppendFormat(b, amzLayout)
		default:
			values, ok := r.Header[textproto.CanonicalMIMEHeaderKey(name)]
			if !ok {
				return nil, forbidden(msgSignatureMismatch)
			}
			for i, v := range values {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, strings.TrimSpace(stripExcessSpaces(v))...)
			}
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, name := range auth.SignedHeaders {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	b = append(b, '\n')
	b = append(b, payloadHash...)
	return b, nil
}

// uriPath is the signer's URI path of a request whose path, as sent, is
// path: what follows the first "/" of "host"+path, or "/".
func uriPath(path string) string {
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[i:]
	}
	return "/"
}

// appendEscapedPath appends path with every byte but the unreserved ones
// and "/" percent-encoded (upper-case hex), as the signer escapes the path
// for every service but S3: an escaped path is escaped again.
func appendEscapedPath(b []byte, path string) []byte {
	const upperHex = "0123456789ABCDEF"
	for i := 0; i < len(path); i++ {
		c := path[i]
		if isUnreserved(c) || c == '/' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
	}
	return b
}

func isUnreserved(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

// appendCanonicalQuery appends the signer's canonical form of a raw query:
// the pairs url.ParseQuery keeps, each key and value escaped with
// url.QueryEscape but spaces as %20, sorted by key, then value.
func appendCanonicalQuery(b []byte, rawQuery string) []byte {
	if rawQuery == "" {
		return b
	}
	query, _ := url.ParseQuery(rawQuery) // the signer ignores the pairs it cannot parse
	type pair struct{ key, value string }
	var pairs []pair
	for key, values := range query {
		k := queryEscape(key)
		for _, v := range values {
			pairs = append(pairs, pair{k, queryEscape(v)})
		}
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		if c := strings.Compare(x.key, y.key); c != 0 {
			return c
		}
		return strings.Compare(x.value, y.value)
	})
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.key...)
		b = append(b, '=')
		b = append(b, p.value...)
	}
	return b
}

func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// stripExcessSpaces trims leading and trailing spaces (' ' only) and
// collapses runs of spaces inside s to one, as the signer does to header
// values.
func stripExcessSpaces(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "  ") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
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

// signingKeys caches SigV4 signing keys, HMAC chains of four steps over the
// secret, the scope's date, region and service: each is derived once per
// day and scope, not on every request. An entry is keyed by the SHA-256 of
// the secret too, so a rotated secret never finds the old secret's key.
// The zero value is ready; it is safe for concurrent use.
type signingKeys struct {
	cache ttlcache.Cache[signingScope, []byte]
}

type signingScope struct {
	secret                [sha256.Size]byte
	date, region, service string
}

// signingKeyTTL bounds how long a derived key is kept: a scope's date is
// within a day of the clock (MaxSkew), so keys of past days are not used.
const signingKeyTTL = 48 * time.Hour

// key returns the signing key of secret for auth's scope.
func (k *signingKeys) key(secret behalf.Secret, auth authHeader) []byte {
	scope := signingScope{secret: sha256.Sum256([]byte(secret.Reveal())), date: auth.Date, region: auth.Region, service: auth.Service}
	now := time.Now()
	if key, ok := k.cache.Get(scope, now); ok {
		return key
	}
	key := deriveKey(secret.Reveal(), auth.Date, auth.Region, auth.Service)
	k.cache.Put(scope, key, now.Add(signingKeyTTL))
	return key
}

// deriveKey is SigV4's signing key derivation.
func deriveKey(secret, date, region, service string) []byte {
	step := func(key []byte, data string) []byte {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(data))
		return mac.Sum(nil)
	}
	return step(step(step(step([]byte("AWS4"+secret), date), region), service), terminator)
}
