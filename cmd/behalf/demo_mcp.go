package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/net/html"

	"github.com/behalf-dev/behalf/agent/driveagent"
	"github.com/behalf-dev/behalf/examples/drive-openapi"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/sandbox"
)

// `behalf demo --mcp`: the Behalf Gateway walkthrough. An MCP client (the
// official Go SDK's, with its OAuth support) knows only the gateway's URL;
// it discovers the pool from the 401, registers itself, signs alice in at
// the hosted login, lists the tools, calls drive___listFiles, is asked to
// consent (URL elicitation), and after consent gets alice's files; bob
// then gets his own consent and his own files.

// mcpUser is one person of the MCP walkthrough.
type mcpUser struct {
	username, email, password string
	session                   *mcp.ClientSession
	token                     string // the MCP client's access token for the gateway
}

// mcpDemo is the MCP walkthrough's state, beside the demo's.
type mcpDemo struct {
	users      []*mcpUser
	gatewayID  string
	gatewayURL string
	redirect   string // the MCP client's loopback redirect URI
}

func (d *demo) runMCP(ctx context.Context) error {
	fmt.Fprintln(d.out, "Behalf demo --mcp: an MCP client reaches each user's Google Drive through the Behalf Gateway, offline, on this machine.")
	fmt.Fprintln(d.out, "Behalf, the Google sandbox, the app's callback server and the MCP client run in this process on loopback ports.")
	m := &mcpDemo{}
	alice, bob := &mcpUser{username: "alice", email: sandbox.DefaultUser}, &mcpUser{username: "bob", email: "bob@example.com"}
	m.users = []*mcpUser{alice, bob}
	for _, step := range []func(context.Context) error{
		d.startBehalf,
		func(ctx context.Context) error { return d.createPoolAndUsers(ctx, m) },
		d.startSandbox, d.createProvider, d.startCallbackServer,
		func(ctx context.Context) error { return d.createGateway(ctx, m) },
		func(ctx context.Context) error { return d.createDriveTarget(ctx, m) },
		func(ctx context.Context) error { return d.mcpSignIn(ctx, m, alice, true) },
		func(ctx context.Context) error { return d.mcpListTools(ctx, alice) },
		func(ctx context.Context) error { return d.mcpListFiles(ctx, alice) },
		func(ctx context.Context) error { return d.mcpSignIn(ctx, m, bob, false) },
		func(ctx context.Context) error { return d.mcpListFiles(ctx, bob) },
	} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := step(ctx); err != nil {
			return d.fail(err)
		}
	}
	for _, u := range m.users {
		if u.session != nil {
			u.session.Close()
		}
	}
	fmt.Fprintf(d.out, "\nDone in %.1fs: one MCP URL; each user signed in, consented once, and got their own Google Drive files through Behalf.\n",
		time.Since(d.start).Seconds())
	if d.removeDir {
		fmt.Fprintln(d.out, "Everything ran in this process and is gone now; `behalf demo --mcp --data-dir DIR` keeps Behalf's data.")
	} else {
		fmt.Fprintf(d.out, "Behalf's data is in %s (`behalf serve --data-dir %s --allow-private-endpoints` reopens it).\n", d.dataDir, d.dataDir)
	}
	return nil
}

// createPoolAndUsers creates the pool (no app client: MCP clients
// register themselves) and its users.
func (d *demo) createPoolAndUsers(ctx context.Context, m *mcpDemo) error {
	d.printStep("Create the user pool and its users (official Cognito client; no app client: MCP clients register themselves)")
	pool, err := d.cognito.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("DriveToolsUsers")})
	if err != nil {
		return wrapAPIError(err)
	}
	d.poolID = aws.ToString(pool.UserPool.Id)
	d.say("$ behalf userpool create DriveToolsUsers")
	d.say("User pool: %s  issuer %s/%s", d.poolID, d.behalfURL, d.poolID)
	for _, u := range m.users {
		u.password = "Pw-" + randid.Alnum(20) + "-9z"
		d.secret(u.password)
		if _, err := d.cognito.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
			UserPoolId: aws.String(d.poolID), Username: aws.String(u.username), MessageAction: ciptypes.MessageActionTypeSuppress,
			TemporaryPassword: aws.String("Tmp-" + randid.Alnum(16) + "-1a"),
			UserAttributes:    []ciptypes.AttributeType{{Name: aws.String("email"), Value: aws.String(u.email)}, {Name: aws.String("email_verified"), Value: aws.String("true")}},
		}); err != nil {
			return wrapAPIError(err)
		}
		if _, err := d.cognito.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
			UserPoolId: aws.String(d.poolID), Username: aws.String(u.username), Password: aws.String(u.password), Permanent: true,
		}); err != nil {
			return wrapAPIError(err)
		}
		d.say("$ behalf user create %s %s --attribute email=%s   (+ set-password --permanent)", d.poolID, u.username, u.email)
	}
	return nil
}

