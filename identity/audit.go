package identity

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/behalf-dev/behalf"
)

// Token fetches are audited without a store write per fetch: the data
// plane counts them in memory per grant and hour, and FlushUsage writes the
// counts (one grant.fetched event per grant-hour) and the grants' last-use
// times (TouchGrants) in a few statements. RunUsageFlusher flushes every
// UsageFlushInterval and once when it stops, so a crash loses at most one
// interval of counts and last-use times, never a grant or a token.
const (
	// UsageFlushInterval is how often RunUsageFlusher flushes.
	UsageFlushInterval = time.Minute
	// maxUsageBuckets bounds the grant-hours held in memory (while the
	// store is down, failed flushes keep their counts); beyond it new
	// grant-hours are dropped and the drop is logged at the next flush.
	maxUsageBuckets = 100000
)

// usageKey is one grant-hour.
type usageKey struct {
	grant string
	hour  int64 // Unix seconds of the hour's start
}

// usageBucket is the fetches of one grant-hour since the last flush.
type usageBucket struct {
	workload, userKey, providerID string
	count                         int64
	last                          time.Time
}

// usageLog holds the fetch counts and last-use times not yet flushed.
type usageLog struct {
	mu       sync.Mutex
	buckets  map[usageKey]*usageBucket
	lastUsed map[string]time.Time
	dropped  int64 // fetches not counted because maxUsageBuckets was reached
}

// record counts one fetch of g at now. It is the whole cost of auditing a
// fetch on the hot path: a lock and two map writes.
func (u *usageLog) record(g *behalf.Grant, now time.Time) {
	k := usageKey{grant: g.ID, hour: now.Truncate(time.Hour).Unix()}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.buckets == nil {
		u.buckets, u.lastUsed = map[usageKey]*usageBucket{}, map[string]time.Time{}
	}
	b := u.buckets[k]
	if b == nil {
		if len(u.buckets) >= maxUsageBuckets {
			u.dropped++
			return
		}
		b = &usageBucket{workload: g.Workload, userKey: g.UserKey, providerID: g.ProviderID}
		u.buckets[k] = b
	}
	b.count++
	if now.After(b.last) {
		b.last = now
	}
	if now.After(u.lastUsed[g.ID]) {
		u.lastUsed[g.ID] = now
	}
}

// take removes and returns everything recorded since the last take.
func (u *usageLog) take() (map[usageKey]*usageBucket, map[string]time.Time, int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	b, l, d := u.buckets, u.lastUsed, u.dropped
	u.buckets, u.lastUsed, u.dropped = nil, nil, 0
	return b, l, d
}

// giveBack returns what a failed flush could not write, to be written by
// the next one.
func (u *usageLog) giveBack(buckets map[usageKey]*usageBucket, lastUsed map[string]time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.buckets == nil {
		u.buckets, u.lastUsed = map[usageKey]*usageBucket{}, map[string]time.Time{}
	}
	for k, b := range buckets {
		cur := u.buckets[k]
		switch {
		case cur != nil:
			cur.count += b.count
			if b.last.After(cur.last) {
				cur.last = b.last
			}
		case len(u.buckets) < maxUsageBuckets:
			u.buckets[k] = b
		default:
			u.dropped += b.count
		}
	}
	for id, t := range lastUsed {
		if t.After(u.lastUsed[id]) {
			u.lastUsed[id] = t
		}
	}
}

// pendingLastUse returns when grant id was last fetched since the last
// flush, if it was.
func (u *usageLog) pendingLastUse(id string) (time.Time, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, ok := u.lastUsed[id]
	return t, ok
}

// forget drops the last-use time of a deleted grant (its fetch counts stay:
// the fetches happened).
func (u *usageLog) forget(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.lastUsed, id)
}

// fetchDetail is the Detail of a grant.fetched event.
func fetchDetail(count int64, hour time.Time, grantID string) string {
	return fmt.Sprintf("count=%d hour=%s grant=%s", count, hour.UTC().Format(time.RFC3339), grantID)
}

// FlushUsage writes the token fetches counted since the last flush: one
// grant.fetched audit event per grant and hour (Detail "count=N hour=H
// grant=ID") and each grant's LastUsedAt. What it cannot write is kept for
// the next flush. Safe to call concurrently with fetches and with itself.
func (v *Vault) FlushUsage(ctx context.Context) error {
	buckets, lastUsed, dropped := v.usage.take()
	if dropped > 0 {
		v.log.ErrorContext(ctx, "token fetches not audited: too many grant-hours pending", "fetches", dropped)
	}
	var errs []error
	failed := map[usageKey]*usageBucket{}
	for k, b := range buckets {
		e := &behalf.AuditEvent{
			Time: b.last, Kind: behalf.AuditGrantFetched, Workload: b.workload, UserKey: b.userKey, ProviderID: b.providerID,
			Detail: fetchDetail(b.count, time.Unix(k.hour, 0), k.grant),
		}
		if err := v.store.AppendAudit(ctx, e); err != nil {
			failed[k] = b
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
		delete(buckets, k)
	}
	for k, b := range buckets { // left after a cancellation
		failed[k] = b
	}
	if len(lastUsed) > 0 {
		if err := v.store.TouchGrants(ctx, lastUsed); err != nil {
			errs = append(errs, err)
		} else {
			lastUsed = nil
		}
	}
	if len(failed) > 0 || len(lastUsed) > 0 {
		v.usage.giveBack(failed, lastUsed)
	}
	if len(errs) > 0 {
		return fmt.Errorf("flush token-fetch audit: %w", errors.Join(errs...))
	}
	return nil
}

// RunUsageFlusher calls FlushUsage every interval (UsageFlushInterval if
// zero or less) until ctx is done, then once more, so that a graceful
// shutdown loses no count: stop it after the HTTP server has drained and
// before the store closes.
func (v *Vault) RunUsageFlusher(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = UsageFlushInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := v.FlushUsage(fctx); err != nil {
				v.log.Error("final flush of the token-fetch audit", "err", err)
			}
			return
		case <-t.C:
			if err := v.FlushUsage(ctx); err != nil && ctx.Err() == nil {
				v.log.Warn("flush the token-fetch audit", "err", err)
			}
		}
	}
}
