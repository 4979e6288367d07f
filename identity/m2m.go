package identity

import (
	"context"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/ttlcache"
)

// m2mMargin: a cached client-credentials token is renewed this long before
// it expires.
const m2mMargin = 60 * time.Second

// m2mCache keeps client-credentials tokens per workload × provider × scopes
// until shortly before they expire.
type m2mCache struct {
	tokens ttlcache.Cache[string, behalf.Secret]
	group  singleflight.Group
}

// ForgetCachedTokens drops the client-credentials tokens this process
// cached (after ResetTokenVaultKeyMaterial).
func (v *Vault) ForgetCachedTokens() { v.m2m.tokens.Clear() }

func m2mKey(workload, providerID string, scopes []string) string {
	return workload + "\x00" + providerID + "\x00" + strings.Join(scopes, " ")
}

// m2mToken runs the client-credentials grant, cached per workload ×
// provider × scopes until shortly before expiry.
func (v *Vault) m2mToken(ctx context.Context, workload string, p *behalf.OAuth2Provider, r behalf.TokenRequest) (*behalf.TokenResult, error) {
	scopes := slices.Clone(r.Scopes)
	slices.Sort(scopes)
	key := m2mKey(workload, p.ID+"@"+p.UpdatedAt.String(), scopes)
	if tok, ok := v.m2m.tokens.Get(key, v.clock.now()); ok {
		return &behalf.TokenResult{AccessToken: tok}, nil
	}
	tok, err, _ := v.m2m.group.Do(key, func() (any, error) {
		client, err := v.clients.client(ctx, p)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		ts, err := client.ClientCredentials(ctx, scopes, r.Resources, r.Audiences)
		v.metrics.ProviderCall(ctx, p.Name, CallClientCredentials, start, time.Now(), err)
		if err != nil {
			return nil, providerRefused("client-credentials request", err)
		}
		if !ts.Expiry.IsZero() {
			v.m2m.tokens.Put(key, ts.AccessToken, ts.Expiry.Add(-m2mMargin))
		}
		return ts.AccessToken, nil
	})
	if err != nil {
		return nil, err
	}
	return &behalf.TokenResult{AccessToken: tok.(behalf.Secret)}, nil
}

// apiKey opens an API-key provider's key.
func (v *Vault) apiKey(ctx context.Context, provider string) (behalf.Secret, error) {
	p, err := v.store.GetAPIKeyProvider(ctx, provider)
	if err != nil {
		return "", err
	}
	b, err := v.sealer.Open(ctx, behalf.SealContext{Kind: apiKeySealKind, Key: p.ID, Field: "api_key"}, p.APIKey)
	if err != nil {
		return "", err
	}
	return behalf.Secret(b), nil
}
