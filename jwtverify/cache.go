package jwtverify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Cache settings.
const (
	// JWKSTTL is how long a fetched key set is used before it is refreshed.
	JWKSTTL = time.Hour
	// MaxJWKSBytes caps the size of a fetched key set.
	MaxJWKSBytes = 512 << 10
)

// errUnknownKey is returned for a kid the issuer's key set does not hold.
var errUnknownKey = errors.New("no key in the issuer's key set matches the token's kid")

// keyCache caches key sets by JWKS URI.
type keyCache struct {
	client   *http.Client
	now      func() time.Time
	cooldown time.Duration

	mu      sync.Mutex
	entries map[string]*keySetEntry
}

// keySetEntry is one URI's cached key set.
type keySetEntry struct {
	fetchMu sync.Mutex // held by the one goroutine fetching

	mu        sync.RWMutex
	set       jwk.Set   // last good set; nil before the first success
	fetchedAt time.Time // when set was fetched
	triedAt   time.Time // last fetch attempt, good or bad; zero if none
	err       error     // last attempt's error
}

// entry returns uri's entry, creating it.
func (c *keyCache) entry(uri string) *keySetEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]*keySetEntry)
	}
	e, ok := c.entries[uri]
	if !ok {
		e = &keySetEntry{}
		c.entries[uri] = e
	}
	return e
}

// key returns the key with kid from uri's key set, fetching the set when
// it is not cached, is older than JWKSTTL, or lacks kid, subject to the
// cooldown. A stale set is used when a refresh fails.
func (c *keyCache) key(ctx context.Context, uri, kid string) (jwk.Key, error) {
	e := c.entry(uri)
	if k, ok := e.fresh(kid, c.now()); ok {
		return k, nil
	}
	e.fetchMu.Lock()
	defer e.fetchMu.Unlock()
	now := c.now()
	if k, ok := e.fresh(kid, now); ok { // fetched while we waited
		return k, nil
	}
	if e.mayFetch(now, c.cooldown) {
		set, err := c.fetch(ctx, uri)
		if err == nil || ctx.Err() == nil { // a caller giving up is no attempt
			e.record(set, err, now)
		}
	}
	return e.lookup(kid, now, c.cooldown)
}

// fresh returns kid's key if the set is younger than JWKSTTL and has it.
func (e *keySetEntry) fresh(kid string, now time.Time) (jwk.Key, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.set == nil || now.Sub(e.fetchedAt) >= JWKSTTL {
		return nil, false
	}
	return find(e.set, kid)
}

// mayFetch reports whether the cooldown since the last attempt is over.
func (e *keySetEntry) mayFetch(now time.Time, cooldown time.Duration) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.triedAt.IsZero() || now.Sub(e.triedAt) >= cooldown
}

// record stores the outcome of a fetch attempted at now.
func (e *keySetEntry) record(set jwk.Set, err error, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.triedAt, e.err = now, err
	if err == nil {
		e.set, e.fetchedAt = set, now
	}
}

// lookup returns kid's key from the cached set, stale or not.
func (e *keySetEntry) lookup(kid string, now time.Time, cooldown time.Duration) (jwk.Key, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.set == nil {
		retry := max(cooldown-now.Sub(e.triedAt), time.Second)
		if e.err == nil {
			return nil, unavailable(errors.New("key set not fetched"), retry)
		}
		return nil, unavailable(e.err, retry)
	}
	if k, ok := find(e.set, kid); ok {
		return k, nil
	}
	return nil, errUnknownKey
}

// find returns the key with kid, or with no kid the set's only key.
func find(set jwk.Set, kid string) (jwk.Key, bool) {
	if kid == "" {
		if set.Len() != 1 {
			return nil, false
		}
		return set.Key(0)
	}
	return set.LookupKeyID(kid)
}

// fetch gets and parses the key set at uri with the safe client. Entries
// of unknown key types are kept as unusable placeholders rather than
// failing the whole set.
func (c *keyCache) fetch(ctx context.Context, uri string) (jwk.Set, error) {
	var body json.RawMessage
	if err := safehttp.GetJSON(ctx, c.client, uri, MaxJWKSBytes, &body); err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	set, err := jwk.Parse(body, jwk.WithStrictKeySetParsing(false))
	if err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	return set, nil
}
