package behalf

import (
	"context"
	"time"
)

// UserPoolDomain is a domain of a user pool (Cognito's
// DomainDescriptionType): a host name under which the pool's hosted login
// and OAuth 2.0 endpoints are served, besides {public-url}/{pool id}. A
// pool has at most one prefix domain and one custom domain; names are
// unique across pools.
type UserPoolDomain struct {
	// Domain is a prefix domain's prefix (e.g. "myapp", served at
	// myapp.{the operator's suffix}) or a custom domain's fully qualified
	// name (e.g. "auth.example.com"), in lower case.
	Domain string
	PoolID string
	// Custom is true for a custom domain (CustomDomainConfig given).
	Custom bool
	// CertificateARN is a custom domain's CustomDomainConfig.CertificateArn,
	// kept and reported only: TLS is the operator's.
	CertificateARN string
	// ManagedLoginVersion is 1 (hosted UI, classic) or 2 (managed login);
	// Behalf serves the same login page for both.
	ManagedLoginVersion int
	CreatedAt           time.Time
	UpdatedAt           time.Time

	// URL is where Behalf serves the domain now, e.g.
	// https://myapp.auth.example.com; "" when its configuration does not
	// serve it. The user pool service sets it; stores neither keep nor set it.
	URL string
}

// UserPoolDomainStore persists user pool domains. Deleting a pool deletes
// its domains.
type UserPoolDomainStore interface {
	// CreateUserPoolDomain returns ECONFLICT if the name is taken (by any
	// pool) or the pool has a domain of that kind (prefix or custom), and
	// ENOTFOUND if there is no such pool.
	CreateUserPoolDomain(ctx context.Context, d *UserPoolDomain) error
	// GetUserPoolDomain finds a domain by name, in any pool (ENOTFOUND).
	GetUserPoolDomain(ctx context.Context, domain string) (*UserPoolDomain, error)
	// UpdateUserPoolDomain applies fn in one transaction; Domain, PoolID,
	// Custom and CreatedAt keep their stored values. ENOTFOUND, or fn's
	// error unchanged.
	UpdateUserPoolDomain(ctx context.Context, domain string, fn func(*UserPoolDomain) error) (*UserPoolDomain, error)
	// DeleteUserPoolDomain deletes a domain of pool poolID; ENOTFOUND if
	// that pool has no domain of that name.
	DeleteUserPoolDomain(ctx context.Context, poolID, domain string) error
	// ListUserPoolDomains returns a pool's domains (none, one or two),
	// prefix domain first.
	ListUserPoolDomains(ctx context.Context, poolID string) ([]*UserPoolDomain, error)
}

// UserPoolDomainInput creates or updates a user pool domain
// (CreateUserPoolDomain, UpdateUserPoolDomain).
type UserPoolDomainInput struct {
	PoolID string
	Domain string
	// CustomDomainConfig: nil for a prefix domain (or, on update, to keep
	// the certificate); its CertificateArn must be set.
	CertificateARN *string
	// ManagedLoginVersion 0 means 1 on create and unchanged on update.
	ManagedLoginVersion int
}

// UserPoolDomainService manages user pool domains; its errors are
// CognitoErrors as the other UserPoolService methods'.
type UserPoolDomainService interface {
	// CreateUserPoolDomain adds a prefix or custom domain that the
	// operator's configuration serves; anything else, a name taken, or a
	// second domain of the same kind is InvalidParameterException.
	CreateUserPoolDomain(ctx context.Context, in UserPoolDomainInput) (*UserPoolDomain, error)
	// DescribeUserPoolDomain finds a domain by name; ResourceNotFoundException
	// if there is none (Cognito's wire answer is then an empty description).
	DescribeUserPoolDomain(ctx context.Context, domain string) (*UserPoolDomain, error)
	// UpdateUserPoolDomain replaces a custom domain's certificate ARN and
	// either kind's managed login version.
	UpdateUserPoolDomain(ctx context.Context, in UserPoolDomainInput) (*UserPoolDomain, error)
	// DeleteUserPoolDomain stops serving a domain and frees its name.
	DeleteUserPoolDomain(ctx context.Context, poolID, domain string) error
	// UserPoolDomains returns a pool's domains, prefix domain first
	// (DescribeUserPool's Domain and CustomDomain).
	UserPoolDomains(ctx context.Context, poolID string) ([]*UserPoolDomain, error)
}
