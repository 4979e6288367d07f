package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/behalf-dev/behalf/sandbox"
)

// bearer adds a bearer token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// mcpSession connects the official Go MCP client to url with token.
func mcpSession(t *testing.T, url, token string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "behalf-test", Version: "1.0.0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: url, HTTPClient: &http.Client{Transport: bearer{token}}, DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func toolText(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// gatewayFixture is a running Behalf with a user pool, the sandbox as
// Google, a notes API that wants an API key, and a gateway in front.
type gatewayFixture struct {
	s         *testServer
	c         *ctl.Client
	data      *dp.Client
	pool      poolFixture
	sb        *sandbox.Server
	notes     *httptest.Server
	app       *httptest.Server
	sessions  chan string
	gatewayID string
	url       string
	tokens    map[string]string // user → access token
	mu        sync.Mutex
	notesAuth []string // Authorization headers the notes API received
}

func newGatewayFixture(t *testing.T) *gatewayFixture {
	t.Helper()
	ctx := context.Background()
	f := &gatewayFixture{s: startMain(t, serverOptions{args: []string{"--allow-private-endpoints", "--gateway-call-timeout", "1s"}}), sessions: make(chan string, 4), tokens: map[string]string{}}
	f.c, f.data = f.s.client(t), f.s.dataPlane(t, f.s.KeyID, f.s.Secret)

	sb, err := sandbox.Start("127.0.0.1:0", sandbox.Options{Open: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	f.sb = sb
	f.notes = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.notesAuth = append(f.notesAuth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		if r.Header.Get("X-Api-Key") != "Key k-123" {
			http.Error(w, `{"error":"bad api key"}`, http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/notes":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"notes":[{"title":"found %s"}]}`, r.URL.Query().Get("q"))
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		case "/huge":
			w.Write([]byte(strings.Repeat("x", 2<<20)))
		case "/bad":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"notes": [`))
		case "/fail":
			http.Error(w, "the notes store is down", http.StatusBadGateway)
		}
	}))
	t.Cleanup(f.notes.Close)
	f.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.sessions <- r.URL.Query().Get("session_id")
		w.Write([]byte("connected"))
	}))
	t.Cleanup(f.app.Close)

	cog := f.s.cognito(t)
	f.pool = newPoolFixture(t, ctx, cog, "tools")
	for _, u := range []string{"alice", "bob"} {
		f.pool.createUser(t, ctx, cog, u, "Corr3ct-Horse!")
		f.tokens[u] = aws.ToString(mustTokens(t)(f.pool.signIn(ctx, cog, u, "Corr3ct-Horse!")).AccessToken)
	}

	key, err := f.c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("notes-key"), ApiKey: aws.String("k-123")})
	if err != nil {
		t.Fatal(err)
	}
	google, err := f.c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("google-drive"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: customDiscovery(sb.URL+sandbox.DiscoveryPath, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.gatewayID, f.url = f.createGateway(t, "tools", types.CustomJWTAuthorizerConfiguration{AllowedClients: []string{f.pool.clientID}})
	if _, err := f.c.UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{Name: aws.String(f.gatewayID),
		AllowedResourceOauth2ReturnUrls: []string{f.app.URL + "/callback"}}); err != nil {
		t.Fatal(err)
	}
	notesDoc := `openapi: 3.0.3
info: {title: Notes, version: '1'}
servers: [{url: '` + f.notes.URL + `'}]
paths:
  /notes:
    get:
      operationId: search
      parameters: [{name: q, in: query, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
  /slow: {get: {operationId: slow, responses: {'200': {description: ok}}}}
  /huge: {get: {operationId: huge, responses: {'200': {description: ok}}}}
  /bad: {get: {operationId: malformed, responses: {'200': {description: ok}}}}
  /fail: {get: {operationId: fail, responses: {'200': {description: ok}}}}
`
	cred := apiKeyCredential(aws.ToString(key.CredentialProviderArn))
	cred[0].CredentialProvider.(*types.CredentialProviderMemberApiKeyCredentialProvider).Value.CredentialPrefix = aws.String("Key")
	if _, err := f.c.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{GatewayIdentifier: aws.String(f.gatewayID), Name: aws.String("notes"),
		TargetConfiguration: openAPITarget(notesDoc), CredentialProviderConfigurations: cred}); err != nil {
		t.Fatal(err)
	}
	driveDoc := `openapi: 3.0.3
info: {title: Drive, version: v3}
servers: [{url: '` + sb.URL + `/drive/v3'}]
paths:
  /files:
    get:
      operationId: listFiles
      summary: Lists the user's Drive files.
      parameters: [{name: pageSize, in: query, schema: {type: integer}}]
      responses: {'200': {description: ok}}
`
	if _, err := f.c.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{GatewayIdentifier: aws.String(f.gatewayID), Name: aws.String("drive"),
		TargetConfiguration: openAPITarget(driveDoc),
		CredentialProviderConfigurations: []types.CredentialProviderConfiguration{{
			CredentialProviderType: types.CredentialProviderTypeOauth,
			CredentialProvider: &types.CredentialProviderMemberOauthCredentialProvider{Value: types.OAuthCredentialProvider{
				ProviderArn: google.CredentialProviderArn, Scopes: []string{sandbox.DriveScope + ".metadata.readonly"},
				GrantType: types.OAuthGrantTypeAuthorizationCode, DefaultReturnUrl: aws.String(f.app.URL + "/callback")}},
		}}}); err != nil {
		t.Fatal(err)
	}
	return f
}

// createGateway creates a CUSTOM_JWT gateway trusting the pool.
func (f *gatewayFixture) createGateway(t *testing.T, name string, a types.CustomJWTAuthorizerConfiguration) (string, string) {
	t.Helper()
	a.DiscoveryUrl = aws.String(f.s.URL + "/" + f.pool.poolID + "/.well-known/openid-configuration")
	g, err := f.c.CreateGateway(context.Background(), &ctl.CreateGatewayInput{
		Name: aws.String(name), RoleArn: aws.String("arn:aws:iam::123456789012:role/gw"), ProtocolType: types.GatewayProtocolTypeMcp,
		AuthorizerType: types.AuthorizerTypeCustomJwt, AuthorizerConfiguration: &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: a},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(g.GatewayId), aws.ToString(g.GatewayUrl)
}

// consent runs a URL elicitation as user: the sandbox's consent page, the
// app's return URL, and the app's CompleteResourceTokenAuth with the
// user's token.
func (f *gatewayFixture) consent(t *testing.T, elicitURL, user, sandboxUser string) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := sandbox.Consent(ctx, nil, elicitURL, sandboxUser, true); err != nil {
		t.Fatalf("consent as %s: %v", sandboxUser, err)
	}
	var sid string
	select {
	case sid = <-f.sessions:
	case <-time.After(10 * time.Second):
		t.Fatal("the browser never reached the return URL")
	}
	if _, err := f.data.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{SessionUri: aws.String(sid),
		UserIdentifier: &dptypes.UserIdentifierMemberUserToken{Value: f.tokens[user]}}); err != nil {
		t.Fatalf("CompleteResourceTokenAuth for %s: %v", user, err)
	}
}

// elicitation returns the URL of a -32042 URL elicitation error.
func elicitation(t *testing.T, err error) string {
	t.Helper()
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != mcp.CodeURLElicitationRequired {
		t.Fatalf("err = %v, want a -32042 URL elicitation", err)
	}
	var data struct {
		Elicitations []struct {
			Mode, ElicitationID, URL, Message string
		}
	}
	if err := json.Unmarshal(rpcErr.Data, &data); err != nil || len(data.Elicitations) != 1 {
		t.Fatalf("elicitation data %s: %v", rpcErr.Data, err)
	}
	e := data.Elicitations[0]
	if e.Mode != "url" || e.ElicitationID == "" || !strings.Contains(e.URL, "/identities/oauth2/authorize?request_uri=") {
		t.Fatalf("elicitation %+v", e)
	}
	return e.URL
}

// Ensure an MCP client (the official Go SDK's) signed in with a user
// pool's token lists the gateway's tools and calls them: the notes API
// gets the API key (never the client's token); the Drive stand-in asks
// alice and bob for consent through URL elicitation once each, then gets
// alice's token for alice and bob's for bob; a slow, huge, malformed or
// failing target is a tool error and the session goes on.
func TestGatewayMCPEndToEnd(t *testing.T) {
	f := newGatewayFixture(t)
	ctx := context.Background()
	alice := mcpSession(t, f.url, f.tokens["alice"])

	tools, err := alice.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	want := []string{"drive___listFiles", "notes___fail", "notes___huge", "notes___malformed", "notes___search", "notes___slow"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("tools = %q, want %q", names, want)
	}

	res, err := alice.CallTool(ctx, &mcp.CallToolParams{Name: "notes___search", Arguments: map[string]any{"q": "plans"}})
	if err != nil || res.IsError || toolText(t, res) != `{"notes":[{"title":"found plans"}]}` {
		t.Fatalf("notes___search = %+v (%q), %v", res, toolText(t, res), err)
	}
	res, err = alice.CallTool(ctx, &mcp.CallToolParams{Name: "notes___search", Arguments: map[string]any{}})
	if err != nil || !res.IsError || !strings.Contains(toolText(t, res), `"q"`) {
		t.Fatalf("notes___search without q = %+v, %v", res, err)
	}

	// Alice: consent once, then her files.
	_, err = alice.CallTool(ctx, &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{}})
	f.consent(t, elicitation(t, err), "alice", "alice@example.com")
	res, err = alice.CallTool(ctx, &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{"pageSize": 10}})
	if err != nil || res.IsError {
		t.Fatalf("drive___listFiles after consent = %+v, %v", res, err)
	}
	aliceFiles, bobFiles := sandbox.SeedFiles("alice@example.com", 1)[0].ID, sandbox.SeedFiles("bob@example.com", 1)[0].ID
	if text := toolText(t, res); !strings.Contains(text, aliceFiles) || strings.Contains(text, bobFiles) {
		t.Fatalf("alice's listFiles = %s", text)
	}

	// Bob gets his own consent, then his own files, never alice's.
	bob := mcpSession(t, f.url, f.tokens["bob"])
	_, err = bob.CallTool(ctx, &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{}})
	f.consent(t, elicitation(t, err), "bob", "bob@example.com")
	res, err = bob.CallTool(ctx, &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("bob's listFiles = %+v, %v", res, err)
	}
	if text := toolText(t, res); !strings.Contains(text, bobFiles) || strings.Contains(text, aliceFiles) {
		t.Fatalf("bob's listFiles = %s", text)
	}
	res, err = alice.CallTool(ctx, &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{}})
	if err != nil || res.IsError || !strings.Contains(toolText(t, res), aliceFiles) {
		t.Fatalf("alice again = %+v, %v", res, err)
	}

	// At once, on the gateway's one (cached) MCP server: each call acts for
	// its own caller, never the other.
	var wg sync.WaitGroup
	for i := range 40 {
		s, own, other := alice, aliceFiles, bobFiles
		if i%2 == 1 {
			s, own, other = bob, bobFiles, aliceFiles
		}
		wg.Go(func() {
			res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{}})
			if err != nil || res.IsError {
				t.Errorf("concurrent listFiles = %+v, %v", res, err)
				return
			}
			if text := toolText(t, res); !strings.Contains(text, own) || strings.Contains(text, other) {
				t.Errorf("a concurrent call got another user's files: %s", text)
			}
		})
	}
	wg.Wait()

	// Bad targets are tool errors; the session goes on.
	for tool, want := range map[string]string{
		"notes___huge":      "more than",
		"notes___malformed": "malformed JSON",
		"notes___fail":      "502 Bad Gateway: the notes store is down",
		"notes___slow":      "did not answer within 1s",
	} {
		res, err := alice.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{}})
		if err != nil || !res.IsError || !strings.Contains(toolText(t, res), want) {
			t.Fatalf("%s = %+v (%q), %v; want a tool error with %q", tool, res, toolText(t, res), err, want)
		}
	}
	res, err = alice.CallTool(ctx, &mcp.CallToolParams{Name: "notes___search", Arguments: map[string]any{"q": "still"}})
	if err != nil || res.IsError {
		t.Fatalf("after bad targets: %+v, %v", res, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, h := range f.notesAuth {
		if h != "" {
			t.Fatalf("the notes API received Authorization %.20q: the client's token passed through", h)
		}
	}
}

// postInitialize sends an MCP initialize to url with token ("" for none).
func postInitialize(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// Ensure the gateway authorizes as the MCP specification says: 401 with
// the RFC 9728 document's URL (and that document), tokens from another
// issuer or for another audience refused, insufficient_scope for a token
// without the scope.
func TestGatewayMCPAuthorization(t *testing.T) {
	f := newGatewayFixture(t)
	ctx := context.Background()
	meta := f.s.URL + "/.well-known/oauth-protected-resource/gateways/" + f.gatewayID + "/mcp"

	resp := postInitialize(t, f.url, "")
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer resource_metadata="`+meta+`"` {
		t.Fatalf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	r, err := http.Get(meta)
	if err != nil {
		t.Fatal(err)
	}
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	json.NewDecoder(r.Body).Decode(&prm)
	r.Body.Close()
	if r.StatusCode != 200 || prm.Resource != f.url || len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != f.s.URL+"/"+f.pool.poolID {
		t.Fatalf("protected-resource metadata: %d %+v", r.StatusCode, prm)
	}
	if resp := postInitialize(t, f.url, f.tokens["alice"]); resp.StatusCode != 200 {
		t.Fatalf("alice: %d", resp.StatusCode)
	}
	if resp := postInitialize(t, f.url, f.tokens["alice"]+"x"); resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("forged token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	// Another issuer: a second pool's user.
	cog := f.s.cognito(t)
	other := newPoolFixture(t, ctx, cog, "other")
	other.createUser(t, ctx, cog, "mallory", "Corr3ct-Horse!")
	mallory := mustTokens(t)(other.signIn(ctx, cog, "mallory", "Corr3ct-Horse!"))
	if resp := postInitialize(t, f.url, aws.ToString(mallory.AccessToken)); resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("another issuer: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	// Another audience: a gateway for the pool's first app client refuses
	// an ID token minted for a second one.
	_, audURL := f.createGateway(t, "aud", types.CustomJWTAuthorizerConfiguration{AllowedAudience: []string{f.pool.clientID}})
	ids := map[string]string{}
	for name, client := range map[string]poolFixture{"own": f.pool, "other": f.secondClient(t, ctx)} {
		ids[name] = aws.ToString(mustTokens(t)(client.signIn(ctx, cog, "alice", "Corr3ct-Horse!")).IdToken)
	}
	if resp := postInitialize(t, audURL, ids["own"]); resp.StatusCode != 200 {
		t.Fatalf("ID token for the allowed audience: %d", resp.StatusCode)
	}
	if resp := postInitialize(t, audURL, ids["other"]); resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("ID token for another audience: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	// A scope the token lacks: 403 insufficient_scope naming it.
	_, scopeURL := f.createGateway(t, "scoped", types.CustomJWTAuthorizerConfiguration{AllowedScopes: []string{"tools/read"}})
	resp = postInitialize(t, scopeURL, f.tokens["alice"])
	if h := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 403 || !strings.Contains(h, `error="insufficient_scope"`) || !strings.Contains(h, `scope="tools/read"`) {
		t.Fatalf("missing scope: %d %q", resp.StatusCode, h)
	}

	// A gateway that does not exist.
	if resp := postInitialize(t, f.s.URL+"/gateways/missing-0123456789/mcp", f.tokens["alice"]); resp.StatusCode != 404 {
		t.Fatalf("missing gateway: %d", resp.StatusCode)
	}
}

// secondClient adds another app client to the fixture's pool.
func (f *gatewayFixture) secondClient(t *testing.T, ctx context.Context) poolFixture {
	t.Helper()
	c, err := f.s.cognito(t).CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(f.pool.poolID), ClientName: aws.String("second-app"), GenerateSecret: true,
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowUserPasswordAuth},
	})
	if err != nil {
		t.Fatal(err)
	}
	return poolFixture{f.pool.poolID, aws.ToString(c.UserPoolClient.ClientId), aws.ToString(c.UserPoolClient.ClientSecret)}
}

// Ensure one user's elicitation URL is worth nothing to another: bob
// consents through the URL alice's call got, and the app completes the
// session as bob; the completion is refused, alice's session ends (her next
// call asks again), and neither user has a grant.
func TestGatewayElicitationOtherUser(t *testing.T) {
	f := newGatewayFixture(t)
	ctx := context.Background()
	alice, bob := mcpSession(t, f.url, f.tokens["alice"]), mcpSession(t, f.url, f.tokens["bob"])
	_, err := alice.CallTool(ctx, &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{}})
	aliceURL := elicitation(t, err)

	if _, _, err := sandbox.Consent(ctx, nil, aliceURL, "bob@example.com", true); err != nil {
		t.Fatalf("bob's consent through alice's URL: %v", err)
	}
	var sid string
	select {
	case sid = <-f.sessions:
	case <-time.After(10 * time.Second):
		t.Fatal("the browser never reached the return URL")
	}
	if _, err := f.data.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{SessionUri: aws.String(sid),
		UserIdentifier: &dptypes.UserIdentifierMemberUserToken{Value: f.tokens["bob"]}}); err == nil {
		t.Fatal("bob completed alice's session")
	}
	// Alice's session is over: her next call asks for consent again, with a new URL.
	_, err = alice.CallTool(ctx, &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{}})
	if again := elicitation(t, err); again == aliceURL {
		t.Error("alice's call offered the refused session's URL again")
	}
	// Bob gained nothing either.
	_, err = bob.CallTool(ctx, &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{}})
	elicitation(t, err)
}
