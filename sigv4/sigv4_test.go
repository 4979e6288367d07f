package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sigv4"
)

const (
	testKeyID     = "BHLFTESTKEY000000001"
	testSecret    = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYTESTSECRET"
	testPrincipal = "root"
	testService   = "bedrock-agentcore"
	testRegion    = "us-east-1"
	runtimePath   = "/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A123456789012%3Aruntime%2Fmy_agent-AbC/invocations"
)

var (
	testNow  = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	testBody = []byte(`{"name":"my-agent","allowedResourceOauth2ReturnUrls":["https://example.com/cb"]}`)
	// longHex matches anything that could be a signature or a derived key.
	longHex = regexp.MustCompile(`[0-9a-f]{32,}`)
)

// lookup serves the one test key and reports every other id as ENOTFOUND.
func lookup(_ context.Context, id string) (behalf.Secret, string, error) {
	if id != testKeyID {
		return "", "", behalf.Errorf(behalf.ENOTFOUND, "access key %q not found", id)
	}
	return behalf.Secret(testSecret), testPrincipal, nil
}

func newVerifier() *sigv4.Verifier {
	return &sigv4.Verifier{
		Lookup:   lookup,
		Services: []string{testService},
		Now:      func() time.Time { return testNow },
	}
}

// signing describes how a test request is signed.
type signing struct {
	keyID, secret, service, region string
	at                             time.Time
}

func defaultSigning() signing {
	return signing{keyID: testKeyID, secret: testSecret, service: testService, region: testRegion, at: testNow}
}

// sign signs req over body with the official signer, as the SDK does. It
// uses a fresh signer each time: a shared one caches derived keys by key id.
func sign(t testing.TB, req *http.Request, body []byte, s signing) {
	t.Helper()
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: s.keyID, SecretAccessKey: s.secret}
	err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), s.service, s.region, s.at)
	if err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
}

// server is an httptest server whose handler verifies every request.
type server struct {
	*httptest.Server
	results chan result
}

type result struct {
	principal behalf.Principal
	err       error
}

