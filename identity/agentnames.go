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
		r, err := a.Runtimes.GetAgentRuntime(ctx, workload)
		switch {
		case err == nil && r.Workload == workload:
			return r.Name
		case err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND:
			a.log().WarnContext(ctx, "name the agent of a workload: read its runtime", "workload", workload, "err", err)
			return workload
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
