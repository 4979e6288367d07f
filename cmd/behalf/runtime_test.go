package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

const (
	testDiscoveryURL = "https://idp.example.com/.well-known/openid-configuration"
	testCallbackURL  = "https://app.example.com/oauth2/callback"
	customHeader     = "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant"
)

var runtimeIDPattern = regexp.MustCompile(`^my_agent-[A-Za-z0-9]{10}$`)

func containerArtifact(uri string) types.AgentRuntimeArtifact {
	return &types.AgentRuntimeArtifactMemberContainerConfiguration{Value: types.ContainerConfiguration{ContainerUri: aws.String(uri)}}
}

func testAuthorizer() *types.AuthorizerConfigurationMemberCustomJWTAuthorizer {
	return &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: types.CustomJWTAuthorizerConfiguration{
		DiscoveryUrl:    aws.String(testDiscoveryURL),
		AllowedClients:  []string{"client-1", "client-2"},
		AllowedAudience: []string{"my-agent-api"},
		AllowedScopes:   []string{"agent/invoke"},
		CustomClaims: []types.CustomClaimValidationType{
			{
				InboundTokenClaimName:      aws.String("tier"),
				InboundTokenClaimValueType: types.InboundTokenClaimValueTypeString,
				AuthorizingClaimMatchValue: &types.AuthorizingClaimMatchValueType{
					ClaimMatchOperator: types.ClaimMatchOperatorTypeEquals,
					ClaimMatchValue:    &types.ClaimMatchValueTypeMemberMatchValueString{Value: "gold"},
				},
			},
			{
				InboundTokenClaimName:      aws.String("groups"),
				InboundTokenClaimValueType: types.InboundTokenClaimValueTypeStringArray,
				AuthorizingClaimMatchValue: &types.AuthorizingClaimMatchValueType{
					ClaimMatchOperator: types.ClaimMatchOperatorTypeContainsAny,
					ClaimMatchValue:    &types.ClaimMatchValueTypeMemberMatchValueStringList{Value: []string{"admins", "agents"}},
				},
			},
		},
	}}
}

func testRuntimeInput(name string) *ctl.CreateAgentRuntimeInput {
	return &ctl.CreateAgentRuntimeInput{
		AgentRuntimeName:        aws.String(name),
		AgentRuntimeArtifact:    containerArtifact("https://agent.example.com:8443/base/"),
		RoleArn:                 aws.String("arn:aws:iam::123456789012:role/agent"),
		Description:             aws.String("The walkthrough agent"),
		AuthorizerConfiguration: testAuthorizer(),
		RequestHeaderConfiguration: &types.RequestHeaderConfigurationMemberRequestHeaderAllowlist{
			Value: []string{"Authorization", customHeader},
		},
		NetworkConfiguration: &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic},
		EnvironmentVariables: map[string]string{"OAUTH2_CALLBACK_URL": testCallbackURL},
		Tags:                 map[string]string{"team": "agents"},
	}
}

// workloadName returns the workload identity name in a runtime's details.
func workloadName(t *testing.T, d *types.WorkloadIdentityDetails) string {
	t.Helper()
	if d == nil {
		t.Fatal("no workloadIdentityDetails")
	}
	const prefix = "arn:aws:bedrock-agentcore:us-east-1:000000000000:workload-identity-directory/default/workload-identity/"
	arn := aws.ToString(d.WorkloadIdentityArn)
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		t.Fatalf("workloadIdentityArn = %s, want prefix %s", arn, prefix)
	}
	return name
}

func wantErr[T error](t *testing.T, what string, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("%s: err=%v, want %T", what, err, target)
	}
	return target
}

