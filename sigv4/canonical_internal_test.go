package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/behalf-dev/behalf"
)

// sdkSignature is the oracle: the official signer's signature of a copy of
// r carrying only the headers auth signs (Behalf's verifier before issue
// 12), and the headers it says it signed.
func sdkSignature(t testing.TB, r *http.Request, auth authHeader, secret, payloadHash string, signingTime time.Time) (sig string, signed []string, err error) {
	req := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Opaque: "//host" + requestPath(r), RawQuery: r.URL.RawQuery},
		Host:   r.Host,
		Header: make(http.Header, len(auth.SignedHeaders)),
	}
	for _, name := range auth.SignedHeaders {
		switch name {
		case "host":
		case "content-length":
			n, err := contentLength(r)
			if err != nil {
				return "", nil, err
			}
			req.ContentLength = n
		default:
			values, ok := r.Header[textproto.CanonicalMIMEHeaderKey(name)]
			if !ok {
				return "", nil, forbidden(msgSignatureMismatch)
			}
			req.Header[textproto.CanonicalMIMEHeaderKey(name)] = slices.Clone(values)
		}
	}
	creds := aws.Credentials{AccessKeyID: auth.AccessKeyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, auth.Service, auth.Region, signingTime); err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
	want, err := parseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		t.Fatalf("parse the signer's Authorization: %v", err)
	}
	return want.Signature, want.SignedHeaders, nil
}

// compareWithSDK checks that signature agrees with the official signer on
// r signed as auth says: the same signature, or a mismatch where the
// signer would have signed other headers or a needed header is missing.
func compareWithSDK(t testing.TB, r *http.Request, auth authHeader) {
	t.Helper()
	if r == nil {
		return
	}
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	at, err := time.Parse(amzLayout, r.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	hash := hex.EncodeToString(sha256.New().Sum(nil))
	var keys signingKeys
	got, gotErr := signature(r, auth, behalf.Secret(secret), hash, at, &keys)
	want, signed, wantErr := sdkSignature(t, r, auth, secret, hash, at)
	switch {
	case wantErr != nil:
		if behalf.ErrorCode(gotErr) != behalf.ErrorCode(wantErr) || behalf.ErrorMessage(gotErr) != behalf.ErrorMessage(wantErr) {
			t.Fatalf("%s %q signed %q: got %v, the signer's side refused with %v", r.Method, r.RequestURI, auth.SignedHeaders, gotErr, wantErr)
		}
	case !slices.Equal(signed, auth.SignedHeaders):
		if behalf.ErrorMessage(gotErr) != msgSignatureMismatch {
			t.Fatalf("%s %q: the signer signs %q, not %q; got %s %v, want a mismatch", r.Method, r.RequestURI, signed, auth.SignedHeaders, got, gotErr)
		}
	case gotErr != nil || string(got[:]) != want:
		t.Fatalf("%s %q signed %q (headers %q): signature %s %v, the signer's %s", r.Method, r.RequestURI, auth.SignedHeaders, r.Header, got, gotErr, want)
	}
}

// request builds a server-side request as net/http hands it to a handler,
// or nil for a target net/http refuses (400) before any handler.
func request(method, target, host string, header http.Header) *http.Request {
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil
	}
	return &http.Request{Method: method, URL: u, RequestURI: target, Host: host, Header: header}
}

// Ensure the canonical request is built as the official signer builds it,
// on requests chosen for the corner cases: escaped and odd paths, queries
// with repeated, unsorted, escaped and unparsable pairs, header values with
// runs of spaces, tabs, repeats and empty values, content-length, and
// headers the signer never signs (issue 12).
func TestSignatureMatchesSDK(t *testing.T) {
	date := "20260101T120000Z"
	base := func() http.Header {
		return http.Header{"X-Amz-Date": {date}, "Content-Type": {"application/json"}, "Content-Length": {"741"}}
	}
	request := func(method, target, host string, header http.Header) *http.Request {
		r := request(method, target, host, header)
		if r == nil {
			t.Fatalf("target %q does not parse", target)
		}
		return r
	}
	auth := func(headers ...string) authHeader {
		slices.Sort(headers)
		return authHeader{AccessKeyID: "AKID", Date: "20260101", Region: "us-east-1", Service: "bedrock-agentcore", SignedHeaders: headers}
	}
	std := []string{"content-length", "content-type", "host", "x-amz-date"}
	targets := []string{
		"/", "/identities/oauth2/token", "/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A1%3Aruntime%2Fa-b/invocations",
		"/a%20b/c+d/%7Etilde/~/é", "//double//slash/", "/dot/./and/../", "/?", "/x?a=1&b=2", "/x?b=2&a=1&a=0",
		"/x?a=%20b+c&%E2%9C%93=x", "/x?q=a;b&r=1", "/x?bad=%zz&good=1", "/x?k", "/x?=v", "/x?a=1&&b=", "/x?a=b=c",
		"/x?%2B=%2b&+=+",
	}
	for _, target := range targets {
		for _, method := range []string{"POST", "GET", "PUT"} {
			compareWithSDK(t, request(method, target, "127.0.0.1:8600", base()), auth(std...))
		}
	}
	for _, host := range []string{"127.0.0.1:8600", "example.com", "example.com:443", "example.com:80", "[::1]:8600", " spaced  host "} {
		compareWithSDK(t, request("POST", "/", host, base()), auth(std...))
	}
	values := [][]string{
		{"a"}, {""}, {"  a  "}, {"a  b   c"}, {"\ta b\t"}, {"a", "b"}, {"a ,b", " c "}, {"x\t\ty"}, {"  "}, {"é  ü"},
	}
	for _, v := range values {
		h := base()
		h["X-Custom"] = v
		compareWithSDK(t, request("POST", "/", "h", h), auth(append(slices.Clone(std), "x-custom")...))
	}
	for _, name := range []string{"user-agent", "authorization", "x-amzn-trace-id", "expect", "transfer-encoding", "x-amz-security-token", "x-amz-target", "x_under"} {
		h := base()
		h[textproto.CanonicalMIMEHeaderKey(name)] = []string{"v"}
		compareWithSDK(t, request("POST", "/", "h", h), auth(append(slices.Clone(std), name)...))
	}
	// Missing and odd content lengths, a signed header that is absent.
	for _, cl := range []string{"", "0", "-1", "abc", "0741"} {
		h := base()
		if cl == "" {
			delete(h, "Content-Length")
		} else {
			h["Content-Length"] = []string{cl}
		}
		compareWithSDK(t, request("POST", "/", "h", h), auth(std...))
	}
	compareWithSDK(t, request("POST", "/", "h", base()), auth(append(slices.Clone(std), "x-absent")...))
	compareWithSDK(t, request("POST", "/", "h", base()), auth("host", "x-amz-date"))
}

