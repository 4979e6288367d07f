package identity

import (
	"context"
	"log/slog"
	"strings"

	"github.com/behalf-dev/behalf"
)

// AgentNames names agents for Behalf's pages (behalf.AgentNames): an agent
// runtime's workload identity and a gateway's are named after their ids,
// which mean nothing to a person; the page shows the runtime's or the
// gateway's name instead. Any other workload is named by itself, as is
// one whose runtime or gateway cannot be read (the failure is logged).
type AgentNames struct {
	Runtimes behalf.AgentRuntimeStore
	Gateways behalf.GatewayStore
	Log      *slog.Logger
}

var _ behalf.AgentNames = (*AgentNames)(nil)

// AgentName returns the name of the agent acting through workload.
func (a *AgentNames) AgentName(ctx context.Context, workload string) string {
	// Runtimes' and gateways' ids, which name their workloads, hold a '-'.
	if workload == "" || !strings.Contains(workload, "-") {
		return workload
	}
	if a.Runtimes != nil {
		// By id (a runtime's workload is named after it), then by the
		// name before the last '-': runtimes created before that were
		// given a workload named "<name>-<random>", not their id.
		name, _, _ := cutLast(workload, "-")
		for _, idOrName := range []string{workload, name} {
			r, err := a.Runtimes.GetAgentRuntime(ctx, idOrName)
			switch {
			case err == nil && r.Workload == workload:
				return r.Name
			case err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND:
				a.log().WarnContext(ctx, "name the agent of a workload: read its runtime", "workload", workload, "err", err)
				return workload
			}
		}
	}
	if a.Gateways != nil {
		g, err := a.Gateways.GetGateway(ctx, workload)
		switch {
		case err == nil && g.Workload == workload:
			return g.Name
		case err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND:
			a.log().WarnContext(ctx, "name the agent of a workload: read its gateway", "workload", workload, "err", err)
		}
	}
	return workload
}

func (a *AgentNames) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

// cutLast slices s around the last instance of sep.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