// createGateway creates the gateway with the pool as its issuer; its
// tokens must be meant for the gateway's own URL (RFC 8707), whichever
// client asked for them.
func (d *demo) createGateway(ctx context.Context, m *mcpDemo) error {
	d.printStep("Create the gateway: the pool is its issuer, tokens must be for its own URL (official control client)")
	discovery := d.behalfURL + "/" + d.poolID + "/.well-known/openid-configuration"
	jwt := func(aud ...string) ctltypes.AuthorizerConfiguration {
		return &ctltypes.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: ctltypes.CustomJWTAuthorizerConfiguration{
			DiscoveryUrl: aws.String(discovery), AllowedScopes: []string{"openid"}, AllowedAudience: aud}}
	}
	out, err := d.control.CreateGateway(ctx, &ctl.CreateGatewayInput{
		Name: aws.String("drive-tools"), RoleArn: aws.String(defaultGatewayRoleARN), ProtocolType: ctltypes.GatewayProtocolTypeMcp,
		AuthorizerType: ctltypes.AuthorizerTypeCustomJwt, AuthorizerConfiguration: jwt(),
	})
	if err != nil {
		return wrapAPIError(err)
	}
	m.gatewayID, m.gatewayURL = aws.ToString(out.GatewayId), aws.ToString(out.GatewayUrl)
	d.workload = workloadFromDetails(out.WorkloadIdentityDetails)
	d.say("$ behalf gateway create drive-tools --discovery-url %s --allowed-scope openid", discovery)
	d.say("Gateway: %s (%s)  workload identity %s", m.gatewayID, out.Status, d.workload)
	d.say("MCP URL: %s", m.gatewayURL)
	if _, err := d.control.UpdateGateway(ctx, &ctl.UpdateGatewayInput{
		GatewayIdentifier: aws.String(m.gatewayID), Name: aws.String("drive-tools"), RoleArn: aws.String(defaultGatewayRoleARN),
		ProtocolType: ctltypes.GatewayProtocolTypeMcp, AuthorizerType: ctltypes.AuthorizerTypeCustomJwt, AuthorizerConfiguration: jwt(m.gatewayURL),
	}); err != nil {
		return wrapAPIError(err)
	}
	d.say("$ behalf gateway update drive-tools --allowed-audience %s", m.gatewayURL)
	d.say("(MCP clients register themselves, so the gateway checks the audience, not a list of clients)")
	if _, err := d.control.UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{
		Name: aws.String(d.workload), AllowedResourceOauth2ReturnUrls: []string{d.callbackURL},
	}); err != nil {
		return wrapAPIError(err)
	}
	d.say("$ behalf workload update %s --return-url %s", d.workload, d.callbackURL)
	return nil
}

