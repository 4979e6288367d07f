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

// Administrative events: every successful mutating administrative
// operation is audited as AuditAdminPrefix + its wire operation name
// ("admin.CreateWorkloadIdentity", "admin.AdminCreateUser"), with the
// caller's access key id as Actor and the resource it acted on as
// Resource. The offline commands that write the store directly are
// audited with Actor "local:<os user>".
const (
	AuditAdminPrefix = "admin."
	// AuditAdminRotateKeys: `behalf keys rotate` rotated the
	// key-encryption key (Resource "kek"), token-signing keys (Resource
	// their use: "wat" or a pool id, one event each) or a provider's
	// client-assertion key (Resource the provider's name).
	AuditAdminRotateKeys = "admin.RotateKeys"
	// AuditAdminRewrapKeys: `behalf keys rewrap` rewrapped the data keys
	// with the active key-encryption key.
	AuditAdminRewrapKeys = "admin.RewrapKeys"
	// AuditAdminRetireKey: `behalf keys retire` retired a key-encryption
	// key version.
	AuditAdminRetireKey = "admin.RetireKey"
	// AuditAdminRestore: `behalf restore` replaced the database with a
	// backup (appended to the restored database).
	AuditAdminRestore = "admin.Restore"
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
	Actor      string // who caused it: an access key id, a user key, "local:<os user>"
	Detail     string
	// Resource is the main resource an administrative event (admin.*)
	// acted on: a workload or provider name, a runtime, gateway, pool or
	// access key id, "gatewayId/targetId", "poolId/username" …
	Resource string
}

// AuditStore appends and reads audit events.
type AuditStore interface {
	// AppendAudit stores e and sets its ID.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns events newest first, at most limit (0: all), of
	// kind ("" for any).
	ListAudit(ctx context.Context, kind string, limit int) ([]*AuditEvent, error)
	// QueryAudit returns the events q selects, by Time newest first (then
	// the latest appended first).
	QueryAudit(ctx context.Context, q AuditQuery) ([]*AuditEvent, error)
}

// AuditQuery selects audit events; a zero field matches every event.
type AuditQuery struct {
	Kind      string
	Principal string    // who caused it: the event's Actor
	Resource  string    // the event's Resource, or a workload name, provider id, session id or user key
	Since     time.Time // at or after
	Until     time.Time // before
	Limit     int       // at most this many (0: all)
}
