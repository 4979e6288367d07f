package identity

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/oauth"
)

// errNoSuchGrant is the answer for a grant that does not exist and for
// another user's grant alike, so that ids cannot be probed.
var errNoSuchGrant = behalf.Errorf(behalf.ENOTFOUND, "No such grant.")

// revokeLeaseWait bounds how long a revocation waits for a refresh of the
// grant in flight (which may rotate its refresh token) before it revokes
// what it has.
const revokeLeaseWait = 5 * time.Second

// ListConnections returns userKey's grants ("" for every user's), by
// workload then provider, each with its provider's name and vendor and its
// last use as this replica knows it (the stored time, or a fetch since the
// last FlushUsage).
func (v *Vault) ListConnections(ctx context.Context, userKey string) ([]*behalf.Connection, error) {
	grants, err := v.store.ListGrants(ctx, userKey)
	if err != nil {
		return nil, err
	}
	providers := map[string]*behalf.OAuth2Provider{}
	out := make([]*behalf.Connection, 0, len(grants))
	for _, g := range grants {
		p, seen := providers[g.ProviderID]
		if !seen {
			if p, err = v.providerByID(ctx, g.ProviderID); err != nil {
				return nil, err
			}
			providers[g.ProviderID] = p
		}
		out = append(out, v.connection(g, p))
	}
	return out, nil
}

// RevokeConnection deletes grant id and revokes its token at the provider.
// With userKey set, only that user's grant: any other id is ENOTFOUND.
//
// The grant is deleted first, so the user's decision stands even when the
// provider is down or refuses: the next token request for it starts a new
// consent. Then the provider is asked to revoke the refresh token (else
// the access token) and its answer is reported in the result's Outcome;
// the revocation is audited (grant.revoked) with that outcome.
func (v *Vault) RevokeConnection(ctx context.Context, userKey, id string) (*behalf.Revocation, error) {
	if id == "" {
		return nil, behalf.Invalid("grantId", "grantId is required.")
	}
	if len(id) > 128 {
		return nil, errNoSuchGrant
	}
	g, err := v.store.GetGrantByID(ctx, id)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND || (err == nil && userKey != "" && g.UserKey != userKey) {
		return nil, errNoSuchGrant
	} else if err != nil {
		return nil, err
	}
	g = v.holdForRevocation(ctx, g)
	p, err := v.providerByID(ctx, g.ProviderID)
	if err != nil {
		return nil, err
	}
	ts, openErr := openTokenSet(ctx, v.sealer, behalf.GrantSealOf(g), g.Token)
	if err := v.store.DeleteGrant(ctx, g.ID); behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, errNoSuchGrant // revoked, or replaced by a new consent, meanwhile
	} else if err != nil {
		return nil, err
	}
	v.usage.forget(g.ID)

	conn := v.connection(g, p)
	rev := &behalf.Revocation{Connection: *conn}
	if p != nil {
		rev.Provider = conn.ProviderLabel()
	}
	switch {
	case p == nil:
		rev.Outcome, rev.Detail = behalf.RevocationFailed, "its credential provider was deleted from Behalf."
	case openErr != nil:
		v.log.ErrorContext(ctx, "open a revoked grant's token", "grant", g.ID, "err", openErr)
		rev.Outcome, rev.Detail = behalf.RevocationFailed, "Behalf could not read the token."
	default:
		// The user's decision is made: finish even if the caller goes away.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		rev.Outcome, rev.Detail = v.RevokeToken(pctx, p, ts)
	}
	detail := "grant=" + g.ID + " provider=" + rev.Outcome
	if rev.Detail != "" {
		detail += ": " + rev.Detail
	}
	e := &behalf.AuditEvent{Kind: behalf.AuditGrantRevoked, Workload: g.Workload, UserKey: g.UserKey, ProviderID: g.ProviderID, Detail: detail}
	if userKey != "" {
		e.Actor = userKey
	}
	v.audit.record(ctx, e)
	return rev, nil
}

