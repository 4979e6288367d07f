package identity

import (
	"context"
	"time"

	"github.com/behalf-dev/behalf"
)

// ConfigCacheTTL bounds how long the data plane answers from a cached
// workload or provider after an admin changed or deleted it.
const ConfigCacheTTL = 2 * time.Second

// getProvider reads a provider by name through the config cache.
func (d *DataPlane) getProvider(ctx context.Context, name string) (*behalf.OAuth2Provider, error) {
	now := time.Now()
	if p, ok := d.providers.Get(name, now); ok {
		return p, nil
	}
	p, err := d.Store.GetOAuth2Provider(ctx, name)
	if err != nil {
		return nil, err
	}
	d.providers.Put(name, p, now.Add(ConfigCacheTTL))
	return p, nil
}

// getWorkload reads a workload by name through the config cache.
func (d *DataPlane) getWorkload(ctx context.Context, name string) (*behalf.WorkloadIdentity, error) {
	now := time.Now()
	if w, ok := d.workloads.Get(name, now); ok {
		return w, nil
	}
	w, err := d.Store.GetWorkload(ctx, name)
	if err != nil {
		return nil, err
	}
	d.workloads.Put(name, w, now.Add(ConfigCacheTTL))
	return w, nil
}

// freshWorkload reads a workload from the store, not the cache, and
// refreshes the cache with it: what WATs are bound to must be the stored
// workload, not one deleted less than ConfigCacheTTL ago.
func (d *DataPlane) freshWorkload(ctx context.Context, name string) (*behalf.WorkloadIdentity, error) {
	now := time.Now()
	w, err := d.Store.GetWorkload(ctx, name)
	if err != nil {
		return nil, err
	}
	d.workloads.Put(name, w, now.Add(ConfigCacheTTL))
	return w, nil
}