func newServer(t *testing.T, v *sigv4.Verifier) *server {
	t.Helper()
	s := &server{results: make(chan result, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			s.results <- result{err: err}
			return
		}
		p, err := v.Verify(r, body)
		s.results <- result{p, err}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"denied"}`)
			return
		}
		io.WriteString(w, `{}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// newRequest returns a JSON request to path on s.
func (s *server) newRequest(t testing.TB, method, path string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

// do sends req and returns what Verify made of it.
func (s *server) do(t testing.TB, req *http.Request) (behalf.Principal, error) {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	resp.Body.Close()
	r := <-s.results
	return r.principal, r.err
}

// wantPrincipal fails t unless err is nil and p is the test key's principal.
func wantPrincipal(t testing.TB, p behalf.Principal, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := (behalf.Principal{AccessKeyID: testKeyID, Name: testPrincipal}); p != want {
		t.Fatalf("principal = %+v, want %+v", p, want)
	}
}

// wantForbidden fails t unless err is EFORBIDDEN with a message containing
// want and leaking neither the secret nor any signature.
func wantForbidden(t testing.TB, err error, want string, req *http.Request) {
	t.Helper()
	if code := behalf.ErrorCode(err); code != behalf.EFORBIDDEN {
		t.Fatalf("code = %q (%v), want %q", code, err, behalf.EFORBIDDEN)
	}
	msg := behalf.ErrorMessage(err)
	if !strings.Contains(msg, want) {
		t.Fatalf("message = %q, want it to contain %q", msg, want)
	}
	for _, s := range []string{msg, err.Error()} {
		if strings.Contains(s, testSecret) || longHex.MatchString(s) {
			t.Fatalf("error leaks a secret or signature: %q", s)
		}
		if sig := signature(req); sig != "" && strings.Contains(s, sig) {
			t.Fatalf("error echoes the signature: %q", s)
		}
	}
}

// signature returns the Signature component of req's Authorization header.
func signature(req *http.Request) string {
	if req == nil {
		return ""
	}
	_, sig, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	return sig
}

func TestVerifyOK(t *testing.T) {
	s := newServer(t, newVerifier())
	req := s.newRequest(t, http.MethodPost, "/identities/CreateWorkloadIdentity", testBody)
	sign(t, req, testBody, defaultSigning())
	p, err := s.do(t, req)
	wantPrincipal(t, p, err)
}

func TestVerifyEmptyBody(t *testing.T) {
	s := newServer(t, newVerifier())
	req := s.newRequest(t, http.MethodGet, "/identities?maxResults=10&nextToken=a%2Fb", nil)
	sign(t, req, nil, defaultSigning())
	p, err := s.do(t, req)
	wantPrincipal(t, p, err)
}

// TestVerifyEscapedPath proves a path whose segment holds an escaped ARN
// verifies: the signer escapes the path again for non-S3 services, on both
// sides, so the server must feed it the path exactly as received.
func TestVerifyEscapedPath(t *testing.T) {
	s := newServer(t, newVerifier())
	req := s.newRequest(t, http.MethodPost, runtimePath+"?qualifier=DEFAULT", testBody)
	if got := req.URL.EscapedPath(); got != runtimePath {
		t.Fatalf("client escaped path = %q, want %q", got, runtimePath)
	}
	sign(t, req, testBody, defaultSigning())
	p, err := s.do(t, req)
	wantPrincipal(t, p, err)
}

func TestVerifyContentSHA256(t *testing.T) {
	s := newServer(t, newVerifier())
	sum := sha256.Sum256(testBody)
	req := s.newRequest(t, http.MethodPost, "/identities", testBody)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	sign(t, req, testBody, defaultSigning())
	p, err := s.do(t, req)
	wantPrincipal(t, p, err)
}

func TestVerifyAccepts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(*http.Request, *signing) // before signing
		after  func(*http.Request)           // after signing
	}{
		{name: "unsigned header added", after: func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.0.0.1") }},
		{name: "user agent changed", after: func(r *http.Request) { r.Header.Set("User-Agent", "curl/8") }},
		{name: "different region", before: func(_ *http.Request, s *signing) { s.region = "eu-west-1" }},
		{name: "4 minutes old", before: func(_ *http.Request, s *signing) { s.at = testNow.Add(-4 * time.Minute) }},
		{name: "4 minutes ahead", before: func(_ *http.Request, s *signing) { s.at = testNow.Add(4 * time.Minute) }},
		{name: "signed session token", before: func(r *http.Request, _ *signing) { r.Header.Set("X-Amz-Security-Token", "token") }},
		{name: "extra signed header", before: func(r *http.Request, _ *signing) { r.Header.Set("X-Amz-Target", "Svc.Op") }},
		{name: "repeated signed header", before: func(r *http.Request, _ *signing) {
			r.Header.Add("X-Custom", "a")
			r.Header.Add("X-Custom", "b  c")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, newVerifier())
			req := s.newRequest(t, http.MethodPost, "/identities", testBody)
			sg := defaultSigning()
			if tc.before != nil {
				tc.before(req, &sg)
			}
			sign(t, req, testBody, sg)
			if tc.after != nil {
				tc.after(req)
			}
			p, err := s.do(t, req)
			wantPrincipal(t, p, err)
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	mismatch := "The request signature we calculated does not match the signature you provided."
	for _, tc := range []struct {
		name   string
		before func(*http.Request, *signing)
		after  func(*http.Request)
		want   string
	}{
		{name: "wrong secret", before: func(_ *http.Request, s *signing) { s.secret = "not-the-secret" }, want: mismatch},
		{name: "unknown key", before: func(_ *http.Request, s *signing) { s.keyID = "BHLFUNKNOWN" },
			want: "The security token included in the request is invalid."},
		{name: "body tampered", after: func(r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(testBody, []byte("my-agent"), []byte("evil-bot"), 1)))
		}, want: mismatch},
		{name: "signed header tampered", after: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, want: mismatch},
		{name: "signed header removed", after: func(r *http.Request) { r.Header.Del("Content-Type") }, want: mismatch},
		{name: "signed header value added", after: func(r *http.Request) { r.Header.Add("Content-Type", "text/plain") }, want: mismatch},
		{name: "method changed", after: func(r *http.Request) { r.Method = http.MethodPut }, want: mismatch},
		{name: "path changed", after: func(r *http.Request) { r.URL.Path = "/identities/other" }, want: mismatch},
		{name: "query changed", after: func(r *http.Request) { r.URL.RawQuery = "maxResults=1" }, want: mismatch},
		{name: "x-amz-date changed", after: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", testNow.Add(time.Second).Format("20060102T150405Z"))
		}, want: mismatch},
		{name: "6 minutes old", before: func(_ *http.Request, s *signing) { s.at = testNow.Add(-6 * time.Minute) },
			want: "Signature expired: 20260101T115400Z is now earlier than 20260101T115500Z (20260101T120000Z - 5 min.)"},
		{name: "6 minutes ahead", before: func(_ *http.Request, s *signing) { s.at = testNow.Add(6 * time.Minute) },
			want: "Signature not yet current: 20260101T120600Z is still later than 20260101T120500Z (20260101T120000Z + 5 min.)"},
		{name: "wrong service", before: func(_ *http.Request, s *signing) { s.service = "s3" },
			want: "Credential should be scoped to correct service: 'bedrock-agentcore'."},
		{name: "missing authorization", after: func(r *http.Request) { r.Header.Del("Authorization") },
			want: "Missing Authentication Token"},
		{name: "missing x-amz-date", after: func(r *http.Request) { r.Header.Del("X-Amz-Date") }, want: "X-Amz-Date"},
		{name: "content sha256 mismatch", before: func(r *http.Request, _ *signing) {
			r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
		}, want: "x-amz-content-sha256"},
		{name: "unsigned payload", before: func(r *http.Request, _ *signing) {
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		}, want: "UNSIGNED-PAYLOAD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, newVerifier())
			req := s.newRequest(t, http.MethodPost, "/identities?maxResults=10", testBody)
			sg := defaultSigning()
			if tc.before != nil {
				tc.before(req, &sg)
			}
			sign(t, req, testBody, sg)
			if tc.after != nil {
				tc.after(req)
			}
			_, err := s.do(t, req)
			wantForbidden(t, err, tc.want, req)
		})
	}
}

