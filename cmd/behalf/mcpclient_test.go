package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// Ensure an MCP client that knows nothing but an MCP server's URL signs a
// user of a pool in, through the real server, with the official Go MCP
// SDK's OAuth client (auth.AuthorizationCodeHandler): the server's 401
// and its RFC 9728 metadata (a stand-in for the gateway, served with the
// SDK's own handler) name the pool's issuer; the SDK finds the pool's
// RFC 8414 metadata, registers a client (RFC 7591), and sends the user
// through the hosted login in headless Chromium with PKCE S256 and the
// resource (RFC 8707); the access token verifies against the pool's keys
// with the MCP server's URL in its aud, and the client it registered is
// an app client the Cognito API lists.
func TestMCPClientRegistersAndSignsIn(t *testing.T) {
	s := mustRunMain(t, "")
	ctx := context.Background()
	cog := s.cognito(t)
	const password = "Corr3ct-Horse-Battery!"
	f := newPoolFixture(t, ctx, cog, "mcp")
	f.createUser(t, ctx, cog, "alice", password)
	issuer := s.URL + "/" + f.poolID

	// The MCP server: 401 with resource_metadata, and its metadata.
	mux := http.NewServeMux()
	mcp := httptest.NewServer(mux)
	t.Cleanup(mcp.Close)
	mcpURL := mcp.URL + "/mcp"
	prmURL := mcp.URL + "/.well-known/oauth-protected-resource/mcp"
	mux.Handle("GET /.well-known/oauth-protected-resource/mcp", auth.ProtectedResourceMetadataHandler(
		&oauthex.ProtectedResourceMetadata{Resource: mcpURL, AuthorizationServers: []string{issuer}}))
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+prmURL+`", scope="openid email"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
	// The client's loopback redirect URI.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "mcp client: signed in")
	}))
	t.Cleanup(app.Close)
	callback := app.URL + "/callback"

	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping: %s is not installed (%v); install Debian's chromium to run it", chromiumPath, err)
	}
	browser := newChromium(t)
	var loginPage string
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{callback}, ClientName: "Go MCP client", TokenEndpointAuthMethod: "none",
			GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		}},
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			u, err := url.Parse(args.URL)
			if err != nil {
				return nil, err
			}
			q := u.Query()
			if q.Get("resource") != mcpURL || q.Get("code_challenge_method") != "S256" || !strings.HasPrefix(args.URL, issuer+"/oauth2/authorize?") {
				t.Errorf("authorization URL %s, want the pool's, with S256 and resource %s", args.URL, mcpURL)
			}
			chromeDo(t, browser, chromedp.Navigate(args.URL))
			chromeWaitURL(t, browser, issuer+"/login?")
			loginPage = chromeText(t, browser, "main")
			chromeDo(t, browser, chromeFillLogin("alice", password))
			back := chromeWaitURL(t, browser, callback+"?").Query()
			return &auth.AuthorizationResult{Code: back.Get("code"), State: back.Get("state"), Iss: back.Get("iss")}, nil
		},
		Client: &http.Client{Timeout: 30 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}

	// What an MCP transport does on a 401: hand the request and answer to
	// the handler.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, mcpURL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("MCP server: %d, want 401", resp.StatusCode)
	}
	if err := handler.Authorize(ctx, req, resp); err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	for _, s := range []string{"to continue to Go MCP client", "registered itself", strings.TrimPrefix(app.URL, "http://")} {
		if !strings.Contains(loginPage, s) {
			t.Errorf("the login page does not say %q:\n%s", s, loginPage)
		}
	}
	ts, err := handler.TokenSource(ctx)
	if err != nil || ts == nil {
		t.Fatalf("TokenSource: %v", err)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}

	// The access token: the pool's signature and issuer, the MCP server in
	// its aud (go-oidc checks aud against ClientID), and the SDK's own
	// audience check agrees.
	octx := oidc.ClientContext(ctx, &http.Client{Timeout: 30 * time.Second})
	provider, err := oidc.NewProvider(octx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	at, err := provider.Verifier(&oidc.Config{ClientID: mcpURL}).Verify(octx, tok.AccessToken)
	if err != nil {
		t.Fatalf("verify the access token for %s: %v", mcpURL, err)
	}
	if !oauthex.MatchesResource(at.Audience, mcpURL) || slices.Contains(at.Audience, "https://other.example.com/mcp") {
		t.Errorf("aud %q, want %s only", at.Audience, mcpURL)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: "https://other.example.com/mcp"}).Verify(octx, tok.AccessToken); err == nil {
		t.Error("the access token verifies for another resource")
	}
	var c struct {
		ClientID string `json:"client_id"`
		Username string `json:"username"`
		Scope    string `json:"scope"`
	}
	if err := at.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.Username != "alice" || c.Scope != "openid email" {
		t.Errorf("access token username %q scope %q", c.Username, c.Scope)
	}

	// The registered client, through the Cognito API.
	described, err := cog.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{
		UserPoolId: aws.String(f.poolID), ClientId: aws.String(c.ClientID)})
	if err != nil {
		t.Fatal(err)
	}
	uc := described.UserPoolClient
	if aws.ToString(uc.ClientName) != "Go MCP client" || uc.ClientSecret != nil || !slices.Equal(uc.CallbackURLs, []string{callback}) {
		t.Errorf("registered client %+v", uc)
	}
	listed, err := cog.ListUserPoolClients(ctx, &cip.ListUserPoolClientsInput{UserPoolId: aws.String(f.poolID)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(listed.UserPoolClients, func(d types.UserPoolClientDescription) bool { return aws.ToString(d.ClientId) == c.ClientID }) {
		t.Error("ListUserPoolClients does not list the registered client")
	}
}
