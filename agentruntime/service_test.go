package agentruntime_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/agentruntime"
	"github.com/behalf-dev/behalf/sqlstore"
)

// newService returns a Service over a fresh SQLite store.
func newService(t *testing.T, allowPrivate bool) (*agentruntime.Service, *sqlstore.DB) {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "behalf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &agentruntime.Service{Store: db, AllowPrivate: allowPrivate, Now: func() time.Time { return clock }}, db
}

func TestServiceLifecycle(t *testing.T) {
	s, db := newService(t, true)
	ctx := t.Context()
	in := behalf.AgentRuntimeInput{
		Name:            "agent",
		ContainerURI:    "http://127.0.0.1:8080/",
		Authorizer:      &behalf.JWTAuthorizer{DiscoveryURL: "http://127.0.0.1:9000/.well-known/openid-configuration", AllowedClients: []string{}},
		HeaderAllowlist: []string{"authorization"},
		Environment:     map[string]string{behalf.CallbackURLEnv: "http://localhost:9090/cb", "MODE": "dev"},
	}
	r, err := s.CreateAgentRuntime(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if r.ContainerURI != "http://127.0.0.1:8080" || r.Protocol != behalf.ProtocolHTTP || r.Status != behalf.RuntimeReady || r.Version != "1" {
		t.Fatalf("created %+v", r)
	}
	if r.CallbackURL != "http://localhost:9090/cb" || len(r.Environment) != 1 || r.Environment["MODE"] != "dev" {
		t.Fatalf("callback %q, environment %v", r.CallbackURL, r.Environment)
	}
	if r.Authorizer.AllowedClients != nil {
		t.Fatalf("empty allowedClients stored as %#v, want nil", r.Authorizer.AllowedClients)
	}
	// The workload identity is named after the runtime id, as in AWS.
	if !strings.HasPrefix(r.ID, "agent-") || len(r.ID) != len("agent-")+10 || r.Workload != r.ID {
		t.Fatalf("workload %q for runtime %q", r.Workload, r.ID)
	}
	if _, err := db.GetWorkload(ctx, r.Workload); err != nil {
		t.Fatalf("workload identity: %v", err)
	}

	// The ARN helpers agree with each other.
	arn := behalf.AgentRuntimeARN("eu-west-1", "123456789012", r.ID)
	region, account, id, ok := behalf.ParseAgentRuntimeARN(arn)
	if !ok || region != "eu-west-1" || account != "123456789012" || id != r.ID {
		t.Fatalf("ParseAgentRuntimeARN(%s) = %s %s %s %v", arn, region, account, id, ok)
	}
	for _, bad := range []string{"", r.ID, "arn:aws:bedrock-agentcore:r:a:workload-identity/x", "arn:aws:bedrock-agentcore:r:a:runtime/", "arn:aws:bedrock-agentcore:r:a:runtime/x/y"} {
		if _, _, _, ok := behalf.ParseAgentRuntimeARN(bad); ok {
			t.Errorf("ParseAgentRuntimeARN(%q) ok", bad)
		}
	}

	// Updates bump the version, by id or by name; the callback may also
	// come as CallbackURL, and must agree with the environment if both.
	in.CallbackURL = "http://localhost:9090/other"
	if _, err := s.UpdateAgentRuntime(ctx, r.ID, in); behalf.ErrorCode(err) != behalf.EINVALID {
		t.Fatalf("conflicting callback URLs: %v", err)
	}
	in.Environment = nil
	u, err := s.UpdateAgentRuntime(ctx, "agent", in)
	if err != nil {
		t.Fatal(err)
	}
	if u.Version != "2" || u.CallbackURL != "http://localhost:9090/other" || u.Environment != nil || u.ID != r.ID || u.Workload != r.Workload {
		t.Fatalf("updated %+v", u)
	}

	// Paging.
	for _, name := range []string{"b", "c"} {
		if _, err := s.CreateAgentRuntime(ctx, behalf.AgentRuntimeInput{Name: name, ContainerURI: "https://agent.example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for tok := ""; ; {
		page, next, err := s.ListAgentRuntimes(ctx, behalf.PageRequest{NextToken: tok, MaxResults: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			ids = append(ids, p.ID)
		}
		if next == "" {
			break
		}
		tok = next
	}
	if len(ids) != 3 {
		t.Fatalf("listed %q", ids)
	}

	d, err := s.DeleteAgentRuntime(ctx, "agent")
	if err != nil || d.ID != r.ID {
		t.Fatalf("delete: %v %+v", err, d)
	}
	if _, err := db.GetWorkload(ctx, r.Workload); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("workload identity after delete: %v", err)
	}
}

// A runtime created before workload identities were named after runtime
// ids keeps its own workload identity (its users' grants are stored under
// that name): updates keep it, and deleting the runtime deletes it.
func TestServiceKeepsOlderWorkloadName(t *testing.T) {
	s, db := newService(t, true)
	ctx := t.Context()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	old := &behalf.AgentRuntime{ID: "old-AAAAAAAAAA", Name: "old", Workload: "old-BBBBBBBBBB", ContainerURI: "https://agent.example.com",
		Protocol: behalf.ProtocolHTTP, Status: behalf.RuntimeReady, Version: "1", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateAgentRuntime(ctx, old, &behalf.WorkloadIdentity{Name: old.Workload, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	u, err := s.UpdateAgentRuntime(ctx, old.ID, behalf.AgentRuntimeInput{ContainerURI: "https://agent2.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Workload != "old-BBBBBBBBBB" || u.Version != "2" {
		t.Fatalf("updated older runtime: workload %q version %s", u.Workload, u.Version)
	}
	if _, err := db.GetWorkload(ctx, old.ID); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("a workload identity named after the older runtime's id: %v", err)
	}
	if _, err := s.DeleteAgentRuntime(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetWorkload(ctx, old.Workload); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("older runtime's workload identity after delete: %v", err)
	}
}

func TestServiceValidation(t *testing.T) {
	s, _ := newService(t, false)
	ok := behalf.AgentRuntimeInput{Name: "agent", ContainerURI: "https://agent.example.com"}
	for _, tc := range []struct {
		name  string
		edit  func(in *behalf.AgentRuntimeInput)
		field string
	}{
		{"NoUpstream", func(in *behalf.AgentRuntimeInput) { in.ContainerURI = "" }, "agentRuntimeArtifact.containerConfiguration.containerUri"},
		{"Image", func(in *behalf.AgentRuntimeInput) { in.ContainerURI = "public.ecr.aws/x/agent:1" }, "agentRuntimeArtifact.containerConfiguration.containerUri"},
		{"UserInfo", func(in *behalf.AgentRuntimeInput) { in.ContainerURI = "https://u:p@agent.example.com" }, "agentRuntimeArtifact.containerConfiguration.containerUri"},
		{"Protocol", func(in *behalf.AgentRuntimeInput) { in.Protocol = "GRPC" }, "protocolConfiguration.serverProtocol"},
		{"Path", func(in *behalf.AgentRuntimeInput) { in.ProtocolPath = "invocations" }, "protocolConfiguration.path"},
		{"Role", func(in *behalf.AgentRuntimeInput) { in.RoleARN = "role" }, "roleArn"},
		{"EnvKey", func(in *behalf.AgentRuntimeInput) { in.Environment = map[string]string{"1X": "y"} }, "environmentVariables"},
		{"XAmznHeader", func(in *behalf.AgentRuntimeInput) { in.HeaderAllowlist = []string{"X-Amzn-Trace-Id"} }, "requestHeaderConfiguration.requestHeaderAllowlist"},
		{"TooManyHeaders", func(in *behalf.AgentRuntimeInput) {
			for i := range 21 {
				in.HeaderAllowlist = append(in.HeaderAllowlist, "X-H"+strings.Repeat("a", i+1))
			}
		}, "requestHeaderConfiguration.requestHeaderAllowlist"},
		{"ClaimNoValue", func(in *behalf.AgentRuntimeInput) {
			in.Authorizer = &behalf.JWTAuthorizer{
				DiscoveryURL: "https://idp.example.com/.well-known/openid-configuration",
				CustomClaims: []behalf.ClaimRule{{Name: "x", ValueType: behalf.ClaimStringArray, Operator: behalf.ClaimContains}},
			}
		}, "authorizerConfiguration.customJWTAuthorizer.customClaims"},
		{"LifecycleOrder", func(in *behalf.AgentRuntimeInput) { in.IdleSessionTimeout, in.MaxLifetime = 600, 300 }, "lifecycleConfiguration.idleRuntimeSessionTimeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, err := s.CreateAgentRuntime(t.Context(), in)
			if behalf.ErrorCode(err) != behalf.EINVALID || behalf.ErrorField(err) != tc.field {
				t.Fatalf("err = %v (field %q), want EINVALID on %s", err, behalf.ErrorField(err), tc.field)
			}
		})
	}
	if _, err := s.GetAgentRuntime(t.Context(), "../x"); behalf.ErrorCode(err) != behalf.EINVALID {
		t.Fatalf("get bad id: %v", err)
	}
	if _, err := s.CreateAgentRuntime(t.Context(), ok); err != nil {
		t.Fatalf("valid input refused: %v", err)
	}
}
