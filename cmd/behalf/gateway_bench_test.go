package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/behalf-dev/behalf/sandbox"
)

// The MCP gateway's cost (issue 16): a tools/call of a no-op OpenAPI
// operation (an httptest server answering a small JSON body at once, the
// worst case for the ratio) through the gateway — bearer JWT from a user
// pool checked against the gateway's authorizer, the targets read, the
// gateway workload's WAT for the user (cached), the outbound credential,
// the operation called, its answer as the tool result — against the same
// GET sent straight to the operation, in the same run, alternating so that
// both see the same machine load. Client, Behalf, the operation and the
// sandbox provider share this process and its cores.
//
//	go test ./cmd/behalf/ -run '^$' -bench 'BenchmarkGatewayMCP' -benchtime 5000x
//
// Sub-benchmarks by the target's credential: vault-hit is an OAuth
// AUTHORIZATION_CODE credential for which alice has consented once, so
// every call takes her token from the token vault (unsealed);
// api-key is an API key credential. BenchmarkGatewayMCPLatency reports the
// p50 and p99 of each path (one caller, requests one after another) and
// added-p50-µs; BenchmarkGatewayMCPThroughput runs b.N requests each way
// with invokeBenchWorkers concurrent callers and reports the rates,
// tput-ratio = gateway / direct, and proxy-req/s, a bare
// httputil.ReverseProxy in front of the same operation (the cost of the
// second HTTP hop alone).

// newGatewayBench sets up a gateway with a no-op target whose credential
// is cred ("vault-hit" or "api-key") and returns the three paths.
func newGatewayBench(b *testing.B, cred string) *invokeBench {
	b.Helper()
	ctx := context.Background()
	p := newBenchPool(b)
	s := p.s
	noop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	b.Cleanup(noop.Close)
	target, _ := url.Parse(noop.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = benchTransport()
	proxy := httptest.NewServer(rp)
	b.Cleanup(proxy.Close)
	sessions := make(chan string, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions <- r.URL.Query().Get("session_id")
	}))
	b.Cleanup(app.Close)

	c := ctl.New(ctl.Options{BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, "")})
	g, err := c.CreateGateway(ctx, &ctl.CreateGatewayInput{
		Name: aws.String("bench"), RoleArn: aws.String("arn:aws:iam::123456789012:role/gw"), ProtocolType: types.GatewayProtocolTypeMcp,
		AuthorizerType: types.AuthorizerTypeCustomJwt, AuthorizerConfiguration: &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{
			Value: types.CustomJWTAuthorizerConfiguration{
				DiscoveryUrl:   aws.String(s.URL + "/" + p.f.poolID + "/.well-known/openid-configuration"),
				AllowedClients: []string{p.f.clientID},
			}},
	})
	if err != nil {
		b.Fatal(err)
	}
	gatewayID, gatewayURL := aws.ToString(g.GatewayId), aws.ToString(g.GatewayUrl)
	var creds []types.CredentialProviderConfiguration
	switch cred {
	case "api-key":
		key, err := c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("noop-key"), ApiKey: aws.String("k-123")})
		if err != nil {
			b.Fatal(err)
		}
		creds = apiKeyCredential(aws.ToString(key.CredentialProviderArn))
	case "vault-hit":
		sb, err := sandbox.Start("127.0.0.1:0", sandbox.Options{Open: true})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { sb.Close() })
		provider, err := c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
			Name: aws.String("drive"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
			Oauth2ProviderConfigInput: customDiscovery(sb.URL+sandbox.DiscoveryPath, ""),
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{Name: aws.String(gatewayID),
			AllowedResourceOauth2ReturnUrls: []string{app.URL + "/callback"}}); err != nil {
			b.Fatal(err)
		}
		creds = []types.CredentialProviderConfiguration{{
			CredentialProviderType: types.CredentialProviderTypeOauth,
			CredentialProvider: &types.CredentialProviderMemberOauthCredentialProvider{Value: types.OAuthCredentialProvider{
				ProviderArn: provider.CredentialProviderArn, Scopes: []string{sandbox.DriveScope + ".metadata.readonly"},
				GrantType: types.OAuthGrantTypeAuthorizationCode, DefaultReturnUrl: aws.String(app.URL + "/callback")}},
		}}
	default:
		b.Fatalf("credential %q", cred)
	}
	doc := `openapi: 3.0.3
info: {title: Noop, version: '1'}
servers: [{url: '` + noop.URL + `'}]
paths:
  /noop:
    get:
      operationId: ping
      parameters: [{name: q, in: query, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
`
	if _, err := c.CreateGatewayTarget(ctx, &ctl.CreateGatewayTargetInput{GatewayIdentifier: aws.String(gatewayID), Name: aws.String("noop"),
		TargetConfiguration: openAPITarget(doc), CredentialProviderConfigurations: creds}); err != nil {
		b.Fatal(err)
	}

	ib := &invokeBench{client: &http.Client{Transport: benchTransport()}}
	get := func(base string) func() error {
		return func() error {
			resp, err := ib.client.Get(base + "/noop?q=hello")
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			return err
		}
	}
	call := func() (string, error) { return mcpCall(ib.client, gatewayURL, p.access) }
	const ok = `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"{\"ok\":true}"}]}}`
	ib.direct, ib.proxy = get(noop.URL), get(proxy.URL)
	sdk := httptest.NewServer(bareMCPServer(noop.URL+"/noop", ib.client, true))
	b.Cleanup(sdk.Close)
	ib.sdk = func() error {
		body, err := mcpCall(ib.client, sdk.URL, "")
		if err == nil && !strings.Contains(body, `\"ok\":true`) {
			err = fmt.Errorf("the bare MCP server answered %s", body)
		}
		return err
	}
	ib.gateway = func() error {
		body, err := call()
		if err == nil && strings.TrimSpace(body) != ok {
			err = fmt.Errorf("tools/call answered %s", body)
		}
		return err
	}

	if cred == "vault-hit" {
		// Alice consents once: the elicitation's URL at the sandbox, the
		// app's return URL, CompleteResourceTokenAuth with her token.
		body, err := call()
		if err != nil {
			b.Fatal(err)
		}
		_, rest, found := strings.Cut(body, `"url":"`)
		link, _, _ := strings.Cut(rest, `"`)
		if !found || !strings.Contains(body, "-32042") {
			b.Fatalf("the first call answered %s, want a URL elicitation", body)
		}
		link = strings.ReplaceAll(link, `\u0026`, "&")
		if _, _, err := sandbox.Consent(ctx, nil, link, "alice@example.com", true); err != nil {
			b.Fatal(err)
		}
		var sid string
		select {
		case sid = <-sessions:
		case <-time.After(10 * time.Second):
			b.Fatal("the consent never reached the return URL")
		}
		if _, err := benchDataPlane(s, benchTransport()).CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{SessionUri: aws.String(sid),
			UserIdentifier: &dptypes.UserIdentifierMemberUserToken{Value: p.access}}); err != nil {
			b.Fatal(err)
		}
	}
	for range 50 { // warm connections, the pool's keys and the WAT cache
		for _, call := range []func() error{ib.direct, ib.gateway, ib.proxy} {
			if err := call(); err != nil {
				b.Fatal(err)
			}
		}
	}
	return ib
}

