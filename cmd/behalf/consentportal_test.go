package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/chromedp/chromedp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/browsertest"
	"github.com/behalf-dev/behalf/sandbox"
)

// newPortalFixture starts Behalf on database ("" for SQLite) with a user
// pool (alice), the sandbox as Google, a gateway trusting the pool with
// the drive target (OAUTH AUTHORIZATION_CODE) and the notes target (an API
// key), a pool client for the portal and an OAuth2 credential provider
// for it (the portal's idpConfig), whose ARN it returns.
func newPortalFixture(t *testing.T, database string) (*gatewayFixture, string) {
	t.Helper()
	ctx := context.Background()
	f := &gatewayFixture{s: startMain(t, serverOptions{database: database, args: []string{"--allow-private-endpoints"}}), tokens: map[string]string{}}
	f.c, f.data = f.s.client(t), f.s.dataPlane(t, f.s.KeyID, f.s.Secret)
	sb, err := sandbox.Start("127.0.0.1:0", sandbox.Options{Open: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	f.sb = sb
	cog := f.s.cognito(t)
	f.pool = newPoolFixture(t, ctx, cog, "tools")
	f.pool.createUser(t, ctx, cog, "alice", "Corr3ct-Horse!")
	f.tokens["alice"] = aws.ToString(mustTokens(t)(f.pool.signIn(ctx, cog, "alice", "Corr3ct-Horse!")).AccessToken)
	google, err := f.c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("google-drive"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: customDiscovery(sb.URL+sandbox.DiscoveryPath, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	key, err := f.c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("notes-key"), ApiKey: aws.String("k-123")})
	if err != nil {
		t.Fatal(err)
	}
	f.gatewayID, f.url = f.createGateway(t, "tools", types.CustomJWTAuthorizerConfiguration{AllowedClients: []string{f.pool.clientID}})
	doc := func(title, server, path, op string) string {
		return "openapi: 3.0.3\ninfo: {title: " + title + ", version: '1'}\nservers: [{url: '" + server + "'}]\n" +
			"paths:\n  " + path + ":\n    get:\n      operationId: " + op + "\n      responses: {'200': {description: ok}}\n"
	}
	if _, err := f.c.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{GatewayIdentifier: aws.String(f.gatewayID), Name: aws.String("notes"),
		TargetConfiguration:              openAPITarget(doc("Notes", "https://notes.example.com", "/notes", "search")),
		CredentialProviderConfigurations: apiKeyCredential(aws.ToString(key.CredentialProviderArn))}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{GatewayIdentifier: aws.String(f.gatewayID), Name: aws.String("drive"),
		TargetConfiguration: openAPITarget(doc("Drive", sb.URL+"/drive/v3", "/files", "listFiles")),
		CredentialProviderConfigurations: []types.CredentialProviderConfiguration{{
			CredentialProviderType: types.CredentialProviderTypeOauth,
			CredentialProvider: &types.CredentialProviderMemberOauthCredentialProvider{Value: types.OAuthCredentialProvider{
				ProviderArn: google.CredentialProviderArn, Scopes: []string{sandbox.DriveScope + ".metadata.readonly"},
				GrantType: types.OAuthGrantTypeAuthorizationCode, DefaultReturnUrl: aws.String(f.s.URL + behalf.BindPath)}},
		}}}); err != nil {
		t.Fatal(err)
	}
	client, err := cog.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(f.pool.poolID), ClientName: aws.String("portal"), GenerateSecret: true,
		AllowedOAuthFlows: []ciptypes.OAuthFlowType{ciptypes.OAuthFlowTypeCode}, AllowedOAuthScopes: []string{"openid", "email"},
		AllowedOAuthFlowsUserPoolClient: true, SupportedIdentityProviders: []string{"COGNITO"},
		CallbackURLs: []string{f.s.URL + behalf.SignInCallbackPath},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("people-idp"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: types.CustomOauth2ProviderConfigInput{
			OauthDiscovery: &types.Oauth2DiscoveryMemberDiscoveryUrl{Value: f.s.URL + "/" + f.pool.poolID + "/.well-known/openid-configuration"},
			ClientId:       client.UserPoolClient.ClientId, ClientSecret: client.UserPoolClient.ClientSecret,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, aws.ToString(p.CredentialProviderArn)
}

func portalInput(name, providerARN, gateway string) *ctl.CreateConsentPortalInput {
	return &ctl.CreateConsentPortalInput{
		Name: aws.String(name), ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/portal"),
		IdpConfig: &types.ConsentPortalIdpConfig{CredentialProviderArn: aws.String(providerARN), Scopes: []string{"openid", "email"}},
		Sources:   []types.ConsentPortalSource{{Identifier: aws.String(gateway), Type: types.ConsentPortalSourceTypeAgentcoreGateway}},
	}
}

func wantPortalError(t *testing.T, what string, err error, code string) {
	t.Helper()
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

// Ensure the ConsentPortal operations through the official Go SDK client:
// round trips, paging, and 404/409/validation answers.
func TestConsentPortalControlPlane(t *testing.T) {
	isolateAWSEnv(t)
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) { testConsentPortalControlPlane(t, dsn(t)) })
	}
}

func testConsentPortalControlPlane(t *testing.T, database string) {
	f, idp := newPortalFixture(t, database)
	ctx := context.Background()
	created, err := f.c.CreateConsentPortal(ctx, portalInput("tools-portal", idp, f.gatewayID))
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.ConsentPortalId)
	if !strings.HasPrefix(id, "tools-portal-") || created.Status != types.ConsentPortalStatusActive ||
		aws.ToString(created.PortalUrl) != f.s.URL+"/consent-portals/"+id || aws.ToString(created.IdpConfig.CredentialProviderArn) != idp ||
		len(created.Sources) != 1 || !strings.HasSuffix(aws.ToString(created.Sources[0].Identifier), ":gateway/"+f.gatewayID) ||
		created.CreatedAt == nil {
		t.Errorf("CreateConsentPortal = %+v", created)
	}
	got, err := f.c.GetConsentPortal(ctx, &ctl.GetConsentPortalInput{ConsentPortalIdentifier: created.ConsentPortalArn})
	if err != nil || aws.ToString(got.ConsentPortalId) != id || aws.ToString(got.ExecutionRoleArn) != "arn:aws:iam::123456789012:role/portal" {
		t.Fatalf("GetConsentPortal by ARN = %+v, %v", got, err)
	}
	// The gateway's workload is set up for the binding page.
	w, err := f.c.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: aws.String(f.gatewayID)})
	if err != nil || !strings.Contains(strings.Join(w.AllowedResourceOauth2ReturnUrls, " "), f.s.URL+behalf.BindPath) {
		t.Errorf("gateway workload's return URLs %v, %v", w.AllowedResourceOauth2ReturnUrls, err)
	}
	up, err := f.c.UpdateConsentPortal(ctx, &ctl.UpdateConsentPortalInput{ConsentPortalIdentifier: aws.String(id), Description: aws.String("Connect your tools")})
	if err != nil || aws.ToString(up.Description) != "Connect your tools" || aws.ToString(up.IdpConfig.CredentialProviderArn) != idp {
		t.Fatalf("UpdateConsentPortal = %+v, %v", up, err)
	}
	list, err := f.c.ListConsentPortals(ctx, &ctl.ListConsentPortalsInput{MaxResults: aws.Int32(1)})
	if err != nil || len(list.ConsentPortals) != 1 || aws.ToString(list.ConsentPortals[0].ConsentPortalId) != id || list.NextToken != nil {
		t.Fatalf("ListConsentPortals = %+v, %v", list, err)
	}

	_, err = f.c.CreateConsentPortal(ctx, portalInput("second", idp, f.gatewayID))
	wantPortalError(t, "a second portal for the gateway", err, "ConflictException")
	_, err = f.c.CreateConsentPortal(ctx, portalInput("other", idp, "missing-0123456789"))
	wantPortalError(t, "an unknown gateway", err, "ResourceNotFoundException")
	_, err = f.c.CreateConsentPortal(ctx, portalInput("bad name!", idp, f.gatewayID))
	wantPortalError(t, "a bad name", err, "ValidationException")
	bad := portalInput("other", strings.Replace(idp, "people-idp", "google-drive", 1), f.gatewayID)
	_, err = f.c.CreateConsentPortal(ctx, bad)
	wantPortalError(t, "a provider of another issuer", err, "ValidationException")
	_, err = f.c.GetConsentPortal(ctx, &ctl.GetConsentPortalInput{ConsentPortalIdentifier: aws.String("nope-0123456789")})
	wantPortalError(t, "an unknown portal", err, "ResourceNotFoundException")

	if _, err := f.c.DeleteConsentPortal(ctx, &ctl.DeleteConsentPortalInput{ConsentPortalIdentifier: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = f.c.DeleteConsentPortal(ctx, &ctl.DeleteConsentPortalInput{ConsentPortalIdentifier: aws.String(id)})
	wantPortalError(t, "deleting twice", err, "ResourceNotFoundException")
}

// Ensure a consent portal in a real browser: alice signs in at the pool,
// sees the drive target not connected, connects it (Behalf's consent, the
// sandbox's consent page, the binding page in the same browser), is back
// on the portal connected to her account, and disconnects it. The page
// fits a 360 px phone and has no script.
func TestConsentPortalPage(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping: %s is not installed (%v)", chromiumPath, err)
	}
	isolateAWSEnv(t)
	f, idp := newPortalFixture(t, "")
	ctx := context.Background()
	created, err := f.c.CreateConsentPortal(ctx, portalInput("tools-portal", idp, f.gatewayID))
	if err != nil {
		t.Fatal(err)
	}
	page := aws.ToString(created.PortalUrl)

	browser := newChromium(t)
	chromeDo(t, browser, chromedp.EmulateViewport(1200, 800), chromedp.Navigate(page))
	chromeWaitURL(t, browser, f.s.URL+"/"+f.pool.poolID+"/login?")
	chromeDo(t, browser, chromeFillLogin("alice", "Corr3ct-Horse!"))
	chromeWaitURL(t, browser, page)
	chromeDo(t, browser, chromedp.WaitVisible(chromedp.CSS("table")))
	if h := chromeText(t, browser, "h1"); h != "tools-portal" {
		t.Errorf("heading %q", h)
	}
	if n := chromeCount(t, browser, "tbody tr"); n != 1 {
		t.Fatalf("%d rows, want the drive target alone (notes uses an API key)", n)
	}
	if row := chromeText(t, browser, "tbody tr"); !strings.Contains(row, "drive") || !strings.Contains(row, "Not connected") {
		t.Errorf("row before connecting: %q", row)
	}
	browsertest.CheckLayout(t, browser, "", "consent-portal") // the frame (no --operator-name), at 1280 and 360 px
	if html, _ := chromedp.Run(browser, chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, "<script") {
		t.Error("the page has a script")
	}

	chromeDo(t, browser, chromedp.Click(chromedp.CSS(`button[aria-label="Connect drive"]`)))
	chromeWaitURL(t, browser, f.sb.URL+"/")
	chromeDo(t, browser, chromedp.WaitVisible(chromedp.CSS("main[data-sandbox-consent]")))
	chromeDo(t, browser, chromedp.Click(chromedp.CSS(`button[value="allow"]`)))
	chromeWaitURL(t, browser, f.s.URL+behalf.BindPath)
	chromeDo(t, browser, chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := chromeText(t, browser, "h1"); h != "google-drive is connected" {
		t.Fatalf("binding page: %q", h)
	}
	chromeDo(t, browser, chromedp.Click(chromedp.CSS(`a.button`)))
	chromeWaitURL(t, browser, page)
	chromeDo(t, browser, chromedp.WaitVisible(chromedp.CSS("table")))
	if row := chromeText(t, browser, "tbody tr"); !strings.Contains(row, "Connected (google-drive)") || strings.Contains(row, "Not connected") {
		t.Errorf("row after connecting: %q", row)
	}
	// The MCP endpoint now calls drive with alice's token.
	cs := mcpSession(t, f.url, f.tokens["alice"])
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{}}); err != nil || res.IsError {
		t.Errorf("drive___listFiles after connecting: %+v, %v", res, err)
	}

	chromeDo(t, browser, chromedp.Click(chromedp.CSS(`button[aria-label="Disconnect drive"]`)))
	chromeWaitURL(t, browser, page)
	chromeDo(t, browser, chromedp.WaitVisible(chromedp.CSS("p.status")))
	if row := chromeText(t, browser, "tbody tr"); !strings.Contains(row, "Not connected") {
		t.Errorf("row after disconnecting: %q", row)
	}
	if msg := chromeText(t, browser, "p.status"); msg == "" {
		t.Error("no outcome shown after disconnecting")
	}
	// The grant is gone: the next call asks for consent again.
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{}}); err == nil || !strings.Contains(err.Error(), "URL elicitation required") {
		t.Errorf("drive___listFiles after disconnecting: %v, want the URL elicitation", err)
	}
	// Reloading shows the outcome no more (POST → redirect → GET).
	chromeDo(t, browser, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table")))
	if n := chromeCount(t, browser, "p.status"); n != 0 {
		t.Errorf("the outcome is shown again after a reload")
	}
}

