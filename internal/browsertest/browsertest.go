// Package browsertest starts Debian's headless Chromium for browser tests
// (chromedp) and runs steps with deadlines.
package browsertest

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
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

// LayoutWidths are the viewport widths CheckLayout loads a page at: a
// desktop's and a small phone's.
var LayoutWidths = []int64{1280, 360}

// CheckLayout checks the page the browser shows at each of LayoutWidths:
// it carries Behalf's frame (internal/pageframe) naming operator (as its
// text, or its logo's alt text), and it fits the viewport's width without
// horizontal scrolling. The viewport is then put back as it was. With
// $BEHALF_SCREENSHOT_DIR set, the phone-sized page is saved there as
// shot-phone.png (shot "" saves nothing; tests otherwise write nothing).
func CheckLayout(t testing.TB, ctx context.Context, operator, shot string) {
	t.Helper()
	type size struct{ W, H int64 }
	before, err := run[size](ctx, chromedp.Evaluate[size](`({W: window.innerWidth, H: window.innerHeight})`))
	if err != nil {
		t.Fatal(err)
	}
	defer Do(t, ctx, chromedp.EmulateViewport(before.W, before.H))
	for _, w := range LayoutWidths {
		Do(t, ctx, chromedp.EmulateViewport(w, 800))
		type layout struct {
			URL                      string
			ScrollWidth, InnerWidth  int64
			Frame, Operator, LogoAlt string
			Connections, Widest      string
		}
		l, err := run[layout](ctx, chromedp.Evaluate[layout](`(() => {
			const q = s => document.querySelector(s);
			let widest = "";
			for (const el of document.body.querySelectorAll("*")) {
				if (el.getBoundingClientRect().right > window.innerWidth + 0.5) { widest = el.tagName + "." + el.className + ": " + el.textContent.slice(0, 60); break; }
			}
			return {URL: location.href, ScrollWidth: document.documentElement.scrollWidth, InnerWidth: window.innerWidth,
				Frame: q("header.frame") ? q("header.frame").textContent : "", Operator: q(".frame-operator") ? q(".frame-operator").textContent : "",
				LogoAlt: q("header.frame img") ? q("header.frame img").alt : "",
				Connections: q(".frame-nav a") ? q(".frame-nav a").getAttribute("href") : "", Widest: widest};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if l.Frame == "" || l.Operator != operator || !strings.HasSuffix(l.Connections, "/connections") ||
			(l.LogoAlt != "" && l.LogoAlt != operator) || !strings.Contains(l.Frame, "Behalf") {
			t.Errorf("%s at %d px: the frame is %+v, want one naming %q and Behalf, linking to /connections", l.URL, w, l, operator)
		}
		if l.ScrollWidth > l.InnerWidth {
			t.Errorf("%s at %d px: the page is %d px wide, it scrolls sideways (first element past the edge: %s)", l.URL, w, l.ScrollWidth, l.Widest)
		}
	}
	if dir := os.Getenv("BEHALF_SCREENSHOT_DIR"); dir != "" && shot != "" {
		png, err := run[[]byte](ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, shot+"-phone.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func run[T any](ctx context.Context, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// LogoSVG is a small logo for browser tests' operators.
const LogoSVG = `<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">` +
	`<rect width="32" height="32" rx="7" fill="#1a3d8f"/><path d="M10 24V8h7a4 4 0 0 1 0 8h-7m7 0a4 4 0 0 1 0 8h-7" fill="none" stroke="#fff" stroke-width="2.5"/></svg>`