// Ensure the agent-runtime control plane round-trips through the official
// client on both backends: create with a JWT authorizer and a header
// allowlist, get, the runtime's workload identity, conflict, not found,
// update, the DEFAULT endpoint, list paging and delete.
func TestAgentRuntime(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.client(t)

		created, err := c.CreateAgentRuntime(ctx, testRuntimeInput("my_agent"))
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(created.AgentRuntimeId)
		if !runtimeIDPattern.MatchString(id) {
			t.Fatalf("agentRuntimeId = %q, want my_agent-<10 alphanumerics>", id)
		}
		wantARN := "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/" + id
		if got := aws.ToString(created.AgentRuntimeArn); got != wantARN {
			t.Fatalf("agentRuntimeArn = %s, want %s", got, wantARN)
		}
		if created.Status != types.AgentRuntimeStatusReady || aws.ToString(created.AgentRuntimeVersion) != "1" || created.CreatedAt == nil {
			t.Fatalf("Create = status %s, version %s, createdAt %v", created.Status, aws.ToString(created.AgentRuntimeVersion), created.CreatedAt)
		}
		if !strings.Contains(s.Captured.String(), "202 \n") {
			t.Fatalf("CreateAgentRuntime did not answer 202:\n%s", s.Captured)
		}
		// As in AWS, the workload identity is named after the runtime id:
		// GetWorkloadIdentity(name=agentRuntimeId) finds it (AWS's samples do this).
		workload := workloadName(t, created.WorkloadIdentityDetails)
		if workload != id {
			t.Fatalf("workload identity %q, want the runtime id %q", workload, id)
		}
		if _, err := c.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: created.AgentRuntimeId}); err != nil {
			t.Fatalf("GetWorkloadIdentity(agentRuntimeId): %v", err)
		}

		// Get, by id and by name.
		for _, key := range []string{id, "my_agent"} {
			got, err := c.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(got.AgentRuntimeId) != id || aws.ToString(got.AgentRuntimeName) != "my_agent" ||
				got.Status != types.AgentRuntimeStatusReady || aws.ToString(got.AgentRuntimeArn) != wantARN ||
				aws.ToString(got.Description) != "The walkthrough agent" || aws.ToString(got.RoleArn) != "arn:aws:iam::123456789012:role/agent" {
				t.Fatalf("Get(%s) = %+v", key, got)
			}
			if w := workloadName(t, got.WorkloadIdentityDetails); w != workload {
				t.Fatalf("Get workload identity %s, Create said %s", w, workload)
			}
			if u := upstreamOf(got.AgentRuntimeArtifact); u != "https://agent.example.com:8443/base" {
				t.Fatalf("containerUri = %q", u)
			}
			a := authorizerOf(got.AuthorizerConfiguration)
			want := testAuthorizer().Value
			if a == nil || aws.ToString(a.DiscoveryUrl) != testDiscoveryURL || !slices.Equal(a.AllowedClients, want.AllowedClients) ||
				!slices.Equal(a.AllowedAudience, want.AllowedAudience) || !slices.Equal(a.AllowedScopes, want.AllowedScopes) {
				t.Fatalf("authorizer = %+v", a)
			}
			if len(a.CustomClaims) != 2 {
				t.Fatalf("customClaims = %+v", a.CustomClaims)
			}
			c0, c1 := a.CustomClaims[0], a.CustomClaims[1]
			if v, ok := c0.AuthorizingClaimMatchValue.ClaimMatchValue.(*types.ClaimMatchValueTypeMemberMatchValueString); !ok || v.Value != "gold" ||
				aws.ToString(c0.InboundTokenClaimName) != "tier" || c0.AuthorizingClaimMatchValue.ClaimMatchOperator != types.ClaimMatchOperatorTypeEquals {
				t.Fatalf("claim 0 = %+v", c0)
			}
			if v, ok := c1.AuthorizingClaimMatchValue.ClaimMatchValue.(*types.ClaimMatchValueTypeMemberMatchValueStringList); !ok || !slices.Equal(v.Value, []string{"admins", "agents"}) ||
				c1.InboundTokenClaimValueType != types.InboundTokenClaimValueTypeStringArray {
				t.Fatalf("claim 1 = %+v", c1)
			}
			if h := headersOf(got.RequestHeaderConfiguration); !slices.Equal(h, []string{"Authorization", customHeader}) {
				t.Fatalf("requestHeaderAllowlist = %q", h)
			}
			if got.EnvironmentVariables["OAUTH2_CALLBACK_URL"] != testCallbackURL {
				t.Fatalf("environmentVariables = %v", got.EnvironmentVariables)
			}
			if l := got.LifecycleConfiguration; l == nil || aws.ToInt32(l.IdleRuntimeSessionTimeout) != 900 || aws.ToInt32(l.MaxLifetime) != 28800 {
				t.Fatalf("lifecycleConfiguration = %+v", l)
			}
			if p := got.ProtocolConfiguration; p == nil || p.ServerProtocol != types.ServerProtocolHttp {
				t.Fatalf("protocolConfiguration = %+v", p)
			}
			if got.CreatedAt == nil || got.LastUpdatedAt == nil || !got.CreatedAt.Equal(*created.CreatedAt) {
				t.Fatalf("createdAt %v lastUpdatedAt %v, Create said %v", got.CreatedAt, got.LastUpdatedAt, created.CreatedAt)
			}
		}
		_, err = c.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id), AgentRuntimeVersion: aws.String("1")})
		if err != nil {
			t.Fatalf("get version 1: %v", err)
		}

		// The runtime's workload identity is an ordinary one an admin may update.
		wi, err := c.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: aws.String(workload)})
		if err != nil {
			t.Fatal(err)
		}
		if len(wi.AllowedResourceOauth2ReturnUrls) != 0 {
			t.Fatalf("new runtime's workload has return URLs %q", wi.AllowedResourceOauth2ReturnUrls)
		}
		up, err := c.UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{
			Name: aws.String(workload), AllowedResourceOauth2ReturnUrls: []string{testCallbackURL},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(up.AllowedResourceOauth2ReturnUrls, []string{testCallbackURL}) {
			t.Fatalf("UpdateWorkloadIdentity = %+v", up)
		}

		// Conflict and not found.
		_, err = c.CreateAgentRuntime(ctx, testRuntimeInput("my_agent"))
		wantErr[*types.ConflictException](t, "duplicate name", err)
		_, err = c.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String("my_agent-0123456789")})
		wantErr[*types.ResourceNotFoundException](t, "get missing", err)
		_, err = c.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id), AgentRuntimeVersion: aws.String("7")})
		wantErr[*types.ResourceNotFoundException](t, "get missing version", err)
		_, err = c.UpdateAgentRuntime(ctx, &ctl.UpdateAgentRuntimeInput{
			AgentRuntimeId: aws.String("my_agent-0123456789"), AgentRuntimeArtifact: containerArtifact("https://x.example.com"), RoleArn: aws.String(""),
		})
		wantErr[*types.ResourceNotFoundException](t, "update missing", err)
		_, err = c.DeleteAgentRuntime(ctx, &ctl.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String("my_agent-0123456789")})
		wantErr[*types.ResourceNotFoundException](t, "delete missing", err)

		// Update: a new upstream, no authorizer (SigV4), no callback URL.
		_, err = c.UpdateAgentRuntime(ctx, &ctl.UpdateAgentRuntimeInput{
			AgentRuntimeId: aws.String(id), AgentRuntimeArtifact: containerArtifact("https://agent2.example.com"), RoleArn: aws.String(""),
			RequestHeaderConfiguration: &types.RequestHeaderConfigurationMemberRequestHeaderAllowlist{Value: []string{"Authorization"}},
		})
		assertValidation(t, err, "requestHeaderConfiguration")
		updated, err := c.UpdateAgentRuntime(ctx, &ctl.UpdateAgentRuntimeInput{
			AgentRuntimeId: aws.String(id), AgentRuntimeArtifact: containerArtifact("https://agent2.example.com"), RoleArn: aws.String(""),
			RequestHeaderConfiguration: &types.RequestHeaderConfigurationMemberRequestHeaderAllowlist{Value: []string{customHeader}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if updated.Status != types.AgentRuntimeStatusReady || aws.ToString(updated.AgentRuntimeVersion) != "2" || updated.LastUpdatedAt == nil ||
			workloadName(t, updated.WorkloadIdentityDetails) != workload {
			t.Fatalf("Update = %+v", updated)
		}
		got, err := c.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if upstreamOf(got.AgentRuntimeArtifact) != "https://agent2.example.com" || got.AuthorizerConfiguration != nil ||
			!slices.Equal(headersOf(got.RequestHeaderConfiguration), []string{customHeader}) || len(got.EnvironmentVariables) != 0 ||
			aws.ToString(got.AgentRuntimeVersion) != "2" || got.Description != nil {
			t.Fatalf("Get after update = %+v", got)
		}
		if _, err := c.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: aws.String(workload)}); err != nil {
			t.Fatalf("workload identity after update: %v", err)
		}

		// The DEFAULT endpoint follows the latest version.
		ep, err := c.GetAgentRuntimeEndpoint(ctx, &ctl.GetAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("DEFAULT")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(ep.Name) != "DEFAULT" || aws.ToString(ep.LiveVersion) != "2" || ep.Status != types.AgentRuntimeEndpointStatusReady ||
			aws.ToString(ep.AgentRuntimeArn) != wantARN || aws.ToString(ep.AgentRuntimeEndpointArn) != wantARN+"/runtime-endpoint/DEFAULT" {
			t.Fatalf("GetAgentRuntimeEndpoint = %+v", ep)
		}
		eps, err := c.ListAgentRuntimeEndpoints(ctx, &ctl.ListAgentRuntimeEndpointsInput{AgentRuntimeId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if len(eps.RuntimeEndpoints) != 1 || aws.ToString(eps.RuntimeEndpoints[0].Name) != "DEFAULT" {
			t.Fatalf("ListAgentRuntimeEndpoints = %+v", eps.RuntimeEndpoints)
		}
		_, err = c.GetAgentRuntimeEndpoint(ctx, &ctl.GetAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("prod")})
		wantErr[*types.ResourceNotFoundException](t, "get other endpoint", err)

		// List, two at a time.
		ids := []string{id}
		for _, name := range []string{"agent_b", "agent_c", "agent_d", "agent_e"} {
			in := testRuntimeInput(name)
			in.AuthorizerConfiguration, in.RequestHeaderConfiguration = nil, nil
			out, err := c.CreateAgentRuntime(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, aws.ToString(out.AgentRuntimeId))
		}
		slices.Sort(ids)
		var listed []string
		pages := 0
		p := ctl.NewListAgentRuntimesPaginator(c, &ctl.ListAgentRuntimesInput{MaxResults: aws.Int32(2)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, r := range page.AgentRuntimes {
				if r.Status != types.AgentRuntimeStatusReady || r.LastUpdatedAt == nil || !strings.HasSuffix(aws.ToString(r.AgentRuntimeArn), "/"+aws.ToString(r.AgentRuntimeId)) {
					t.Fatalf("list item %+v", r)
				}
				listed = append(listed, aws.ToString(r.AgentRuntimeId))
			}
		}
		if pages != 3 || !slices.Equal(listed, ids) {
			t.Fatalf("listed %q in %d pages, want %q in 3", listed, pages, ids)
		}
		_, err = c.ListAgentRuntimes(ctx, &ctl.ListAgentRuntimesInput{NextToken: aws.String("garbage!")})
		assertValidation(t, err, "nextToken")
		_, err = c.ListAgentRuntimes(ctx, &ctl.ListAgentRuntimesInput{MaxResults: aws.Int32(101)})
		assertValidation(t, err, "maxResults")

		// Delete takes the workload identity with it.
		del, err := c.DeleteAgentRuntime(ctx, &ctl.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if del.Status != types.AgentRuntimeStatusDeleting || aws.ToString(del.AgentRuntimeId) != id {
			t.Fatalf("Delete = %+v", del)
		}
		_, err = c.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
		wantErr[*types.ResourceNotFoundException](t, "get after delete", err)
		_, err = c.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: aws.String(workload)})
		wantErr[*types.ResourceNotFoundException](t, "workload identity after delete", err)
		_, err = c.DeleteAgentRuntime(ctx, &ctl.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
		wantErr[*types.ResourceNotFoundException](t, "delete twice", err)
		// The name is free again.
		if _, err := c.CreateAgentRuntime(ctx, testRuntimeInput("my_agent")); err != nil {
			t.Fatalf("re-create after delete: %v", err)
		}
	})
}

// Ensure bad runtimes are refused with a ValidationException naming the
// field, and nothing (runtime or workload identity) is stored.
func TestAgentRuntimeValidation(t *testing.T) {
	s := mustRunMain(t, "") // without --allow-private-endpoints
	ctx, c := context.Background(), s.client(t)
	mod := func(f func(in *ctl.CreateAgentRuntimeInput)) *ctl.CreateAgentRuntimeInput {
		in := testRuntimeInput("agent")
		f(in)
		return in
	}
	jwt := func(f func(j *types.CustomJWTAuthorizerConfiguration)) func(in *ctl.CreateAgentRuntimeInput) {
		return func(in *ctl.CreateAgentRuntimeInput) {
			a := testAuthorizer()
			f(&a.Value)
			in.AuthorizerConfiguration = a
		}
	}
	headers := func(h ...string) func(in *ctl.CreateAgentRuntimeInput) {
		return func(in *ctl.CreateAgentRuntimeInput) {
			in.RequestHeaderConfiguration = &types.RequestHeaderConfigurationMemberRequestHeaderAllowlist{Value: h}
		}
	}
	for _, tc := range []struct {
		name    string
		in      *ctl.CreateAgentRuntimeInput
		field   string
		message string
	}{
		{"NameWithHyphen", mod(func(in *ctl.CreateAgentRuntimeInput) { in.AgentRuntimeName = aws.String("my-agent") }), "agentRuntimeName", ""},
		{"NameStartsWithDigit", mod(func(in *ctl.CreateAgentRuntimeInput) { in.AgentRuntimeName = aws.String("1agent") }), "agentRuntimeName", ""},
		{"NameTooLong", mod(func(in *ctl.CreateAgentRuntimeInput) { in.AgentRuntimeName = aws.String(strings.Repeat("a", 49)) }), "agentRuntimeName", ""},
		{"ContainerImage", mod(func(in *ctl.CreateAgentRuntimeInput) {
			in.AgentRuntimeArtifact = containerArtifact("123456789012.dkr.ecr.us-east-1.amazonaws.com/my-agent:latest")
		}), "agentRuntimeArtifact", "Behalf runs no containers"},
		{"LoopbackWithoutFlag", mod(func(in *ctl.CreateAgentRuntimeInput) {
			in.AgentRuntimeArtifact = containerArtifact("http://127.0.0.1:8080")
		}), "agentRuntimeArtifact", "--allow-private-endpoints"},
		{"PrivateHTTPSWithoutFlag", mod(func(in *ctl.CreateAgentRuntimeInput) { in.AgentRuntimeArtifact = containerArtifact("https://10.1.2.3") }), "agentRuntimeArtifact", "--allow-private-endpoints"},
		{"LocalhostWithoutFlag", mod(func(in *ctl.CreateAgentRuntimeInput) {
			in.AgentRuntimeArtifact = containerArtifact("http://localhost:8080")
		}), "agentRuntimeArtifact", ""},
		{"PublicHTTP", mod(func(in *ctl.CreateAgentRuntimeInput) {
			in.AgentRuntimeArtifact = containerArtifact("http://agent.example.com")
		}), "agentRuntimeArtifact", "https"},
		{"UpstreamQuery", mod(func(in *ctl.CreateAgentRuntimeInput) {
			in.AgentRuntimeArtifact = containerArtifact("https://agent.example.com/?x=1")
		}), "agentRuntimeArtifact", ""},
		{"DiscoveryShape", mod(jwt(func(j *types.CustomJWTAuthorizerConfiguration) {
			j.DiscoveryUrl = aws.String("https://idp.example.com/jwks.json")
		})), "authorizerConfiguration.customJWTAuthorizer.discoveryUrl", ".well-known/openid-configuration"},
		{"DiscoveryPrivate", mod(jwt(func(j *types.CustomJWTAuthorizerConfiguration) {
			j.DiscoveryUrl = aws.String("http://127.0.0.1/.well-known/openid-configuration")
		})), "authorizerConfiguration.customJWTAuthorizer.discoveryUrl", ""},
		{"ScopeCharacters", mod(jwt(func(j *types.CustomJWTAuthorizerConfiguration) { j.AllowedScopes = []string{"a b"} })), "authorizerConfiguration.customJWTAuthorizer.allowedScopes", ""},
		{"ClaimOperatorType", mod(jwt(func(j *types.CustomJWTAuthorizerConfiguration) {
			j.CustomClaims[0].AuthorizingClaimMatchValue.ClaimMatchOperator = types.ClaimMatchOperatorTypeContains
		})), "authorizerConfiguration.customJWTAuthorizer.customClaims", ""},
		{"ClaimValueKind", mod(jwt(func(j *types.CustomJWTAuthorizerConfiguration) {
			j.CustomClaims[1].AuthorizingClaimMatchValue.ClaimMatchValue = &types.ClaimMatchValueTypeMemberMatchValueString{Value: "admins"}
		})), "authorizerConfiguration.customJWTAuthorizer.customClaims", ""},
		{"RestrictedHeader", mod(headers("Host")), "requestHeaderConfiguration", ""},
		{"WATHeader", mod(headers("WorkloadAccessToken")), "requestHeaderConfiguration", ""},
		{"AmzHeader", mod(headers("X-Amz-Date")), "requestHeaderConfiguration", ""},
		{"DuplicateHeader", mod(headers("X-Tenant", "x-tenant")), "requestHeaderConfiguration", ""},
		{"AuthorizationWithoutJWT", mod(func(in *ctl.CreateAgentRuntimeInput) {
			in.AuthorizerConfiguration = nil
		}), "requestHeaderConfiguration", "customJWTAuthorizer"},
		{"CallbackURL", mod(func(in *ctl.CreateAgentRuntimeInput) {
			in.EnvironmentVariables = map[string]string{"OAUTH2_CALLBACK_URL": "not a url"}
		}), "environmentVariables", ""},
		{"VPC", mod(func(in *ctl.CreateAgentRuntimeInput) {
			in.NetworkConfiguration = &types.NetworkConfiguration{NetworkMode: types.NetworkModeVpc}
		}), "networkConfiguration", ""},
		{"Lifecycle", mod(func(in *ctl.CreateAgentRuntimeInput) {
			in.LifecycleConfiguration = &types.LifecycleConfiguration{IdleRuntimeSessionTimeout: aws.Int32(30)}
		}), "lifecycleConfiguration", ""},
		{"CodeArtifact", mod(func(in *ctl.CreateAgentRuntimeInput) {
			in.AgentRuntimeArtifact = &types.AgentRuntimeArtifactMemberCodeConfiguration{Value: types.CodeConfiguration{
				Code:       &types.CodeMemberS3{Value: types.S3Location{Bucket: aws.String("b"), Prefix: aws.String("p")}},
				EntryPoint: []string{"main.py"}, Runtime: types.AgentManagedRuntimeTypePython313,
			}}
		}), "agentRuntimeArtifact", "Behalf runs no code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateAgentRuntime(ctx, tc.in)
			assertValidation(t, err, tc.field)
			if tc.message != "" {
				var ve *types.ValidationException
				errors.As(err, &ve)
				if !strings.Contains(ve.ErrorMessage(), tc.message) {
					t.Fatalf("message %q does not say %q", ve.ErrorMessage(), tc.message)
				}
			}
		})
	}
	out, err := c.ListAgentRuntimes(ctx, &ctl.ListAgentRuntimesInput{})
	if err != nil {
		t.Fatal(err)
	}
	wis, err := c.ListWorkloadIdentities(ctx, &ctl.ListWorkloadIdentitiesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.AgentRuntimes) != 0 || len(wis.WorkloadIdentities) != 0 {
		t.Fatalf("invalid input stored %d runtimes and %d workload identities", len(out.AgentRuntimes), len(wis.WorkloadIdentities))
	}
}

