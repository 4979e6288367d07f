package main

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

// notesOpenAPI is a one-operation OpenAPI document served at base.
func notesOpenAPI(base string) string {
	return `openapi: 3.0.3
info: {title: Notes, version: '1'}
servers: [{url: '` + base + `'}]
paths:
  /notes:
    get:
      operationId: search
      summary: Searches the user's notes.
      parameters:
        - {name: q, in: query, required: true, schema: {type: string}}
      responses: {'200': {description: ok}}
`
}

func openAPITarget(payload string) types.TargetConfiguration {
	return &types.TargetConfigurationMemberMcp{Value: &types.McpTargetConfigurationMemberOpenApiSchema{
		Value: &types.ApiSchemaConfigurationMemberInlinePayload{Value: payload}}}
}

func apiKeyCredential(arn string) []types.CredentialProviderConfiguration {
	return []types.CredentialProviderConfiguration{{
		CredentialProviderType: types.CredentialProviderTypeApiKey,
		CredentialProvider: &types.CredentialProviderMemberApiKeyCredentialProvider{Value: types.GatewayApiKeyCredentialProvider{
			ProviderArn: aws.String(arn), CredentialLocation: types.ApiKeyCredentialLocationHeader,
			CredentialParameterName: aws.String("X-Api-Key"),
		}},
	}}
}

