package identity

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/behalf-dev/behalf"
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
	metrics := c.Metrics
	if metrics == nil {
		metrics = noMetrics{}
	}
	config := &configCache{store: c.Store}
	clients := providerClients{sealer: c.Sealer, http: c.HTTPClient, publicURL: c.PublicURL, now: c.Now}
	audit := auditor{store: c.Store, log: c.Log, clock: c.Now, metrics: metrics}
	return &DataPlane{
		Store: c.Store, Sealer: c.Sealer, Users: c.Users, Log: c.Log,
		PublicURL: c.PublicURL, Now: c.Now, Metrics: c.Metrics,
		config: config, clients: clients, audit: audit,
		wats:  &WATs{signer: c.Signer, users: c.Users, config: config, publicURL: c.PublicURL, clock: c.Now},
		vault: &Vault{store: c.Store, sealer: c.Sealer, clients: clients, audit: audit, log: c.Log, clock: c.Now, metrics: metrics},
	}
}

// Vault is the token vault: users' grants, their refresh, M2M tokens, API
// keys, the connections page's list and revocation, the fetch audit.
func (d *DataPlane) Vault() *Vault { return d.vault }

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
	// PublicURL is Behalf's externally visible base URL, no trailing slash.
	PublicURL string
	Now       func() time.Time
	// Metrics counts token fetches, provider calls, sessions and refused bindings (package observe); nil counts nothing.
	Metrics Metrics

	binds   singleflight.Group // BindInBrowser, per session and user
	wats    *WATs
	vault   *Vault
	config  *configCache // workloads and providers, shared with wats
	clients providerClients
	audit   auditor
}

var (
	_ behalf.DataPlaneService = (*DataPlane)(nil)
	_ behalf.ConsentService   = (*DataPlane)(nil)
)

// Lifetimes and margins of the data plane.
const (
	SessionLifetime = 10 * time.Minute
)

func (d *DataPlane) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}
