package behalf

import (
	"context"
	"time"
)

// Consent portal statuses (AgentCore's ConsentPortalStatus). Behalf has
// nothing to provision: a portal is ACTIVE once created or updated.
const (
	ConsentPortalActive = "ACTIVE"
)

// ConsentPortalSourceGateway is the only ConsentPortalSource type.
const ConsentPortalSourceGateway = "agentcore-gateway"

// ConsentPortal is a page at {public-url}/consent-portals/{ID} where a
// gateway's users sign in and connect (or disconnect) each of its
// AUTHORIZATION_CODE targets (AgentCore's ConsentPortal).
type ConsentPortal struct {
	// ID is "<name>-<10 alphanumerics>".
	ID string
	// Name is unique; 1–50 of [a-zA-Z0-9_-].
	Name        string
	Description string
	// ExecutionRoleARN is recorded only.
	ExecutionRoleARN string
	// Provider is the OAuth2 credential provider (by name) users sign in
	// to the portal with: its issuer must be the gateway authorizer's.
	Provider string
	// Scopes are requested at sign-in besides openid; Audience is recorded.
	Scopes   []string
	Audience string
	// GatewayID is the portal's one source.
	GatewayID string
	Tags      map[string]string
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ConsentPortalARN returns the ARN of the portal with id.
func ConsentPortalARN(region, account, id string) string {
	return "arn:aws:bedrock-agentcore:" + region + ":" + account + ":consent-portal/" + id
}

// ConsentPortalPath is a portal's page under the public URL.
func ConsentPortalPath(id string) string { return "/consent-portals/" + id }

// ConsentPortalStore persists consent portals.
type ConsentPortalStore interface {
	// CreateConsentPortal inserts p. ECONFLICT if its id or name exists, or
	// its gateway has a portal already.
	CreateConsentPortal(ctx context.Context, p *ConsentPortal) error
	// GetConsentPortal returns the portal with id, or ENOTFOUND.
	GetConsentPortal(ctx context.Context, id string) (*ConsentPortal, error)
	// UpdateConsentPortal applies fn in one transaction; ID, Name,
	// GatewayID and CreatedAt cannot change. ENOTFOUND or fn's error.
	UpdateConsentPortal(ctx context.Context, id string, fn func(*ConsentPortal) error) (*ConsentPortal, error)
	// DeleteConsentPortal deletes the portal with id, or ENOTFOUND.
	DeleteConsentPortal(ctx context.Context, id string) error
	// ListConsentPortals returns portals ordered by ID.
	ListConsentPortals(ctx context.Context, opt ListOptions) ([]*ConsentPortal, error)
}

// ConsentPortalInput is what an admin sets on a portal. On update Name and
// GatewayID are ignored, and the others replace the stored values.
type ConsentPortalInput struct {
	Name             string
	Description      string
	ExecutionRoleARN string
	// ProviderARN is idpConfig.credentialProviderArn.
	ProviderARN string
	Scopes      []string
	Audience    string
	// GatewayID is sources[0].identifier (id or ARN).
	GatewayID string
	Tags      map[string]string
}

// ConsentPortalService manages consent portals.
type ConsentPortalService interface {
	// CreateConsentPortal returns EINVALID, ENOTFOUND (provider, gateway)
	// or ECONFLICT.
	CreateConsentPortal(ctx context.Context, in ConsentPortalInput) (*ConsentPortal, error)
	// GetConsentPortal takes an id or ARN. EINVALID or ENOTFOUND.
	GetConsentPortal(ctx context.Context, id string) (*ConsentPortal, error)
	// UpdateConsentPortal replaces the description, role and IdP config.
	UpdateConsentPortal(ctx context.Context, id string, in ConsentPortalInput) (*ConsentPortal, error)
	// DeleteConsentPortal returns EINVALID or ENOTFOUND.
	DeleteConsentPortal(ctx context.Context, id string) error
	// ListConsentPortals returns one page, by id.
	ListConsentPortals(ctx context.Context, page PageRequest) ([]*ConsentPortal, string, error)
}

// ConsentPortalSignIn is the OpenID client a portal signs its users in
// with: its credential provider's issuer, client and scopes.
type ConsentPortalSignIn struct {
	Issuer       string
	ClientID     string
	ClientSecret Secret
	Scopes       []string
}

// ConsentPortalTarget is a gateway target that acts with its users' own
// tokens (OAUTH AUTHORIZATION_CODE), as a portal lists it.
type ConsentPortalTarget struct {
	ID, Name, Description string
	// Provider is the credential provider's name; Scopes its scopes.
	Provider string
	Scopes   []string
	// AuthorizationOrigin is the origin (scheme://host[:port]) of the
	// provider's authorization endpoint, where Connect leads.
	AuthorizationOrigin string
}

// ConsentPortalPage is what a portal's page shows before its user is known.
type ConsentPortalPage struct {
	Portal      *ConsentPortal
	GatewayName string
	// Workload is the gateway's workload identity: users' grants for its
	// targets are stored under it.
	Workload string
	SignIn   ConsentPortalSignIn
	Targets  []ConsentPortalTarget
}

// ConsentPortalPages serves portals' pages.
type ConsentPortalPages interface {
	// ConsentPortalPage returns a portal's page: ENOTFOUND for an unknown
	// portal (or one whose gateway is gone).
	ConsentPortalPage(ctx context.Context, id string) (*ConsentPortalPage, error)
	// StartConsent starts user's consent to a target of the portal's
	// gateway through the data plane, as the gateway's workload, returning
	// to Behalf's binding page. It returns the authorization URL, or "" if
	// the user is connected already. ENOTFOUND for an unknown target.
	StartConsent(ctx context.Context, portalID, targetID string, user User) (string, error)
}
