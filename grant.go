package behalf

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// User identifies the human an agent acts for: the issuer and subject of
// the user's JWT, or (Issuer empty) a user id asserted by a trusted caller.
type User struct {
	Issuer  string
	Subject string
}

// Key returns a string that identifies the user unambiguously, for storage.
func (u User) Key() string {
	return fmt.Sprintf("%d:%s%s", len(u.Issuer), u.Issuer, u.Subject)
}

// IsZero reports whether no user is named.
func (u User) IsZero() bool { return u.Issuer == "" && u.Subject == "" }

// UserOfKey is the User whose Key is key; false if key is not one.
func UserOfKey(key string) (User, bool) {
	n, rest, ok := strings.Cut(key, ":")
	if !ok || n == "" || len(n) > 10 || strings.TrimLeft(n, "0123456789") != "" || (len(n) > 1 && n[0] == '0') {
		return User{}, false
	}
	l, err := strconv.Atoi(n)
	if err != nil || l > len(rest) {
		return User{}, false
	}
	return User{Issuer: rest[:l], Subject: rest[l:]}, true
}

// Display names the user for people: the user id, or the subject and the
// issuer without its scheme ("f7fc2e4c… at auth.example.com/us-east-1_abc").
func (u User) Display() string {
	if u.Issuer == "" {
		return u.Subject
	}
	iss := strings.TrimPrefix(strings.TrimPrefix(u.Issuer, "https://"), "http://")
	return u.Subject + " at " + iss
}

// Grant is one user's third-party token in the vault, for one workload and
// one credential provider.
type Grant struct {
	ID         string
	Workload   string
	UserKey    string // User.Key()
	ProviderID string // OAuth2Provider.ID, so a re-created provider never reads old grants
	// Exchange is "" for a grant the user consented to, and for the result
	// of an on-behalf-of exchange a key of what was asked (scopes,
	// audiences, resources, parameters): one grant per
	// workload × user × provider × Exchange.
	Exchange string
	Scopes   []string
	// Account names the provider account the token belongs to, as the
	// provider's userinfo endpoint gave it (email, login or name); "" when
	// the provider gave none.
	Account string
	// Token is the sealed TokenSet, bound to GrantSeal(Workload, UserKey, ProviderID).
	Token      Sealed
	ExpiresAt  time.Time // access-token expiry; zero when the provider gave none
	HasRefresh bool
	// RefreshLease, when in the future, says one refresher holds this grant.
	RefreshLease time.Time
	// InterruptedLease is the end of a refresh lease that ran out without
	// being released (its refresher died mid-refresh, or overran the
	// lease), as recorded by the ClaimGrantRefresh that took it over; zero
	// when there was none since the last completed refresh. A refresh the
	// provider refuses after one may have used a refresh token that the
	// provider had rotated in an answer that was never stored.
	InterruptedLease time.Time
	Version          int64 // incremented by every write
	CreatedAt        time.Time
	UpdatedAt        time.Time
	RefreshedAt      time.Time
	// LastUsedAt is when an agent last fetched the token from the vault, as
	// of the data plane's last flush (TouchGrants); zero if never.
	LastUsedAt time.Time
}

// GrantSeal is the seal context of a grant's token: it binds the token to
// its workload, user and provider, so a token copied to another user's row
// does not open.
func GrantSeal(workload, userKey, providerID string) SealContext {
	return SealContext{Kind: "grant", Key: fmt.Sprintf("%d:%s%d:%s%s", len(workload), workload, len(userKey), userKey, providerID), Field: "token"}
}

// GrantSealOf is the seal context of g's token: GrantSeal for a consent
// grant, and for an exchange grant the same bound to its Exchange too.
func GrantSealOf(g *Grant) SealContext {
	sc := GrantSeal(g.Workload, g.UserKey, g.ProviderID)
	if g.Exchange != "" {
		sc.Key += "\x00" + g.Exchange
	}
	return sc
}

