package identity

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/ttlcache"
)

// UserVerifier checks a user's JWT from a trusted issuer and returns the
// user it names and when the token expires (TrustedIssuers does).
type UserVerifier interface {
	VerifyUser(ctx context.Context, token string) (behalf.User, time.Time, error)
	// VerifyUserToken is VerifyUser, with the token's issue time.
	VerifyUserToken(ctx context.Context, token string) (UserToken, error)
	// CheckUser refuses (EUNAUTHORIZED) the user of a token issued at
	// issuedAt when that user has since been disabled, deleted or signed
	// out, with VerifyUser's staleness bound.
	CheckUser(ctx context.Context, user behalf.User, issuedAt time.Time) error
}

// Config is what New builds the data plane from.
type Config struct {
	Store  behalf.Store
	Sealer behalf.Sealer
	Signer WATSigner
	// Users verifies users' JWTs; nil accepts none (and checks no WAT's user).
	Users UserVerifier
	Log   *slog.Logger
	// HTTPClient reaches providers' token endpoints (SSRF-guarded).
	HTTPClient *http.Client
	// PublicURL is Behalf's externally visible base URL, no trailing slash.
	PublicURL string
	// Now is the clock (nil: the system's).
	Now func() time.Time
	// Metrics counts token fetches, provider calls, sessions and refused
	// bindings (package observe); nil counts nothing.
	Metrics Metrics
}

// New builds the data plane from c.
func New(c Config) *DataPlane {
	config := &configCache{store: c.Store}
	return &DataPlane{
		Store: c.Store, Sealer: c.Sealer, Users: c.Users, Log: c.Log,
		HTTPClient: c.HTTPClient, PublicURL: c.PublicURL, Now: c.Now, Metrics: c.Metrics,
		config: config,
		wats:   &WATs{signer: c.Signer, users: c.Users, config: config, publicURL: c.PublicURL, clock: c.Now},
	}
}

// WATs mints and verifies the data plane's workload access tokens (the
// agent-runtime gateway mints with it).
func (d *DataPlane) WATs() *WATs { return d.wats }

// WorkloadAccessToken mints a WAT for the workload itself (WATs).
func (d *DataPlane) WorkloadAccessToken(ctx context.Context, workload string) (behalf.Secret, error) {
	return d.wats.WorkloadAccessToken(ctx, workload)
}

// WorkloadAccessTokenForJWT mints a WAT for the user a trusted JWT names (WATs).
func (d *DataPlane) WorkloadAccessTokenForJWT(ctx context.Context, workload string, userToken behalf.Secret) (behalf.Secret, error) {
	return d.wats.WorkloadAccessTokenForJWT(ctx, workload, userToken)
}

// WorkloadAccessTokenForUserID mints a WAT for a user id the caller asserts (WATs).
func (d *DataPlane) WorkloadAccessTokenForUserID(ctx context.Context, workload, userID string) (behalf.Secret, error) {
	return d.wats.WorkloadAccessTokenForUserID(ctx, workload, userID)
}

// DataPlane implements behalf.DataPlaneService and behalf.ConsentService:
// workload access tokens, the token vault, authorization sessions and
// session binding. Build it with New.
type DataPlane struct {
	Store  behalf.Store
	Sealer behalf.Sealer
	Users  UserVerifier
	Log    *slog.Logger
	// HTTPClient reaches providers' token endpoints (SSRF-guarded).
	HTTPClient *http.Client
	// PublicURL is Behalf's externally visible base URL, no trailing slash.
	PublicURL string
	Now       func() time.Time
	// Metrics counts token fetches, provider calls, sessions and refused bindings (package observe); nil counts nothing.
	Metrics Metrics

	refreshes singleflight.Group
	binds     singleflight.Group // BindInBrowser, per session and user
	m2m       m2mCache
	wats      *WATs
	config    *configCache // workloads and providers, shared with wats
	// usage counts token fetches until FlushUsage writes them (audit.go).
	usage usageLog
}

var (
	_ behalf.DataPlaneService = (*DataPlane)(nil)
	_ behalf.ConsentService   = (*DataPlane)(nil)
)

// Lifetimes and margins of the data plane.
const (
	SessionLifetime = 10 * time.Minute
	// StaleMargin: a token within this of its expiry is refreshed first.
	StaleMargin = 60 * time.Second
	// RefreshLease bounds how long one refresher may hold a grant (and how
	// long a crashed refresher blocks an expired grant); provider calls time
	// out after 10 s.
	RefreshLease = 15 * time.Second
)

// clock is the data plane's time (Config.Now; nil: the system's), in UTC
// to the microsecond as the store keeps it.
type clock func() time.Time

func (c clock) now() time.Time {
	if c != nil {
		return c().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (d *DataPlane) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (d *DataPlane) callbackURL(p *behalf.OAuth2Provider) string {
	return d.PublicURL + "/identities/oauth2/callback/" + p.ID
}

// m2mCache keeps client-credentials tokens per workload × provider × scopes
// until shortly before they expire.
type m2mCache struct {
	tokens ttlcache.Cache[string, behalf.Secret]
	group  singleflight.Group
}

func m2mKey(workload, providerID string, scopes []string) string {
	return workload + "\x00" + providerID + "\x00" + strings.Join(scopes, " ")
}
