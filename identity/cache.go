package identity

import (
	"context"
	"sync"
	"time"

	"github.com/behalf-dev/behalf"
)

// ttlCache is a small, bounded map whose entries expire. When full it is
// cleared: simple, and bounded in memory whatever callers send.
type ttlCache[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]ttlEntry[V]
}

// maxCacheEntries bounds every ttlCache.
const maxCacheEntries = 10000

type ttlEntry[V any] struct {
	value   V
	expires time.Time
}

func (c *ttlCache[K, V]) get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

func (c *ttlCache[K, V]) put(k K, v V, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCacheEntries {
		c.entries = make(map[K]ttlEntry[V])
	}
	c.entries[k] = ttlEntry[V]{v, expires}
}

func (c *ttlCache[K, V]) delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, k)
}

// ConfigCacheTTL bounds how long the data plane answers from a cached
// workload or provider after an admin changed or deleted it.
const ConfigCacheTTL = 2 * time.Second

// getProvider reads a provider by name through the config cache.
func (d *DataPlane) getProvider(ctx context.Context, name string) (*behalf.OAuth2Provider, error) {
	now := time.Now()
	if p, ok := d.providers.get(name, now); ok {
		return p, nil
	}
	p, err := d.Store.GetOAuth2Provider(ctx, name)
	if err != nil {
		return nil, err
	}
	d.providers.put(name, p, now.Add(ConfigCacheTTL))
	return p, nil
}

// getWorkload reads a workload by name through the config cache.
func (d *DataPlane) getWorkload(ctx context.Context, name string) (*behalf.WorkloadIdentity, error) {
	now := time.Now()
	if w, ok := d.workloads.get(name, now); ok {
		return w, nil
	}
	w, err := d.Store.GetWorkload(ctx, name)
	if err != nil {
		return nil, err
	}
	d.workloads.put(name, w, now.Add(ConfigCacheTTL))
	return w, nil
}