// createDriveTarget adds the shipped Drive document as a target, pointed
// at the sandbox, with each user's own Google token.
func (d *demo) createDriveTarget(ctx context.Context, m *mcpDemo) error {
	d.printStep("Add Google Drive as a target: examples/drive-openapi/drive-v3-files.yaml, each user's own Google token")
	doc, err := withServer(driveopenapi.Document, d.google.URL)
	if err != nil {
		return err
	}
	provider, err := d.control.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String(driveagent.DefaultProvider)})
	if err != nil {
		return wrapAPIError(err)
	}
	out, err := d.control.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{
		GatewayIdentifier: aws.String(m.gatewayID), Name: aws.String("drive"),
		TargetConfiguration: &ctltypes.TargetConfigurationMemberMcp{Value: &ctltypes.McpTargetConfigurationMemberOpenApiSchema{
			Value: &ctltypes.ApiSchemaConfigurationMemberInlinePayload{Value: doc}}},
		CredentialProviderConfigurations: []ctltypes.CredentialProviderConfiguration{{
			CredentialProviderType: ctltypes.CredentialProviderTypeOauth,
			CredentialProvider: &ctltypes.CredentialProviderMemberOauthCredentialProvider{Value: ctltypes.OAuthCredentialProvider{
				ProviderArn: provider.CredentialProviderArn, Scopes: []string{driveagent.Scope},
				GrantType: ctltypes.OAuthGrantTypeAuthorizationCode, DefaultReturnUrl: aws.String(d.callbackURL)}},
		}},
	})
	if err != nil {
		return wrapAPIError(err)
	}
	d.say("$ behalf gateway target create drive-tools drive --openapi examples/drive-openapi/drive-v3-files.yaml --server %s \\", d.google.URL)
	d.say("    --oauth %s --scope %s --return-url %s", driveagent.DefaultProvider, driveagent.Scope, d.callbackURL)
	d.say("Target: drive (%s, %s): tool drive___listFiles calls GET %s/drive/v3/files", aws.ToString(out.TargetId), out.Status, d.google.URL)
	return nil
}

// traceTransport records the requests an MCP client makes, without
// queries (codes, states) or bodies (tokens).
type traceTransport struct {
	mu    sync.Mutex
	lines []string
	only  func(*http.Response) bool // nil: every response
}

func (t *traceTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || (t.only != nil && !t.only(resp)) {
		return resp, err
	}
	u := *r.URL
	u.RawQuery = ""
	line := fmt.Sprintf("%-4s %s → %d", r.Method, u.String(), resp.StatusCode)
	if h := resp.Header.Get("WWW-Authenticate"); h != "" {
		line += "  WWW-Authenticate: " + h
	}
	t.mu.Lock()
	t.lines = append(t.lines, line)
	t.mu.Unlock()
	return resp, nil
}

func (t *traceTransport) take() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.lines
	t.lines = nil
	return l
}

// mcpSignIn connects a new MCP client to the gateway as u: the SDK's
// OAuth handler discovers the pool from the 401, registers, and sends u
// through the hosted login (scripted here).
func (d *demo) mcpSignIn(ctx context.Context, m *mcpDemo, u *mcpUser, first bool) error {
	title := "Connect an MCP client (Go SDK, auth.AuthorizationCodeHandler) knowing only the MCP URL; sign in as " + u.username
	if !first {
		title = "Another MCP client for " + u.username + ": the same discovery, registration and sign-in"
	}
	d.printStep(title)
	if m.redirect == "" {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "Signed in; you can return to the MCP client.")
		})
		base, err := d.serve(mux)
		if err != nil {
			return err
		}
		m.redirect = base + "/callback"
	}
	oauthTrace, mcpTrace := &traceTransport{}, &traceTransport{only: func(r *http.Response) bool { return r.StatusCode == http.StatusUnauthorized }}
	var loginLines []string
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{m.redirect}, ClientName: "Behalf demo MCP client", TokenEndpointAuthMethod: "none",
			GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		}},
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			res, lines, err := hostedLogin(ctx, args.URL, m.redirect, u.username, u.password)
			loginLines = lines
			return res, err
		},
		Client: &http.Client{Timeout: 30 * time.Second, Transport: oauthTrace},
	})
	if err != nil {
		return err
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "behalf-demo", Version: version}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: m.gatewayURL, HTTPClient: &http.Client{Timeout: time.Minute, Transport: mcpTrace},
		OAuthHandler: handler, DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", m.gatewayURL, err)
	}
	u.session = cs
	trace := append(mcpTrace.take(), oauthTrace.take()...)
	// The order things happened in: the 401, metadata, registration, the
	// browser at the hosted login, then the token request.
	var tokenLines []string
	for _, l := range trace {
		if strings.Contains(l, "/oauth2/token") {
			tokenLines = append(tokenLines, l)
			continue
		}
		d.say("%s", l)
	}
	for _, l := range loginLines {
		d.say("browser: %s", l)
	}
	for _, l := range tokenLines {
		d.say("%s", l)
	}
	ts, err := handler.TokenSource(ctx)
	if err != nil || ts == nil {
		return fmt.Errorf("the MCP client has no token: %v", err)
	}
	tok, err := ts.Token()
	if err != nil {
		return err
	}
	u.token = tok.AccessToken
	d.secret(tok.AccessToken, tok.RefreshToken)
	if id, _ := tok.Extra("id_token").(string); id != "" {
		d.secret(id)
	}
	var claims struct {
		ClientID string   `json:"client_id"`
		Aud      audience `json:"aud"`
		Scope    string   `json:"scope"`
	}
	if err := jwtPayload(tok.AccessToken, &claims); err != nil {
		return err
	}
	d.say("Signed in: access token %s for %s (aud %s, scope %q), registered client %s",
		tokenPrefix(tok.AccessToken), u.username, strings.Join(claims.Aud, " "), claims.Scope, claims.ClientID)
	init := cs.InitializeResult()
	if init != nil && init.ServerInfo != nil {
		d.say("initialize → %s %s", init.ServerInfo.Name, init.ServerInfo.Version)
	}
	return nil
}