// Ensure the gateway control plane round-trips through the official
// client on both backends: create (202, the gateway URL, its workload
// identity), get by id and ARN, conflict, update, targets with an API key
// and an OAuth credential, pagination, validation, not found, and delete.
func TestGatewayControlPlane(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.client(t)
		key, err := c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("notes-key"), ApiKey: aws.String("k-123")})
		if err != nil {
			t.Fatal(err)
		}
		google, err := c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
			Name: aws.String("google"), CredentialProviderVendor: types.CredentialProviderVendorTypeGoogleOauth2,
			Oauth2ProviderConfigInput: googleConfig("id", "secret")})
		if err != nil {
			t.Fatal(err)
		}

		created, err := c.CreateGateway(ctx, &ctl.CreateGatewayInput{
			Name: aws.String("drive-tools"), RoleArn: aws.String("arn:aws:iam::123456789012:role/gw"),
			ProtocolType: types.GatewayProtocolTypeMcp, AuthorizerType: types.AuthorizerTypeCustomJwt,
			AuthorizerConfiguration: &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: types.CustomJWTAuthorizerConfiguration{
				DiscoveryUrl: aws.String(testDiscoveryURL), AllowedClients: []string{"client-1"}, AllowedScopes: []string{"tools"}}},
			Description: aws.String("Drive tools"),
		})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(created.GatewayId)
		if !regexp.MustCompile(`^drive-tools-[0-9a-z]{10}$`).MatchString(id) || created.Status != types.GatewayStatusReady {
			t.Fatalf("Create = id %q, status %s", id, created.Status)
		}
		if !strings.Contains(s.Captured.String(), "202 \n") {
			t.Fatalf("CreateGateway did not answer 202:\n%s", s.Captured)
		}
		arn := "arn:aws:bedrock-agentcore:us-east-1:000000000000:gateway/" + id
		if aws.ToString(created.GatewayArn) != arn || aws.ToString(created.GatewayUrl) != s.URL+"/gateways/"+id+"/mcp" {
			t.Fatalf("Create = arn %s, url %s", aws.ToString(created.GatewayArn), aws.ToString(created.GatewayUrl))
		}
		if w := workloadName(t, created.WorkloadIdentityDetails); w != id {
			t.Fatalf("workload identity %q, want the gateway id %q", w, id)
		}
		if _, err := c.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: aws.String(id)}); err != nil {
			t.Fatalf("the gateway's workload identity: %v", err)
		}
		for _, ident := range []string{id, arn} {
			got, err := c.GetGateway(ctx, &ctl.GetGatewayInput{GatewayIdentifier: aws.String(ident)})
			if err != nil {
				t.Fatal(err)
			}
			a, ok := got.AuthorizerConfiguration.(*types.AuthorizerConfigurationMemberCustomJWTAuthorizer)
			if aws.ToString(got.Name) != "drive-tools" || got.AuthorizerType != types.AuthorizerTypeCustomJwt || !ok ||
				!slices.Equal(a.Value.AllowedScopes, []string{"tools"}) || got.CreatedAt == nil || got.UpdatedAt == nil ||
				aws.ToString(got.Description) != "Drive tools" || got.ProtocolType != types.GatewayProtocolTypeMcp {
				t.Fatalf("Get(%s) = %+v", ident, got)
			}
		}
		_, err = c.CreateGateway(ctx, &ctl.CreateGatewayInput{Name: aws.String("drive-tools"), RoleArn: aws.String("arn:aws:iam::123456789012:role/gw"),
			AuthorizerType: types.AuthorizerTypeNone})
		wantErr[*types.ConflictException](t, "same name", err)
		_, err = c.CreateGateway(ctx, &ctl.CreateGatewayInput{Name: aws.String("iam"), RoleArn: aws.String("arn:aws:iam::123456789012:role/gw"),
			AuthorizerType: types.AuthorizerTypeAwsIam})
		if v := wantErr[*types.ValidationException](t, "AWS_IAM", err); !strings.Contains(aws.ToString(v.Message), "authorizerType") {
			t.Fatalf("AWS_IAM refused with %q", aws.ToString(v.Message))
		}
		_, err = c.GetGateway(ctx, &ctl.GetGatewayInput{GatewayIdentifier: aws.String("missing-0123456789")})
		wantErr[*types.ResourceNotFoundException](t, "missing gateway", err)

		up, err := c.UpdateGateway(ctx, &ctl.UpdateGatewayInput{GatewayIdentifier: aws.String(id), Name: aws.String("drive-tools"),
			RoleArn: aws.String("arn:aws:iam::123456789012:role/gw"), AuthorizerType: types.AuthorizerTypeNone})
		if err != nil || up.AuthorizerType != types.AuthorizerTypeNone || up.AuthorizerConfiguration != nil {
			t.Fatalf("Update = %+v, %v", up, err)
		}

		// Targets.
		tg, err := c.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{GatewayIdentifier: aws.String(id), Name: aws.String("notes"),
			TargetConfiguration:              openAPITarget(notesOpenAPI("https://notes.example.com/api")),
			CredentialProviderConfigurations: apiKeyCredential(aws.ToString(key.CredentialProviderArn))})
		if err != nil {
			t.Fatal(err)
		}
		tid := aws.ToString(tg.TargetId)
		if tg.Status != types.TargetStatusReady || aws.ToString(tg.GatewayArn) != arn || len(tid) != 10 {
			t.Fatalf("CreateGatewayTarget = %+v", tg)
		}
		got, err := c.GetGatewayTarget(ctx, &ctl.GetGatewayTargetInput{GatewayIdentifier: aws.String(id), TargetId: aws.String(tid)})
		if err != nil {
			t.Fatal(err)
		}
		k := got.CredentialProviderConfigurations[0].CredentialProvider.(*types.CredentialProviderMemberApiKeyCredentialProvider).Value
		if aws.ToString(k.ProviderArn) != aws.ToString(key.CredentialProviderArn) || aws.ToString(k.CredentialParameterName) != "X-Api-Key" ||
			k.CredentialLocation != types.ApiKeyCredentialLocationHeader {
			t.Fatalf("api key credential = %+v", k)
		}
		m := got.TargetConfiguration.(*types.TargetConfigurationMemberMcp).Value.(*types.McpTargetConfigurationMemberOpenApiSchema)
		if p := m.Value.(*types.ApiSchemaConfigurationMemberInlinePayload).Value; !strings.Contains(p, "operationId: search") {
			t.Fatalf("inline payload = %q", p)
		}
		mcpTarget, err := c.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{GatewayIdentifier: aws.String(id), Name: aws.String("drive"),
			TargetConfiguration: &types.TargetConfigurationMemberMcp{Value: &types.McpTargetConfigurationMemberMcpServer{
				Value: types.McpServerTargetConfiguration{Endpoint: aws.String("https://mcp.example.com/mcp")}}},
			CredentialProviderConfigurations: []types.CredentialProviderConfiguration{{
				CredentialProviderType: types.CredentialProviderTypeOauth,
				CredentialProvider: &types.CredentialProviderMemberOauthCredentialProvider{Value: types.OAuthCredentialProvider{
					ProviderArn: google.CredentialProviderArn, Scopes: []string{"drive"}, GrantType: types.OAuthGrantTypeAuthorizationCode,
					DefaultReturnUrl: aws.String("https://app.example.com/cb")}},
			}}})
		if err != nil {
			t.Fatal(err)
		}
		o := mcpTarget.CredentialProviderConfigurations[0].CredentialProvider.(*types.CredentialProviderMemberOauthCredentialProvider).Value
		if o.GrantType != types.OAuthGrantTypeAuthorizationCode || aws.ToString(o.DefaultReturnUrl) != "https://app.example.com/cb" {
			t.Fatalf("oauth credential = %+v", o)
		}

		// Validation: SSRF through OpenAPI servers and the MCP endpoint, a
		// provider that does not exist, a name taken.
		for what, in := range map[string]*ctl.CreateGatewayTargetInput{
			"openapi servers": {Name: aws.String("x"), TargetConfiguration: openAPITarget(notesOpenAPI("http://169.254.169.254/latest"))},
			"mcp endpoint": {Name: aws.String("y"), TargetConfiguration: &types.TargetConfigurationMemberMcp{Value: &types.McpTargetConfigurationMemberMcpServer{
				Value: types.McpServerTargetConfiguration{Endpoint: aws.String("http://127.0.0.1:9/mcp")}}}},
			"provider": {Name: aws.String("z"), TargetConfiguration: openAPITarget(notesOpenAPI("https://a.example.com")),
				CredentialProviderConfigurations: apiKeyCredential(strings.Replace(aws.ToString(key.CredentialProviderArn), "notes-key", "nope", 1))},
		} {
			in.GatewayIdentifier = aws.String(id)
			_, err := c.CreateGatewayTarget(ctx, in)
			wantErr[*types.ValidationException](t, what, err)
		}
		_, err = c.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{GatewayIdentifier: aws.String(id), Name: aws.String("notes"),
			TargetConfiguration: openAPITarget(notesOpenAPI("https://a.example.com"))})
		wantErr[*types.ConflictException](t, "target name taken", err)
		_, err = c.GetGatewayTarget(ctx, &ctl.GetGatewayTargetInput{GatewayIdentifier: aws.String(id), TargetId: aws.String("ABCDEFGHIJ")})
		wantErr[*types.ResourceNotFoundException](t, "missing target", err)

		// Update a target; list with paging.
		if _, err := c.UpdateGatewayTarget(ctx, &ctl.UpdateGatewayTargetInput{GatewayIdentifier: aws.String(id), TargetId: aws.String(tid),
			Name: aws.String("notes"), Description: aws.String("the notes"), TargetConfiguration: openAPITarget(notesOpenAPI("https://notes2.example.com"))}); err != nil {
			t.Fatal(err)
		}
		var seen []string
		for p := ctl.NewListGatewayTargetsPaginator(c, &ctl.ListGatewayTargetsInput{GatewayIdentifier: aws.String(id), MaxResults: aws.Int32(1)}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) > 1 {
				t.Fatalf("page of %d", len(page.Items))
			}
			for _, it := range page.Items {
				seen = append(seen, aws.ToString(it.Name))
			}
		}
		slices.Sort(seen)
		if !slices.Equal(seen, []string{"drive", "notes"}) {
			t.Fatalf("listed targets %q", seen)
		}
		if _, err := c.CreateGateway(ctx, &ctl.CreateGatewayInput{Name: aws.String("second"), RoleArn: aws.String("arn:aws:iam::123456789012:role/gw"),
			AuthorizerType: types.AuthorizerTypeNone}); err != nil {
			t.Fatal(err)
		}
		var gws []string
		for p := ctl.NewListGatewaysPaginator(c, &ctl.ListGatewaysInput{MaxResults: aws.Int32(1)}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				gws = append(gws, aws.ToString(it.Name))
			}
		}
		slices.Sort(gws)
		if !slices.Equal(gws, []string{"drive-tools", "second"}) {
			t.Fatalf("listed gateways %q", gws)
		}

		// Delete: not while targets remain.
		_, err = c.DeleteGateway(ctx, &ctl.DeleteGatewayInput{GatewayIdentifier: aws.String(id)})
		wantErr[*types.ConflictException](t, "delete with targets", err)
		for _, t2 := range []string{tid, aws.ToString(mcpTarget.TargetId)} {
			if _, err := c.DeleteGatewayTarget(ctx, &ctl.DeleteGatewayTargetInput{GatewayIdentifier: aws.String(id), TargetId: aws.String(t2)}); err != nil {
				t.Fatal(err)
			}
		}
		del, err := c.DeleteGateway(ctx, &ctl.DeleteGatewayInput{GatewayIdentifier: aws.String(id)})
		if err != nil || del.Status != types.GatewayStatusDeleting {
			t.Fatalf("DeleteGateway = %+v, %v", del, err)
		}
		_, err = c.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: aws.String(id)})
		wantErr[*types.ResourceNotFoundException](t, "the deleted gateway's workload", err)
	})
}