func TestVerifyMalformedAuthorization(t *testing.T) {
	s := newServer(t, newVerifier())
	ref := s.newRequest(t, http.MethodPost, "/identities", testBody)
	sign(t, ref, testBody, defaultSigning())
	good := ref.Header.Get("Authorization")
	for _, tc := range []struct {
		name string
		auth func(string) string
		want string
	}{
		{"empty", func(string) string { return "" }, "Missing Authentication Token"},
		{"basic", func(string) string { return "Basic dXNlcjpwYXNz" }, "algorithm"},
		{"bearer", func(string) string { return "Bearer abc" }, "algorithm"},
		{"algorithm only", func(string) string { return "AWS4-HMAC-SHA256" }, "algorithm"},
		{"sigv4a", func(a string) string { return strings.Replace(a, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1) }, "algorithm"},
		{"no signature", func(a string) string { a, _, _ = strings.Cut(a, ", Signature="); return a }, "exactly"},
		{"duplicate credential", func(a string) string {
			cred, _, _ := strings.Cut(strings.TrimPrefix(a, "AWS4-HMAC-SHA256 "), ",")
			sig := a[strings.Index(a, "Signature="):]
			return "AWS4-HMAC-SHA256 " + cred + ", " + cred + ", " + sig
		}, "repeats"},
		{"extra component", func(a string) string { return a + ", Foo=bar" }, "exactly"},
		{"short scope", func(a string) string { return strings.Replace(a, "/us-east-1/", "/", 1) }, "scoped"},
		{"bad terminator", func(a string) string { return strings.Replace(a, "aws4_request", "aws4_requests", 1) }, "scoped"},
		{"scope date differs", func(a string) string { return strings.Replace(a, "/20260101/", "/20260102/", 1) },
			"Date in Credential scope does not match"},
		{"invalid scope date", func(a string) string { return strings.Replace(a, "/20260101/", "/20260230/", 1) }, "date"},
		{"unsorted headers", func(a string) string {
			return strings.Replace(a, "content-length;content-type", "content-type;content-length", 1)
		}, "sorted"},
		{"upper-case headers", func(a string) string {
			return strings.Replace(a, "SignedHeaders=content-length", "SignedHeaders=Content-Length", 1)
		}, "lower-case"},
		{"host not signed", func(a string) string { return strings.Replace(a, ";host;", ";", 1) }, "'host'"},
		{"upper-case signature", func(a string) string {
			i := strings.Index(a, "Signature=") + len("Signature=")
			return a[:i] + strings.ToUpper(a[i:])
		}, "Signature must be"},
		{"truncated signature", func(a string) string { return a[:len(a)-1] }, "Signature must be"},
		{"flipped signature", func(a string) string {
			last := a[len(a)-1]
			flip := byte('0')
			if last == '0' {
				flip = '1'
			}
			return a[:len(a)-1] + string(flip)
		}, "does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := s.newRequest(t, http.MethodPost, "/identities", testBody)
			req.Header = ref.Header.Clone()
			req.Header.Set("Authorization", tc.auth(good))
			_, err := s.do(t, req)
			wantForbidden(t, err, tc.want, ref)
		})
	}
}

