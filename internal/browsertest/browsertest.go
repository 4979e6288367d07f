// Package browsertest starts Debian's headless Chromium for browser tests
// (chromedp) and runs steps with deadlines.
package browsertest

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// StepTimeout bounds each Do and Text call.
const StepTimeout = 30 * time.Second

// New starts headless Chromium with a fresh profile, the flags this
// machine's closed network needs and any extra ones (e.g.
// chromedp.Flag("host-resolver-rules", …)); it skips the test when
// Chromium is not installed.
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Skipf("skipping the browser test: %s is not installed (%v); install Debian's chromium to run it", ChromiumPath, err)
	}
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}, extra...)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", ChromiumPath, err)
	}
	return ctx
}

// Do runs browser steps, failing the test on error or after StepTimeout.
func Do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// Text returns the trimmed text of the element sel.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(s)
}

// WaitText waits until the element sel has the text want (trimmed).
func WaitText(t testing.TB, ctx context.Context, sel, want string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(StepTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		tctx, cancel := context.WithTimeout(ctx, time.Second)
		s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil && strings.TrimSpace(s) == want {
			return
		}
		last = s
	}
	t.Fatalf("%s has the text %q, want %q", sel, last, want)
}

// WaitURL waits until the page's URL starts with prefix and returns it.
func WaitURL(t testing.TB, ctx context.Context, prefix string) *url.URL {
	t.Helper()
	var last string
	for deadline := time.Now().Add(StepTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && strings.HasPrefix(loc, prefix) {
			u, err := url.Parse(loc)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		last = loc
	}
	t.Fatalf("the browser is at %q, want %s…", last, prefix)
	return nil
}

// FillLogin types credentials into a login form (#username, #password)
// and submits it.
func FillLogin(user, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
	)
}
