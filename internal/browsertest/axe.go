package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// AxePath is where axe-core's browser script is installed, relative to the
// module root: clients/js pins axe-core in its package.json, and CI (and
// a developer) installs it with `npm ci` there.
const AxePath = "clients/js/node_modules/axe-core/axe.min.js"

// RequireAxeEnv, when set (CI sets it), turns a missing axe-core into a
// test failure instead of a skip.
const RequireAxeEnv = "BEHALF_REQUIRE_AXE"

// AxeWidths are the viewport widths CheckAccessible checks a page at: a
// desktop and a 360 px phone.
var AxeWidths = []int64{1280, 360}

// Violation is one axe-core rule a page breaks.
type Violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	// Targets are the CSS selectors of the elements that break the rule.
	Targets []string `json:"targets"`
	// Summary is axe's "Fix any of the following" text of the first element.
	Summary string `json:"summary"`
}

// String is the violation as a test failure lists it.
func (v Violation) String() string {
	return fmt.Sprintf("%s (%s): %s\n      at %s\n      %s\n      %s", v.ID, v.Impact, v.Help,
		strings.Join(v.Targets, ", "), strings.ReplaceAll(v.Summary, "\n", "; "), v.HelpURL)
}

// ErrNoAxe is Axe's error when axe-core is not installed.
var ErrNoAxe = errors.New("axe-core is not installed: run `npm ci` in clients/js (" + AxePath + ")")

// axeScript reads axe.min.js once, from the module root above the working
// directory (a test's is its package's directory).
var axeScript = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			b, err := os.ReadFile(filepath.Join(dir, AxePath))
			if errors.Is(err, os.ErrNotExist) {
				return "", ErrNoAxe
			}
			return string(b), err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoAxe
		}
		dir = parent
	}
})

// RequireAxe skips the test, with how to install it, when axe-core is not
// installed (or fails it when $BEHALF_REQUIRE_AXE is set, as in CI).
func RequireAxe(t testing.TB) {
	t.Helper()
	if _, err := axeScript(); errors.Is(err, ErrNoAxe) {
		if os.Getenv(RequireAxeEnv) != "" {
			t.Fatalf("%v; $%s is set, so the accessibility check may not be skipped", err, RequireAxeEnv)
		}
		t.Skipf("skipping the accessibility check: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
}

// axeRun runs axe-core's default rules (WCAG 2.x A and AA and best
// practices) on the document and returns its violations, flattened.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
	targets: v.nodes.map(n => n.target.map(String).join(" ")),
	summary: v.nodes.length ? (v.nodes[0].failureSummary || "") : ""})))`

// Axe injects axe-core into the page of ctx (unless it is there already)
// and returns the accessibility violations axe.run finds in it.
func Axe(ctx context.Context) ([]Violation, error) {
	script, err := axeScript()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
	if err != nil {
		return nil, err
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](script)); err != nil {
			return nil, fmt.Errorf("inject axe-core: %w", err)
		}
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("axe.run: %w", err)
	}
	return vs, nil
}

// CheckAccessible runs Axe on the page the browser shows, at each of
// AxeWidths, and fails the test listing every violation; name says which
// page it is. It does not reload the page (which may be a POST's answer):
// it resizes the viewport, then puts it back as it was. Without
// axe-core it only logs that the check was skipped (a test that is only
// this check calls RequireAxe first), or fails when $BEHALF_REQUIRE_AXE
// is set.
func CheckAccessible(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	if _, err := axeScript(); errors.Is(err, ErrNoAxe) {
		if os.Getenv(RequireAxeEnv) != "" {
			t.Fatalf("%s: %v; $%s is set, so the accessibility check may not be skipped", name, err, RequireAxeEnv)
		}
		t.Logf("%s: accessibility check skipped: %v", name, err)
		return
	}
	type size struct{ W, H int64 }
	before, err := run(ctx, chromedp.Evaluate[size](`({W: window.innerWidth, H: window.innerHeight})`))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer Do(t, ctx, chromedp.EmulateViewport(before.W, before.H))
	failed := false
	for _, w := range AxeWidths {
		Do(t, ctx, chromedp.EmulateViewport(w, 900))
		vs, err := Axe(ctx)
		if err != nil {
			t.Fatalf("%s at %d px: %v", name, w, err)
		}
		if len(vs) == 0 {
			continue
		}
		var b strings.Builder
		for _, v := range vs {
			b.WriteString("\n  - " + v.String())
		}
		t.Errorf("%s at %d px: %d accessibility violations (axe-core):%s", name, w, len(vs), b.String())
		failed = true
	}
	if !failed {
		title, _ := run(ctx, chromedp.Title())
		t.Logf("%s (%q): no accessibility violations at %v px", name, title, AxeWidths)
	}
}
