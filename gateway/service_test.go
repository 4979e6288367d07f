package gateway_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/gateway"
	"github.com/behalf-dev/behalf/sqlstore"
)

// providers is a fixed set of credential providers.
type providers struct{}

func (providers) GetOAuth2Provider(_ context.Context, name string) (*behalf.OAuth2Provider, error) {
	if name == "google" {
		return &behalf.OAuth2Provider{Name: name}, nil
	}
	return nil, behalf.Errorf(behalf.ENOTFOUND, "no %s", name)
}

func (providers) GetAPIKeyProvider(_ context.Context, name string) (*behalf.APIKeyProvider, error) {
	if name == "notes-key" {
		return &behalf.APIKeyProvider{Name: name}, nil
	}
	return nil, behalf.Errorf(behalf.ENOTFOUND, "no %s", name)
}

const (
	oauthARN  = "arn:aws:bedrock-agentcore:us-east-1:000000000000:token-vault/default/oauth2credentialprovider/google"
	apiKeyARN = "arn:aws:bedrock-agentcore:us-east-1:000000000000:token-vault/default/apikeycredentialprovider/notes-key"
	openAPI   = `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"servers":[{"url":"https://api.example.com/v1"}],
"paths":{"/notes":{"get":{"operationId":"search","responses":{"200":{"description":"ok"}}}}}}`
)

func newService(t *testing.T) (*gateway.Service, *sqlstore.DB) {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "behalf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &gateway.Service{Store: db, Providers: providers{}, Region: "us-east-1", Account: "000000000000",
		Now: func() time.Time { return clock }}, db
}

func gatewayInput() behalf.GatewayInput {
	return behalf.GatewayInput{
		Name: "Drive-Tools", RoleARN: "arn:aws:iam::123456789012:role/gw", AuthorizerType: behalf.GatewayAuthorizerJWT,
		Authorizer: &behalf.JWTAuthorizer{DiscoveryURL: "https://idp.example.com/.well-known/openid-configuration", AllowedClients: []string{"c1"}},
	}
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := err.(*behalf.Error)
	if !ok || e.Code != behalf.EINVALID || e.Field != field {
		t.Fatalf("err = %v, want EINVALID naming %s", err, field)
	}
}

