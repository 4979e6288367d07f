package ratelimit

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf/internal/route"
)

// blocker is a handler whose requests to /block stay in flight until
// released; every other request is answered 200 at once.
type blocker struct {
	entered chan struct{}
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blocker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/block" {
		b.entered <- struct{}{}
		<-b.release
	}
	io.Copy(io.Discard, r.Body)
	w.Write([]byte("ok"))
}

// hold sends n requests to /block through h and waits until all are in
// flight; wait collects their answers.
func hold(h http.Handler, b *blocker, n int) (wait func() []int) {
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("POST", "/block", nil))
			codes[i] = w.Code
		})
	}
	for range n {
		<-b.entered
	}
	return func() []int { wg.Wait(); return codes }
}

// untouchable is a request body that fails the test if it is read.
type untouchable struct{ t *testing.T }

func (u untouchable) Read([]byte) (int, error) {
	u.t.Error("a refused request's body was read")
	return 0, io.EOF
}

// Ensure InFlight serves N requests at once and refuses the next at once,
// without reading its body, in its API's own shape with Retry-After
// (issue 11, reliability 1: overload was not shed); health checks pass,
// and a slot freed serves the next request.
func TestInFlightShedsInEachShape(t *testing.T) {
	b := newBlocker()
	l := NewInFlight(2, 0)
	shed := 0
	l.OnShed = func(*http.Request) { shed++ }
	h := l.Wrap(b)
	wait := hold(h, b, 2)
	if l.InFlight() != 2 {
		t.Fatalf("in flight = %d, want 2", l.InFlight())
	}

	for _, c := range []struct {
		name                   string
		rt                     route.Route
		status                 int
		contentType, errorType string
		bodyHas                string
	}{
		{"AgentCore", route.Route{Name: "GetWorkloadAccessToken", Kind: route.AWSJSON}, 429, "application/json", "ThrottlingException", `"__type":"ThrottlingException"`},
		{"control plane", route.Route{Name: "CreateWorkloadIdentity", Kind: route.AWSJSON}, 429, "application/json", "ThrottlingException", `"retryAfterSeconds":1`},
		{"invocation", route.Route{Name: "InvokeAgentRuntime", Kind: route.AWSJSON}, 429, "application/json", "ThrottlingException", `"__type":"ThrottlingException"`},
		{"Cognito", route.Route{Name: "InitiateAuth", Kind: route.Cognito}, 400, "application/x-amz-json-1.1", "TooManyRequestsException", `"__type":"TooManyRequestsException"`},
		{"Cognito admin", route.Route{Name: "ListUserPools", Kind: route.Cognito}, 400, "application/x-amz-json-1.1", "TooManyRequestsException", `"__type":"TooManyRequestsException"`},
		{"Cognito, unknown operation", route.Route{Kind: route.Cognito}, 400, "application/x-amz-json-1.1", "TooManyRequestsException", `"__type":"TooManyRequestsException"`},
		{"consent page", route.Route{Name: "ConsentAuthorize", Kind: route.HTML}, 429, "text/html", "", "The server is busy"},
		{"connections page", route.Route{Name: "ConnectionsPage", Kind: route.HTML}, 429, "text/html", "", "The server is busy"},
		{"connections API", route.Route{Name: "ListConnections", Kind: route.AWSJSON}, 429, "application/json", "ThrottlingException", `"__type":"ThrottlingException"`},
		{"hosted login", route.Route{Name: "HostedLogin", Kind: route.HTML}, 429, "text/html", "", "The server is busy"},
		{"hosted login token", route.Route{Name: "HostedLoginToken", Kind: route.OAuth}, 429, "application/json", "", `"error":"temporarily_unavailable"`},
		{"JWKS", route.Route{Name: "UserPoolJWKS", Kind: route.AWSJSON}, 429, "application/json", "ThrottlingException", `"__type":"ThrottlingException"`},
		{"no route", route.Route{}, 429, "application/json", "ThrottlingException", `"__type":"ThrottlingException"`},
	} {
		r := httptest.NewRequest("POST", "/named-by-its-route", untouchable{t})
		if c.rt != (route.Route{}) {
			r = route.With(r, c.rt)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.status || !strings.HasPrefix(w.Header().Get("Content-Type"), c.contentType) ||
			w.Header().Get("X-Amzn-ErrorType") != c.errorType || w.Header().Get("Retry-After") != "1" ||
			!strings.Contains(w.Body.String(), c.bodyHas) {
			t.Errorf("%s: %d %q X-Amzn-ErrorType=%q Retry-After=%q %s; want %d %s %q with %q and Retry-After 1",
				c.name, w.Code, w.Header().Get("Content-Type"), w.Header().Get("X-Amzn-ErrorType"), w.Header().Get("Retry-After"),
				w.Body, c.status, c.contentType, c.errorType, c.bodyHas)
		}
		if strings.HasPrefix(c.contentType, "application/") {
			var doc map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Errorf("%s: body %q is not JSON", c.name, w.Body)
			}
		}
	}
	if shed != 13 {
		t.Errorf("OnShed called %d times, want 13", shed)
	}
	for _, name := range []string{"Healthz", "Readyz"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, route.With(httptest.NewRequest("GET", "/probe", nil), route.Route{Name: name, Kind: route.Health}))
		if w.Code != 200 {
			t.Errorf("%s while the bound is reached: %d, want 200", name, w.Code)
		}
	}
	// A health check's path, unnamed, is no health check.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	if w.Code != 429 {
		t.Errorf("an unnamed GET /healthz while the bound is reached: %d, want 429", w.Code)
	}

	b.release <- struct{}{} // one slot back
	w = httptest.NewRecorder()
	for l.InFlight() == 2 {
		time.Sleep(time.Millisecond) // the released request returns its slot
	}
	h.ServeHTTP(w, httptest.NewRequest("POST", "/identities/GetWorkloadAccessToken", strings.NewReader("{}")))
	if w.Code != 200 {
		t.Fatalf("with a slot free: %d, want 200", w.Code)
	}
	close(b.release)
	if codes := wait(); codes[0] != 200 || codes[1] != 200 {
		t.Fatalf("the requests in flight: %v", codes)
	}
	if l.InFlight() != 0 {
		t.Fatalf("in flight after all returned = %d", l.InFlight())
	}
}

