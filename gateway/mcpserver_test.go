package gateway_test

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

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/gateway"
)

// dataPlane is the identity data plane as the gateway sees it: a fixed
// API key, client-credentials token, and per-user grants an admin gives.
type dataPlane struct {
	mu         sync.Mutex
	consents   map[string]bool // user id → consented
	returnURLs []string        // of the user-federation requests
}

func (d *dataPlane) WorkloadAccessToken(context.Context, string) (behalf.Secret, error) {
	return "wat", nil
}

func (d *dataPlane) WorkloadAccessTokenForJWT(context.Context, string, behalf.Secret) (behalf.Secret, error) {
	return "", errors.New("unused")
}

func (d *dataPlane) WorkloadAccessTokenForUserID(_ context.Context, _, userID string) (behalf.Secret, error) {
	return behalf.Secret("wat-user:" + userID), nil
}

func (d *dataPlane) ResourceOAuth2Token(_ context.Context, r behalf.TokenRequest) (*behalf.TokenResult, error) {
	if r.Flow == behalf.FlowM2M {
		return &behalf.TokenResult{AccessToken: "m2m-token"}, nil
	}
	user, _ := strings.CutPrefix(r.WorkloadToken.Reveal(), "wat-user:")
	d.mu.Lock()
	defer d.mu.Unlock()
	d.returnURLs = append(d.returnURLs, r.ReturnURL)
	if d.consents[user] {
		return &behalf.TokenResult{AccessToken: behalf.Secret("user-token:" + user)}, nil
	}
	return &behalf.TokenResult{AuthorizationURL: "https://behalf.example.com/authorize?user=" + user, SessionURI: "urn:s", SessionStatus: "IN_PROGRESS"}, nil
}

func (d *dataPlane) ResourceAPIKey(context.Context, behalf.Secret, string) (behalf.Secret, error) {
	return "k-123", nil
}

func (d *dataPlane) CompleteResourceTokenAuth(context.Context, string, behalf.UserIdentifier) error {
	return errors.New("unused")
}

func (d *dataPlane) consent(user string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.consents[user] = true
}

type wats struct{}

func (wats) MintForRuntime(context.Context, string, behalf.User, behalf.Secret, time.Time, time.Time) (behalf.Secret, time.Time, error) {
	return "wat", time.Now().Add(time.Hour), nil
}

// remote is an MCP server on loopback (the Go SDK's), whose requests must
// carry the header with a value starting with want; it records the
// Authorization headers it sees.
type remote struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newRemote(t *testing.T, header, want string) *remote {
	t.Helper()
	return newRemoteFunc(t, func(r *http.Request) bool {
		v := r.Header.Get(header)
		return v != "" && strings.HasPrefix(v, want)
	})
}

