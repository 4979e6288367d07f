package behalf

import (
	"context"
	"time"
)

// WorkloadIdentity is an agent's identity, with the exact return URLs its
// OAuth flows may come back to.
type WorkloadIdentity struct {
	Name              string
	AllowedReturnURLs []string
	Tags              map[string]string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// WorkloadStore persists workload identities.
type WorkloadStore interface {
	// CreateWorkload inserts w. Returns ECONFLICT if the name exists.
	CreateWorkload(ctx context.Context, w *WorkloadIdentity) error
	// GetWorkload returns ENOTFOUND if the name does not exist.
	GetWorkload(ctx context.Context, name string) (*WorkloadIdentity, error)
	// UpdateWorkload loads the identity, applies fn inside one transaction
	// and stores the result. Returns ENOTFOUND, or fn's error unchanged.
	UpdateWorkload(ctx context.Context, name string, fn func(*WorkloadIdentity) error) (*WorkloadIdentity, error)
	// DeleteWorkload returns ENOTFOUND if the name does not exist.
	DeleteWorkload(ctx context.Context, name string) error
	// ListWorkloads returns identities ordered by name.
	ListWorkloads(ctx context.Context, opt ListOptions) ([]*WorkloadIdentity, error)
}

// WorkloadInput is what an admin sets on a workload identity.
type WorkloadInput struct {
	Name              string
	AllowedReturnURLs []string
	Tags              map[string]string
}

// WorkloadService manages workload identities.
type WorkloadService interface {
	// CreateWorkload returns EINVALID or ECONFLICT.
	CreateWorkload(ctx context.Context, in WorkloadInput) (*WorkloadIdentity, error)
	// GetWorkload returns EINVALID or ENOTFOUND.
	GetWorkload(ctx context.Context, name string) (*WorkloadIdentity, error)
	// UpdateWorkload replaces the allowed return URLs. Returns EINVALID or ENOTFOUND.
	UpdateWorkload(ctx context.Context, name string, returnURLs []string) (*WorkloadIdentity, error)
	// DeleteWorkload returns EINVALID or ENOTFOUND.
	DeleteWorkload(ctx context.Context, name string) error
	// ListWorkloads returns one page. Returns EINVALID for a bad token or size.
	ListWorkloads(ctx context.Context, page PageRequest) ([]*WorkloadIdentity, string, error)
}
