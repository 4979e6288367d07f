package identity

import (
	"context"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/ttlcache"
)

// ConfigCacheTTL bounds how long the data plane answers from a cached
// workload or provider after an admin changed or deleted it.
const ConfigCacheTTL = 2 * time.Second

// configCache reads workloads and providers by name through caches bounded
// in size and age (ConfigCacheTTL). The WATs and the data plane share one:
// a workload read fresh for minting is the one the next request sees.
type configCache struct {
	store     configStore
	providers ttlcache.Cache[string, *behalf.OAuth2Provider]
	workloads ttlcache.Cache[string, *behalf.WorkloadIdentity]
}

// configStore is what configCache reads.
type configStore interface {
	GetWorkload(ctx context.Context, name string) (*behalf.WorkloadIdentity, error)
	GetOAuth2Provider(ctx context.Context, name string) (*behalf.OAuth2Provider, error)
}

// provider reads a provider by name through the cache.
func (c *configCache) provider(ctx context.Context, name string) (*behalf.OAuth2Provider, error) {
	now := time.Now()
	if p, ok := c.providers.Get(name, now); ok {
		return p, nil
	}
	p, err := c.store.GetOAuth2Provider(ctx, name)
	if err != nil {
		return nil, err
	}
	c.providers.Put(name, p, now.Add(ConfigCacheTTL))
	return p, nil
}

// workload reads a workload by name through the cache.
func (c *configCache) workload(ctx context.Context, name string) (*behalf.WorkloadIdentity, error) {
	now := time.Now()
	if w, ok := c.workloads.Get(name, now); ok {
		return w, nil
	}
	w, err := c.store.GetWorkload(ctx, name)
	if err != nil {
		return nil, err
	}
	c.workloads.Put(name, w, now.Add(ConfigCacheTTL))
	return w, nil
}

// freshWorkload reads a workload from the store, not the cache, and
// refreshes the cache with it: what WATs are bound to must be the stored
// workload, not one deleted less than ConfigCacheTTL ago.
func (c *configCache) freshWorkload(ctx context.Context, name string) (*behalf.WorkloadIdentity, error) {
	now := time.Now()
	w, err := c.store.GetWorkload(ctx, name)
	if err != nil {
		return nil, err
	}
	c.workloads.Put(name, w, now.Add(ConfigCacheTTL))
	return w, nil
}
