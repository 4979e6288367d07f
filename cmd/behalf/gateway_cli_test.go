package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// driveOpenAPIExample is the Drive files.list document shipped in examples/.
const driveOpenAPIExample = "../../examples/drive-openapi/drive-v3-files.yaml"

// Ensure `behalf gateway` and `behalf gateway target` work against a
// running server through the official client: create prints the MCP URL;
// get, list and delete take names as well as ids; the shipped Drive
// document with --server is a target whose listFiles tool an MCP client
// calls (with the API key in the named header); OAuth targets record the
// grant; bad flag combinations are usage errors and server refusals are
// shown with their code.
func TestGatewayCLI(t *testing.T) {
	isolateAWSEnv(t)
	s := startMain(t, serverOptions{args: []string{"--allow-private-endpoints"}})
	ctx := context.Background()
	c := s.client(t)
	if _, err := c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("drive-key"), ApiKey: aws.String("k-123")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{Name: aws.String("google-drive-provider"),
		CredentialProviderVendor: types.CredentialProviderVendorTypeGoogleOauth2, Oauth2ProviderConfigInput: googleConfig("id", "secret")}); err != nil {
		t.Fatal(err)
	}
	var gotKey, gotQuery string
	drive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotKey, gotQuery = r.Header.Get("X-Goog-Api-Key"), r.URL.RawQuery
		if r.URL.Path != "/drive/v3/files" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"files":[{"id":"f1","name":"Plans.doc"}]}`))
	}))
	t.Cleanup(drive.Close)

	out, err := cliRun(t, s, "gateway", "create", "drive-tools", "--discovery-url", testDiscoveryURL, "--allowed-client", "c1", "--allowed-client", "c2", "--allowed-scope", "tools")
	if err != nil {
		t.Fatalf("gateway create: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Created gateway (drive-tools-[0-9a-z]{10})\n`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "MCP URL:           "+s.URL+"/gateways/"+m[1]+"/mcp") || !strings.Contains(out, "Workload identity: "+m[1]) {
		t.Fatalf("gateway create printed:\n%s", out)
	}
	id := m[1]
	out, err = cliRun(t, s, "gateway", "create", "open", "--no-auth", "--description", "no sign-in")
	if err != nil || !strings.Contains(out, "Inbound auth:      NONE") {
		t.Fatalf("gateway create --no-auth: %v\n%s", err, out)
	}
	openID := regexp.MustCompile(`Created gateway (open-[0-9a-z]{10})`).FindStringSubmatch(out)[1]

	steps := []struct {
		args []string
		want []string
	}{
		{[]string{"gateway", "get", "drive-tools"}, []string{"Gateway " + id + " (drive-tools)", "JWT from " + testDiscoveryURL, "    Clients:         c1, c2", "    Scopes:          tools", "/gateways/" + id + "/mcp"}},
		{[]string{"gateway", "get", id, "--output", "json"}, []string{`"gatewayUrl": "` + s.URL + "/gateways/" + id + `/mcp"`, `"discoveryUrl": "` + testDiscoveryURL}},
		{[]string{"gateway", "list"}, []string{"ID", "INBOUND AUTH", id, openID, "CUSTOM_JWT", "NONE"}},
		{[]string{"gateway", "update", "drive-tools", "--allowed-audience", "https://gw.example.com/mcp"},
			[]string{"Updated gateway " + id + ": READY, inbound auth CUSTOM_JWT"}},
		{[]string{"gateway", "get", id}, []string{"    Clients:         c1, c2", "    Audience:        https://gw.example.com/mcp", "    Scopes:          tools"}},
		{[]string{"gateway", "update", "open", "--description", "still open"}, []string{"inbound auth NONE"}},
		{[]string{"gateway", "get", "open"}, []string{"Inbound auth:      NONE", "Description:       still open"}},
		{[]string{"gateway", "target", "create", "open", "drive", "--openapi", driveOpenAPIExample, "--server", drive.URL, "--api-key", "drive-key", "--header", "X-Goog-Api-Key"},
			[]string{"Created target drive (", "on gateway " + openID + ": READY", "drive___<tool>"}},
		{[]string{"gateway", "target", "create", "drive-tools", "drive", "--openapi", driveOpenAPIExample, "--oauth", "google-drive-provider",
			"--scope", "https://www.googleapis.com/auth/drive.metadata.readonly", "--return-url", "https://app.example.com/connected"}, []string{"Created target drive"}},
		{[]string{"gateway", "target", "create", "drive-tools", "robot", "--openapi", driveOpenAPIExample, "--oauth", "google-drive-provider", "--grant", "client-credentials"}, []string{"Created target robot"}},
		{[]string{"gateway", "target", "list", "drive-tools"}, []string{"drive ", "robot ", "READY"}},
		{[]string{"gateway", "target", "get", "drive-tools", "drive"}, []string{"Kind:        openApiSchema", "OAUTH AUTHORIZATION_CODE arn:aws:bedrock-agentcore:us-east-1:000000000000:token-vault/default/oauth2credentialprovider/google-drive-provider",
			"scopes https://www.googleapis.com/auth/drive.metadata.readonly", "return URL https://app.example.com/connected"}},
		{[]string{"gateway", "target", "get", "drive-tools", "robot", "--output", "json"}, []string{`"grantType": "CLIENT_CREDENTIALS"`}},
		{[]string{"gateway", "target", "get", "open", "drive"}, []string{"API_KEY arn:aws:bedrock-agentcore:us-east-1:000000000000:token-vault/default/apikeycredentialprovider/drive-key in HEADER X-Goog-Api-Key"}},
	}
	for _, st := range steps {
		out, err := cliRun(t, s, st.args...)
		if err != nil {
			t.Fatalf("%q: %v\n%s", st.args, err, out)
		}
		for _, w := range st.want {
			if !strings.Contains(out, w) {
				t.Errorf("%q printed:\n%s\nwant %q", st.args, out, w)
			}
		}
	}

	// The shipped document, pointed at a local Drive by --server, is a
	// working tool.
	cs := mcpSession(t, s.URL+"/gateways/"+openID+"/mcp", "")
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) != 1 || tools.Tools[0].Name != "drive___listFiles" {
		t.Fatalf("tools/list = %+v, %v", tools, err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "drive___listFiles", Arguments: map[string]any{"pageSize": 5, "q": "name contains 'Plans'"}})
	if err != nil || res.IsError || !strings.Contains(toolText(t, res), "Plans.doc") {
		t.Fatalf("drive___listFiles = %+v, %v", res, err)
	}
	if gotKey != "k-123" || !strings.Contains(gotQuery, "pageSize=5") || !strings.Contains(gotQuery, "q=name+contains") {
		t.Errorf("the Drive API got key %q query %q", gotKey, gotQuery)
	}

	// Errors: usage first, then the server's own.
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"gateway", "create", "x"}, "--discovery-url URL"},
		{[]string{"gateway", "create", "x", "--no-auth", "--allowed-client", "c"}, "--no-auth excludes"},
		{[]string{"gateway", "update", "open", "--no-auth", "--tag", "a=b"}, "--tag applies to create only"},
		{[]string{"gateway", "update", "missing", "--no-auth"}, "ResourceNotFoundException"},
		{[]string{"gateway", "target", "create", "open", "t"}, "one of --openapi FILE and --mcp-server URL"},
		{[]string{"gateway", "target", "create", "open", "t", "--mcp-server", "https://mcp.example.com/mcp", "--server", "https://a.example.com"}, "--server applies only with --openapi"},
		{[]string{"gateway", "target", "create", "open", "t", "--openapi", driveOpenAPIExample, "--oauth", "google-drive-provider", "--api-key", "drive-key"}, "at most one of --oauth and --api-key"},
		{[]string{"gateway", "target", "create", "open", "t", "--openapi", driveOpenAPIExample, "--oauth", "google-drive-provider", "--grant", "implicit"}, "--grant must be"},
		{[]string{"gateway", "target", "create", "open", "t", "--openapi", driveOpenAPIExample, "--scope", "s"}, "apply only with --oauth"},
		{[]string{"gateway", "target", "create", "open", "t", "--openapi", driveOpenAPIExample, "--api-key", "drive-key", "--header", "A", "--query", "b"}, "at most one of --header and --query"},
		{[]string{"gateway", "target", "create", "open", "t", "--openapi", driveOpenAPIExample, "--oauth", "nope"}, "--oauth nope: ResourceNotFoundException"},
		{[]string{"gateway", "target", "create", "open", "t", "--openapi", driveOpenAPIExample, "--oauth", "google-drive-provider", "--return-url", "javascript:alert(1)"}, "ValidationException: defaultReturnUrl must be an absolute http(s) URL"},
		{[]string{"gateway", "target", "create", "open", "t", "--openapi", driveOpenAPIExample, "--server", "ftp://files.example.com"}, "ValidationException"},
		{[]string{"gateway", "target", "create", "open", "drive", "--openapi", driveOpenAPIExample}, "ConflictException"},
		{[]string{"gateway", "get", "missing"}, "ResourceNotFoundException"},
		{[]string{"gateway", "create", "drive-tools", "--no-auth"}, "ConflictException"},
		{[]string{"gateway", "delete", "open"}, "ConflictException"},
		{[]string{"gateway", "target", "get", "open", "nope"}, `targetId "nope"`},
	} {
		out, err := cliRun(t, s, bad.args...)
		if err == nil || !strings.Contains(err.Error()+out, bad.want) {
			t.Errorf("%q = %v\n%s\nwant an error with %q", bad.args, err, out, bad.want)
		}
	}

	// Delete by name: targets, then gateways.
	for _, args := range [][]string{
		{"gateway", "target", "delete", "open", "drive"}, {"gateway", "target", "delete", "drive-tools", "drive"},
		{"gateway", "target", "delete", "drive-tools", "robot"}, {"gateway", "delete", "open"}, {"gateway", "delete", id},
	} {
		if out, err := cliRun(t, s, args...); err != nil || !strings.Contains(out, "Deleted") {
			t.Fatalf("%q: %v\n%s", args, err, out)
		}
	}
	if out, err := cliRun(t, s, "gateway", "list"); err != nil || strings.Contains(out, id) || strings.Contains(out, openID) {
		t.Errorf("gateway list after deleting: %v\n%s", err, out)
	}
}