// TokenSet is what a provider's token endpoint returned; it is only ever
// held sealed or in memory. It has no JSON form of its own: Secret fields
// redact themselves, so sealing code encodes it explicitly.
type TokenSet struct {
	AccessToken  Secret
	TokenType    string
	RefreshToken Secret
	IDToken      Secret
	Expiry       time.Time
	Scopes       []string
}

// GrantStore persists grants.
type GrantStore interface {
	// GetGrant returns the consent grant (Exchange "") for workload × user ×
	// provider, or ENOTFOUND.
	GetGrant(ctx context.Context, workload, userKey, providerID string) (*Grant, error)
	// GetExchangeGrant returns the grant for workload × user × provider ×
	// exchange ("" is GetGrant), or ENOTFOUND.
	GetExchangeGrant(ctx context.Context, workload, userKey, providerID, exchange string) (*Grant, error)
	// PutGrant inserts g, replacing any grant with the same workload × user ×
	// provider × exchange, in one transaction.
	PutGrant(ctx context.Context, g *Grant) error
	// UpdateGrant applies fn to the grant with id inside one transaction and
	// increments Version. Returns ENOTFOUND or fn's error.
	UpdateGrant(ctx context.Context, id string, fn func(*Grant) error) (*Grant, error)
	// ClaimGrantRefresh sets RefreshLease to until if the grant has no
	// lease later than now, and reports whether this caller got it. It is
	// the cross-replica lock that makes one refresh per grant at a time.
	// Taking over a lease that ran out unreleased (non-zero, not later
	// than now) records its end in InterruptedLease.
	ClaimGrantRefresh(ctx context.Context, id string, now, until time.Time) (bool, error)
	// CompleteGrantRefresh stores what a refresh got, in one statement:
	// Token, ExpiresAt and Scopes as given, HasRefresh true, RefreshedAt
	// and UpdatedAt at, RefreshLease and InterruptedLease zero (the lease
	// is released), Version incremented. It returns ENOTFOUND.
	CompleteGrantRefresh(ctx context.Context, id string, token Sealed, expiresAt time.Time, scopes []string, at time.Time) error
	// DeleteGrant returns ENOTFOUND.
	DeleteGrant(ctx context.Context, id string) error
	// ListGrants returns a user's grants ("" user: all), by workload then provider.
	ListGrants(ctx context.Context, userKey string) ([]*Grant, error)
	// GetGrantByID returns the grant with id, or ENOTFOUND.
	GetGrantByID(ctx context.Context, id string) (*Grant, error)
	// TouchGrants records when grants were last used: each grant's
	// LastUsedAt becomes the later of its stored value and the given time.
	// It is not a write in UpdateGrant's sense (Version is unchanged), and
	// ids of grants that no longer exist are ignored.
	TouchGrants(ctx context.Context, lastUsed map[string]time.Time) error
}

// SubjectToken is the user's JWT a workload access token was minted from
// (GetWorkloadAccessTokenForJWT), kept sealed server-side for the WAT's
// lifetime so that an on-behalf-of exchange can present it; the WAT carries
// only ID, never the JWT. Every WAT minted from one JWT shares one record.
type SubjectToken struct {
	ID        string // a hash of the JWT: the WAT's subject_ref claim
	Token     Sealed // sealed under SubjectTokenSeal(ID)
	ExpiresAt time.Time
}

// SubjectTokenSeal is the seal context of a subject token.
func SubjectTokenSeal(id string) SealContext {
	return SealContext{Kind: "wat-subject", Key: id, Field: "user_token"}
}

// SubjectTokenStore keeps subject tokens.
type SubjectTokenStore interface {
	// PutSubjectToken stores t; if its id exists (the same user JWT, kept
	// for an earlier WAT), only a later ExpiresAt is taken.
	PutSubjectToken(ctx context.Context, t *SubjectToken) error
	// GetSubjectToken returns the token with id, or ENOTFOUND. One that
	// has expired but is not yet deleted is returned: callers check
	// ExpiresAt.
	GetSubjectToken(ctx context.Context, id string) (*SubjectToken, error)
	// DeleteExpiredSubjectTokens deletes those that expired before t and
	// reports how many.
	DeleteExpiredSubjectTokens(ctx context.Context, t time.Time) (int64, error)
}
