package main

import (
	"context"
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

// wantField checks a control-plane ValidationException names field.
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	e := wantErr[*types.ValidationException](t, what, err)
	if len(e.FieldList) != 1 || aws.ToString(e.FieldList[0].Name) != field {
		t.Fatalf("%s: fieldList %+v, want %s", what, e.FieldList, field)
	}
}

// Ensure runtime versions, named endpoints, invocation by qualifier,
// StopRuntimeSession and tags through the official clients, on both
// backends.
func TestRuntimeVersionsEndpointsSessionsTags(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := mustRunMain(t, dsn(t), "--allow-private-endpoints")
			ctx, c := context.Background(), s.client(t)
			d := s.dataPlane(t, s.KeyID, s.Secret)
			odd, even := newInvAgent(t), newInvAgent(t)

			in := &ctl.CreateAgentRuntimeInput{
				AgentRuntimeName:     aws.String("ver_agent"),
				AgentRuntimeArtifact: containerArtifact(odd.srv.URL),
				RoleArn:              aws.String("arn:aws:iam::123456789012:role/agent"),
				NetworkConfiguration: &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic},
				Tags:                 map[string]string{"team": "agents"},
			}
			created, err := c.CreateAgentRuntime(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			id, arn := aws.ToString(created.AgentRuntimeId), aws.ToString(created.AgentRuntimeArn)
			_, err = c.UpdateAgentRuntime(ctx, &ctl.UpdateAgentRuntimeInput{
				AgentRuntimeId: aws.String(id), AgentRuntimeArtifact: containerArtifact(even.srv.URL),
				RoleArn: in.RoleArn, NetworkConfiguration: in.NetworkConfiguration, Description: aws.String("second"),
			})
			if err != nil {
				t.Fatal(err)
			}

			// Versions: every one kept, paged, readable.
			var versions []string
			for p := ctl.NewListAgentRuntimeVersionsPaginator(c, &ctl.ListAgentRuntimeVersionsInput{AgentRuntimeId: aws.String(id), MaxResults: aws.Int32(1)}); p.HasMorePages(); {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range page.AgentRuntimes {
					if aws.ToString(v.AgentRuntimeArn) != arn || aws.ToString(v.AgentRuntimeName) != "ver_agent" || v.Status != types.AgentRuntimeStatusReady || v.LastUpdatedAt == nil {
						t.Fatalf("version item %+v", v)
					}
					versions = append(versions, aws.ToString(v.AgentRuntimeVersion))
				}
			}
			if len(versions) != 2 || versions[0] != "1" || versions[1] != "2" {
				t.Fatalf("versions %q", versions)
			}
			v1, err := c.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id), AgentRuntimeVersion: aws.String("1")})
			if err != nil {
				t.Fatal(err)
			}
			art, ok := v1.AgentRuntimeArtifact.(*types.AgentRuntimeArtifactMemberContainerConfiguration)
			if !ok || aws.ToString(art.Value.ContainerUri) != odd.srv.URL || aws.ToString(v1.AgentRuntimeVersion) != "1" || v1.Description != nil {
				t.Fatalf("version 1 = %+v", v1)
			}
			_, err = c.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id), AgentRuntimeVersion: aws.String("3")})
			wantErr[*types.ResourceNotFoundException](t, "missing version", err)
			_, err = c.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id), AgentRuntimeVersion: aws.String("v1")})
			wantField(t, "bad version", err, "agentRuntimeVersion")
			_, err = c.ListAgentRuntimeVersions(ctx, &ctl.ListAgentRuntimeVersionsInput{AgentRuntimeId: aws.String("ver_agent-0123456789")})
			wantErr[*types.ResourceNotFoundException](t, "versions of a missing runtime", err)

			// Endpoints: a named one pinned to version 1.
			ep, err := c.CreateAgentRuntimeEndpoint(ctx, &ctl.CreateAgentRuntimeEndpointInput{
				AgentRuntimeId: aws.String(id), Name: aws.String("prod"), AgentRuntimeVersion: aws.String("1"),
				Description: aws.String("production"), Tags: map[string]string{"env": "prod"},
			})
			if err != nil {
				t.Fatal(err)
			}
			epARN := arn + "/runtime-endpoint/prod"
			if aws.ToString(ep.TargetVersion) != "1" || aws.ToString(ep.AgentRuntimeEndpointArn) != epARN || aws.ToString(ep.AgentRuntimeArn) != arn ||
				aws.ToString(ep.EndpointName) != "prod" || aws.ToString(ep.AgentRuntimeId) != id || ep.Status != types.AgentRuntimeEndpointStatusReady || ep.CreatedAt == nil {
				t.Fatalf("CreateAgentRuntimeEndpoint = %+v", ep)
			}
			_, err = c.CreateAgentRuntimeEndpoint(ctx, &ctl.CreateAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), Name: aws.String("prod")})
			wantErr[*types.ConflictException](t, "duplicate endpoint", err)
			_, err = c.CreateAgentRuntimeEndpoint(ctx, &ctl.CreateAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), Name: aws.String("no-dashes")})
			wantField(t, "bad endpoint name", err, "name")
			_, err = c.CreateAgentRuntimeEndpoint(ctx, &ctl.CreateAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), Name: aws.String("later"), AgentRuntimeVersion: aws.String("9")})
			wantErr[*types.ResourceNotFoundException](t, "endpoint on a missing version", err)
			got, err := c.GetAgentRuntimeEndpoint(ctx, &ctl.GetAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("prod")})
			if err != nil || aws.ToString(got.LiveVersion) != "1" || aws.ToString(got.TargetVersion) != "1" || aws.ToString(got.Description) != "production" || aws.ToString(got.Id) != "prod" {
				t.Fatalf("GetAgentRuntimeEndpoint = %+v, %v", got, err)
			}
			list, err := c.ListAgentRuntimeEndpoints(ctx, &ctl.ListAgentRuntimeEndpointsInput{AgentRuntimeId: aws.String(id)})
			if err != nil || len(list.RuntimeEndpoints) != 2 || aws.ToString(list.RuntimeEndpoints[0].Name) != "DEFAULT" ||
				aws.ToString(list.RuntimeEndpoints[0].LiveVersion) != "2" || aws.ToString(list.RuntimeEndpoints[1].Name) != "prod" {
				t.Fatalf("ListAgentRuntimeEndpoints = %+v, %v", list, err)
			}
			_, err = c.UpdateAgentRuntimeEndpoint(ctx, &ctl.UpdateAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("DEFAULT"), AgentRuntimeVersion: aws.String("1")})
			wantField(t, "update DEFAULT", err, "endpointName")

			// Invoke by qualifier.
			invoke := func(qualifier, session string) (*invAgent, string, error) {
				before := odd.calls()
				in := &dp.InvokeAgentRuntimeInput{AgentRuntimeArn: aws.String(arn), Payload: []byte(`{}`)}
				if qualifier != "" {
					in.Qualifier = aws.String(qualifier)
				}
				if session != "" {
					in.RuntimeSessionId = aws.String(session)
				}
				out, err := d.InvokeAgentRuntime(ctx, in)
				if err != nil {
					return nil, "", err
				}
				io.Copy(io.Discard, out.Response)
				out.Response.Close()
				if odd.calls() > before {
					return odd, aws.ToString(out.RuntimeSessionId), nil
				}
				return even, aws.ToString(out.RuntimeSessionId), nil
			}
			if a, _, err := invoke("prod", ""); err != nil || a != odd {
				t.Fatalf("prod: %v, odd agent %v", err, a == odd)
			}
			if a, _, err := invoke("", ""); err != nil || a != even {
				t.Fatalf("DEFAULT: %v, even agent %v", err, a == even)
			}
			_, _, err = invoke("staging", "")
			wantErr[*dptypes.ResourceNotFoundException](t, "unknown qualifier", err)
			up, err := c.UpdateAgentRuntimeEndpoint(ctx, &ctl.UpdateAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("prod"), AgentRuntimeVersion: aws.String("2")})
			if err != nil || aws.ToString(up.LiveVersion) != "2" || aws.ToString(up.TargetVersion) != "2" || up.LastUpdatedAt == nil {
				t.Fatalf("UpdateAgentRuntimeEndpoint = %+v, %v", up, err)
			}

			// StopRuntimeSession.
			session := "stop-me-0123456789abcdefghijklmnopqrstuv"
			if _, _, err := invoke("", session); err != nil {
				t.Fatal(err)
			}
			stopped, err := d.StopRuntimeSession(ctx, &dp.StopRuntimeSessionInput{AgentRuntimeArn: aws.String(arn), RuntimeSessionId: aws.String(session)})
			if err != nil || aws.ToString(stopped.RuntimeSessionId) != session || aws.ToInt32(stopped.StatusCode) != 200 {
				t.Fatalf("StopRuntimeSession = %+v, %v", stopped, err)
			}
			_, err = d.StopRuntimeSession(ctx, &dp.StopRuntimeSessionInput{AgentRuntimeArn: aws.String(arn), RuntimeSessionId: aws.String(session)})
			wantErr[*dptypes.ResourceNotFoundException](t, "stop twice", err)
			_, err = d.StopRuntimeSession(ctx, &dp.StopRuntimeSessionInput{AgentRuntimeArn: aws.String(arn), RuntimeSessionId: aws.String(session), Qualifier: aws.String("prod")})
			wantErr[*dptypes.ResourceNotFoundException](t, "stop on another endpoint", err)
			_, err = d.StopRuntimeSession(ctx, &dp.StopRuntimeSessionInput{AgentRuntimeArn: aws.String(arn), RuntimeSessionId: aws.String("short")})
			wantErr[*dptypes.ValidationException](t, "stop a malformed id", err)

			// Tags.
			tagsOf := func(resource string) map[string]string {
				t.Helper()
				out, err := c.ListTagsForResource(ctx, &ctl.ListTagsForResourceInput{ResourceArn: aws.String(resource)})
				if err != nil {
					t.Fatalf("ListTagsForResource %s: %v", resource, err)
				}
				return out.Tags
			}
			if got := tagsOf(arn); !maps.Equal(got, map[string]string{"team": "agents"}) {
				t.Fatalf("runtime tags %v", got)
			}
			if got := tagsOf(epARN); !maps.Equal(got, map[string]string{"env": "prod"}) {
				t.Fatalf("endpoint tags %v", got)
			}
			if _, err := c.TagResource(ctx, &ctl.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"cost": "42", "team": "ops"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.UntagResource(ctx, &ctl.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"cost", "absent"}}); err != nil {
				t.Fatal(err)
			}
			if got := tagsOf(arn); !maps.Equal(got, map[string]string{"team": "ops"}) {
				t.Fatalf("runtime tags after tag and untag %v", got)
			}
			wl := workloadName(t, created.WorkloadIdentityDetails)
			wlARN := "arn:aws:bedrock-agentcore:us-east-1:000000000000:workload-identity-directory/default/workload-identity/" + wl
			if _, err := c.TagResource(ctx, &ctl.TagResourceInput{ResourceArn: aws.String(wlARN), Tags: map[string]string{"owner": "me"}}); err != nil {
				t.Fatal(err)
			}
			if got := tagsOf(wlARN); !maps.Equal(got, map[string]string{"owner": "me"}) {
				t.Fatalf("workload tags %v", got)
			}
			_, err = c.TagResource(ctx, &ctl.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"bad\x01": "v"}})
			wantField(t, "bad tag key", err, "tags")
			_, err = c.UntagResource(ctx, &ctl.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{""}})
			wantField(t, "empty tag key", err, "tagKeys")
			_, err = c.TagResource(ctx, &ctl.TagResourceInput{ResourceArn: aws.String("arn:aws:bedrock-agentcore:us-east-1:000000000000:gateway/gw-1"), Tags: map[string]string{"k": "v"}})
			wantField(t, "a gateway", err, "resourceArn")
			_, err = c.ListTagsForResource(ctx, &ctl.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/ver_agent-0123456789")})
			wantErr[*types.ResourceNotFoundException](t, "tags of a missing runtime", err)
			if got := tagsOf(arn); !maps.Equal(got, map[string]string{"team": "ops"}) {
				t.Fatalf("a refused tag change changed the tags: %v", got)
			}

			// Delete the endpoint.
			del, err := c.DeleteAgentRuntimeEndpoint(ctx, &ctl.DeleteAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("prod")})
			if err != nil || del.Status != types.AgentRuntimeEndpointStatusDeleting || aws.ToString(del.EndpointName) != "prod" || aws.ToString(del.AgentRuntimeId) != id {
				t.Fatalf("DeleteAgentRuntimeEndpoint = %+v, %v", del, err)
			}
			_, err = c.GetAgentRuntimeEndpoint(ctx, &ctl.GetAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("prod")})
			wantErr[*types.ResourceNotFoundException](t, "deleted endpoint", err)
			_, err = c.DeleteAgentRuntimeEndpoint(ctx, &ctl.DeleteAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("DEFAULT")})
			wantField(t, "delete DEFAULT", err, "endpointName")
		})
	}
}

