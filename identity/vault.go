package identity

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"golang.org/x/sync/singleflight"

	"github.com/behalf-dev/behalf"
)

// Vault keeps users' tokens: it reads grants, refreshing a stale one once
// across replicas (single-flight in process, the store's refresh lease
// across), stores the grants consent makes, caches client-credentials
// (M2M) tokens, opens API keys, lists and revokes users' connections, and
// counts token fetches until FlushUsage audits them.
type Vault struct {
	store   vaultStore
	sealer  behalf.Sealer
	clients providerClients
	audit   auditor
	log     *slog.Logger
	clock   clock
	metrics Metrics

	refreshes singleflight.Group // per grant
	exchanges singleflight.Group // per workload × user × provider × exchange key
	m2m       m2mCache
	// usage counts token fetches until FlushUsage writes them (audit.go).
	usage usageLog
}

// vaultStore is what the vault reads and writes.
type vaultStore interface {
	behalf.GrantStore
	behalf.AuditStore
	GetOAuth2ProviderByID(ctx context.Context, id string) (*behalf.OAuth2Provider, error)
	GetAPIKeyProvider(ctx context.Context, name string) (*behalf.APIKeyProvider, error)
}

var (
	_ behalf.GrantVault        = (*Vault)(nil)
	_ behalf.ConnectionService = (*Vault)(nil)
)

// Token returns the vaulted token when the grant covers the scopes,
// refreshing it when stale, and counts the fetch (FlushUsage audits it).
// It returns "" (and the granted scopes) when the user must consent.
func (v *Vault) Token(ctx context.Context, workload string, user behalf.User, p *behalf.OAuth2Provider, scopes []string) (behalf.Secret, []string, error) {
	tok, granted, _, err := v.token(ctx, workload, user, p, scopes)
	return tok, granted, err
}

// token is Token that also returns, when the provider has just refused the
// grant's refresh token, the provider's words (nil otherwise).
func (v *Vault) token(ctx context.Context, workload string, user behalf.User, p *behalf.OAuth2Provider, scopes []string) (behalf.Secret, []string, *behalf.ProviderRefusal, error) {
	g, err := v.store.GetGrant(ctx, workload, user.Key(), p.ID)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return "", nil, nil, nil
	} else if err != nil {
		return "", nil, nil, err
	}
	if !covers(g.Scopes, scopes) {
		return "", g.Scopes, nil, nil
	}
	tok, err := v.grantToken(ctx, p, g)
	var refused *grantRefused
	if errors.As(err, &refused) {
		return "", g.Scopes, refused.refusal, nil
	}
	if err != nil || tok == "" {
		return "", g.Scopes, nil, err
	}
	v.usage.record(g, v.clock.now()) // in memory only: FlushUsage writes it (audit.go)
	return tok, nil, nil, nil
}

// covers reports whether granted includes every requested scope.
func covers(granted, requested []string) bool {
	for _, s := range requested {
		if !slices.Contains(granted, s) {
			return false
		}
	}
	return true
}

// StoreGrant seals ts into g.Token under the grant's seal context and
// stores g in place of the grant of the same workload, user, provider and
// exchange key, which it returns (nil if none).
func (v *Vault) StoreGrant(ctx context.Context, g *behalf.Grant, ts behalf.TokenSet) (*behalf.Grant, error) {
	sealed, err := sealTokenSet(ctx, v.sealer, behalf.GrantSealOf(g), ts)
	if err != nil {
		return nil, err
	}
	g.Token = sealed
	prev, err := v.store.GetExchangeGrant(ctx, g.Workload, g.UserKey, g.ProviderID, g.Exchange)
	if err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND {
		return nil, err
	}
	if err := v.store.PutGrant(ctx, g); err != nil {
		return nil, err
	}
	return prev, nil
}

// Grant returns workload's grant for user at provider providerID, its
// token sealed (ENOTFOUND if there is none).
func (v *Vault) Grant(ctx context.Context, workload string, user behalf.User, providerID string) (*behalf.Grant, error) {
	return v.store.GetGrant(ctx, workload, user.Key(), providerID)
}

// DeleteGrant deletes grant id (ENOTFOUND if there is none).
func (v *Vault) DeleteGrant(ctx context.Context, id string) error {
	return v.store.DeleteGrant(ctx, id)
}
