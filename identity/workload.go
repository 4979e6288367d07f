package identity

import (
	"context"
	"slices"

	"github.com/behalf-dev/behalf"
)

// CreateWorkload creates a workload identity.
func (s *Service) CreateWorkload(ctx context.Context, in behalf.WorkloadInput) (*behalf.WorkloadIdentity, error) {
	if err := validateWorkloadName(in.Name); err != nil {
		return nil, err
	}
	if err := validateReturnURLs(in.AllowedReturnURLs); err != nil {
		return nil, err
	}
	if err := behalf.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	now := s.now()
	w := &behalf.WorkloadIdentity{
		Name:              in.Name,
		AllowedReturnURLs: slices.Clone(in.AllowedReturnURLs),
		Tags:              in.Tags,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
	if err := s.Store.CreateWorkload(ctx, w); err != nil {
		return nil, err
	}
	return w, nil
}

// GetWorkload returns a workload identity by name.
func (s *Service) GetWorkload(ctx context.Context, name string) (*behalf.WorkloadIdentity, error) {
	if err := validateWorkloadName(name); err != nil {
		return nil, err
	}
	return s.Store.GetWorkload(ctx, name)
}

// UpdateWorkload replaces a workload's allowed return URLs.
func (s *Service) UpdateWorkload(ctx context.Context, name string, returnURLs []string) (*behalf.WorkloadIdentity, error) {
	if err := validateWorkloadName(name); err != nil {
		return nil, err
	}
	if err := validateReturnURLs(returnURLs); err != nil {
		return nil, err
	}
	now := s.now()
	return s.Store.UpdateWorkload(ctx, name, func(w *behalf.WorkloadIdentity) error {
		w.AllowedReturnURLs = slices.Clone(returnURLs)
		w.UpdatedAt = now
		return nil
	})
}

// DeleteWorkload deletes a workload identity. Its access keys go with it
// (in the store's transaction) and its grants after it; cached keys stop
// working within KeyCacheTTL.
func (s *Service) DeleteWorkload(ctx context.Context, name string) error {
	if err := validateWorkloadName(name); err != nil {
		return err
	}
	if err := s.Store.DeleteWorkload(ctx, name); err != nil {
		return err
	}
	return s.deleteGrants(ctx, func(g *behalf.Grant) bool { return g.Workload == name })
}

// ListWorkloads returns one page of workload identities, by name.
func (s *Service) ListWorkloads(ctx context.Context, p behalf.PageRequest) ([]*behalf.WorkloadIdentity, string, error) {
	opt, limit, err := listOptions(p, 20)
	if err != nil {
		return nil, "", err
	}
	items, err := s.Store.ListWorkloads(ctx, opt)
	if err != nil {
		return nil, "", err
	}
	items, next := behalf.NextPage(items, limit, func(w *behalf.WorkloadIdentity) string { return w.Name })
	return items, next, nil
}
