package ratelimit

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/behalf-dev/behalf/internal/route"
)

// InFlight bounds how many requests a listener serves at once. A request
// over the bound waits for a slot for at most its queue wait, with at most
// as many others waiting as there are slots; past that it is refused at
// once, before anything else is done for it (its body is not read, its
// signature not checked), in its API's own shape, its route's Kind
// (package internal/route), with Retry-After:
//
//   - cognito-idp (route.Cognito: POST /): TooManyRequestsException in
//     AWS JSON 1.1 with status 400, as Cognito answers it;
//   - the hosted login's OAuth 2.0 endpoints (route.OAuth:
//     /{poolId}/oauth2/token, userInfo, revoke): 429 with an OAuth 2.0
//     error document (temporarily_unavailable);
//   - the browser pages (route.HTML: the consent flow's, the binding and
//     connections pages, the hosted login's pages): a 429 HTML page;
//   - everything else (AgentCore's APIs, InvokeAgentRuntime, the
//     connections API, JWKS and discovery documents, requests no route
//     matched): 429 ThrottlingException in restJson1, with
//     retryAfterSeconds.
//
// The health checks (route.Health: GET /healthz and /readyz) are never
// refused: an overloaded server is alive, and a load balancer that took
// it out of rotation for being busy would only move the load.
//
// A nil *InFlight bounds nothing.
type InFlight struct {
	// OnShed, when set, is called for each refused request (metrics).
	OnShed func(r *http.Request)

	slots    chan struct{}
	wait     time.Duration
	maxQueue int64
	waiting  atomic.Int64
}

// ShedRetryAfter is the Retry-After of a request InFlight refuses.
const ShedRetryAfter = 1 // second

// NewInFlight returns a bound of n requests served at once, each request
// over it waiting at most wait for a slot (0: refused at once), or nil
// (no bound) when max is not positive.
func NewInFlight(n int, wait time.Duration) *InFlight {
	if n <= 0 {
		return nil
	}
	return &InFlight{slots: make(chan struct{}, n), wait: max(wait, 0), maxQueue: int64(n)}
}

// InFlight returns how many requests hold a slot.
func (l *InFlight) InFlight() int {
	if l == nil {
		return 0
	}
	return len(l.slots)
}

// Waiting returns how many requests wait for a slot.
func (l *InFlight) Waiting() int {
	if l == nil {
		return 0
	}
	return int(l.waiting.Load())
}

// Wrap returns next behind the bound; a nil InFlight returns next.
func (l *InFlight) Wrap(next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if healthCheck(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !l.acquire(r) {
			if l.OnShed != nil {
				l.OnShed(r)
			}
			writeBusy(w, r)
			return
		}
		defer l.release()
		next.ServeHTTP(w, r)
	})
}

// acquire takes a slot, waiting for one at most l.wait (and while the
// client waits), with at most l.maxQueue others.
func (l *InFlight) acquire(r *http.Request) bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	if l.wait <= 0 {
		return false
	}
	if l.waiting.Add(1) > l.maxQueue {
		l.waiting.Add(-1)
		return false
	}
	defer l.waiting.Add(-1)
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-r.Context().Done():
		return false
	}
}

func (l *InFlight) release() { <-l.slots }

// healthCheck reports whether r is a liveness or readiness probe.
func healthCheck(r *http.Request) bool {
	rt, _ := route.Of(r)
	return rt.Kind == route.Health
}

// writeBusy refuses r for overload in the shape of its route's Kind.
func writeBusy(w http.ResponseWriter, r *http.Request) {
	rt, _ := route.Of(r)
	writeRefusal(w, rt.Kind, ShedRetryAfter, true)
}