// audience is a JWT aud: one string or several.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// jwtPayload decodes a JWT's claims for display only: the gateway, not
// the demo, verifies tokens.
func jwtPayload(tok string, v any) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("the access token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// hostedLogin is a person at the pool's hosted login, in an HTTP client
// with a cookie jar: open the authorization URL, fill in the sign-in form,
// and follow the redirect back to the MCP client's redirect URI.
func hostedLogin(ctx context.Context, authURL, redirect, username, password string) (*auth.AuthorizationResult, []string, error) {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	var lines []string
	get, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := browser.Do(get)
	if err != nil {
		return nil, nil, err
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	au, _ := url.Parse(authURL)
	q := au.Query()
	lines = append(lines, fmt.Sprintf("GET  %s%s?response_type=code&client_id=…&resource=%s&code_challenge_method=%s&scope=%s → the sign-in page %s",
		au.Host, au.Path, q.Get("resource"), q.Get("code_challenge_method"), url.QueryEscape(q.Get("scope")), resp.Request.URL.Path))
	action, fields, err := loginForm(page)
	if err != nil {
		return nil, nil, fmt.Errorf("the hosted login at %s: %w", resp.Request.URL.Path, err)
	}
	target, err := resp.Request.URL.Parse(action)
	if err != nil {
		return nil, nil, err
	}
	fields.Set("username", username)
	fields.Set("password", password)
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(fields.Encode()))
	if err != nil {
		return nil, nil, err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = browser.Do(post)
	if err != nil {
		return nil, nil, err
	}
	resp.Body.Close()
	back := resp.Request.URL
	if !strings.HasPrefix(back.String(), redirect+"?") {
		return nil, nil, fmt.Errorf("the sign-in ended at %s (%d), not at the MCP client's redirect URI", back.Path, resp.StatusCode)
	}
	lines = append(lines, fmt.Sprintf("POST %s (username %s, password) → %s?code=…&state=…", target.Path, username, redirect))
	return &auth.AuthorizationResult{Code: back.Query().Get("code"), State: back.Query().Get("state"), Iss: back.Query().Get("iss")}, lines, nil
}

// loginForm returns the sign-in form's action and fields (hidden inputs
// with their values, the others empty).
func loginForm(page []byte) (string, url.Values, error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return "", nil, err
	}
	attr := func(n *html.Node, key string) string {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val
			}
		}
		return ""
	}
	var form *html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "form" && strings.EqualFold(attr(n, "method"), "post") {
			for c := range n.Descendants() {
				if c.Type == html.ElementNode && c.Data == "input" && attr(c, "name") == "password" {
					form = n
				}
			}
		}
		if form != nil {
			break
		}
	}
	if form == nil {
		return "", nil, errors.New("no sign-in form")
	}
	fields := url.Values{}
	for c := range form.Descendants() {
		if c.Type == html.ElementNode && c.Data == "input" && attr(c, "name") != "" {
			v := ""
			if attr(c, "type") == "hidden" {
				v = attr(c, "value")
			}
			fields.Set(attr(c, "name"), v)
		}
	}
	return attr(form, "action"), fields, nil
}

