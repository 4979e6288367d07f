package ratelimit

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/route"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// Ensure a bucket allows its burst, refuses with the wait until the next
// token, refills at its rate, and keeps keys apart.
func TestLimiterBurstAndRefill(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	l := New(2, 3) // 2/s, burst 3
	l.Now = clock.now
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait > 500*time.Millisecond {
		t.Fatalf("after the burst: ok=%v wait=%v, want refused with a wait of at most 500ms", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key was refused")
	}
	clock.advance(500 * time.Millisecond)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("a token did not come back after 1/rate")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("more than one token came back after 1/rate")
	}
	clock.advance(time.Hour)
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("after a long pause, request %d refused: the bucket should be full (and no fuller)", i+1)
		}
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("the bucket grew past its burst")
	}
}

// Ensure the limiter keeps at most MaxKeys buckets, evicting the least
// recently used, and that a nil limiter allows everything.
func TestLimiterBounded(t *testing.T) {
	l := New(1, 1)
	l.MaxKeys = 100
	for i := range 1000 {
		l.Allow(fmt.Sprint("k", i))
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("buckets = %d, want 100", n)
	}
	// k999 is recent: still empty. k0 was evicted: full again.
	if ok, _ := l.Allow("k999"); ok {
		t.Fatal("a recent bucket was evicted")
	}
	if ok, _ := l.Allow("k0"); !ok {
		t.Fatal("the oldest bucket was not evicted")
	}
	var off *Limiter
	if New(0, 10) != nil || New(-1, 10) != nil {
		t.Fatal("a non-positive rate must disable the limiter")
	}
	for range 1000 {
		if ok, _ := off.Allow("x"); !ok {
			t.Fatal("a nil limiter refused")
		}
	}
}

func TestClientIP(t *testing.T) {
	for _, c := range []struct {
		remote, xff string
		trust       bool
		want        string
	}{
		{"192.0.2.7:5555", "", false, "192.0.2.7"},
		{"192.0.2.7:5555", "203.0.113.9", false, "192.0.2.7"}, // not trusted: ignored
		{"192.0.2.7:5555", "203.0.113.9", true, "203.0.113.9"},
		{"192.0.2.7:5555", "1.1.1.1, 203.0.113.9", true, "203.0.113.9"}, // the proxy's entry is the last
		{"192.0.2.7:5555", "garbage", true, "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "", false, "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.8]:1", "", false, "192.0.2.8"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := ClientIP(r, c.trust); got != c.want {
			t.Errorf("ClientIP(%s, XFF %q, trust %v) = %q, want %q", c.remote, c.xff, c.trust, got, c.want)
		}
		if key, limited := Client(r, c.trust); key != c.want || !limited {
			t.Errorf("Client(%s, XFF %q, trust %v) = %q, %v; want %q, true", c.remote, c.xff, c.trust, key, limited, c.want)
		}
	}
	// Loopback peers are keyed alike but not limited, unless a trusted
	// proxy forwards another client.
	for _, c := range []struct {
		remote, xff string
		trust       bool
		limited     bool
	}{
		{"127.0.0.1:1", "", false, false},
		{"[::1]:1", "", false, false},
		{"127.0.0.9:1", "198.51.100.9", false, false},
		{"127.0.0.1:1", "198.51.100.9", true, true},
		{"127.0.0.1:1", "127.0.0.2", true, false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if _, limited := Client(r, c.trust); limited != c.limited {
			t.Errorf("Client(%s, XFF %q, trust %v) limited = %v, want %v", c.remote, c.xff, c.trust, limited, c.limited)
		}
	}
}

