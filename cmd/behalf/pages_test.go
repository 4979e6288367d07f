package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/chromedp/chromedp"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/browsertest"
)

// Ensure `behalf serve --operator-name --operator-logo-url` puts the frame
// on every page a user of an agent runtime meets (the hosted login, the
// binding page, /connections, signing out, the landing page, an error
// page), that each fits a desktop and a 360 px phone, and that the pages
// name the runtime's agent by the runtime's name and the person by their
// name, never by the runtime's id, the app client's name or the subject
// (issue 15). A bad logo URL stops the server at start.
func TestPagesFrameAndNames(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping: %s is not installed (%v)", chromiumPath, err)
	}
	if err := NewMain(io.Discard).ParseFlags([]string{"--operator-name", "Example Labs", "--operator-logo-url", "http://cdn.example.com/logo.png"}); err == nil ||
		!strings.Contains(err.Error(), "--operator-logo-url") || !strings.Contains(err.Error(), "must be https") {
		t.Fatalf("serve with an http logo URL: %v, want a startup error", err)
	}
	logo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		io.WriteString(w, browsertest.LogoSVG)
	}))
	t.Cleanup(logo.Close)
	const operator = "Example Labs"
	e := newBindEnv(t, "--operator-name", operator, "--operator-logo-url", logo.URL+"/logo.svg")
	ctx := context.Background()

	// An agent runtime "drive_agent" whose users bind on Behalf's page.
	c := e.s.client(t)
	rt, err := c.CreateAgentRuntime(ctx, &ctl.CreateAgentRuntimeInput{
		AgentRuntimeName: aws.String("drive_agent"), AgentRuntimeArtifact: containerArtifact("http://127.0.0.1:9/agent"),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/agent"), NetworkConfiguration: &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic},
	})
	if err != nil {
		t.Fatal(err)
	}
	workload, runtimeID := workloadName(t, rt.WorkloadIdentityDetails), aws.ToString(rt.AgentRuntimeId)
	if _, err := c.UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{Name: aws.String(workload), AllowedResourceOauth2ReturnUrls: []string{e.bindURL}}); err != nil {
		t.Fatal(err)
	}
	if out, err := cliRun(t, e.s, "workload", "set-binding", workload, "--issuer", e.issuer, "--client-id", e.pageID); err != nil {
		t.Fatalf("workload set-binding: %v\n%s", err, out)
	}
	tok := mustTokens(t)(e.pool.signIn(ctx, e.cog, "alice", bindPassword))
	wat, err := e.dp.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String(workload), UserToken: tok.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	authURL, _ := e.start(aws.ToString(wat.WorkloadAccessToken), false)

	browser := newChromium(t)
	tb := tab(t, browser)
	noInternalIDs := func(page string) {
		t.Helper()
		body := chromeText(t, tb, "body")
		for _, id := range []string{runtimeID, workload, e.subjects["alice"], "drive agent"} {
			if strings.Contains(body, id) {
				t.Errorf("%s shows %q:\n%s", page, id, body)
			}
		}
	}
	// The hosted login: Behalf's own sign-in, named after the operator,
	// not the pages' app client ("drive agent").
	chromeDo(t, tb, chromedp.Navigate(authURL))
	chromeWaitURL(t, tb, e.issuer+"/login?")
	chromeDo(t, tb, chromedp.WaitVisible(chromedp.CSS("#password")))
	if got := chromeText(t, tb, "main p"); got != "to continue to "+operator {
		t.Errorf("the hosted login says %q, want it to continue to %s", got, operator)
	}
	noInternalIDs("the hosted login")
	browsertest.CheckLayout(t, tb, operator, "hosted-login-own")

	// The binding page names the runtime.
	chromeDo(t, tb, chromeFillLogin("alice", bindPassword))
	chromeWaitURL(t, tb, e.bindURL+"?")
	chromeWaitText(t, tb, "h1", "google-drive-provider is connected")
	if got := chromeText(t, tb, "dl dd"); got != "drive_agent" {
		t.Errorf("the done page's agent is %q, want the runtime's name", got)
	}
	noInternalIDs("the done page")
	browsertest.CheckLayout(t, tb, operator, "bind-done")

	// The frame's link: the connections page, naming the runtime and alice.
	chromeDo(t, tb, chromedp.Click(chromedp.CSS(".frame-nav a")))
	chromeWaitText(t, tb, "h1", "Your connections")
	if got := chromeText(t, tb, "tbody th"); got != "drive_agent" {
		t.Errorf("the connections page's agent is %q, want the runtime's name", got)
	}
	if got := chromeText(t, tb, ".who"); got != "Signed in as alice" {
		t.Errorf("the connections page says %q", got)
	}
	noInternalIDs("the connections page")
	browsertest.CheckLayout(t, tb, operator, "connections-list")

	// Signing out: POST → redirect → GET.
	chromeDo(t, tb, chromedp.Click(chromedp.CSS(`form[action="`+behalf.ConnectionsSignOutPath+`"] button`)))
	chromeWaitURL(t, tb, e.s.URL+behalf.ConnectionsSignOutPath+"?issuer=")
	chromeWaitText(t, tb, "h1", "Signed out")
	browsertest.CheckLayout(t, tb, operator, "")

	// The landing page and an error page.
	chromeDo(t, tb, chromedp.Navigate(e.s.URL+"/"))
	chromeWaitText(t, tb, "h1", "Behalf")
	browsertest.CheckLayout(t, tb, operator, "landing")
	chromeDo(t, tb, chromedp.Navigate(e.s.URL+"/identities/oauth2/authorize"))
	chromeWaitText(t, tb, "h1", "This sign-in link cannot be used")
	browsertest.CheckLayout(t, tb, operator, "")
}