// Ensure a request over the bound waits for a slot, with at most as many
// others as there are slots; past that, and for a client that gives up
// while waiting, it is refused. The wait is long enough never to end here.
func TestInFlightQueue(t *testing.T) {
	b := newBlocker()
	l := NewInFlight(1, time.Hour)
	h := l.Wrap(b)
	wait := hold(h, b, 1)

	queued := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/identities/ListWorkloadIdentities", nil))
		queued <- w.Code
	}()
	for l.Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	// The queue (one, as many as slots) is full: refused at once.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/identities/ListWorkloadIdentities", nil))
	if w.Code != 429 {
		t.Fatalf("past the queue: %d, want 429", w.Code)
	}
	close(b.release) // the request in flight ends; the queued one is served
	if code := <-queued; code != 200 {
		t.Fatalf("the queued request: %d, want 200", code)
	}
	wait()

	// A client that gives up while waiting is refused (and frees its place).
	b2 := newBlocker()
	h = l.Wrap(b2)
	wait = hold(h, b2, 1)
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/identities/ListWorkloadIdentities", nil).WithContext(ctx))
		gaveUp <- w.Code
	}()
	for l.Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if code := <-gaveUp; code != 429 {
		t.Fatalf("a client that gave up while queued: %d, want 429", code)
	}
	if l.Waiting() != 0 {
		t.Fatalf("waiting = %d after the client gave up", l.Waiting())
	}
	close(b2.release)
	wait()

	// Without a bound, nothing is refused.
	var off *InFlight
	if NewInFlight(0, time.Second) != nil || off.Wrap(b) != http.Handler(b) {
		t.Fatal("a bound of 0 must bound nothing")
	}
}