// mcpCall sends the benchmark's tools/call of noop___ping to url (with
// bearer token access unless "") and returns the answer's body.
func mcpCall(client *http.Client, url, access string) (string, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"noop___ping","arguments":{"q":"hello"}}}`))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return string(body), err
}

// bareMCPServer is the MCP gateway's floor: the official Go SDK's MCP
// server (stateless with JSON answers, as the gateway's, unless
// stateless is false), with one tool
// noop___ping that GETs target?q=… with client and answers its body: no
// authorization, no targets read, no credential.
func bareMCPServer(target string, client *http.Client, stateless bool) http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "bare", Version: "1"}, nil)
	s.AddTool(&mcp.Tool{Name: "noop___ping", InputSchema: json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}`)},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var in struct {
				Q string `json:"q"`
			}
			if err := json.Unmarshal(req.Params.Arguments, &in); err != nil {
				return nil, err
			}
			r, err := http.NewRequestWithContext(ctx, http.MethodGet, target+"?q="+url.QueryEscape(in.Q), nil)
			if err != nil {
				return nil, err
			}
			resp, err := client.Do(r)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return nil, err
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(body)}}}, nil
		})
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: stateless, JSONResponse: true})
}

var gatewayBenchCreds = []string{"vault-hit", "api-key"}

func BenchmarkGatewayMCPLatency(b *testing.B) {
	for _, cred := range gatewayBenchCreds {
		b.Run(cred, func(b *testing.B) {
			ib := newGatewayBench(b, cred)
			direct := make([]time.Duration, 0, b.N)
			gateway := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if err := ib.direct(); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := ib.gateway(); err != nil {
					b.Fatal(err)
				}
				direct, gateway = append(direct, t1.Sub(t0)), append(gateway, time.Since(t1))
			}
			b.StopTimer()
			dp50, gp50 := percentile(direct, 0.5), percentile(gateway, 0.5)
			b.ReportMetric(micros(dp50), "direct-p50-µs")
			b.ReportMetric(micros(gp50), "gw-p50-µs")
			b.ReportMetric(micros(percentile(direct, 0.99)), "direct-p99-µs")
			b.ReportMetric(micros(percentile(gateway, 0.99)), "gw-p99-µs")
			b.ReportMetric(micros(gp50-dp50), "added-p50-µs")
		})
	}
}

func BenchmarkGatewayMCPThroughput(b *testing.B) {
	for _, cred := range gatewayBenchCreds {
		b.Run(cred, func(b *testing.B) { invokeThroughput(b, newGatewayBench(b, cred)) })
	}
}