// Ensure an MCP client's URL elicitation ends on Behalf's binding page when
// the target has no defaultReturnUrl: alice opens the elicitation URL in
// her browser, signs in at the pool (the gateway's binding sign-in, set up
// here by a consent portal), consents at the sandbox, and the binding page
// completes the session for her; her next tools/call gets her files.
func TestGatewayElicitationToBindingPage(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping: %s is not installed (%v)", chromiumPath, err)
	}
	isolateAWSEnv(t)
	f, idp := newPortalFixture(t, "")
	ctx := context.Background()
	if _, err := f.c.CreateConsentPortal(ctx, portalInput("tools-portal", idp, f.gatewayID)); err != nil {
		t.Fatal(err)
	}
	google, err := f.c.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String("google-drive")})
	if err != nil {
		t.Fatal(err)
	}
	doc := "openapi: 3.0.3\ninfo: {title: Drive, version: '1'}\nservers: [{url: '" + f.sb.URL + "/drive/v3'}]\n" +
		"paths:\n  /files:\n    get:\n      operationId: listFiles\n      responses: {'200': {description: ok}}\n"
	if _, err := f.c.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{GatewayIdentifier: aws.String(f.gatewayID), Name: aws.String("mydrive"),
		TargetConfiguration: openAPITarget(doc),
		CredentialProviderConfigurations: []types.CredentialProviderConfiguration{{
			CredentialProviderType: types.CredentialProviderTypeOauth,
			CredentialProvider: &types.CredentialProviderMemberOauthCredentialProvider{Value: types.OAuthCredentialProvider{
				ProviderArn: google.CredentialProviderArn, Scopes: []string{sandbox.DriveScope + ".metadata.readonly"},
				GrantType: types.OAuthGrantTypeAuthorizationCode}}, // no DefaultReturnUrl
		}}}); err != nil {
		t.Fatalf("a target without defaultReturnUrl: %v", err)
	}
	cs := mcpSession(t, f.url, f.tokens["alice"])
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "mydrive___listFiles", Arguments: map[string]any{}})
	authURL := elicitation(t, err)

	browser := newChromium(t)
	chromeDo(t, browser, chromedp.Navigate(authURL))
	chromeWaitURL(t, browser, f.s.URL+"/"+f.pool.poolID+"/login?")
	chromeDo(t, browser, chromeFillLogin("alice", "Corr3ct-Horse!"))
	chromeWaitURL(t, browser, f.sb.URL+"/")
	chromeDo(t, browser, chromedp.WaitVisible(chromedp.CSS("main[data-sandbox-consent]")))
	chromeDo(t, browser, chromedp.Click(chromedp.CSS(`button[value="allow"]`)))
	chromeWaitURL(t, browser, f.s.URL+behalf.BindPath)
	chromeDo(t, browser, chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := chromeText(t, browser, "h1"); h != "google-drive is connected" {
		t.Fatalf("binding page: %q", h)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "mydrive___listFiles", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("mydrive___listFiles after the binding page: %+v, %v", res, err)
	}
	if text := toolText(t, res); !strings.Contains(text, sandbox.SeedFiles("alice@example.com", 1)[0].ID) {
		t.Errorf("alice's files: %s", text)
	}
}
