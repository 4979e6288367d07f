package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/oauth"
)

// onBehalfOf answers ON_BEHALF_OF_TOKEN_EXCHANGE: the provider's token for
// the user whose JWT the workload access token was minted from, exchanged
// at the provider's token endpoint (RFC 8693 token exchange or the RFC 7523
// JWT authorization grant) and kept in the vault per workload × user ×
// provider × what was asked, refreshed like any grant.
func (d *DataPlane) onBehalfOf(ctx context.Context, wat behalf.WATClaims, p *behalf.OAuth2Provider, r behalf.TokenRequest) (*behalf.TokenResult, error) {
	if p.OnBehalfOf == nil && p.Vendor == behalf.VendorMicrosoft {
		// Microsoft's built-in on-behalf-of flow: the JWT authorization
		// grant with requested_token_use=on_behalf_of (see exchange).
		withOBO := *p
		withOBO.OnBehalfOf = &behalf.OnBehalfOfConfig{GrantType: behalf.OBOJWTAuthorizationGrant}
		p = &withOBO
	}
	if p.OnBehalfOf == nil {
		return nil, behalf.Invalid("resourceCredentialProviderName",
			"Credential provider %q has no onBehalfOfTokenExchangeConfig; ON_BEHALF_OF_TOKEN_EXCHANGE needs one.", p.Name)
	}
	if wat.User.IsZero() || wat.User.Issuer == "" {
		return nil, behalf.Invalid("workloadIdentityToken",
			"ON_BEHALF_OF_TOKEN_EXCHANGE needs a workload access token minted from the user's JWT by GetWorkloadAccessTokenForJWT.")
	}
	if err := oauth.CheckExchangeParameters(r.CustomParameters, r.Audiences, r.Resources); err != nil {
		return nil, err
	}
	subject := func(ctx context.Context) (behalf.Secret, error) { return d.wats.SubjectToken(ctx, wat.SubjectRef) }
	tok, err := d.vault.exchangeToken(ctx, wat.Workload, wat.User, p, r, subject)
	if err != nil {
		return nil, err
	}
	return &behalf.TokenResult{AccessToken: tok}, nil
}

// exchangeKey names what an on-behalf-of request asks for: its scopes,
// audiences and resources (as sets) and custom parameters. Requests with
// the same key share one vaulted result.
func exchangeKey(r behalf.TokenRequest) string {
	set := func(s []string) []string {
		out := slices.Clone(s)
		slices.Sort(out)
		return slices.Compact(out)
	}
	params := make([][2]string, 0, len(r.CustomParameters))
	for _, k := range slices.Sorted(maps.Keys(r.CustomParameters)) {
		params = append(params, [2]string{k, r.CustomParameters[k]})
	}
	b, _ := json.Marshal([]any{set(r.Scopes), set(r.Audiences), set(r.Resources), params})
	sum := sha256.Sum256(b)
	return "obo:" + hex.EncodeToString(sum[:16])
}

// exchangeToken returns the vaulted result of an on-behalf-of exchange,
// refreshing it when stale and it has a refresh token; when there is none,
// or it expired, or the provider refused its refresh, it exchanges the
// user's token (from subject) again, once per key in this process, and
// vaults the answer.
func (v *Vault) exchangeToken(ctx context.Context, workload string, user behalf.User, p *behalf.OAuth2Provider, r behalf.TokenRequest,
	subject func(context.Context) (behalf.Secret, error)) (behalf.Secret, error) {
	key := exchangeKey(r)
	g, err := v.store.GetExchangeGrant(ctx, workload, user.Key(), p.ID, key)
	switch {
	case err == nil:
		tok, err := v.grantToken(ctx, p, g)
		var refused *grantRefused
		if err != nil && !errors.As(err, &refused) { // refused: exchange again
			return "", err
		}
		if tok != "" {
			v.usage.record(g, v.clock.now())
			return tok, nil
		}
	case behalf.ErrorCode(err) != behalf.ENOTFOUND:
		return "", err
	}
	flight := workload + "\x00" + user.Key() + "\x00" + p.ID + "\x00" + key
	tok, err, _ := v.exchanges.Do(flight, func() (any, error) {
		return v.exchange(context.WithoutCancel(ctx), workload, user, p, r, key, subject)
	})
	if err != nil {
		return "", err
	}
	return tok.(behalf.Secret), nil
}

// exchange runs one on-behalf-of exchange at p and vaults its answer.
func (v *Vault) exchange(ctx context.Context, workload string, user behalf.User, p *behalf.OAuth2Provider, r behalf.TokenRequest, key string,
	subject func(context.Context) (behalf.Secret, error)) (behalf.Secret, error) {
	subjectToken, err := subject(ctx)
	if err != nil {
		return "", err
	}
	cfg := p.OnBehalfOf
	req := oauth.ExchangeRequest{
		SubjectToken: subjectToken, Scopes: r.Scopes, Audiences: r.Audiences, Resources: r.Resources,
		CustomParameters: r.CustomParameters, NoClientAuth: cfg.NoClientAuth,
	}
	switch cfg.GrantType {
	case behalf.OBOJWTAuthorizationGrant:
		req.GrantType = oauth.GrantTypeJWTBearer
		if p.Vendor == behalf.VendorMicrosoft {
			// Microsoft's on-behalf-of flow (unless the agent overrides it).
			if _, set := r.CustomParameters["requested_token_use"]; !set {
				req.CustomParameters = maps.Clone(r.CustomParameters)
				if req.CustomParameters == nil {
					req.CustomParameters = map[string]string{}
				}
				req.CustomParameters["requested_token_use"] = "on_behalf_of"
			}
		}
	default:
		req.GrantType = oauth.GrantTypeTokenExchange
		if cfg.ActorTokenContent == behalf.ActorM2M {
			actor, err := v.m2mToken(ctx, workload, p, behalf.TokenRequest{Scopes: cfg.ActorTokenScopes})
			if err != nil {
				return "", err
			}
			req.ActorToken = actor.AccessToken
		}
	}
	client, err := v.clients.client(ctx, p)
	if err != nil {
		return "", err
	}
	start := time.Now()
	ts, err := client.OnBehalfOf(ctx, req)
	v.metrics.ProviderCall(ctx, p.Name, CallOnBehalfOf, start, time.Now(), err)
	if err != nil {
		return "", exchangeError(err)
	}
	now := v.clock.now()
	g := &behalf.Grant{
		ID: randid.Hex(16), Workload: workload, UserKey: user.Key(), ProviderID: p.ID, Exchange: key,
		Scopes: ts.Scopes, ExpiresAt: ts.Expiry, HasRefresh: !ts.RefreshToken.IsZero(),
		CreatedAt: now, UpdatedAt: now, RefreshedAt: now,
	}
	if len(g.Scopes) == 0 {
		g.Scopes = r.Scopes
	}
	if _, err := v.StoreGrant(ctx, g, ts); err != nil {
		return "", err
	}
	v.audit.record(ctx, &behalf.AuditEvent{Kind: behalf.AuditGrantExchanged, Workload: workload, UserKey: user.Key(), ProviderID: p.ID,
		Detail: "on-behalf-of " + cfg.GrantType})
	v.usage.record(g, now)
	return ts.AccessToken, nil
}

// exchangeError turns a failed exchange into what the agent sees (see
// providerRefused); a custom parameter refused before sending stays the
// ValidationException it is.
func exchangeError(err error) error {
	if behalf.ErrorCode(err) == behalf.EINVALID {
		return err
	}
	return providerRefused("token exchange", err)
}