// Fuzz --server's rewrite of a user's OpenAPI file: any input is an error
// or a document whose only servers entry is the given URL; never a panic.
func FuzzWithServer(f *testing.F) {
	doc, err := os.ReadFile(driveOpenAPIExample)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(doc))
	f.Add(notesOpenAPI("https://notes.example.com"))
	f.Add(`{"openapi":"3.0.3","info":{"title":"x","version":"1"},"paths":{"/a":{"servers":[{"url":"http://x"}],"get":{"servers":[{"url":"http://y"}],"responses":{}}}}}`)
	f.Add("openapi: 3.0.3\npaths: {/a: {$ref: '#/x'}}")
	f.Fuzz(func(t *testing.T, in string) {
		out, err := withServer([]byte(in), "http://127.0.0.1:9/api")
		if err != nil {
			return
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		if s, _ := json.Marshal(d["servers"]); string(s) != `[{"url":"http://127.0.0.1:9/api"}]` {
			t.Fatalf("servers %s", s)
		}
		paths, _ := d["paths"].(map[string]any)
		for p, item := range paths {
			if it, ok := item.(map[string]any); ok {
				if _, ok := it["servers"]; ok {
					t.Fatalf("path %s kept its servers", p)
				}
				if get, ok := it["get"].(map[string]any); ok && get["servers"] != nil {
					t.Fatalf("GET %s kept its servers", p)
				}
			}
		}
	})
}
