package identity

import (
	"context"

	"github.com/behalf-dev/behalf"
)

// authorizeWorkload checks the caller may act for workload: the root key may
// act for every workload, a scoped key only for its own.
func authorizeWorkload(ctx context.Context, workload string) error {
	p, ok := behalf.PrincipalFrom(ctx)
	if !ok {
		return behalf.Errorf(behalf.EFORBIDDEN, "No caller identity.")
	}
	if p.MayActFor(workload) {
		return nil
	}
	return behalf.Errorf(behalf.EFORBIDDEN, "The access key %s may not act for workload identity %q.", p.AccessKeyID, workload)
}
