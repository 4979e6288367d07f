package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/behalf-dev/behalf/sandbox"
)

// remoteMCP is an MCP server (the Go SDK's) on loopback whose requests
// must carry an Authorization or X-Api-Key header check accepts; it
// records the Authorization headers it receives.
type remoteMCP struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newRemoteMCP(t *testing.T, check func(*http.Request) bool) *remoteMCP {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "remote", Version: "1"}, nil)
	type query struct {
		Q string `json:"q"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "search", Description: "Searches."}, func(_ context.Context, _ *mcp.CallToolRequest, in query) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "found " + in.Q}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "slow"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		select {
		case <-ctx.Done():
		case <-time.After(3 * time.Second):
		}
		return &mcp.CallToolResult{}, nil, nil
	})
	s.AddTool(&mcp.Tool{Name: "fail", InputSchema: map[string]any{"type": "object"}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return nil, errors.New("the remote store is down")
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	r := &remoteMCP{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.auths = append(r.auths, req.Header.Get("Authorization"))
		r.mu.Unlock()
		if !check(req) {
			http.Error(w, "bad credential", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func mcpServerTarget(endpoint string) types.TargetConfiguration {
	return &types.TargetConfigurationMemberMcp{Value: &types.McpTargetConfigurationMemberMcpServer{
		Value: types.McpServerTargetConfiguration{Endpoint: aws.String(endpoint)}}}
}

func listToolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

// Ensure mcpServer targets through the official clients: the control
// plane lists the remote server's tools at create (READY,
// lastSynchronizedAt) with the API key the remote checks; an MCP client
// lists them as {target}___{tool} and calls them, a slow or failing remote
// tool being a tool error and the client's token never reaching the
// remote; a remote that needs an admin's OAuth consent waits in
// CREATE_PENDING_AUTH with authorizationData until the admin consents and
// SynchronizeGatewayTargets makes it READY; and a private endpoint is
// refused without --allow-private-endpoints.
func TestGatewayMCPServerTargets(t *testing.T) {
	f := newGatewayFixture(t)
	ctx := context.Background()
	notes := newRemoteMCP(t, func(r *http.Request) bool { return r.Header.Get("X-Api-Key") == "Key k-123" })
	cred := apiKeyCredential("arn:aws:bedrock-agentcore:us-east-1:000000000000:token-vault/default/apikeycredentialprovider/notes-key")
	cred[0].CredentialProvider.(*types.CredentialProviderMemberApiKeyCredentialProvider).Value.CredentialPrefix = aws.String("Key")
	tg, err := f.c.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{GatewayIdentifier: aws.String(f.gatewayID), Name: aws.String("remote"),
		TargetConfiguration: mcpServerTarget(notes.URL + "/mcp"), CredentialProviderConfigurations: cred})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Status != types.TargetStatusReady || tg.LastSynchronizedAt == nil || tg.AuthorizationData != nil {
		t.Fatalf("CreateGatewayTarget = status %s, synced %v, reasons %q", tg.Status, tg.LastSynchronizedAt, tg.StatusReasons)
	}

	alice := mcpSession(t, f.url, f.tokens["alice"])
	names := listToolNames(t, alice)
	for _, want := range []string{"remote___fail", "remote___search", "remote___slow", "notes___search", "drive___listFiles"} {
		if !slices.Contains(names, want) {
			t.Fatalf("tools %q lack %s", names, want)
		}
	}
	res, err := alice.CallTool(ctx, &mcp.CallToolParams{Name: "remote___search", Arguments: map[string]any{"q": "plans"}})
	if err != nil || res.IsError || toolText(t, res) != "found plans" {
		t.Fatalf("remote___search = %+v (%q), %v", res, toolText(t, res), err)
	}
	for tool, want := range map[string]string{"remote___slow": "did not answer within 1s", "remote___fail": "the remote store is down"} {
		res, err := alice.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{}})
		if err != nil || !res.IsError || !strings.Contains(toolText(t, res), want) {
			t.Fatalf("%s = %+v (%q), %v; want a tool error with %q", tool, res, toolText(t, res), err, want)
		}
	}
	notes.mu.Lock()
	for _, h := range notes.auths {
		if h != "" {
			t.Fatalf("the remote server received Authorization %.20q: the client's token passed through", h)
		}
	}
	notes.mu.Unlock()

	synced, err := f.c.SynchronizeGatewayTargets(ctx, &ctl.SynchronizeGatewayTargetsInput{GatewayIdentifier: aws.String(f.gatewayID),
		TargetIdList: []string{aws.ToString(tg.TargetId)}})
	if err != nil || len(synced.Targets) != 1 || synced.Targets[0].Status != types.TargetStatusReady ||
		!synced.Targets[0].LastSynchronizedAt.After(*tg.LastSynchronizedAt) {
		t.Fatalf("SynchronizeGatewayTargets = %+v, %v", synced, err)
	}
	_, err = f.c.SynchronizeGatewayTargets(ctx, &ctl.SynchronizeGatewayTargetsInput{GatewayIdentifier: aws.String(f.gatewayID), TargetIdList: []string{"ABCDEFGHIJ"}})
	wantErr[*types.ResourceNotFoundException](t, "synchronize a missing target", err)
	_, err = f.c.SynchronizeGatewayTargets(ctx, &ctl.SynchronizeGatewayTargetsInput{GatewayIdentifier: aws.String(f.gatewayID), TargetIdList: []string{}})
	wantErr[*types.ValidationException](t, "synchronize nothing", err)

	// A remote that wants the Drive stand-in's token: listing it needs an
	// admin's consent, for the user id the target names.
	drive := newRemoteMCP(t, func(r *http.Request) bool {
		a := r.Header.Get("Authorization")
		return strings.HasPrefix(a, "Bearer ") && a != "Bearer "+f.tokens["alice"]
	})
	google := "arn:aws:bedrock-agentcore:us-east-1:000000000000:token-vault/default/oauth2credentialprovider/google-drive"
	pending, err := f.c.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{GatewayIdentifier: aws.String(f.gatewayID), Name: aws.String("drivemcp"),
		TargetConfiguration: mcpServerTarget(drive.URL),
		CredentialProviderConfigurations: []types.CredentialProviderConfiguration{{
			CredentialProviderType: types.CredentialProviderTypeOauth,
			CredentialProvider: &types.CredentialProviderMemberOauthCredentialProvider{Value: types.OAuthCredentialProvider{
				ProviderArn: aws.String(google), Scopes: []string{sandbox.DriveScope + ".metadata.readonly"},
				GrantType: types.OAuthGrantTypeAuthorizationCode, DefaultReturnUrl: aws.String(f.app.URL + "/callback")}},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	oauth, ok := pending.AuthorizationData.(*types.AuthorizationDataMemberOauth2)
	if pending.Status != types.TargetStatusCreatePendingAuth || !ok || len(pending.StatusReasons) != 1 ||
		!strings.HasPrefix(aws.ToString(oauth.Value.UserId), f.gatewayID+aws.ToString(pending.TargetId)) {
		t.Fatalf("CreateGatewayTarget needing consent = status %s, authorizationData %+v, reasons %q", pending.Status, pending.AuthorizationData, pending.StatusReasons)
	}
	if names := listToolNames(t, alice); slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "drivemcp___") }) {
		t.Fatalf("tools of a pending target listed: %q", names)
	}
	if _, _, err := sandbox.Consent(ctx, nil, aws.ToString(oauth.Value.AuthorizationUrl), "admin@example.com", true); err != nil {
		t.Fatalf("admin consent: %v", err)
	}
	var sid string
	select {
	case sid = <-f.sessions:
	case <-time.After(10 * time.Second):
		t.Fatal("the browser never reached the return URL")
	}
	if _, err := f.data.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{SessionUri: aws.String(sid),
		UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: aws.ToString(oauth.Value.UserId)}}); err != nil {
		t.Fatalf("CompleteResourceTokenAuth for the target's user id: %v", err)
	}
	synced, err = f.c.SynchronizeGatewayTargets(ctx, &ctl.SynchronizeGatewayTargetsInput{GatewayIdentifier: aws.String(f.gatewayID),
		TargetIdList: []string{aws.ToString(pending.TargetId)}})
	if err != nil || synced.Targets[0].Status != types.TargetStatusReady || synced.Targets[0].AuthorizationData != nil {
		t.Fatalf("SynchronizeGatewayTargets after consent = %+v, %v", synced, err)
	}
	if names := listToolNames(t, alice); !slices.Contains(names, "drivemcp___search") {
		t.Fatalf("tools after consent: %q", names)
	}
	// Alice's call needs her own consent, not the admin's.
	_, err = alice.CallTool(ctx, &mcp.CallToolParams{Name: "drivemcp___search", Arguments: map[string]any{"q": "x"}})
	f.consent(t, elicitation(t, err), "alice", "alice@example.com")
	res, err = alice.CallTool(ctx, &mcp.CallToolParams{Name: "drivemcp___search", Arguments: map[string]any{"q": "mine"}})
	if err != nil || res.IsError || toolText(t, res) != "found mine" {
		t.Fatalf("drivemcp___search after alice's consent = %+v, %v", res, err)
	}

	// SSRF: without --allow-private-endpoints a loopback endpoint is refused.
	strict := startMain(t, serverOptions{})
	sc := strict.client(t)
	g, err := sc.CreateGateway(ctx, &ctl.CreateGatewayInput{Name: aws.String("strict"), RoleArn: aws.String("arn:aws:iam::123456789012:role/gw"),
		AuthorizerType: types.AuthorizerTypeNone})
	if err != nil {
		t.Fatal(err)
	}
	for _, endpoint := range []string{notes.URL, "http://10.0.0.1/mcp", "https://169.254.169.254/mcp"} {
		_, err = sc.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{GatewayIdentifier: g.GatewayId, Name: aws.String("remote"),
			TargetConfiguration: mcpServerTarget(endpoint)})
		if v := wantErr[*types.ValidationException](t, endpoint, err); !strings.Contains(aws.ToString(v.Message), "endpoint") {
			t.Fatalf("%s refused with %q", endpoint, aws.ToString(v.Message))
		}
	}
}
