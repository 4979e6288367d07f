package identity

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// Ensure pages name an agent runtime's workload by the runtime's name and
// a gateway's workload by the gateway's name, not by the ids they are
// named after; any other workload (one whose name merely looks like an
// id, or names another gateway) by itself.
func TestAgentNames(t *testing.T) {
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "behalf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rt := &behalf.AgentRuntime{ID: "drive_agent-0lYFhaUuqp", Name: "drive_agent", ContainerURI: "http://127.0.0.1:1", Protocol: behalf.ProtocolHTTP,
		Workload: "drive_agent-0lYFhaUuqp", Status: behalf.RuntimeReady, Version: "1", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateAgentRuntime(ctx, rt, &behalf.WorkloadIdentity{Name: rt.Workload, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	// A runtime from before workloads were named after runtime ids: its
	// workload is "<name>-<random>", not its id.
	older := &behalf.AgentRuntime{ID: "mail_agent-AAAAAAAAAA", Name: "mail_agent", ContainerURI: "http://127.0.0.1:1", Protocol: behalf.ProtocolHTTP,
		Workload: "mail_agent-BBBBBBBBBB", Status: behalf.RuntimeReady, Version: "1", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateAgentRuntime(ctx, older, &behalf.WorkloadIdentity{Name: older.Workload, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	gw := &behalf.Gateway{ID: "drive-tools-abcdefghij", Name: "Drive-Tools", ProtocolType: "MCP", AuthorizerType: behalf.GatewayAuthorizerNone,
		Workload: "drive-tools-abcdefghij", Status: behalf.GatewayReady, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateGateway(ctx, gw, &behalf.WorkloadIdentity{Name: gw.Workload, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	// A plain workload named as the gateway is (not its workload).
	if err := db.CreateWorkload(ctx, &behalf.WorkloadIdentity{Name: "Drive-Tools", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	names := &AgentNames{Runtimes: db, Gateways: db}
	for workload, want := range map[string]string{
		"drive_agent-0lYFhaUuqp": "drive_agent",
		"mail_agent-BBBBBBBBBB":  "mail_agent",
		"mail_agent-CCCCCCCCCC":  "mail_agent-CCCCCCCCCC", // not that runtime's workload
		"drive-tools-abcdefghij": "Drive-Tools",
		"Drive-Tools":            "Drive-Tools",
		"drive-agent":            "drive-agent",
		"plain":                  "plain",
		"gone-0000000000":        "gone-0000000000",
		"":                       "",
	} {
		if got := names.AgentName(ctx, workload); got != want {
			t.Errorf("AgentName(%q) = %q, want %q", workload, got, want)
		}
	}
	// A store that fails: the workload's own name, never an error page.
	broken := &AgentNames{Runtimes: failingRuntimes{db}, Gateways: db}
	if got := broken.AgentName(ctx, rt.Workload); got != rt.Workload {
		t.Errorf("AgentName with a failing store = %q, want the workload", got)
	}
}

type failingRuntimes struct{ behalf.AgentRuntimeStore }

func (failingRuntimes) GetAgentRuntime(context.Context, string) (*behalf.AgentRuntime, error) {
	return nil, errors.New("database is down")
}