// mcpListTools lists the gateway's tools.
func (d *demo) mcpListTools(ctx context.Context, u *mcpUser) error {
	d.printStep("tools/list")
	res, err := u.session.ListTools(ctx, nil)
	if err != nil {
		return err
	}
	for _, t := range res.Tools {
		d.say("%s — %s", t.Name, strings.SplitN(t.Description, "\n", 2)[0])
	}
	if !slices.ContainsFunc(res.Tools, func(t *mcp.Tool) bool { return t.Name == "drive___listFiles" }) {
		return errors.New("the gateway does not offer drive___listFiles")
	}
	return nil
}

// mcpListFiles calls drive___listFiles: a URL elicitation, consent at the
// sandbox as u, the app's binding, and the call again.
func (d *demo) mcpListFiles(ctx context.Context, u *mcpUser) error {
	call := &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{"pageSize": 100}}
	d.printStep(fmt.Sprintf("tools/call drive___listFiles as %s (no Google grant yet)", u.username))
	_, err := u.session.CallTool(ctx, call)
	elicitURL, message, err := urlElicitation(err)
	if err != nil {
		return err
	}
	d.say("→ error %d (URL elicitation required): %s", mcp.CodeURLElicitationRequired, message)
	d.say("  url: %s", elicitURL)

	d.printStep(fmt.Sprintf("%s opens the URL and consents at \"Google\" (headless); the app binds the session as %s", u.username, u.username))
	d.accessToken = u.token // the callback server completes as the signed-in user
	cp, end, err := sandbox.Consent(ctx, nil, elicitURL, u.email, true)
	if err != nil {
		return err
	}
	d.say("The page: %q wants to access %s's Google Account: %s", cp.Client, u.email, strings.Join(cp.Scopes, " "))
	if end.URL.Scheme+"://"+end.URL.Host+end.URL.Path != d.callbackURL {
		return fmt.Errorf("consent ended on %d %s%s, not at the callback server: %s", end.Status, end.URL.Host, end.URL.Path, end.Text(300))
	}
	select {
	case b := <-d.bindings:
		d.say("Allow → Behalf's callback → GET %s?session_id=%s", d.callbackURL, b.sessionURI)
		d.say("CompleteResourceTokenAuth(sessionUri=…, userIdentifier.userToken=%s) → %d %q", tokenPrefix(u.token), b.status, b.page)
		if b.status != http.StatusOK {
			return fmt.Errorf("the callback server answered %d: %s", b.status, b.page)
		}
	case <-time.After(10 * time.Second):
		return errors.New("the callback server was not called")
	}

	d.printStep(fmt.Sprintf("tools/call drive___listFiles as %s again", u.username))
	res, err := u.session.CallTool(ctx, call)
	if err != nil {
		return err
	}
	text := ""
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text += tc.Text
		}
	}
	if res.IsError {
		return fmt.Errorf("drive___listFiles: %s", text)
	}
	var list struct {
		Files []struct{ ID, Name, MimeType string }
	}
	if err := json.Unmarshal([]byte(text), &list); err != nil {
		return fmt.Errorf("drive___listFiles answered %.200q: %w", text, err)
	}
	d.say("→ %d files from %s's Google Drive (the sandbox saw %s's token):", len(list.Files), u.email, u.username)
	fmt.Fprintln(d.out)
	fmt.Fprintf(d.out, "    %-28s %-42s %s\n", "NAME", "MIME TYPE", "ID")
	for _, f := range list.Files {
		fmt.Fprintf(d.out, "    %-28s %-42s %s\n", f.Name, f.MimeType, f.ID)
	}
	return nil
}

// urlElicitation returns the URL and message of a -32042 error.
func urlElicitation(err error) (string, string, error) {
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != mcp.CodeURLElicitationRequired {
		return "", "", fmt.Errorf("expected a URL elicitation (error %d), got %v", mcp.CodeURLElicitationRequired, err)
	}
	var data struct {
		Elicitations []struct{ Mode, URL, Message string }
	}
	if err := json.Unmarshal(rpcErr.Data, &data); err != nil || len(data.Elicitations) != 1 || data.Elicitations[0].URL == "" {
		return "", "", fmt.Errorf("a URL elicitation without one URL: %s", rpcErr.Data)
	}
	e := data.Elicitations[0]
	return e.URL, e.Message, nil
}