// Ensure the per-IP limit covers exactly the sign-in and consent
// endpoints and answers each in its own shape with Retry-After.
func TestIPLimitShapes(t *testing.T) {
	passed := 0
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { passed++ })
	limited := 0
	l := &IPLimit{Limiter: New(1, 1), OnLimit: func(*http.Request) { limited++ }}
	h := l.Wrap(next)
	// do sends a request named rt (as package api names it); the path is
	// only for the failure messages: the limit never reads it.
	do := func(method string, rt route.Route, remote string) *httptest.ResponseRecorder {
		r := route.With(httptest.NewRequest(method, "/named-by-its-route", strings.NewReader("{}")), rt)
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	cognito := func(op string) route.Route { return route.Route{Name: op, Kind: route.Cognito} }
	page := func(name string) route.Route { return route.Route{Name: name, Kind: route.HTML} }
	for _, c := range []struct {
		method            string
		rt                route.Route
		status            int
		contentType, body string
	}{
		{"POST", cognito("InitiateAuth"), 400, "application/x-amz-json-1.1", `"__type":"TooManyRequestsException"`},
		{"POST", cognito("AdminInitiateAuth"), 400, "application/x-amz-json-1.1", `"__type":"TooManyRequestsException"`},
		{"POST", cognito("RespondToAuthChallenge"), 400, "application/x-amz-json-1.1", `"__type":"TooManyRequestsException"`},
		{"POST", cognito("AdminRespondToAuthChallenge"), 400, "application/x-amz-json-1.1", `"__type":"TooManyRequestsException"`},
		{"POST", cognito("ChangePassword"), 400, "application/x-amz-json-1.1", `"__type":"TooManyRequestsException"`},
		{"POST", page("HostedLogin"), 429, "text/html", "Too many attempts"},
		{"POST", route.Route{Name: "HostedLoginToken", Kind: route.OAuth}, 429, "application/json", `"error":"invalid_request"`},
		{"GET", page("HostedLoginAuthorize"), 429, "text/html", "Too many attempts"},
		{"POST", page("HostedLoginAuthorize"), 429, "text/html", "Too many attempts"},
		{"GET", page("ConsentAuthorize"), 429, "text/html", "Too many attempts"},
		{"GET", page("ConsentCallback"), 429, "text/html", "Too many attempts"},
		{"POST", page("BindPage"), 429, "text/html", "Too many attempts"},
		{"POST", page("BindPageSwitch"), 429, "text/html", "Too many attempts"},
		{"GET", page("SignInCallback"), 429, "text/html", "Too many attempts"},
	} {
		remote := "198.51.100.1:1"
		if w := do(c.method, c.rt, remote); w.Code != 200 {
			t.Fatalf("%s %s: first request %d", c.method, c.rt.Name, w.Code)
		}
		w := do(c.method, c.rt, remote)
		if w.Code != c.status || !strings.HasPrefix(w.Header().Get("Content-Type"), c.contentType) ||
			!strings.Contains(w.Body.String(), c.body) || w.Header().Get("Retry-After") != "1" {
			t.Fatalf("%s %s: %d %q Retry-After %q %s, want %d %s with %s",
				c.method, c.rt.Name, w.Code, w.Header().Get("Content-Type"), w.Header().Get("Retry-After"), w.Body, c.status, c.contentType, c.body)
		}
		// Another client is unaffected.
		if w := do(c.method, c.rt, "198.51.100.2:1"); w.Code != 200 {
			t.Fatalf("%s %s: another IP got %d", c.method, c.rt.Name, w.Code)
		}
		l.Limiter = New(1, 1)
		h = l.Wrap(next)
	}
	if limited != 14 {
		t.Fatalf("OnLimit called %d times, want 14", limited)
	}
	// Not limited: the API (SigV4, per key), other cognito operations,
	// pages' GETs, the token endpoint's preflight, unnamed requests.
	l.Limiter = New(1, 1)
	h = l.Wrap(next)
	passed = 0
	unlimited := []struct {
		method string
		rt     route.Route
	}{
		{"POST", route.Route{Name: "GetResourceOauth2Token", Kind: route.AWSJSON}},
		{"POST", cognito("AdminCreateUser")},
		{"POST", route.Route{Kind: route.Cognito}}, // an X-Amz-Target naming no operation
		{"GET", page("HostedLogin")},
		{"OPTIONS", route.Route{Name: "HostedLoginToken", Kind: route.OAuth}},
		{"DELETE", page("HostedLoginAuthorize")},
		{"GET", route.Route{Name: "UserPoolJWKS", Kind: route.AWSJSON}},
		{"GET", route.Route{}},
	}
	for range 5 {
		for _, c := range unlimited {
			do(c.method, c.rt, "198.51.100.3:1")
		}
	}
	if passed != 5*len(unlimited) {
		t.Fatalf("%d of %d unlimited requests passed", passed, 5*len(unlimited))
	}
	// A request nothing named (no route in its context) passes, whatever its path.
	passed = 0
	for range 5 {
		r := httptest.NewRequest("POST", "/us-east-1_abc123/login", nil)
		r.RemoteAddr = "198.51.100.3:1"
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	if passed != 5 {
		t.Fatalf("%d of 5 unnamed requests passed", passed)
	}
	// Loopback peers (the operator, a proxy on the same host) are not
	// limited; with TrustProxy the forwarded client is.
	passed = 0
	for _, remote := range []string{"127.0.0.1:1", "[::1]:1", "127.0.0.9:1"} {
		for range 5 {
			do("GET", page("ConsentAuthorize"), remote)
		}
	}
	if passed != 15 {
		t.Fatalf("%d of 15 loopback requests passed", passed)
	}
	l.TrustProxy = true
	h = l.Wrap(next)
	r := route.With(httptest.NewRequest("GET", "/identities/oauth2/authorize", nil), page("ConsentAuthorize"))
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.20")
	codes := []int{}
	for range 2 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		codes = append(codes, w.Code)
	}
	if codes[0] != 200 || codes[1] != 429 {
		t.Fatalf("a forwarded client behind a loopback proxy: %v, want 200 then 429", codes)
	}
}

type okAuth struct{}

func (okAuth) Verify(*http.Request, []byte) (behalf.Principal, error) {
	return behalf.Principal{AccessKeyID: "AKIDEXAMPLE", Name: "root"}, nil
}

type failAuth struct{}

func (failAuth) Verify(*http.Request, []byte) (behalf.Principal, error) {
	return behalf.Principal{}, behalf.Errorf(behalf.EFORBIDDEN, "bad signature")
}

// Ensure the per-key limit counts only verified requests and refuses with
// ETHROTTLED and a retry time.
func TestKeyLimit(t *testing.T) {
	r := httptest.NewRequest("POST", "/", nil)
	k := &KeyLimit{Next: failAuth{}, Limiter: New(1, 2)}
	for range 10 {
		if _, err := k.Verify(r, nil); behalf.ErrorCode(err) != behalf.EFORBIDDEN {
			t.Fatalf("unverified: %v", err)
		}
	}
	k.Next = okAuth{}
	for i := range 2 {
		if _, err := k.Verify(r, nil); err != nil {
			t.Fatalf("request %d: %v (unverified requests must not spend the key's budget)", i, err)
		}
	}
	_, err := k.Verify(r, nil)
	var be *behalf.Error
	if !errors.As(err, &be) || be.Code != behalf.ETHROTTLED || be.Retry < time.Second {
		t.Fatalf("over the limit: %v, want ETHROTTLED with Retry ≥ 1s", err)
	}
	b, _ := json.Marshal(be.Message)
	if strings.Contains(string(b), "AKID") {
		t.Fatal("the message names the key")
	}
	k.Exempt = func(p behalf.Principal) bool { return p.Name == "root" }
	for range 5 {
		if _, err := k.Verify(r, nil); err != nil {
			t.Fatalf("an exempt principal was limited: %v", err)
		}
	}
}
