package agentruntime

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/internal/ttlcache"
	"github.com/behalf-dev/behalf/jwtverify"
	"github.com/behalf-dev/behalf/pooltoken"
)

// A runtime's customJWTAuthorizer is checked in two steps. The token must
// verify (signature with a key of the issuer's JWKS, an allowed algorithm,
// iss equal to the issuer of the runtime's discovery document, exp not
// past, a subject): otherwise 401 UnauthorizedException. Then each
// configured list must admit it: allowedClients its client_id,
// allowedAudience one of its aud values, allowedScopes one of its scope
// (or scp) values, and every customClaims rule its claim: otherwise 403
// AccessDeniedException. Unset lists check nothing.
//
// All runtimes share one jwtverify.Verifier, hence one key-set cache per
// JWKS URI; the issuer a token must come from is the one the invoked
// runtime's discovery document names, passed to the verifier's Lookup in
// the context.

var errNoBearer = unauthorized("Missing bearer token: this agent runtime requires Authorization: Bearer <JWT>.")

// unauthorized returns the 401 of a missing or invalid bearer token.
func unauthorized(msg string) error {
	return &behalf.Error{Code: behalf.EUNAUTHORIZED, Message: msg}
}

type issuerKey struct{}

// expectedIssuer is the verifier's Lookup: the one issuer the invoked
// runtime trusts.
func expectedIssuer(ctx context.Context, iss string) (jwtverify.Issuer, error) {
	want, ok := ctx.Value(issuerKey{}).(jwtverify.Issuer)
	if !ok || want.Issuer != iss {
		return jwtverify.Issuer{}, behalf.Errorf(behalf.ENOTFOUND, "The token's issuer is not the agent runtime's.")
	}
	return want, nil
}

// checkJWT verifies a bearer token and checks it against the authorizer.
func (g *Gateway) checkJWT(ctx context.Context, a *behalf.JWTAuthorizer, token string) (jwtverify.Claims, error) {
	if token == "" {
		return jwtverify.Claims{}, errNoBearer
	}
	c, err := g.auth.Verify(ctx, a.DiscoveryURL, token)
	if err != nil {
		return jwtverify.Claims{}, err
	}
	if err := authorizeClaims(a, c); err != nil {
		return jwtverify.Claims{}, err
	}
	return c, nil
}

// Authorizer verifies bearer JWTs against the issuer a customJWTAuthorizer's
// discovery URL names: the agent-runtime gateway's and the MCP gateway's
// (package gateway) inbound check. Set its fields before the first use;
// it is safe for concurrent use.
type Authorizer struct {
	// HTTPClient fetches discovery documents and key sets; it should come
	// from safehttp.NewClient (nil: one that refuses private addresses).
	HTTPClient *http.Client
	// Pools verifies the tokens of Behalf's own user pools in process.
	Pools *pooltoken.Pools
	Log   *slog.Logger
	// Now is the clock for JWT times; nil means time.Now.
	Now func() time.Time

	once     sync.Once
	client   *http.Client
	verifier *jwtverify.Verifier
	issuers  issuerCache
}

func (g *Authorizer) init() {
	g.once.Do(func() {
		g.client = g.HTTPClient
		if g.client == nil {
			g.client = safehttp.NewClient(safehttp.Options{})
		}
		g.verifier = &jwtverify.Verifier{HTTPClient: g.client, Now: g.Now, Lookup: expectedIssuer}
		if g.Log == nil {
			g.Log = slog.New(slog.DiscardHandler)
		}
	})
}

func (g *Authorizer) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// Verify checks token: signed with a key of the issuer discoveryURL names,
// iss that issuer, not expired, and (for a user pool's token) its user
// still standing. It returns the token's claims, EUNAUTHORIZED for a
// token to refuse, or EUNAVAILABLE when the issuer cannot be reached. The
// authorizer's allow lists are the caller's to apply (AuthorizeClaims).
func (g *Authorizer) Verify(ctx context.Context, discoveryURL, token string) (jwtverify.Claims, error) {
	g.init()
	if token == "" {
		return jwtverify.Claims{}, unauthorized("Missing bearer token.")
	}
	iss, err := g.issuer(ctx, discoveryURL)
	if err != nil {
		return jwtverify.Claims{}, err
	}
	// The verifier remembers a token whose signature verified until its
	// exp, and checks again at every use that the issuer's current keys
	// still hold the key it verified with (jwtverify.Verifier.Verify).
	c, err := g.verifier.Verify(context.WithValue(ctx, issuerKey{}, iss), token)
	if err != nil {
		if code := behalf.ErrorCode(err); code == behalf.EUNAUTHORIZED {
			return jwtverify.Claims{}, unauthorized(behalf.ErrorMessage(err))
		} else if code == behalf.EUNAVAILABLE {
			return jwtverify.Claims{}, err
		}
		g.Log.ErrorContext(ctx, "verify bearer token", "err", err)
		return jwtverify.Claims{}, errIdPDown
	}
	// Verified claims are cached until exp; the user's state is not.
	if err := g.Pools.CheckUser(ctx, c.Issuer, c.Subject, c.IssuedAt, c.Raw); err != nil {
		if behalf.ErrorCode(err) == behalf.EUNAUTHORIZED {
			return jwtverify.Claims{}, unauthorized(behalf.ErrorMessage(err))
		}
		g.Log.ErrorContext(ctx, "check pool token user", "err", err)
		return jwtverify.Claims{}, errIdPDown
	}
	return c, nil
}

// Issuer returns the issuer identifier discoveryURL names (cached as
// Verify caches it), or EUNAUTHORIZED / EUNAVAILABLE.
func (g *Authorizer) Issuer(ctx context.Context, discoveryURL string) (string, error) {
	g.init()
	iss, err := g.issuer(ctx, discoveryURL)
	return iss.Issuer, err
}