// Ensure random requests canonicalise as the official signer does.
func TestSignatureMatchesSDKRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	alphabet := []string{"a", "Z", "0", "-", "_", ".", "~", " ", "  ", "%", "%2F", "%3a", "/", "+", "=", "&", ";", "é", "\t", ",", "*", "'", "!"}
	str := func(n int) string {
		var b strings.Builder
		for range rng.IntN(n) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := range n {
		path := "/" + strings.NewReplacer(" ", "%20", "\t", "%09", "?", "", "#", "").Replace(str(12))
		target := path
		if rng.IntN(2) == 0 {
			target += "?" + strings.NewReplacer(" ", "+", "\t", "").Replace(str(16))
		}
		h := http.Header{"X-Amz-Date": {"20260101T120000Z"}}
		signed := []string{"host", "x-amz-date"}
		for j := range rng.IntN(4) {
			name := fmt.Sprintf("x-h%d", j)
			for range 1 + rng.IntN(2) {
				h.Add(name, strings.ReplaceAll(str(10), "\t", " "))
			}
			signed = append(signed, name)
		}
		if rng.IntN(2) == 0 {
			h.Set("Content-Length", fmt.Sprint(rng.IntN(3)))
			signed = append(signed, "content-length")
		}
		slices.Sort(signed)
		r := request([]string{"GET", "POST"}[rng.IntN(2)], target, "h:"+fmt.Sprint(i), h)
		compareWithSDK(t, r, authHeader{AccessKeyID: "AKID", Date: "20260101", Region: "eu-west-1", Service: "cognito-idp", SignedHeaders: signed})
	}
}

// FuzzSignatureMatchesSDK compares the canonicalisation with the official
// signer's on any path, query and header value.
func FuzzSignatureMatchesSDK(f *testing.F) {
	f.Add("/runtimes/arn%3Aaws/invocations", "qualifier=DEFAULT", "application/json", "  a  b ")
	f.Add("/", "a=1&a=0&b=%20", "", "x,y")
	f.Fuzz(func(t *testing.T, path, query, v1, v2 string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?# \r\n\t\x00") || strings.ContainsAny(query, "# \r\n\t\x00") {
			t.Skip()
		}
		for _, v := range []string{v1, v2} {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Skip()
			}
		}
		target := path
		if query != "" {
			target += "?" + query
		}
		h := http.Header{"X-Amz-Date": {"20260101T120000Z"}, "X-One": {v1}, "X-Two": {v1, v2}}
		compareWithSDK(t, request("POST", target, "h", h), authHeader{AccessKeyID: "AKID", Date: "20260101", Region: "us-east-1",
			Service: "bedrock-agentcore", SignedHeaders: []string{"host", "x-amz-date", "x-one", "x-two"}})
	})
}

// Ensure a signing key is derived once per secret and scope, and that
// another secret for the same scope (a rotated key) gets its own.
func TestSigningKeys(t *testing.T) {
	var keys signingKeys
	a := authHeader{AccessKeyID: "AKID", Date: "20260101", Region: "us-east-1", Service: "bedrock-agentcore"}
	k1 := keys.key("secret-1", a)
	if want := deriveKey("secret-1", a.Date, a.Region, a.Service); string(k1) != string(want) {
		t.Fatal("cached key differs from the derived one")
	}
	if k := keys.key("secret-1", a); &k[0] != &k1[0] {
		t.Error("the key was derived again")
	}
	if k := keys.key("secret-2", a); string(k) == string(k1) {
		t.Error("another secret got the first secret's key")
	}
	b := a
	b.Date = "20260102"
	if k := keys.key("secret-1", b); string(k) == string(k1) {
		t.Error("another day got the first day's key")
	}
	// The AWS documentation's example key (SigV4 "derive a signing key").
	if got := hex.EncodeToString(deriveKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam")); got != "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9" {
		t.Errorf("derived key %s", got)
	}
}
