package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf/agentruntime"
	"github.com/behalf-dev/behalf/internal/fakedns"
)

// Ensure runtime upstreams cannot reach internal services (issue 11,
// Security 2): without --allow-private-endpoints a containerUri whose host
// name resolves to a loopback address is accepted (names are judged where
// they are dialled) but every invocation is refused before connecting, and
// an open port, a closed port and a name that does not resolve all answer
// the same text; with --allow-private-endpoints the same name reaches the
// agent.
func TestAttackRuntimeUpstreamSSRF(t *testing.T) {
	var connections atomic.Int64
	agent := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"answer":"from the agent"}`))
	}))
	agent.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			connections.Add(1)
		}
	}
	agent.Start()
	t.Cleanup(agent.Close)
	_, port, _ := net.SplitHostPort(agent.Listener.Addr().String())
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closedPort, _ := net.SplitHostPort(closed.Addr().String())
	closed.Close()
	dns := fakedns.New(map[string][]string{"agent.behalf.test": {"127.0.0.1"}})
	ctx := context.Background()

	create := func(s *testServer, name, uri string) string {
		t.Helper()
		out, err := s.client(t).CreateAgentRuntime(ctx, &ctl.CreateAgentRuntimeInput{
			AgentRuntimeName:     aws.String(name),
			AgentRuntimeArtifact: containerArtifact(uri),
			RoleArn:              aws.String("arn:aws:iam::123456789012:role/agent"),
			NetworkConfiguration: &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic},
		})
		if err != nil {
			t.Fatalf("CreateAgentRuntime(%s): %v", uri, err)
		}
		return aws.ToString(out.AgentRuntimeArn)
	}
	invoke := func(s *testServer, arn string) (*dp.InvokeAgentRuntimeOutput, error) {
		return s.dataPlane(t, s.KeyID, s.Secret).InvokeAgentRuntime(ctx, &dp.InvokeAgentRuntimeInput{
			AgentRuntimeArn: aws.String(arn), Payload: []byte(`{"prompt":"hi"}`),
		})
	}

	strict := startMain(t, serverOptions{resolver: dns.NetResolver()})
	// The literal address is refused when the runtime is created.
	if _, err := strict.client(t).CreateAgentRuntime(ctx, &ctl.CreateAgentRuntimeInput{
		AgentRuntimeName:     aws.String("literal"),
		AgentRuntimeArtifact: containerArtifact("https://127.0.0.1:" + port),
		RoleArn:              aws.String("arn:aws:iam::123456789012:role/agent"),
		NetworkConfiguration: &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic},
	}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("literal loopback containerUri: err = %v, want refused", err)
	}
	for _, uri := range []string{
		"https://agent.behalf.test:" + port,       // open port
		"https://agent.behalf.test:" + closedPort, // closed port
		"https://nowhere.behalf.test:" + port,     // no such host
	} {
		_, err := invoke(strict, create(strict, "probe_"+strings.NewReplacer(".", "_", ":", "_").Replace(uri[8:]), uri))
		var rce *dptypes.RuntimeClientError
		if !errors.As(err, &rce) || aws.ToString(rce.Message) != agentruntime.MsgAgentUnreachable {
			t.Errorf("invoke %s: err = %v, want RuntimeClientError %q", uri, err, agentruntime.MsgAgentUnreachable)
		}
	}
	if n := connections.Load(); n != 0 {
		t.Fatalf("the agent on loopback got %d connections from a server without --allow-private-endpoints", n)
	}
	if !strings.Contains(strict.Log.String(), "address 127.0.0.1 is loopback") {
		t.Errorf("the log does not say why the agent was refused:\n%s", strict.Log)
	}

	allowed := startMain(t, serverOptions{resolver: dns.NetResolver(), args: []string{"--allow-private-endpoints"}})
	out, err := invoke(allowed, create(allowed, "local_agent", "http://agent.behalf.test:"+port))
	if err != nil {
		t.Fatalf("invoke with --allow-private-endpoints: %v", err)
	}
	defer out.Response.Close()
	if connections.Load() == 0 {
		t.Fatal("with --allow-private-endpoints the agent was not reached")
	}
}
