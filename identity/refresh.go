package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/oauth"
)

// Margins of refreshing.
const (
	// StaleMargin: a token within this of its expiry is refreshed first.
	StaleMargin = 60 * time.Second
	// RefreshLease bounds how long one refresher may hold a grant (and how
	// long a crashed refresher blocks an expired grant); provider calls time
	// out after 10 s.
	RefreshLease = 15 * time.Second
)

// grantToken returns the grant's access token, refreshing it first when it
// is stale. It returns "" when the grant expired unrefreshable or is gone,
// and a *grantRefused when the provider refused its refresh token
// (invalid_grant): either way the user must consent again.
func (v *Vault) grantToken(ctx context.Context, p *behalf.OAuth2Provider, g *behalf.Grant) (behalf.Secret, error) {
	now := v.clock.now()
	if !stale(g, now) || !g.HasRefresh {
		if !g.ExpiresAt.IsZero() && !now.Before(g.ExpiresAt) {
			return "", nil // expired and not refreshable: consent again
		}
		return v.openAccessToken(ctx, g)
	}
	// One refresh per grant in this process; ClaimGrantRefresh makes it one
	// across replicas.
	tok, err, _ := v.refreshes.Do(g.ID, func() (any, error) { return v.refreshGrant(context.WithoutCancel(ctx), p, g) })
	if err != nil {
		return "", err
	}
	return tok.(behalf.Secret), nil
}

// openAccessToken opens a grant's current access token.
func (v *Vault) openAccessToken(ctx context.Context, g *behalf.Grant) (behalf.Secret, error) {
	ts, err := openTokenSet(ctx, v.sealer, behalf.GrantSealOf(g), g.Token)
	if err != nil {
		return "", fmt.Errorf("open grant %s: %w", g.ID, err)
	}
	return ts.AccessToken, nil
}

func stale(g *behalf.Grant, now time.Time) bool {
	return !g.ExpiresAt.IsZero() && !now.Add(StaleMargin).Before(g.ExpiresAt)
}