// newRemoteFunc is newRemote whose requests check must accept.
func newRemoteFunc(t *testing.T, check func(*http.Request) bool) *remote {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "notes", Version: "1"}, nil)
	type query struct {
		Q string `json:"q" jsonschema:"the query"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "search", Description: "Searches notes."}, func(_ context.Context, _ *mcp.CallToolRequest, in query) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "found " + in.Q}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "slow"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "late"}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "huge"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("x", 64<<10)}}}, nil, nil
	})
	s.AddTool(&mcp.Tool{Name: "fail", InputSchema: map[string]any{"type": "object"}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return nil, errors.New("the notes database is down")
	})
	r := &remote{}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
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

// newMCP returns the service, with the MCP handler as its syncer, and the
// gateway's MCP endpoint on loopback.
func newMCP(t *testing.T) (*gateway.Service, *dataPlane, *gateway.Handler, string) {
	t.Helper()
	s, db := newService(t)
	var mu sync.Mutex
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(time.Second); return clock }
	s.AllowPrivate = true
	dp := &dataPlane{consents: map[string]bool{}}
	h := &gateway.Handler{Store: db, WATs: wats{}, DataPlane: dp, PublicURL: "http://gw.example", AllowPrivate: true,
		CallTimeout: time.Second, MaxResponseBytes: 32 << 10}
	s.Syncer, s.Changed = h, h.Forget
	mux := http.NewServeMux()
	mux.Handle(behalf.GatewayPath("{gatewayId}"), h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return s, dp, h, srv.URL
}

// bearerRT sends a fixed Authorization header: the MCP client's own token,
// which must never reach a target.
type bearerRT string

func (b bearerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

func connectGateway(t *testing.T, url string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	s, err := c.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: url,
		HTTPClient: &http.Client{Transport: bearerRT("client-secret-token")}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func toolNames(t *testing.T, s *mcp.ClientSession) []string {
	t.Helper()
	res, err := s.ListTools(t.Context(), nil)
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

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// Ensure an MCP-server target's tools are listed as {target}___{tool} with
// its API key, called with it, bounded in time and size (a slow, huge or
// failing remote tool is a tool error), and that the MCP client's token
// never reaches the remote server.
func TestMCPServerTargetAPIKey(t *testing.T) {
	s, _, _, base := newMCP(t)
	ctx := t.Context()
	rem := newRemote(t, "X-Api-Key", "k-123")
	in := gatewayInput()
	in.AuthorizerType, in.Authorizer = behalf.GatewayAuthorizerNone, nil
	g, err := s.CreateGateway(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := s.CreateGatewayTarget(ctx, g.ID, behalf.GatewayTargetInput{Name: "notes", Kind: behalf.TargetMCPServer, Endpoint: rem.URL,
		Credentials: []behalf.GatewayCredential{{Type: behalf.CredentialAPIKey, Provider: apiKeyARN, ParameterName: "X-Api-Key"}}})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Status != behalf.GatewayReady || tg.SyncedAt.IsZero() || tg.StatusReasons != nil {
		t.Fatalf("created %+v", tg)
	}
	cs := connectGateway(t, base+behalf.GatewayPath(g.ID))
	if got := toolNames(t, cs); !slices.Equal(got, []string{"notes___fail", "notes___huge", "notes___search", "notes___slow"}) {
		t.Fatalf("tools = %v", got)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "notes___search", Arguments: map[string]any{"q": "plans"}})
	if err != nil || res.IsError || text(res) != "found plans" {
		t.Fatalf("search = %+v, %v", res, err)
	}
	for tool, want := range map[string]string{
		"notes___slow": "did not answer within 1s",
		"notes___huge": "answered more than 32768 bytes",
		"notes___fail": "the notes database is down",
	} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{}})
		if err != nil || !res.IsError || !strings.Contains(text(res), want) {
			t.Fatalf("%s = %+v (%q), %v; want a tool error with %q", tool, res, text(res), err, want)
		}
	}
	rem.mu.Lock()
	for _, a := range rem.auths {
		if strings.Contains(a, "client-secret-token") {
			t.Fatalf("the MCP client's token reached the remote server: %q", a)
		}
	}
	rem.mu.Unlock()

	// A remote that refuses the key fails the update: no tools.
	bad := newRemote(t, "X-Api-Key", "other")
	up, err := s.UpdateGatewayTarget(ctx, g.ID, tg.ID, behalf.GatewayTargetInput{Kind: behalf.TargetMCPServer, Endpoint: bad.URL,
		Credentials: []behalf.GatewayCredential{{Type: behalf.CredentialAPIKey, Provider: apiKeyARN, ParameterName: "X-Api-Key"}}})
	if err != nil || up.Status != behalf.TargetUpdateUnsuccessful || len(up.StatusReasons) != 1 || !strings.Contains(up.StatusReasons[0], "notes") {
		t.Fatalf("update to a refusing server = %+v, %v", up, err)
	}
	if got := toolNames(t, cs); len(got) != 0 {
		t.Fatalf("tools of a failed target = %v", got)
	}
	// Synchronize: still refused; then back to the good server.
	ts, err := s.SynchronizeGatewayTargets(ctx, g.ID, []string{tg.ID})
	if err != nil || ts[0].Status != behalf.TargetSynchronizeUnsuccessful {
		t.Fatalf("synchronize = %+v, %v", ts, err)
	}
	if _, err := s.UpdateGatewayTarget(ctx, g.ID, tg.ID, behalf.GatewayTargetInput{Kind: behalf.TargetMCPServer, Endpoint: rem.URL,
		Credentials: []behalf.GatewayCredential{{Type: behalf.CredentialAPIKey, Provider: apiKeyARN, ParameterName: "X-Api-Key"}}}); err != nil {
		t.Fatal(err)
	}
	if got := toolNames(t, cs); len(got) != 4 {
		t.Fatalf("tools after the fix = %v", got)
	}
}

// Ensure SynchronizeGatewayTargets refreshes the cached tool list, and
// refuses what it cannot synchronize, naming targetIdList.
func TestSynchronizeGatewayTargets(t *testing.T) {
	s, _, _, base := newMCP(t)
	ctx := t.Context()
	var mu sync.Mutex
	names := []string{"a"}
	remoteHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server {
		mu.Lock()
		defer mu.Unlock()
		s := mcp.NewServer(&mcp.Implementation{Name: "dyn", Version: "1"}, nil)
		for _, n := range names {
			s.AddTool(&mcp.Tool{Name: n, InputSchema: map[string]any{"type": "object"}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: n}}}, nil
			})
		}
		// A tool whose name MCP does not allow is skipped.
		s.AddTool(&mcp.Tool{Name: "bad name!", InputSchema: map[string]any{"type": "object"}}, nil)
		return s
	}, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	rem := httptest.NewServer(remoteHandler)
	t.Cleanup(rem.Close)
	in := gatewayInput()
	in.AuthorizerType, in.Authorizer = behalf.GatewayAuthorizerNone, nil
	g, err := s.CreateGateway(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := s.CreateGatewayTarget(ctx, g.ID, behalf.GatewayTargetInput{Name: "dyn", Kind: behalf.TargetMCPServer, Endpoint: rem.URL})
	if err != nil {
		t.Fatal(err)
	}
	cs := connectGateway(t, base+behalf.GatewayPath(g.ID))
	if got := toolNames(t, cs); !slices.Equal(got, []string{"dyn___a"}) {
		t.Fatalf("tools = %v", got)
	}
	mu.Lock()
	names = []string{"a", "b"}
	mu.Unlock()
	if got := toolNames(t, cs); !slices.Equal(got, []string{"dyn___a"}) {
		t.Fatalf("tools before synchronizing = %v (cached)", got)
	}
	ts, err := s.SynchronizeGatewayTargets(ctx, g.ID, []string{tg.ID})
	if err != nil || len(ts) != 1 || ts[0].Status != behalf.GatewayReady || !ts[0].SyncedAt.After(tg.SyncedAt) {
		t.Fatalf("synchronize = %+v, %v", ts, err)
	}
	if got := toolNames(t, cs); !slices.Equal(got, []string{"dyn___a", "dyn___b"}) {
		t.Fatalf("tools after synchronizing = %v", got)
	}
	api, err := s.CreateGatewayTarget(ctx, g.ID, behalf.GatewayTargetInput{Name: "notes", Kind: behalf.TargetOpenAPI, OpenAPI: openAPI})
	if err != nil {
		t.Fatal(err)
	}
	for _, ids := range [][]string{nil, {"bad"}, {api.ID}} {
		_, err := s.SynchronizeGatewayTargets(ctx, g.ID, ids)
		wantInvalid(t, err, "targetIdList")
	}
	if _, err := s.SynchronizeGatewayTargets(ctx, g.ID, []string{"ABCDEFGHIJ"}); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("missing target: %v", err)
	}
}

// Ensure AWS's PENDING_AUTH sequence: an MCP-server target whose listing
// needs the user's OAuth waits in CREATE_PENDING_AUTH with the URL where
// an admin consents for its user id, lists no tools, and becomes READY
// with its tools when synchronized after the consent.
func TestMCPServerTargetPendingAuth(t *testing.T) {
	s, dp, _, base := newMCP(t)
	ctx := t.Context()
	in := gatewayInput()
	in.AuthorizerType, in.Authorizer = behalf.GatewayAuthorizerNone, nil
	g, err := s.CreateGateway(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	// The remote wants a user's token, which the data plane gives once
	// an admin consented for the target's user id.
	rem := newRemote(t, "Authorization", "Bearer user-token:"+g.ID)
	tg, err := s.CreateGatewayTarget(ctx, g.ID, behalf.GatewayTargetInput{Name: "drive", Kind: behalf.TargetMCPServer, Endpoint: rem.URL,
		Credentials: []behalf.GatewayCredential{{Type: behalf.CredentialOAuth, Provider: oauthARN, Scopes: []string{"drive"},
			GrantType: behalf.GrantAuthorizationCode, DefaultReturnURL: "https://app.example.com/cb"}}})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Status != behalf.TargetCreatePendingAuth || !strings.HasPrefix(tg.AuthUserID, g.ID+tg.ID) ||
		tg.AuthorizationURL != "https://behalf.example.com/authorize?user="+tg.AuthUserID || len(tg.StatusReasons) != 1 || !tg.SyncedAt.IsZero() {
		t.Fatalf("created %+v", tg)
	}
	cs := connectGateway(t, base+behalf.GatewayPath(g.ID))
	if got := toolNames(t, cs); len(got) != 0 {
		t.Fatalf("tools while pending = %v", got)
	}
	// Synchronizing before the consent: still pending.
	ts, err := s.SynchronizeGatewayTargets(ctx, g.ID, []string{tg.ID})
	if err != nil || ts[0].Status != behalf.TargetSynchronizePendingAuth || ts[0].AuthUserID != tg.AuthUserID {
		t.Fatalf("synchronize before consent = %+v, %v", ts, err)
	}
	dp.consent(tg.AuthUserID)
	ts, err = s.SynchronizeGatewayTargets(ctx, g.ID, []string{tg.ID})
	if err != nil || ts[0].Status != behalf.GatewayReady || ts[0].AuthorizationURL != "" || ts[0].StatusReasons != nil {
		t.Fatalf("synchronize after consent = %+v, %v", ts, err)
	}
	if got := toolNames(t, cs); !slices.Equal(got, []string{"drive___fail", "drive___huge", "drive___search", "drive___slow"}) {
		t.Fatalf("tools after consent = %v", got)
	}
	// The gateway has no authorizer: a call needs a signed-in user.
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "drive___search", Arguments: map[string]any{"q": "x"}})
	if err != nil || !res.IsError || !strings.Contains(text(res), "signed-in user") {
		t.Fatalf("call without a user = %+v, %v", res, err)
	}
}

// Ensure each outbound credential reaches the remote MCP server where it
// belongs: an API key in a query parameter, a client-credentials token as
// a bearer token.
func TestMCPServerTargetCredentials(t *testing.T) {
	s, _, _, base := newMCP(t)
	ctx := t.Context()
	in := gatewayInput()
	in.AuthorizerType, in.Authorizer = behalf.GatewayAuthorizerNone, nil
	g, err := s.CreateGateway(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		cred          behalf.GatewayCredential
		header, value string
	}{
		"query": {behalf.GatewayCredential{Type: behalf.CredentialAPIKey, Provider: apiKeyARN, Location: behalf.APIKeyInQuery, ParameterName: "key"}, "", ""},
		"m2m":   {behalf.GatewayCredential{Type: behalf.CredentialOAuth, Provider: oauthARN, Scopes: []string{"notes"}}, "Authorization", "Bearer m2m-token"},
	} {
		var rem *remote
		if c.header == "" {
			rem = newRemoteFunc(t, func(r *http.Request) bool { return r.URL.Query().Get("key") == "k-123" })
		} else {
			rem = newRemote(t, c.header, c.value)
		}
		tg, err := s.CreateGatewayTarget(ctx, g.ID, behalf.GatewayTargetInput{Name: name, Kind: behalf.TargetMCPServer, Endpoint: rem.URL + "/mcp?tenant=1",
			Credentials: []behalf.GatewayCredential{c.cred}})
		if err != nil || tg.Status != behalf.GatewayReady {
			t.Fatalf("%s: created %+v, %v", name, tg, err)
		}
		cs := connectGateway(t, base+behalf.GatewayPath(g.ID))
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name + "___search", Arguments: map[string]any{"q": name}})
		if err != nil || res.IsError || text(res) != "found "+name {
			t.Fatalf("%s: call = %+v (%q), %v", name, res, text(res), err)
		}
	}
}

// Ensure an AUTHORIZATION_CODE target without defaultReturnUrl sends its
// users' consents to Behalf's binding page, which a new gateway's workload
// identity allows as a return URL: only the user's own signed-in browser
// can complete them.
func TestAuthorizationCodeDefaultsToBindingPage(t *testing.T) {
	s, dp, _, _ := newMCP(t)
	s.BindURL = "http://gw.example" + behalf.BindPath
	ctx := t.Context()
	in := gatewayInput()
	in.AuthorizerType, in.Authorizer = behalf.GatewayAuthorizerNone, nil
	g, err := s.CreateGateway(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Store.(behalf.WorkloadStore).GetWorkload(ctx, g.Workload)
	if err != nil || !slices.Equal(w.AllowedReturnURLs, []string{s.BindURL}) {
		t.Fatalf("the gateway's workload identity: %+v, %v; want the binding page as its return URL", w, err)
	}
	rem := newRemote(t, "Authorization", "Bearer user-token:")
	tg, err := s.CreateGatewayTarget(ctx, g.ID, behalf.GatewayTargetInput{Name: "drive", Kind: behalf.TargetMCPServer, Endpoint: rem.URL,
		Credentials: []behalf.GatewayCredential{{Type: behalf.CredentialOAuth, Provider: oauthARN, Scopes: []string{"drive"},
			GrantType: behalf.GrantAuthorizationCode}}})
	if err != nil {
		t.Fatalf("a target without defaultReturnUrl: %v", err)
	}
	if tg.Status != behalf.TargetCreatePendingAuth {
		t.Fatalf("created %+v", tg)
	}
	dp.mu.Lock()
	defer dp.mu.Unlock()
	if len(dp.returnURLs) == 0 || dp.returnURLs[len(dp.returnURLs)-1] != s.BindURL {
		t.Fatalf("return URLs asked for: %q, want the binding page %q", dp.returnURLs, s.BindURL)
	}
}
