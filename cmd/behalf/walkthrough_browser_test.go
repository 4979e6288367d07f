//go:build unix

package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/chromedp/chromedp"

	"github.com/behalf-dev/behalf/agent/driveagent"
	"github.com/behalf-dev/behalf/sandbox"
)

// walkText returns the text of the element sel.
func walkText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// walkAt waits until the browser's URL starts with prefix and returns it.
func walkAt(t *testing.T, ctx context.Context, prefix string) string {
	t.Helper()
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		loc, err := chromedp.Run(tctx, chromedp.Location())
		cancel()
		if err == nil && strings.HasPrefix(loc, prefix) {
			return loc
		}
		last = loc
	}
	t.Fatalf("the browser is at %q, want %s…", last, prefix)
	return ""
}

// walkScreenshot takes the page's screenshot (see screenshot).
func walkScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	screenshot(t, ctx, name)
}

// The walkthrough end to end through the runtime: bearer token from the
// user pool, the drive agent, the callback server, consent in headless
// Chromium.
//
// The demo's steps set up Behalf, the pool and alice, the sandbox, the
// provider and the callback server; the drive agent is the real
// examples/drive-agent binary, supervised by `behalf runtime create
// drive_agent … -- drive-agent` (so it reaches Behalf with a key scoped to
// the runtime's workload, from its environment). The first invocation
// answers auth_required; Chromium opens the authorization URL, lands on
// the sandbox's consent page, clicks Allow and ends on the callback
// server's "Authorization complete" page; the second invocation lists
// alice's files.
func TestWalkthroughBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping the browser walkthrough: %s is not installed (%v); install Debian's chromium to run it", chromiumPath, err)
	}
	browser := newChromium(t)
	chromeDo(t, browser, chromedp.EmulateViewport(960, 640))
	isolateAWSEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	out := &syncBuffer{}
	d := &demo{opts: demoOptions{seedFiles: sandbox.DefaultSeedFiles}, out: out, errOut: out, start: time.Now()}
	t.Cleanup(d.close)
	step := func(steps ...func(context.Context) error) {
		t.Helper()
		for _, s := range steps {
			if err := s(ctx); err != nil {
				t.Fatalf("%v\noutput:\n%s\nBehalf's log:\n%s", d.fail(err), out, d.behalfLogTail(40))
			}
		}
	}
	step(d.startBehalf, d.createPoolAndUser, d.signIn, d.startSandbox, d.createProvider, d.startCallbackServer)

	// The drive agent, run by the CLI as the runtime's supervised agent.
	agentBin := goBuild(t, "../../examples/drive-agent")
	t.Setenv("DRIVE_ENDPOINT", d.google.DriveEndpoint())
	discovery := d.behalfURL + "/" + d.poolID + "/.well-known/openid-configuration"
	sv := startSupervise(t, &testServer{URL: d.behalfURL, DataDir: d.dataDir}, "drive_agent",
		"--discovery-url", discovery, "--allowed-client", d.appClientID, "--callback-url", d.callbackURL,
		"--description", "The Google Drive walkthrough agent", "--", agentBin)
	sv.waitFor(t, sv.errOut, `behalf: \[drive_agent\] ready: pid \d+ answers GET http://127\.0\.0\.1:\d+/ping`)
	rt, err := d.control.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String("drive_agent")})
	if err != nil {
		t.Fatal(err)
	}
	d.runtimeARN, d.runtimeID, d.workload = aws.ToString(rt.AgentRuntimeArn), aws.ToString(rt.AgentRuntimeId), workloadFromDetails(rt.WorkloadIdentityDetails)
	d.printStep("Run the drive agent as the runtime's supervised agent (behalf runtime create … -- drive-agent)")
	d.say("$ DRIVE_ENDPOINT=%s behalf runtime create drive_agent --discovery-url %s --allowed-client %s --callback-url %s -- drive-agent",
		d.google.DriveEndpoint(), discovery, d.appClientID, d.callbackURL)
	for _, line := range strings.Split(strings.TrimSpace(sv.out.String()+sv.errOut.String()), "\n") {
		d.say("%s", line)
	}
	step(d.allowReturnURL, d.firstInvoke)

	// Consent in Chromium: Behalf → the sandbox's consent page → Allow →
	// Behalf's callback → the app's callback server.
	d.printStep("Consent at \"Google\" in headless Chromium")
	chromeDo(t, browser, chromedp.Navigate(d.authURL))
	consentURL := walkAt(t, browser, d.google.URL+"/")
	chromeDo(t, browser, chromedp.WaitVisible(chromedp.CSS("main[data-sandbox-consent]")))
	heading := walkText(t, browser, "h1")
	scope := walkText(t, browser, "li[data-scope]")
	if heading != "Drive Agent (Behalf demo) wants to access your Google Account" || !strings.Contains(scope, driveagent.Scope) {
		t.Fatalf("consent page at %s: heading %q, scope %q", consentURL, heading, scope)
	}
	d.say("The browser is at %s: %q, scope %s", strings.SplitN(consentURL, "?", 2)[0], heading, driveagent.Scope)
	walkScreenshot(t, browser, "walkthrough-consent.png")
	chromeDo(t, browser, chromedp.Click(chromedp.CSS(`button[value="allow"]`)))
	done := walkAt(t, browser, d.callbackURL+"?")
	chromeDo(t, browser, chromedp.WaitVisible(chromedp.CSS("h1")))
	if h, p := walkText(t, browser, "h1"), walkText(t, browser, "p"); h != "Authorization complete" || p != "Authorization complete — you can return to the agent." {
		t.Fatalf("the callback page at %s: %q, %q", done, h, p)
	}
	d.say("Allow → the browser lands on %s: \"Authorization complete\"", strings.SplitN(done, "?", 2)[0])
	walkScreenshot(t, browser, "walkthrough-done.png")

	step(func(ctx context.Context) error { return d.printBinding(ctx, 10*time.Second) }, d.secondInvoke)
	got := out.String()
	t.Logf("walkthrough:\n%s", got)
	list := got[strings.Index(got, "NAME "):]
	for _, f := range sandbox.SeedFiles(sandbox.DefaultUser, sandbox.DefaultSeedFiles) {
		if !regexp.MustCompile(regexp.QuoteMeta(f.Name) + ` +` + regexp.QuoteMeta(f.MimeType) + ` +` + regexp.QuoteMeta(f.ID)).MatchString(list) {
			t.Errorf("file list lacks %+v", f)
		}
	}

	// The supervisor stops cleanly and deletes the agent's key.
	if err := sv.stop(t); err != nil {
		t.Fatalf("the supervisor ended with %v\n%s", err, sv.errOut)
	}
	if !strings.Contains(sv.errOut.String(), "behalf: deleted the agent's access key ") {
		t.Errorf("supervisor's stderr:\n%s", sv.errOut)
	}
}