// refreshGrant refreshes one grant under the store's refresh lease, or waits
// for the replica holding it.
func (v *Vault) refreshGrant(ctx context.Context, p *behalf.OAuth2Provider, g0 *behalf.Grant) (behalf.Secret, error) {
	deadline := v.clock.now().Add(RefreshLease + 5*time.Second)
	for {
		// Re-read: another replica may have refreshed, replaced or revoked it.
		g, err := v.store.GetExchangeGrant(ctx, g0.Workload, g0.UserKey, g0.ProviderID, g0.Exchange)
		if behalf.ErrorCode(err) == behalf.ENOTFOUND {
			return "", nil
		} else if err != nil {
			return "", err
		}
		now := v.clock.now()
		if !stale(g, now) {
			return v.grantToken(ctx, p, g) // another replica refreshed it
		}
		claimed, err := v.store.ClaimGrantRefresh(ctx, g.ID, now, now.Add(RefreshLease))
		if err != nil {
			return "", err
		}
		if claimed {
			return v.refreshLeased(ctx, p, g)
		}
		if now.Before(g.ExpiresAt) {
			// Someone else is refreshing (or crashed holding the lease);
			// the current token is still valid for a little while.
			return v.openAccessToken(ctx, g)
		}
		if now.After(deadline) {
			return "", &behalf.Error{Code: behalf.EUNAVAILABLE, Message: "The token is being refreshed; try again shortly.", Retry: time.Second}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// refreshLeased runs once this caller holds the refresh lease of g. Between
// the read that found g stale and the claim, another replica may have
// refreshed g and released its lease (so the claim succeeded on a grant
// that is fresh again): read it once more under the lease and refresh only
// if it is still stale, with its current token set (the other refresh may
// have rotated the refresh token).
func (v *Vault) refreshLeased(ctx context.Context, p *behalf.OAuth2Provider, g *behalf.Grant) (behalf.Secret, error) {
	cur, err := v.store.GetExchangeGrant(ctx, g.Workload, g.UserKey, g.ProviderID, g.Exchange)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return "", nil
	} else if err != nil {
		return "", err
	}
	if cur.ID == g.ID && stale(cur, v.clock.now()) {
		return v.refreshClaimed(ctx, p, cur)
	}
	if cur.ID == g.ID { // refreshed by another: give the lease back
		_, err := v.store.UpdateGrant(ctx, cur.ID, func(x *behalf.Grant) error { x.RefreshLease = time.Time{}; return nil })
		if err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND {
			v.log.WarnContext(ctx, "release refresh lease", "grant", cur.ID, "err", err)
		}
	}
	return v.grantToken(ctx, p, cur)
}

// refreshClaimed calls the provider and stores the result.
//
// A provider that rotates refresh tokens has consumed the old one once it
// answers: from then until the new token set is committed, a crash loses
// the grant (the old token is refused at the next refresh, unless the
// provider has a reuse grace window that is still open). So the answer is
// stored first, in one statement that also releases the lease, and only
// then are metrics, audit and everything else done; nothing but sealing
// stands between the answer and the write.
func (v *Vault) refreshClaimed(ctx context.Context, p *behalf.OAuth2Provider, g *behalf.Grant) (behalf.Secret, error) {
	sc := behalf.GrantSealOf(g)
	old, err := openTokenSet(ctx, v.sealer, sc, g.Token)
	if err != nil {
		return "", fmt.Errorf("open grant %s: %w", g.ID, err)
	}
	client, err := v.clients.client(ctx, p)
	if err != nil {
		return "", err
	}
	start := time.Now()
	fresh, err := client.Refresh(ctx, old.RefreshToken, g.Scopes)
	answered := time.Now()
	if err != nil {
		v.metrics.ProviderCall(ctx, p.Name, CallRefresh, start, answered, err)
		return v.refreshFailed(ctx, p, g, old, err)
	}
	if fresh.RefreshToken.IsZero() {
		fresh.RefreshToken = old.RefreshToken // Google returns none: keep ours
	}
	if len(fresh.Scopes) == 0 {
		fresh.Scopes = g.Scopes
	}
	sealed, err := sealTokenSet(ctx, v.sealer, sc, fresh)
	if err == nil {
		err = v.store.CompleteGrantRefresh(ctx, g.ID, sealed, fresh.Expiry, fresh.Scopes, v.clock.now())
	}
	// Stored (or lost): now the rest.
	v.metrics.ProviderCall(ctx, p.Name, CallRefresh, start, answered, nil)
	if err != nil {
		v.log.ErrorContext(ctx, "store a refreshed token: the provider's answer is lost; if it rotated the refresh token, the user may have to consent again",
			"grant", g.ID, "provider", p.Name, "err", err)
		return "", err
	}
	v.audit.record(ctx, &behalf.AuditEvent{Kind: behalf.AuditGrantRefreshed, Workload: g.Workload, UserKey: g.UserKey, ProviderID: g.ProviderID})
	noteRefreshed(ctx)
	return fresh.AccessToken, nil
}

// refreshFailed handles a refused or failed refresh: invalid_grant drops the
// grant (the user consents again); transient failures keep it. A refusal
// that follows an interrupted refresh (a lease that ran out unreleased,
// g.InterruptedLease) is logged at WARN and audited as such: the refresh
// token used may be one the provider rotated in an answer that was never
// stored.
func (v *Vault) refreshFailed(ctx context.Context, p *behalf.OAuth2Provider, g *behalf.Grant, old behalf.TokenSet, cause error) (behalf.Secret, error) {
	detail := refreshFailure(cause)
	if errors.Is(cause, oauth.ErrInvalidGrant) && !g.InterruptedLease.IsZero() {
		detail = "invalid_grant after an interrupted refresh: a refresh lease expired unfinished at " +
			g.InterruptedLease.UTC().Format(time.RFC3339) + "; the provider may have rotated the refresh token"
		v.log.WarnContext(ctx, "refresh token refused after an interrupted refresh (lease expired unfinished); the provider may have rotated it",
			"grant", g.ID, "provider", p.Name, "workload", g.Workload, "leaseExpired", g.InterruptedLease.UTC().Format(time.RFC3339))
	}
	v.audit.record(ctx, &behalf.AuditEvent{Kind: behalf.AuditRefreshFailed, Workload: g.Workload, UserKey: g.UserKey, ProviderID: g.ProviderID, Detail: detail})
	if errors.Is(cause, oauth.ErrInvalidGrant) {
		if err := v.store.DeleteGrant(ctx, g.ID); err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND {
			return "", err
		}
		return "", &grantRefused{refusal: refusalOf(cause)}
	}
	_, err := v.store.UpdateGrant(ctx, g.ID, func(x *behalf.Grant) error { x.RefreshLease = time.Time{}; return nil })
	if err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND {
		v.log.WarnContext(ctx, "release refresh lease", "grant", g.ID, "err", err)
	}
	if !g.ExpiresAt.IsZero() && v.clock.now().Before(g.ExpiresAt) {
		return old.AccessToken, nil // still valid for a little while
	}
	if !oauth.IsTransient(cause) {
		v.log.ErrorContext(ctx, "refresh failed", "grant", g.ID, "err", cause)
		if refusalOf(cause) != nil {
			// Refused for another reason than the grant (invalid_client,
			// unauthorized_client ...): the agent hears why; the grant stays.
			return "", providerRefused("token refresh", cause)
		}
	}
	retry := oauth.RetryAfter(cause)
	if retry <= 0 {
		retry = 5 * time.Second
	}
	return "", &behalf.Error{Code: behalf.EUNAVAILABLE, Message: "The provider could not refresh the token; try again later.", Retry: retry}
}

func refreshFailure(err error) string {
	switch {
	case errors.Is(err, oauth.ErrInvalidGrant):
		return "invalid_grant"
	case oauth.IsTransient(err):
		return "transient"
	}
	return "error"
}
