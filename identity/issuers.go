package identity

import (
	"context"
	"net/http"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/ttlcache"
	"github.com/behalf-dev/behalf/jwtverify"
	"github.com/behalf-dev/behalf/pooltoken"
)

// TrustedIssuers verifies users' JWTs against the issuers an admin trusts,
// caching the trusted list for IssuerCacheTTL so a removed issuer stops
// being accepted within that bound. Make one with NewTrustedIssuers.
type TrustedIssuers struct {
	store behalf.IssuerStore
	// pools makes every user pool a trusted issuer: tokens whose iss is
	// {PublicURL}/{poolId} verify against that pool's keys in process.
	pools    *pooltoken.Pools
	verifier *jwtverify.Verifier

	cache ttlcache.Cache[string, issuerEntry]
}

// NewTrustedIssuers returns the issuers registered in store and Behalf's
// user pools (nil: none); client fetches registered issuers' key sets.
func NewTrustedIssuers(store behalf.IssuerStore, client *http.Client, pools *pooltoken.Pools) *TrustedIssuers {
	t := &TrustedIssuers{store: store, pools: pools}
	t.verifier = &jwtverify.Verifier{HTTPClient: client, Lookup: t.lookup}
	return t
}

type issuerEntry struct {
	issuer jwtverify.Issuer
	found  bool
}

// IssuerCacheTTL bounds how long a removed issuer stays trusted.
const IssuerCacheTTL = 5 * time.Second

var _ UserVerifier = (*TrustedIssuers)(nil)

// poolIssuer returns the pool a Behalf user-pool issuer names, if iss is one.
func (t *TrustedIssuers) poolIssuer(ctx context.Context, iss string) (jwtverify.Issuer, bool, error) {
	id, ok := t.pools.PoolOf(iss)
	if !ok {
		return jwtverify.Issuer{}, false, nil
	}
	pi, err := t.pools.Issuer(ctx, id)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return jwtverify.Issuer{}, false, nil
	} else if err != nil {
		return jwtverify.Issuer{}, false, err
	}
	return pi, true, nil
}

// VerifyUser checks token and returns its user (issuer + subject) and expiry.
func (t *TrustedIssuers) VerifyUser(ctx context.Context, token string) (behalf.User, time.Time, error) {
	u, err := t.VerifyUserToken(ctx, token)
	return u.User, u.Expiry, err
}

// UserToken is what a verified user JWT says.
type UserToken struct {
	User   behalf.User
	Expiry time.Time
	// IssuedAt is when the token was issued (behalf.TokenIssuedAt: to the
	// microsecond for a Behalf user pool's access token); zero if it has
	// no iat.
	IssuedAt time.Time
}

// VerifyUserToken is VerifyUser, with the token's issue time.
func (t *TrustedIssuers) VerifyUserToken(ctx context.Context, token string) (UserToken, error) {
	c, err := t.verifier.Verify(ctx, token)
	if err != nil {
		if code := behalf.ErrorCode(err); code == behalf.EINTERNAL || code == behalf.EUNAVAILABLE {
			return UserToken{}, err // the issuer's keys could not be fetched: retry, not refuse
		}
		return UserToken{}, behalf.Errorf(behalf.EUNAUTHORIZED, "The user token was refused: %s", behalf.ErrorMessage(err))
	}
	if c.Subject == "" {
		return UserToken{}, behalf.Errorf(behalf.EUNAUTHORIZED, "The user token was refused: it has no subject.")
	}
	// A pool user disabled or signed out is refused within the pool's
	// cache bound, not only when the token expires.
	if err := t.pools.CheckUser(ctx, c.Issuer, c.Subject, c.IssuedAt, c.Raw); err != nil {
		if behalf.ErrorCode(err) == behalf.EINTERNAL {
			return UserToken{}, err
		}
		return UserToken{}, behalf.Errorf(behalf.EUNAUTHORIZED, "The user token was refused: %s", behalf.ErrorMessage(err))
	}
	return UserToken{User: c.User(), Expiry: c.Expiry, IssuedAt: behalf.TokenIssuedAt(c.IssuedAt, c.Raw)}, nil
}

// CheckUser checks, for a token of user issued at issuedAt and verified
// earlier (a workload access token minted from it carries both), that the
// user still stands: a Behalf user pool's user not disabled, deleted or
// signed out since, within userpool.TokenUserCacheTTL, by the check
// VerifyUser makes. Users of other issuers, and users named by id alone,
// are not checked. The error is the pool's: EUNAUTHORIZED for a refused
// user, EINTERNAL when the store failed.
func (t *TrustedIssuers) CheckUser(ctx context.Context, user behalf.User, issuedAt time.Time) error {
	return t.pools.CheckUser(ctx, user.Issuer, user.Subject, issuedAt, nil)
}

func (t *TrustedIssuers) lookup(ctx context.Context, iss string) (jwtverify.Issuer, error) {
	now := time.Now()
	e, ok := t.cache.Get(iss, now)
	if !ok {
		var err error
		if e, err = t.resolve(ctx, iss); err != nil {
			return jwtverify.Issuer{}, err
		}
		t.cache.Put(iss, e, now.Add(IssuerCacheTTL))
	}
	if !e.found {
		return jwtverify.Issuer{}, behalf.Errorf(behalf.ENOTFOUND, "The token's issuer is not trusted.")
	}
	return e.issuer, nil
}

// resolve finds iss among the user pools, then the registered issuers.
func (t *TrustedIssuers) resolve(ctx context.Context, iss string) (issuerEntry, error) {
	if pi, ok, err := t.poolIssuer(ctx, iss); err != nil || ok {
		return issuerEntry{issuer: pi, found: ok}, err
	}
	ti, err := t.store.GetIssuer(ctx, iss)
	switch {
	case err == nil:
		return issuerEntry{issuer: jwtverify.Issuer{Issuer: ti.Issuer, JWKSURI: ti.JWKSURI, Audiences: ti.Audiences}, found: true}, nil
	case behalf.ErrorCode(err) == behalf.ENOTFOUND:
		return issuerEntry{}, nil
	}
	return issuerEntry{}, err
}
