package identity

import (
	"context"
	"slices"
	"time"

	"github.com/behalf-dev/behalf"
)

// m2mMargin: a cached client-credentials token is renewed this long before
// it expires.
const m2mMargin = 60 * time.Second

// m2mToken runs the client-credentials grant, cached per workload ×
// provider × scopes until shortly before expiry.
func (d *DataPlane) m2mToken(ctx context.Context, workload string, p *behalf.OAuth2Provider, r behalf.TokenRequest) (*behalf.TokenResult, error) {
	scopes := slices.Clone(r.Scopes)
	slices.Sort(scopes)
	key := m2mKey(workload, p.ID+"@"+p.UpdatedAt.String(), scopes)
	if tok, ok := d.m2m.tokens.Get(key, d.now()); ok {
		return &behalf.TokenResult{AccessToken: tok}, nil
	}
	v, err, _ := d.m2m.group.Do(key, func() (any, error) {
		client, err := d.providerClient(ctx, p)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		ts, err := client.ClientCredentials(ctx, scopes, r.Resources, r.Audiences)
		d.metrics().ProviderCall(ctx, p.Name, CallClientCredentials, start, time.Now(), err)
		if err != nil {
			return nil, providerError(err)
		}
		if !ts.Expiry.IsZero() {
			d.m2m.tokens.Put(key, ts.AccessToken, ts.Expiry.Add(-m2mMargin))
		}
		return ts.AccessToken, nil
	})
	if err != nil {
		return nil, err
	}
	return &behalf.TokenResult{AccessToken: v.(behalf.Secret)}, nil
}

// providerError turns a token-endpoint failure into an error the agent sees.
func providerError(err error) error {
	return &behalf.Error{Code: behalf.EUNAVAILABLE, Message: "The credential provider refused or failed the token request.", Retry: 5 * time.Second}
}

// ResourceAPIKey returns an API-key provider's key to a workload.
func (d *DataPlane) ResourceAPIKey(ctx context.Context, workloadToken behalf.Secret, provider string) (behalf.Secret, error) {
	if err := validateProviderNameField("resourceCredentialProviderName", provider); err != nil {
		return "", err
	}
	if _, err := d.wats.VerifyWAT(ctx, workloadToken); err != nil {
		return "", err
	}
	p, err := d.Store.GetAPIKeyProvider(ctx, provider)
	if err != nil {
		return "", err
	}
	b, err := d.Sealer.Open(ctx, behalf.SealContext{Kind: apiKeySealKind, Key: p.ID, Field: "api_key"}, p.APIKey)
	if err != nil {
		return "", err
	}
	return behalf.Secret(b), nil
}
