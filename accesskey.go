package behalf

import (
	"context"
	"strings"
	"time"
)

// AccessKey is an AWS-style access key pair that signs requests to Behalf
// with SigV4. The root key administers everything.
type AccessKey struct {
	ID        string // the access key id, e.g. "BHLF..."
	Secret    Sealed // sealed under SealContext{"access-key", ID, "secret"}
	Principal string // who the key acts for; "root" for the administrator
	// WorkloadID is the ID of the workload identity a workload-scoped key
	// (Principal "workload/<name>") acts for; "" for a root key. The key
	// lives and dies with that workload: deleting the workload deletes
	// the key, and a later workload of the same name has another ID.
	WorkloadID string
	CreatedAt  time.Time
}

// AccessKeyStore persists access keys.
type AccessKeyStore interface {
	// CreateAccessKey returns ECONFLICT if the id exists, ENOTFOUND if
	// k.WorkloadID is set and no workload identity has that ID.
	CreateAccessKey(ctx context.Context, k *AccessKey) error
	// GetAccessKey returns ENOTFOUND.
	GetAccessKey(ctx context.Context, id string) (*AccessKey, error)
	// ListAccessKeys returns keys for a principal ("" for all), by id.
	ListAccessKeys(ctx context.Context, principal string) ([]*AccessKey, error)
	// DeleteAccessKey returns ENOTFOUND.
	DeleteAccessKey(ctx context.Context, id string) error
}

// Caller is the principal that signs with k.
func (k *AccessKey) Caller() Principal { return Principal{AccessKeyID: k.ID, Name: k.Principal} }

// RootPrincipal is the administrator's principal name.
const RootPrincipal = "root"

// workloadPrincipalPrefix starts the principal name of a workload-scoped key.
const workloadPrincipalPrefix = "workload/"

// WorkloadPrincipal returns the principal name of a key scoped to workload.
func WorkloadPrincipal(workload string) string { return workloadPrincipalPrefix + workload }

// Principal is the authenticated caller of a request.
type Principal struct {
	AccessKeyID string
	Name        string
}

// IsRoot reports whether p is the administrator.
func (p Principal) IsRoot() bool { return p.Name == RootPrincipal }

// Workload returns the workload identity a scoped principal acts for, and
// false for the administrator (or a principal of no known kind).
func (p Principal) Workload() (string, bool) {
	w, ok := strings.CutPrefix(p.Name, workloadPrincipalPrefix)
	if !ok || w == "" {
		return "", false
	}
	return w, true
}

// MayActFor reports whether p may act for workload: the administrator for
// every workload, a scoped principal only for its own.
func (p Principal) MayActFor(workload string) bool {
	if p.IsRoot() {
		return true
	}
	w, ok := p.Workload()
	return ok && w == workload
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the request's principal, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
