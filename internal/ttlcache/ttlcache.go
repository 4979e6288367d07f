// Package ttlcache is a small, bounded map whose entries expire. When full
// it is cleared: simple, and bounded in memory whatever callers send.
package ttlcache

import (
	"sync"
	"time"
)

// MaxEntries bounds every Cache.
const MaxEntries = 10000

// Cache maps keys to values until their expiry. The zero value is ready.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]entry[V]
}

type entry[V any] struct {
	value   V
	expires time.Time
}

// Get returns k's value if it has not expired at now.
func (c *Cache[K, V]) Get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Put stores v for k until expires.
func (c *Cache[K, V]) Put(k K, v V, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= MaxEntries {
		c.entries = make(map[K]entry[V])
	}
	c.entries[k] = entry[V]{v, expires}
}

// Delete forgets k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, k)
}

// Clear forgets every entry.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}