// Ensure a loopback upstream over http is accepted when the server allows
// private endpoints.
func TestAgentRuntimePrivateUpstream(t *testing.T) {
	s := mustRunMain(t, "", "--allow-private-endpoints")
	ctx, c := context.Background(), s.client(t)
	in := testRuntimeInput("local_agent")
	in.AgentRuntimeArtifact = containerArtifact("http://127.0.0.1:8080")
	in.AuthorizerConfiguration = &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: types.CustomJWTAuthorizerConfiguration{
		DiscoveryUrl: aws.String("http://127.0.0.1:9000/.well-known/openid-configuration"),
	}}
	out, err := c.CreateAgentRuntime(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != types.AgentRuntimeStatusReady {
		t.Fatalf("status %s", out.Status)
	}
}

// Ensure the runtime commands work as the walkthrough uses them: create
// prints the ARN, the workload identity and the invocation URL.
func TestCLIRuntime(t *testing.T) {
	isolateAWSEnv(t)
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer agent.Close()
	s := mustRunMain(t, "", "--allow-private-endpoints")

	out, err := cliRun(t, s, "runtime", "create", "cli_agent", "--upstream", agent.URL,
		"--discovery-url", "https://idp.example.com/.well-known/openid-configuration",
		"--allowed-client", "c1", "--allowed-client", "c2", "--allowed-scope", "invoke",
		"--header-allowlist", "Authorization", "--callback-url", "http://localhost:9090/callback")
	if err != nil {
		t.Fatalf("runtime create: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/(cli_agent-[A-Za-z0-9]{10})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("runtime create printed no ARN:\n%s", out)
	}
	arn, id := m[0], m[1]
	wantURL := s.URL + "/runtimes/" + url.QueryEscape(arn) + "/invocations?qualifier=DEFAULT"
	for _, want := range []string{"READY", wantURL, "Workload identity: cli_agent-"} {
		if !strings.Contains(out, want) {
			t.Fatalf("runtime create printed:\n%s\nwant it to contain %q", out, want)
		}
	}
	workload := regexp.MustCompile(`Workload identity: (\S+)`).FindStringSubmatch(out)[1]

	out, err = cliRun(t, s, "runtime", "get", "cli_agent")
	if err != nil {
		t.Fatalf("runtime get: %v\n%s", err, out)
	}
	for _, want := range []string{id, agent.URL, workload, "JWT from https://idp.example.com/", "c1, c2", "Authorization", "http://localhost:9090/callback", wantURL} {
		if !strings.Contains(out, want) {
			t.Fatalf("runtime get printed:\n%s\nwant it to contain %q", out, want)
		}
	}
	out, err = cliRun(t, s, "runtime", "get", id, "--output", "json")
	if err != nil {
		t.Fatalf("runtime get --output json: %v\n%s", err, out)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("runtime get --output json printed %s: %v", out, err)
	}
	if doc["agentRuntimeId"] != id || doc["workloadIdentityDetails"].(map[string]any)["workloadIdentityArn"] == nil {
		t.Fatalf("json = %v", doc)
	}

	out, err = cliRun(t, s, "runtime", "list")
	if err != nil || !strings.Contains(out, id) {
		t.Fatalf("runtime list: %v\n%s", err, out)
	}
	out, err = cliRun(t, s, "runtime", "update", id, "--upstream", agent.URL+"/v2")
	if err != nil || !strings.Contains(out, "version 2") {
		t.Fatalf("runtime update: %v\n%s", err, out)
	}
	out, err = cliRun(t, s, "runtime", "create", "bad", "--upstream", "my-registry/agent:latest")
	if err == nil || !strings.Contains(err.Error(), "runs no containers") {
		t.Fatalf("runtime create with an image: err=%v\n%s", err, out)
	}
	out, err = cliRun(t, s, "runtime", "create", "noupstream")
	if !errors.Is(err, errUsage) {
		t.Fatalf("runtime create without --upstream: err=%v\n%s", err, out)
	}
	out, err = cliRun(t, s, "runtime", "delete", "cli_agent")
	if err != nil || !strings.Contains(out, "Deleted agent runtime "+id) {
		t.Fatalf("runtime delete: %v\n%s", err, out)
	}
	if out, err := cliRun(t, s, "workload", "get", workload); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("workload after runtime delete: err=%v\n%s", err, out)
	}
	if out, err := cliRun(t, s, "runtime", "get", id); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("runtime get after delete: err=%v\n%s", err, out)
	}
}
