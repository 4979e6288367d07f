package behalf

import (
	"context"
	"time"
)

// TrustedIssuer is an external OpenID provider whose JWTs Behalf accepts
// for GetWorkloadAccessTokenForJWT and CompleteResourceTokenAuth.
type TrustedIssuer struct {
	Issuer       string // exactly as in tokens' iss claim
	DiscoveryURL string
	JWKSURI      string
	// Audiences, when set, are the only aud values accepted.
	Audiences []string
	CreatedAt time.Time
}

// IssuerStore persists trusted issuers.
type IssuerStore interface {
	// CreateIssuer returns ECONFLICT if the issuer exists.
	CreateIssuer(ctx context.Context, i *TrustedIssuer) error
	// GetIssuer returns ENOTFOUND.
	GetIssuer(ctx context.Context, issuer string) (*TrustedIssuer, error)
	// ListIssuers returns all trusted issuers by issuer.
	ListIssuers(ctx context.Context) ([]*TrustedIssuer, error)
	// DeleteIssuer returns ENOTFOUND.
	DeleteIssuer(ctx context.Context, issuer string) error
}
