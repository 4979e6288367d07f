// Package ratelimit holds Behalf's rate limits: token buckets keyed by
// access key id (every SigV4-authenticated call, KeyLimit) and by client
// IP (the sign-in and consent endpoints, IPLimit), and a bound on the
// requests served at once (InFlight, which sheds overload). Each refuses
// in its API's own error shape with a Retry-After header: 429, except
// cognito-idp's TooManyRequestsException, a 400 as on Cognito.
package ratelimit

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// DefaultMaxKeys bounds how many buckets a Limiter keeps.
const DefaultMaxKeys = 100_000

// Limiter is a set of token buckets, one per key, each holding at most
// burst tokens and refilled at rate tokens per second; a request takes one.
// It keeps at most MaxKeys buckets and evicts the least recently used one
// to make room (a bucket evicted comes back full, as after a long pause).
// A nil *Limiter allows everything.
type Limiter struct {
	// MaxKeys bounds the buckets kept (default DefaultMaxKeys).
	MaxKeys int
	// Now is the clock (default time.Now); set it before the first Allow.
	Now func() time.Time

	rate, burst float64

	mu      sync.Mutex
	buckets map[string]*list.Element // of *bucket
	lru     list.List                // front: most recently used
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

// New returns a limiter of perSecond requests a second with bursts of
// burst (at least 1), or nil, which allows everything, when perSecond is
// not positive.
func New(perSecond float64, burst int) *Limiter {
	if perSecond <= 0 || math.IsNaN(perSecond) || math.IsInf(perSecond, 0) {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	return &Limiter{rate: perSecond, burst: float64(burst), buckets: map[string]*list.Element{}}
}

// Allow takes a token from key's bucket. When there is none it returns
// false and how long until there is one.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if e, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(e)
		b = e.Value.(*bucket)
		if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
			b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
			b.last = now
		}
	} else {
		max := l.MaxKeys
		if max <= 0 {
			max = DefaultMaxKeys
		}
		for len(l.buckets) >= max {
			oldest := l.lru.Back()
			l.lru.Remove(oldest)
			delete(l.buckets, oldest.Value.(*bucket).key)
		}
		b = &bucket{key: key, tokens: l.burst, last: now}
		l.buckets[key] = l.lru.PushFront(b)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// Len returns how many buckets the limiter holds.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1, for
// the Retry-After header.
func retryAfterSeconds(wait time.Duration) int {
	s := int(math.Ceil(wait.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}