// Ensure the CLI's runtime versions, endpoint and stop-session commands.
func TestCLIRuntimeVersions(t *testing.T) {
	isolateAWSEnv(t)
	agent := newInvAgent(t)
	s := mustRunMain(t, "", "--allow-private-endpoints")
	step := func(want string, args ...string) {
		t.Helper()
		out, err := cliRun(t, s, args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("behalf %s: %v\n%s\nwant %q", strings.Join(args, " "), err, out, want)
		}
	}
	step("READY", "runtime", "create", "cli_ver", "--upstream", agent.srv.URL)
	step("version 2", "runtime", "update", "cli_ver", "--upstream", agent.srv.URL+"/v2")
	step("VERSION  STATUS", "runtime", "versions", "cli_ver")
	step("\n2        READY", "runtime", "versions", "cli_ver")
	step("serving version 1", "runtime", "endpoint-create", "cli_ver", "prod", "--version", "1", "--description", "production")
	step("now serves version 2", "runtime", "endpoint-update", "cli_ver", "prod", "--version", "2")
	step("\nprod      2        READY", "runtime", "endpoints", "cli_ver")
	step("Deleted endpoint prod", "runtime", "endpoint-delete", "cli_ver", "prod")
	if out, err := cliRun(t, s, "runtime", "endpoint-delete", "cli_ver", "prod"); err == nil || !strings.Contains(out+err.Error(), "ResourceNotFound") {
		t.Fatalf("deleting twice: %v\n%s", err, out)
	}
	session := "cli-session-0123456789abcdefghijklmnopqr"
	step("", "invoke", "cli_ver", "{}", "--session-id", session)
	step("Stopped session "+session, "runtime", "stop-session", "cli_ver", session)
	if out, err := cliRun(t, s, "runtime", "stop-session", "cli_ver", session); err == nil || !strings.Contains(out+err.Error(), "ResourceNotFound") {
		t.Fatalf("stopping twice: %v\n%s", err, out)
	}
}
