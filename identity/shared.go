package identity

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/oauth"
)

// What the data plane's roles share: the user verifier's interface, the
// clock, the audit log and the providers' outbound OAuth clients.

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

// clock is the data plane's time (Config.Now; nil: the system's), in UTC
// to the microsecond as the store keeps it.
type clock func() time.Time

func (c clock) now() time.Time {
	if c != nil {
		return c().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// auditor appends audit events, stamped with the time and (unless set) the
// caller's access key, and counts those that are also metrics.
type auditor struct {
	store interface {
		AppendAudit(context.Context, *behalf.AuditEvent) error
	}
	log     *slog.Logger
	clock   clock
	metrics Metrics
}

// record appends e; a failure is logged, never returned.
func (a auditor) record(ctx context.Context, e *behalf.AuditEvent) {
	countAudit(a.metrics, e)
	e.Time = a.clock.now()
	if p, ok := behalf.PrincipalFrom(ctx); ok && e.Actor == "" {
		e.Actor = p.AccessKeyID
	}
	if err := a.store.AppendAudit(ctx, e); err != nil {
		a.log.ErrorContext(ctx, "append audit event", "kind", e.Kind, "err", err)
	}
}

// providerClients builds providers' outbound OAuth clients.
type providerClients struct {
	sealer behalf.Sealer
	// http reaches providers' endpoints (SSRF-guarded).
	http *http.Client
	// publicURL is Behalf's externally visible base URL: the callback's.
	publicURL string
	now       func() time.Time
	// keys signs PRIVATE_KEY_JWT providers' client assertions.
	keys *ClientKeys
}

// client builds the outbound OAuth client for p, with its secret.
func (c providerClients) client(ctx context.Context, p *behalf.OAuth2Provider) (*oauth.Client, error) {
	vendor, ok := oauth.VendorFor(p.Vendor, p.TenantID)
	if !ok {
		return nil, fmt.Errorf("provider %s: vendor %s unknown", p.Name, p.Vendor)
	}
	vendor.Metadata = p.Metadata
	var secret behalf.Secret
	if len(p.ClientSecret) > 0 {
		b, err := c.sealer.Open(ctx, behalf.SealContext{Kind: providerSealKind, Key: p.ID, Field: "client_secret"}, p.ClientSecret)
		if err != nil {
			return nil, fmt.Errorf("open client secret of %s: %w", p.Name, err)
		}
		secret = behalf.Secret(b)
	}
	client := &oauth.Client{Provider: p, Vendor: vendor, ClientSecret: secret, RedirectURL: c.callbackURL(p), HTTP: c.http, Now: c.now}
	if p.ClientAuthMethod == behalf.ClientPrivateKeyJWT {
		if c.keys == nil {
			return nil, fmt.Errorf("provider %s uses PRIVATE_KEY_JWT but the data plane has no ClientKeys", p.Name)
		}
		client.ClientAssertion = func(ctx context.Context) (string, error) { return c.keys.Assertion(ctx, p) }
	}
	return client, nil
}

// callbackURL is where p redirects browsers back to Behalf.
func (c providerClients) callbackURL(p *behalf.OAuth2Provider) string {
	return c.publicURL + "/identities/oauth2/callback/" + p.ID
}
