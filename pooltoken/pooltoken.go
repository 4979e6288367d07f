// Package pooltoken recognises Behalf's own user pools as the issuers of
// tokens, in process: a token whose iss is {PublicURL}/{poolId} verifies
// with that pool's keys, read from the pool service without HTTP, and its
// user must still stand (not disabled, deleted or signed out since the
// token was issued). The data plane's trusted issuers, the runtime
// gateway's JWT authorizer and the MCP gateway share it.
package pooltoken

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/behalf-dev/behalf/jwtverify"
)

// Keys gives a user pool's public keys and checks a token's user
// (behalf.UserPoolService does).
type Keys interface {
	// JWKS returns the pool's key set; ENOTFOUND for no such pool.
	JWKS(ctx context.Context, poolID string) ([]byte, error)
	// CheckTokenUser refuses (EUNAUTHORIZED) tokens of pool users
	// disabled, deleted or signed out since iat.
	CheckTokenUser(ctx context.Context, poolID, sub string, iat time.Time, raw map[string]any) error
}

// Pools are Behalf's user pools as issuers. A nil *Pools, or one without
// Keys or PublicURL, recognises no issuer.
type Pools struct {
	Keys      Keys
	PublicURL string // Behalf's public URL; a pool's issuer is PublicURL + "/" + poolId
}

// discoveryPath ends a pool's OpenID discovery URL.
const discoveryPath = "/.well-known/openid-configuration"

// PoolOf returns the pool id that the issuer iss names, if it is one of
// Behalf's pools' issuer URLs.
func (p *Pools) PoolOf(iss string) (string, bool) {
	if p == nil || p.Keys == nil || p.PublicURL == "" {
		return "", false
	}
	id, ok := strings.CutPrefix(iss, strings.TrimSuffix(p.PublicURL, "/")+"/")
	if !ok || id == "" || strings.ContainsAny(id, "/?#%") {
		return "", false
	}
	return id, true
}

// PoolOfDiscovery returns the pool id behind a discovery URL,
// {PublicURL}/{poolId}/.well-known/openid-configuration, if it is one.
func (p *Pools) PoolOfDiscovery(discoveryURL string) (string, bool) {
	iss, ok := strings.CutSuffix(discoveryURL, discoveryPath)
	if !ok {
		return "", false
	}
	return p.PoolOf(iss)
}

// Issuer returns the pool's issuer with its keys, for jwtverify. A pool
// that does not exist is ENOTFOUND; a store failure is returned as is.
func (p *Pools) Issuer(ctx context.Context, poolID string) (jwtverify.Issuer, error) {
	b, err := p.Keys.JWKS(ctx, poolID)
	if err != nil {
		return jwtverify.Issuer{}, err
	}
	keys, err := jwk.Parse(b)
	if err != nil {
		return jwtverify.Issuer{}, fmt.Errorf("parse pool %s key set: %w", poolID, err)
	}
	return jwtverify.Issuer{Issuer: strings.TrimSuffix(p.PublicURL, "/") + "/" + poolID, LocalKeys: keys}, nil
}

// CheckUser checks that the user (sub) of a verified token that iss issued
// at iat still stands, when iss is one of Behalf's pools; tokens of other
// issuers pass. raw is the token's claims, or nil when only the user and
// the issue time are known (a workload access token minted from it).
func (p *Pools) CheckUser(ctx context.Context, iss, sub string, iat time.Time, raw map[string]any) error {
	id, ok := p.PoolOf(iss)
	if !ok {
		return nil
	}
	return p.Keys.CheckTokenUser(ctx, id, sub, iat, raw)
}
