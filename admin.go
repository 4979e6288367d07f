package behalf

import "context"

// NewAccessKey is a freshly created access key; the secret is shown once.
type NewAccessKey struct {
	AccessKey
	SecretAccessKey Secret
}

// AdminService holds Behalf's own administration, which AgentCore has no
// API for: scoped access keys, trusted JWT issuers and the audit log.
type AdminService interface {
	// CreateAccessKey makes a key for a workload ("" for a root key).
	CreateAccessKey(ctx context.Context, workload string) (*NewAccessKey, error)
	ListAccessKeys(ctx context.Context) ([]*AccessKey, error)
	DeleteAccessKey(ctx context.Context, id string) error

	// CreateIssuer trusts the OpenID provider behind a discovery URL.
	CreateIssuer(ctx context.Context, discoveryURL string, audiences []string) (*TrustedIssuer, error)
	ListIssuers(ctx context.Context) ([]*TrustedIssuer, error)
	DeleteIssuer(ctx context.Context, issuer string) error

	ListAudit(ctx context.Context, kind string, limit int) ([]*AuditEvent, error)
	// QueryAudit returns the audit events q selects, newest first.
	QueryAudit(ctx context.Context, q AuditQuery) ([]*AuditEvent, error)
}