func TestGatewayLifecycle(t *testing.T) {
	s, db := newService(t)
	ctx := t.Context()
	g, err := s.CreateGateway(ctx, gatewayInput())
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^drive-tools-[0-9a-z]{10}$`).MatchString(g.ID) || g.Workload != g.ID || g.ProtocolType != "MCP" || g.Status != behalf.GatewayReady {
		t.Fatalf("created %+v", g)
	}
	if w, err := db.GetWorkload(ctx, g.ID); err != nil || w.Name != g.ID {
		t.Fatalf("workload identity named after the gateway id: %v, %v", w, err)
	}
	arn := behalf.GatewayARN("us-east-1", "000000000000", g.ID)
	for _, key := range []string{g.ID, "Drive-Tools", arn} {
		if got, err := s.GetGateway(ctx, key); err != nil || got.ID != g.ID {
			t.Fatalf("GetGateway(%s) = %v, %v", key, got, err)
		}
	}
	_, err = s.CreateGateway(ctx, gatewayInput())
	if behalf.ErrorCode(err) != behalf.ECONFLICT {
		t.Fatalf("same name again: %v", err)
	}

	// Update replaces the configuration; the name cannot change.
	in := gatewayInput()
	in.AuthorizerType, in.Authorizer, in.Description = behalf.GatewayAuthorizerNone, nil, "open"
	up, err := s.UpdateGateway(ctx, g.ID, in)
	if err != nil || up.Authorizer != nil || up.Description != "open" {
		t.Fatalf("update = %+v, %v", up, err)
	}
	in.Name = "other"
	_, err = s.UpdateGateway(ctx, g.ID, in)
	wantInvalid(t, err, "name")

	// Targets: OpenAPI with an API key, MCP server with OAuth.
	tg, err := s.CreateGatewayTarget(ctx, g.ID, behalf.GatewayTargetInput{Name: "notes", Kind: behalf.TargetOpenAPI, OpenAPI: openAPI,
		Credentials: []behalf.GatewayCredential{{Type: behalf.CredentialAPIKey, Provider: apiKeyARN, Location: behalf.APIKeyInQuery, ParameterName: "key"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Z2-7]{10}$`).MatchString(tg.ID) || tg.Credentials[0].Provider != "notes-key" || tg.Credentials[0].Prefix != "" {
		t.Fatalf("target %+v", tg)
	}
	mcp, err := s.CreateGatewayTarget(ctx, g.ID, behalf.GatewayTargetInput{Name: "drive", Kind: behalf.TargetMCPServer, Endpoint: "https://mcp.example.com/mcp",
		Credentials: []behalf.GatewayCredential{{Type: behalf.CredentialOAuth, Provider: oauthARN, Scopes: []string{"drive"},
			GrantType: behalf.GrantAuthorizationCode, DefaultReturnURL: "https://app.example.com/cb"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := mcp.Credentials[0]; c.Provider != "google" || c.GrantType != behalf.GrantAuthorizationCode {
		t.Fatalf("oauth credential %+v", c)
	}
	_, err = s.CreateGatewayTarget(ctx, g.ID, behalf.GatewayTargetInput{Name: "drive", Kind: behalf.TargetMCPServer, Endpoint: "https://x.example.com"})
	if behalf.ErrorCode(err) != behalf.ECONFLICT {
		t.Fatalf("duplicate target name: %v", err)
	}
	items, next, err := s.ListGatewayTargets(ctx, g.ID, behalf.PageRequest{MaxResults: 1})
	if err != nil || len(items) != 1 || next == "" {
		t.Fatalf("list page 1: %d items, next %q, %v", len(items), next, err)
	}
	items2, next2, err := s.ListGatewayTargets(ctx, g.ID, behalf.PageRequest{MaxResults: 1, NextToken: next})
	if err != nil || len(items2) != 1 || next2 != "" || items2[0].ID == items[0].ID {
		t.Fatalf("list page 2: %v, next %q, %v", items2, next2, err)
	}

	// A gateway with targets is not deleted.
	_, err = s.DeleteGateway(ctx, g.ID)
	if behalf.ErrorCode(err) != behalf.ECONFLICT {
		t.Fatalf("delete with targets: %v", err)
	}
	for _, id := range []string{tg.ID, mcp.ID} {
		if _, err := s.DeleteGatewayTarget(ctx, g.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DeleteGateway(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetWorkload(ctx, g.ID); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("workload after delete: %v", err)
	}
}

// Ensure every bad gateway input is refused naming its field, and nothing
// is stored.
func TestGatewayValidation(t *testing.T) {
	s, db := newService(t)
	ctx := t.Context()
	for field, mutate := range map[string]func(*behalf.GatewayInput){
		"name":                    func(in *behalf.GatewayInput) { in.Name = "bad_name" },
		"roleArn":                 func(in *behalf.GatewayInput) { in.RoleARN = "role" },
		"protocolType":            func(in *behalf.GatewayInput) { in.ProtocolType = "HTTP" },
		"authorizerType":          func(in *behalf.GatewayInput) { in.AuthorizerType = "AWS_IAM" },
		"authorizerConfiguration": func(in *behalf.GatewayInput) { in.Authorizer = nil },
		"authorizerConfiguration.customJWTAuthorizer.discoveryUrl": func(in *behalf.GatewayInput) {
			in.Authorizer.DiscoveryURL = "http://127.0.0.1/.well-known/openid-configuration"
		},
		"authorizerConfiguration.customJWTAuthorizer": func(in *behalf.GatewayInput) { in.Authorizer.AllowedClients = nil },
		"description":    func(in *behalf.GatewayInput) { in.Description = strings.Repeat("x", 201) },
		"exceptionLevel": func(in *behalf.GatewayInput) { in.ExceptionLevel = "INFO" },
	} {
		in := gatewayInput()
		mutate(&in)
		_, err := s.CreateGateway(ctx, in)
		wantInvalid(t, err, field)
	}
	if gs, err := db.ListGateways(ctx, behalf.ListOptions{}); err != nil || len(gs) != 0 {
		t.Fatalf("stored after refusals: %v, %v", gs, err)
	}
	if _, err := s.GetGateway(ctx, "../x"); behalf.ErrorCode(err) != behalf.EINVALID {
		t.Fatalf("bad id: %v", err)
	}
	if _, err := s.GetGateway(ctx, "missing-0123456789"); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("missing: %v", err)
	}
}

// Ensure bad targets are refused naming their field: SSRF through the
// MCP endpoint or OpenAPI servers, providers that do not exist, grant
// types and return URLs.
func TestTargetValidation(t *testing.T) {
	s, db := newService(t)
	ctx := t.Context()
	g, err := s.CreateGateway(ctx, gatewayInput())
	if err != nil {
		t.Fatal(err)
	}
	ok := func() behalf.GatewayTargetInput {
		return behalf.GatewayTargetInput{Name: "notes", Kind: behalf.TargetOpenAPI, OpenAPI: openAPI,
			Credentials: []behalf.GatewayCredential{{Type: behalf.CredentialOAuth, Provider: oauthARN, GrantType: behalf.GrantAuthorizationCode, DefaultReturnURL: "https://app.example.com/cb"}}}
	}
	const base = "credentialProviderConfigurations.credentialProvider."
	for name, c := range map[string]struct {
		field  string
		mutate func(*behalf.GatewayTargetInput)
	}{
		"name": {"name", func(in *behalf.GatewayTargetInput) { in.Name = "a__b" }},
		"kind": {"targetConfiguration", func(in *behalf.GatewayTargetInput) { in.Kind = "LAMBDA" }},
		"openapi ssrf": {"targetConfiguration.mcp.openApiSchema.inlinePayload", func(in *behalf.GatewayTargetInput) {
			in.OpenAPI = strings.Replace(openAPI, "https://api.example.com/v1", "http://169.254.169.254", 1)
		}},
		"mcp ssrf": {"targetConfiguration.mcp.mcpServer.endpoint", func(in *behalf.GatewayTargetInput) {
			in.Kind, in.Endpoint = behalf.TargetMCPServer, "http://localhost:8080/mcp"
		}},
		"mcp missing":  {"targetConfiguration.mcp.mcpServer.endpoint", func(in *behalf.GatewayTargetInput) { in.Kind = behalf.TargetMCPServer }},
		"provider arn": {base + "oauthCredentialProvider.providerArn", func(in *behalf.GatewayTargetInput) { in.Credentials[0].Provider = "google" }},
		"provider gone": {base + "oauthCredentialProvider.providerArn", func(in *behalf.GatewayTargetInput) {
			in.Credentials[0].Provider = strings.Replace(oauthARN, "google", "nope", 1)
		}},
		"other account": {base + "oauthCredentialProvider.providerArn", func(in *behalf.GatewayTargetInput) {
			in.Credentials[0].Provider = strings.Replace(oauthARN, "000000000000", "111111111111", 1)
		}},
		"api key as oauth": {base + "oauthCredentialProvider.providerArn", func(in *behalf.GatewayTargetInput) { in.Credentials[0].Provider = apiKeyARN }},
		"grant":            {base + "oauthCredentialProvider.grantType", func(in *behalf.GatewayTargetInput) { in.Credentials[0].GrantType = "TOKEN_EXCHANGE" }},
		"bad return url":   {base + "oauthCredentialProvider.defaultReturnUrl", func(in *behalf.GatewayTargetInput) { in.Credentials[0].DefaultReturnURL = "javascript:alert(1)" }},
		"scope":            {base + "oauthCredentialProvider.scopes", func(in *behalf.GatewayTargetInput) { in.Credentials[0].Scopes = []string{"a b"} }},
		"type":             {"credentialProviderConfigurations.credentialProviderType", func(in *behalf.GatewayTargetInput) { in.Credentials[0].Type = "GATEWAY_IAM_ROLE" }},
		"two":              {"credentialProviderConfigurations", func(in *behalf.GatewayTargetInput) { in.Credentials = append(in.Credentials, in.Credentials[0]) }},
		"key location": {base + "apiKeyCredentialProvider.credentialLocation", func(in *behalf.GatewayTargetInput) {
			in.Credentials[0] = behalf.GatewayCredential{Type: behalf.CredentialAPIKey, Provider: apiKeyARN, Location: "BODY"}
		}},
		"key header": {base + "apiKeyCredentialProvider.credentialParameterName", func(in *behalf.GatewayTargetInput) {
			in.Credentials[0] = behalf.GatewayCredential{Type: behalf.CredentialAPIKey, Provider: apiKeyARN, ParameterName: "Host"}
		}},
		"key prefix": {base + "apiKeyCredentialProvider.credentialPrefix", func(in *behalf.GatewayTargetInput) {
			in.Credentials[0] = behalf.GatewayCredential{Type: behalf.CredentialAPIKey, Provider: apiKeyARN, ParameterName: "X-Key", Prefix: "a\r\nb"}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			in := ok()
			c.mutate(&in)
			_, err := s.CreateGatewayTarget(ctx, g.ID, in)
			wantInvalid(t, err, c.field)
		})
	}
	if ts, err := db.ListGatewayTargets(ctx, g.ID, behalf.ListOptions{}); err != nil || len(ts) != 0 {
		t.Fatalf("stored after refusals: %v, %v", ts, err)
	}
	if _, err := s.CreateGatewayTarget(ctx, g.ID, ok()); err != nil {
		t.Fatalf("the valid target: %v", err)
	}
	if _, err := s.CreateGatewayTarget(ctx, "missing-0123456789", ok()); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("target of a missing gateway: %v", err)
	}
}
