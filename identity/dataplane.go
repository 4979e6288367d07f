package identity

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/behalf-dev/behalf"
)

// Config is what New builds the data plane from.
type Config struct {
	Store  behalf.Store
	Sealer behalf.Sealer
	Signer WATSigner
	// Users verifies users' JWTs (TrustedIssuers). Tests that present
	// none may leave it nil: WATs' users are then not checked.
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
	// ClientKeys signs the client assertions of PRIVATE_KEY_JWT providers;
	// nil: such providers fail their token requests.
	ClientKeys *ClientKeys
}

// DataPlane answers agents (behalf.DataPlaneService): it verifies their
// workload access tokens with WATs and answers a token request from the
// Vault or with a consent session of Consent. It holds no state of its
// own but the provider cache; the roles hold theirs.
type DataPlane struct {
	wats    *WATs
	vault   *Vault
	consent *Consent
	// config reads providers (and, shared with wats, workloads).
	config  *configCache
	metrics Metrics
}

var _ behalf.DataPlaneService = (*DataPlane)(nil)

// New builds the data plane's roles from c, each with its final
// dependencies, and the facade over them.
func New(c Config) *DataPlane {
	metrics := c.Metrics
	if metrics == nil {
		metrics = noMetrics{}
	}
	config := &configCache{store: c.Store}
	clients := providerClients{sealer: c.Sealer, http: c.HTTPClient, publicURL: c.PublicURL, now: c.Now, keys: c.ClientKeys}
	audit := auditor{store: c.Store, log: c.Log, clock: c.Now, metrics: metrics}
	wats := &WATs{signer: c.Signer, users: c.Users, config: config, publicURL: c.PublicURL, clock: c.Now,
		subjects: c.Store, sealer: c.Sealer}
	vault := &Vault{store: c.Store, sealer: c.Sealer, clients: clients, audit: audit, log: c.Log, clock: c.Now, metrics: metrics}
	consent := &Consent{
		store: c.Store, sealer: c.Sealer, users: c.Users, vault: vault, clients: clients, audit: audit,
		log: c.Log, clock: c.Now, metrics: metrics, publicURL: c.PublicURL,
	}
	return &DataPlane{wats: wats, vault: vault, consent: consent, config: config, metrics: metrics}
}

// WATs mints and verifies the workload access tokens (the agent-runtime
// gateway mints with it).
func (d *DataPlane) WATs() *WATs { return d.wats }

// Vault is the token vault (the connections page and API list and revoke
// with it; the binary runs its usage flusher).
func (d *DataPlane) Vault() *Vault { return d.vault }

// Consent runs the consent flow (the browser's authorization, callback
// and binding pages; the binary's sweeper ends expired sessions with it).
func (d *DataPlane) Consent() *Consent { return d.consent }

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

// CompleteResourceTokenAuth binds a session's token to the vault if the
// user completing it started it (Consent).
func (d *DataPlane) CompleteResourceTokenAuth(ctx context.Context, sessionURI string, who behalf.UserIdentifier) error {
	return d.consent.CompleteResourceTokenAuth(ctx, sessionURI, who)
}