// AuthorizeClaims applies a's allow lists to verified claims as an agent
// runtime does: EFORBIDDEN naming the first list that refuses them.
func AuthorizeClaims(a *behalf.JWTAuthorizer, c jwtverify.Claims) error { return authorizeClaims(a, c) }

// ClaimMatches reports whether a claim's JSON value satisfies rule.
func ClaimMatches(rule behalf.ClaimRule, v any) bool { return claimMatches(rule, v) }

// authorizeClaims applies the authorizer's allow lists to verified claims.
func authorizeClaims(a *behalf.JWTAuthorizer, c jwtverify.Claims) error {
	if len(a.AllowedClients) > 0 && !slices.Contains(a.AllowedClients, c.ClientID) {
		return denied("The token's client_id is not allowed by the agent runtime's authorizer.")
	}
	if len(a.AllowedAudience) > 0 && !slices.ContainsFunc(c.Audience, func(aud string) bool { return slices.Contains(a.AllowedAudience, aud) }) {
		return denied("The token's audience is not allowed by the agent runtime's authorizer.")
	}
	if len(a.AllowedScopes) > 0 && !slices.ContainsFunc(c.Scope, func(s string) bool { return slices.Contains(a.AllowedScopes, s) }) {
		return denied("The token has none of the scopes the agent runtime's authorizer allows.")
	}
	for _, rule := range a.CustomClaims {
		if !claimMatches(rule, c.Raw[rule.Name]) {
			return denied("The token's claim " + quote(rule.Name) + " does not satisfy the agent runtime's authorizer.")
		}
	}
	return nil
}

func denied(msg string) error {
	return &behalf.Error{Code: behalf.EFORBIDDEN, Message: msg}
}

func quote(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "'") + "\"" }

// claimMatches applies one custom-claim rule to a claim's JSON value:
// STRING EQUALS (the claim is Value), STRING CONTAINS_ANY (the claim is one
// of Values), STRING_ARRAY CONTAINS (the claim's array holds Value) and
// STRING_ARRAY CONTAINS_ANY (it holds one of Values). Anything else,
// including a claim of another JSON type, does not match.
func claimMatches(rule behalf.ClaimRule, v any) bool {
	switch rule.ValueType {
	case behalf.ClaimString:
		s, ok := v.(string)
		if !ok {
			return false
		}
		switch rule.Operator {
		case behalf.ClaimEquals:
			return s == rule.Value
		case behalf.ClaimContainsAny:
			return slices.Contains(rule.Values, s)
		}
	case behalf.ClaimStringArray:
		arr, ok := v.([]any)
		if !ok {
			return false
		}
		has := func(want string) bool {
			return slices.ContainsFunc(arr, func(x any) bool { s, ok := x.(string); return ok && s == want })
		}
		switch rule.Operator {
		case behalf.ClaimContains:
			return has(rule.Value)
		case behalf.ClaimContainsAny:
			return slices.ContainsFunc(rule.Values, has)
		}
	}
	return false
}

var errIdPDown = &behalf.Error{Code: behalf.EUNAVAILABLE, Retry: 5 * time.Second,
	Message: "The agent runtime's authorizer could not reach its identity provider; try again later."}

// issuerCache keeps each discovery URL's issuer for DiscoveryCacheTTL, a
// failure for DiscoveryRetry; concurrent fetches of one URL share one.
type issuerCache struct {
	entries ttlcache.Cache[string, issuerResult]
	group   singleflight.Group
}

type issuerResult struct {
	iss jwtverify.Issuer
	err error
}

// issuer returns the issuer behind a runtime's discovery URL: one of
// Behalf's user pools (keys read in process, cached for PoolKeysTTL), else
// what the discovery document names (cached for DiscoveryCacheTTL).
func (g *Authorizer) issuer(ctx context.Context, discoveryURL string) (jwtverify.Issuer, error) {
	if res, ok := g.issuers.entries.Get(discoveryURL, g.now()); ok {
		return res.iss, res.err
	}
	v, _, _ := g.issuers.group.Do(discoveryURL, func() (any, error) {
		if res, ok := g.issuers.entries.Get(discoveryURL, g.now()); ok {
			return res, nil
		}
		ctx := context.WithoutCancel(ctx) // others may wait on this fetch
		var res issuerResult
		var ttl time.Duration
		if poolID, ok := g.Pools.PoolOfDiscovery(discoveryURL); ok {
			res, ttl = g.poolIssuer(ctx, poolID), PoolKeysTTL
		} else {
			iss, err := jwtverify.Discover(ctx, g.client, discoveryURL)
			res, ttl = issuerResult{iss: iss}, DiscoveryCacheTTL
			if err != nil {
				g.Log.WarnContext(ctx, "agent runtime authorizer: discovery failed", "discovery_url", discoveryURL, "err", err)
				res, ttl = issuerResult{err: errIdPDown}, DiscoveryRetry
			}
		}
		g.issuers.entries.Put(discoveryURL, res, g.now().Add(ttl))
		return res, nil
	})
	res := v.(issuerResult)
	return res.iss, res.err
}

// poolIssuer reads a user pool's keys; a deleted pool's tokens are refused.
func (g *Authorizer) poolIssuer(ctx context.Context, poolID string) issuerResult {
	iss, err := g.Pools.Issuer(ctx, poolID)
	switch {
	case err == nil:
		return issuerResult{iss: iss}
	case behalf.ErrorCode(err) == behalf.ENOTFOUND:
		return issuerResult{err: unauthorized(jwtverify.MsgUntrusted)}
	}
	g.Log.ErrorContext(ctx, "agent runtime authorizer: user pool keys", "pool", poolID, "err", err)
	return issuerResult{err: errIdPDown}
}