// RevokeToken asks provider p to revoke ts (its refresh token, else its
// access token) and returns the outcome and, for a refusal or failure,
// what to tell the user.
func (v *Vault) RevokeToken(ctx context.Context, p *behalf.OAuth2Provider, ts behalf.TokenSet) (string, string) {
	client, err := v.clients.client(ctx, p)
	if err != nil {
		v.log.ErrorContext(ctx, "revoke: provider client", "provider", p.Name, "err", err)
		return behalf.RevocationFailed, "Behalf could not use the provider's configuration."
	}
	tok, hint := client.RevocationToken(ts)
	if tok.IsZero() {
		return behalf.RevocationFailed, "the grant held no token to revoke."
	}
	err = client.Revoke(ctx, tok, hint)
	var refused *oauth.RevocationError
	switch {
	case err == nil:
		return behalf.RevocationConfirmed, ""
	case errors.Is(err, oauth.ErrRevocationUnsupported):
		return behalf.RevocationUnsupported, ""
	case errors.As(err, &refused):
		return behalf.RevocationRefused, sentence(refused.Error())
	}
	v.log.WarnContext(ctx, "revoke at the provider", "provider", p.Name, "err", err)
	return behalf.RevocationFailed, "the provider could not be reached (" + errorSummary(err) + ")."
}

// sentence ends s with a full stop unless it ends with punctuation.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// errorSummary shortens a transport error for users.
func errorSummary(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "it did not answer in time"
	case oauth.IsTransient(err):
		return "a network error"
	}
	return "the request was refused before it was sent"
}

// holdForRevocation takes grant g's refresh lease, waiting a little for a
// refresh in flight, so that no refresh rotates its refresh token between
// the read and the delete; it returns the grant as it then is. If the
// lease cannot be had in revokeLeaseWait it returns the freshest read.
func (v *Vault) holdForRevocation(ctx context.Context, g *behalf.Grant) *behalf.Grant {
	deadline := time.Now().Add(revokeLeaseWait)
	for {
		now := v.clock.now()
		claimed, err := v.store.ClaimGrantRefresh(ctx, g.ID, now, now.Add(RefreshLease))
		if err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND {
			v.log.WarnContext(ctx, "revoke: take the refresh lease", "grant", g.ID, "err", err)
		}
		if claimed || err != nil || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return g
		case <-time.After(50 * time.Millisecond):
		}
	}
	if fresh, err := v.store.GetGrantByID(ctx, g.ID); err == nil {
		return fresh
	}
	return g
}

// providerByID reads a provider by id; nil (no error) if it was deleted.
func (v *Vault) providerByID(ctx context.Context, id string) (*behalf.OAuth2Provider, error) {
	p, err := v.store.GetOAuth2ProviderByID(ctx, id)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, nil
	}
	return p, err
}

// connection is g as its user sees it; p may be nil (deleted provider).
func (v *Vault) connection(g *behalf.Grant, p *behalf.OAuth2Provider) *behalf.Connection {
	c := &behalf.Connection{
		GrantID: g.ID, Workload: g.Workload, UserKey: g.UserKey, ProviderID: g.ProviderID,
		Scopes: g.Scopes, Account: g.Account, CreatedAt: g.CreatedAt, LastUsedAt: g.LastUsedAt, RefreshedAt: g.RefreshedAt,
	}
	if t, ok := v.usage.pendingLastUse(g.ID); ok && t.After(c.LastUsedAt) {
		c.LastUsedAt = t
	}
	if p != nil {
		c.ProviderName, c.ProviderVendor = p.Name, p.Vendor
	}
	return c
}

// InboundClient returns the client Behalf's own pages (the connections
// page) sign a browser in with at issuer: the inbound sign-in client of the
// first workload, by name, whose inbound identity provider is issuer
// (behalf workload set-binding), with its secret opened (empty for a
// public client). With issuer "" it takes the first workload that has one
// and returns its issuer. ENOTFOUND if no workload has such a client.
func (s *Service) InboundClient(ctx context.Context, issuer string) (string, string, behalf.Secret, error) {
	opt := behalf.ListOptions{Limit: 500}
	for {
		page, err := s.Store.ListWorkloads(ctx, opt)
		if err != nil {
			return "", "", "", err
		}
		for _, w := range page {
			in := w.Inbound
			if in.Issuer == "" || in.ClientID == "" || (issuer != "" && in.Issuer != issuer) {
				continue
			}
			secret, err := inboundSecret(ctx, s.Sealer, w)
			if err != nil {
				return "", "", "", err
			}
			return in.Issuer, in.ClientID, secret, nil
		}
		if len(page) < opt.Limit {
			return "", "", "", behalf.Errorf(behalf.ENOTFOUND, "No agent signs its users in with this identity provider.")
		}
		opt.After = page[len(page)-1].Name
	}
}
