package oidcop_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf/userpool/oidcop"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// Ensure the official Go MCP SDK's OAuth client (v1.8.0), configured with
// a client ID metadata document URL, signs a user in: it sees
// client_id_metadata_document_supported in the pool's metadata, uses the
// URL as client_id at authorize and at the token endpoint (HTTP Basic
// with no password, then the form), and gets an access token for the MCP
// server, without registering.
func TestClientIDMetadataDocumentGoSDK(t *testing.T) {
	docs := newDocServer(t)
	e := newEnvWith(t, oidcop.WithDocumentHTTPClient(docs.client()))
	id := docs.serve("/mcp-client.json", document(docs.URL+"/mcp-client.json", e.callback))

	mux := http.NewServeMux()
	mcp := httptest.NewServer(mux)
	t.Cleanup(mcp.Close)
	mcpURL := mcp.URL + "/mcp"
	prmURL := mcp.URL + "/.well-known/oauth-protected-resource/mcp"
	mux.Handle("GET /.well-known/oauth-protected-resource/mcp", auth.ProtectedResourceMetadataHandler(
		&oauthex.ProtectedResourceMetadata{Resource: mcpURL, AuthorizationServers: []string{e.issuer}}))
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+prmURL+`", scope="openid email"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})

	var loginPage string
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		ClientIDMetadataDocumentConfig: &auth.ClientIDMetadataDocumentConfig{URL: id},
		RedirectURL:                    e.callback,
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			c := e.browser()
			resp, _ := e.get(c, args.URL)
			loginURL := resp.Header.Get("Location")
			if !strings.HasPrefix(loginURL, e.base+"/login?") {
				t.Fatalf("authorize %s: %d Location=%q", args.URL, resp.StatusCode, loginURL)
			}
			_, loginPage = e.get(c, loginURL)
			resp, _ = e.signIn(c, loginURL, hiddenFields(loginPage), "alice", alicePassword)
			back := resp.Header.Get("Location")
			u, _ := http.NewRequest(http.MethodGet, back, nil)
			q := u.URL.Query()
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
		Client: &http.Client{Timeout: 30 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, mcpURL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := handler.Authorize(ctx, req, resp); err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if !strings.Contains(loginPage, "this app identifies itself as <strong>"+strings.TrimPrefix(docs.URL, "https://")) {
		t.Errorf("login page:\n%s", loginPage)
	}
	ts, err := handler.TokenSource(ctx)
	if err != nil || ts == nil {
		t.Fatalf("TokenSource: %v", err)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	at := claims(t, tok.AccessToken)
	if at["username"] != "alice" || at["client_id"] != e.svc.DocumentClientID(e.pool.ID, id) {
		t.Errorf("access token claims %v", at)
	}
	want(t, "registered clients", e.registeredCount(), 1)
}
