package identity

import (
	"context"
	"strings"

	"github.com/behalf-dev/behalf"
)

// RootPrincipal is the administrator's principal name.
const RootPrincipal = "root"

// WorkloadPrincipal returns the principal name of a key scoped to workload.
func WorkloadPrincipal(workload string) string { return "workload/" + workload }

// authorizeWorkload checks the caller may act for workload: the root key may
// act for every workload, a scoped key only for its own.
func authorizeWorkload(ctx context.Context, workload string) error {
	p, ok := behalf.PrincipalFrom(ctx)
	if !ok {
		return behalf.Errorf(behalf.EFORBIDDEN, "No caller identity.")
	}
	if p.Name == RootPrincipal {
		return nil
	}
	if w, ok := strings.CutPrefix(p.Name, "workload/"); ok && w == workload {
		return nil
	}
	return behalf.Errorf(behalf.EFORBIDDEN, "The access key %s may not act for workload identity %q.", p.AccessKeyID, workload)
}
