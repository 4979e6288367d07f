package behalf

import (
	"context"
	"time"
)

// Audit event kinds.
const (
	AuditGrantIssued    = "grant.issued"
	AuditGrantRefreshed = "grant.refreshed"
	AuditGrantBound     = "grant.bound"
	AuditBindingRefused = "binding.refused"
	AuditGrantReplaced  = "grant.replaced"
	AuditSessionExpired = "session.expired"
	AuditGrantRevoked   = "grant.revoked"
	AuditRefreshFailed  = "grant.refresh_failed"
	// AuditGrantExchanged is an on-behalf-of exchange whose result the
	// vault now holds.
	AuditGrantExchanged = "grant.exchanged"
	// AuditGrantFetched counts an agent's token fetches from the vault,
	// aggregated per grant and hour: Detail is "count=N hour=H grant=ID",
	// H the hour's start in RFC 3339. A grant-hour may have several events
	// (one per flush and replica); their counts add up.
	AuditGrantFetched = "grant.fetched"
)

// AuditEvent is one security-relevant event. Details never hold secrets.
type AuditEvent struct {
	ID         int64
	Time       time.Time
	Kind       string
	Workload   string
	UserKey    string
	ProviderID string
	SessionID  string
	Actor      string // who caused it: an access key id, a user key
	Detail     string
}

// AuditStore appends and reads audit events.
type AuditStore interface {
	// AppendAudit stores e and sets its ID.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns events newest first, at most limit (0: all), of
	// kind ("" for any).
	ListAudit(ctx context.Context, kind string, limit int) ([]*AuditEvent, error)
}
