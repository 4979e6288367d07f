package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/chromedp/chromedp"

	"github.com/behalf-dev/behalf/sandbox"
)

// Ensure the official TypeScript MCP SDK (@modelcontextprotocol/sdk,
// unmodified, with its OAuthClientProvider) runs the whole flow against a
// running gateway knowing only its URL (clients/js/mcp.test.js): the 401's
// resource_metadata, the pool's metadata, dynamic registration, sign-in
// at the hosted login in headless Chromium with PKCE and the gateway as
// resource, tools/list, tools/call, a -32042 URL elicitation, consent at
// the sandbox provider, and the retried call returning alice's files for
// alice and bob's for bob, each with his own client and consent. The
// gateway admits the registered clients by audience: its own URL.
func TestJSClientsMCP(t *testing.T) {
	dir := jsClientsDir(t)
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping: %s is not installed (%v); install Debian's chromium to run it", chromiumPath, err)
	}
	f := newGatewayFixture(t)
	ctx := context.Background()
	issuer := f.s.URL + "/" + f.pool.poolID
	if _, err := f.c.UpdateGateway(ctx, &ctl.UpdateGatewayInput{GatewayIdentifier: aws.String(f.gatewayID), Name: aws.String("tools"),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/gw"), ProtocolType: types.GatewayProtocolTypeMcp, AuthorizerType: types.AuthorizerTypeCustomJwt,
		AuthorizerConfiguration: &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: types.CustomJWTAuthorizerConfiguration{
			DiscoveryUrl: aws.String(issuer + "/.well-known/openid-configuration"), AllowedAudience: []string{f.url}}},
	}); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, u := range []string{"alice", "bob"} {
		files[u] = sandbox.SeedFiles(u+"@example.com", 1)[0].ID
	}
	seed, _ := json.Marshal(files)

	nctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(nctx, "node", "mcp.test.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GATEWAY_URL="+f.url, "USERS=alice,bob", "SEED_FILES="+string(seed))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("node mcp.test.js:\n%s", out.String())
		}
	}()
	signedIn, consented := map[string]bool{}, map[string]bool{}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		line := lines.Text()
		io.WriteString(&out, line+"\n")
		verb, rest, ok := strings.Cut(strings.TrimPrefix(line, "BEHALF> "), " ")
		if !ok || !strings.HasPrefix(line, "BEHALF> ") {
			continue
		}
		user, link, _ := strings.Cut(rest, " ")
		switch verb {
		case "authorize":
			// The URL the SDK built by itself: the pool's endpoint, PKCE,
			// the gateway as resource (RFC 8707), a loopback redirect URI.
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if !strings.HasPrefix(link, issuer+"/oauth2/authorize?") || q.Get("resource") != f.url ||
				q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") {
				t.Fatalf("authorization URL %s: want the pool's, with S256 and resource %s", link, f.url)
			}
			browser := newChromium(t) // a fresh profile: no other user's session
			chromeDo(t, browser, chromedp.Navigate(link))
			chromeWaitURL(t, browser, issuer+"/login?")
			if page := chromeText(t, browser, "main"); !strings.Contains(page, "TypeScript MCP client") {
				t.Errorf("the login page does not name the registered client:\n%s", page)
			}
			chromeDo(t, browser, chromeFillLogin(user, "Corr3ct-Horse!"))
			chromeWaitURL(t, browser, q.Get("redirect_uri")+"?")
			signedIn[user] = true
		case "consent":
			f.consent(t, link, user, user+"@example.com")
			consented[user] = true
			if _, err := io.WriteString(stdin, "consented\n"); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("node asked %q", line)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node mcp.test.js: %v\n%s", err, out.String())
	}
	for _, u := range []string{"alice", "bob"} {
		if !signedIn[u] || !consented[u] {
			t.Fatalf("%s: signed in %v, consented %v\n%s", u, signedIn[u], consented[u], out.String())
		}
	}
	t.Logf("node mcp.test.js:\n%s", out.String())
}