func TestVerifyTwoAuthorizationHeaders(t *testing.T) {
	s := newServer(t, newVerifier())
	req := s.newRequest(t, http.MethodPost, "/identities", testBody)
	sign(t, req, testBody, defaultSigning())
	req.Header.Add("Authorization", req.Header.Get("Authorization"))
	_, err := s.do(t, req)
	wantForbidden(t, err, "Only one Authorization header", req)
}

func TestVerifyLookupError(t *testing.T) {
	boom := errors.New("database is on fire")
	v := newVerifier()
	v.Lookup = func(context.Context, string) (behalf.Secret, string, error) { return "", "", boom }
	s := newServer(t, v)
	req := s.newRequest(t, http.MethodPost, "/identities", testBody)
	sign(t, req, testBody, defaultSigning())
	_, err := s.do(t, req)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap %v", err, boom)
	}
	if code := behalf.ErrorCode(err); code != behalf.EINTERNAL {
		t.Fatalf("code = %q, want %q", code, behalf.EINTERNAL)
	}
}

func TestVerifyCustomSkew(t *testing.T) {
	v := newVerifier()
	v.MaxSkew = time.Minute
	s := newServer(t, v)
	req := s.newRequest(t, http.MethodPost, "/identities", testBody)
	sg := defaultSigning()
	sg.at = testNow.Add(-2 * time.Minute)
	sign(t, req, testBody, sg)
	_, err := s.do(t, req)
	wantForbidden(t, err, "(20260101T120000Z - 1 min.)", req)
}

func TestVerifyDoesNotModifyRequest(t *testing.T) {
	v := newVerifier()
	req := httptest.NewRequest(http.MethodPost, runtimePath+"?qualifier=DEFAULT", bytes.NewReader(testBody))
	sign(t, req, testBody, defaultSigning())
	before := req.Header.Clone()
	url := req.URL.String()
	p, err := v.Verify(req, testBody)
	wantPrincipal(t, p, err)
	if req.URL.String() != url {
		t.Fatalf("URL changed: %q -> %q", url, req.URL.String())
	}
	for k, vs := range before {
		if got := req.Header.Values(k); strings.Join(got, ",") != strings.Join(vs, ",") {
			t.Fatalf("header %s changed: %q -> %q", k, vs, got)
		}
	}
	if len(req.Header) != len(before) {
		t.Fatalf("headers changed: %v -> %v", before, req.Header)
	}
}

func BenchmarkVerify(b *testing.B) {
	v := newVerifier()
	req := httptest.NewRequest(http.MethodPost, runtimePath+"?qualifier=DEFAULT", bytes.NewReader(testBody))
	req.Header.Set("Content-Type", "application/json")
	sign(b, req, testBody, defaultSigning())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(req, testBody); err != nil {
			b.Fatal(err)
		}
	}
}
