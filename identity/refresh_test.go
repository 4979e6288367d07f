package identity

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// syncLog is a log destination safe for concurrent writes.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// storedAtCall is Metrics that, when told of a refresh call, reads what the
// store holds for a grant at that moment.
type storedAtCall struct {
	noMetrics
	h       *harness
	grantID string
	mu      sync.Mutex
	seen    []*behalf.Grant // the grant as stored when each refresh was reported
	ops     [][]string      // the store's writes so far, at each report
}

func (m *storedAtCall) ProviderCall(_ context.Context, _, call string, _, _ time.Time, _ error) {
	if call != CallRefresh {
		return
	}
	g, err := m.h.db.GetGrantByID(context.Background(), m.grantID)
	if err != nil {
		m.h.t.Errorf("read the grant when the refresh was reported: %v", err)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seen = append(m.seen, g)
	m.ops = append(m.ops, m.h.store.ops())
}

// refreshTokenOf opens the refresh token g holds.
func (h *harness) refreshTokenOf(g *behalf.Grant) string {
	h.t.Helper()
	ts, err := openTokenSet(context.Background(), h.cfg.Sealer, behalf.GrantSeal(g.Workload, g.UserKey, g.ProviderID), g.Token)
	if err != nil {
		h.t.Fatal(err)
	}
	return ts.RefreshToken.Reveal()
}

// Ensure a refresh stores the provider's answer before anything else is
// done with it: when the provider call is reported to metrics, the store
// already holds the rotated refresh token with the lease released, in one
// write (CompleteGrantRefresh), and the audit event comes after it.
func TestRefreshStoresAnswerFirst(t *testing.T) {
	h := newHarness(t)
	fp := fakeprovider.New(t, fakeprovider.Options{RotateRefreshTokens: true})
	p := h.addProvider("drive", fp.Metadata())
	ts := h.fakeGrant(fp, p)
	g := h.addGrant("grant-alice", alice, p, ts)
	m := &storedAtCall{h: h, grantID: g.ID}
	h.rebuild(func(c *Config) { c.Metrics = m })

	h.clock.Advance(2 * time.Hour) // expired: the fetch refreshes
	before := len(h.store.ops())
	res := h.fetch(alice, p)
	if res.AccessToken.IsZero() || res.AccessToken == ts.AccessToken {
		t.Fatalf("fetch after expiry = %+v, want a refreshed token", res)
	}
	final, err := h.db.GetGrantByID(context.Background(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	rotated := h.refreshTokenOf(final)
	if rotated == ts.RefreshToken.Reveal() {
		t.Fatal("the provider did not rotate the refresh token")
	}
	if len(m.seen) != 1 {
		t.Fatalf("%d refresh calls reported, want 1", len(m.seen))
	}
	at := m.seen[0]
	if got := h.refreshTokenOf(at); got != rotated || !at.RefreshLease.IsZero() || at.RefreshedAt.IsZero() {
		t.Errorf("when the call was reported the store held the old token (%v) or the lease (%v), refreshed at %v: the answer was not stored first",
			got != rotated, at.RefreshLease, at.RefreshedAt)
	}
	ops := m.ops[0][before:]
	if !slices.Equal(ops, []string{"ClaimGrantRefresh", "CompleteGrantRefresh"}) {
		t.Errorf("writes before the call was reported: %v, want the claim and then the one write of the answer", ops)
	}
	all := h.store.ops()[before:]
	if i := slices.Index(all, "AppendAudit"); i < slices.Index(all, "CompleteGrantRefresh") {
		t.Errorf("writes %v: the audit event came before the answer was stored", all)
	}
}

// interruptedGrant vaults a grant for user at a provider that rotates
// refresh tokens and leaves it as a refresher that died mid-refresh does:
// the lease claimed and never released, and the provider's answer (a new
// refresh token) lost. The clock then moves past the lease and the access
// token's expiry.
func (h *harness) interruptedGrant(fp *fakeprovider.Server, p *behalf.OAuth2Provider, id string, user behalf.User) *behalf.Grant {
	h.t.Helper()
	ctx := context.Background()
	ts := h.fakeGrant(fp, p)
	g := h.addGrant(id, user, p, ts)
	now := h.clock.Now()
	if claimed, err := h.db.ClaimGrantRefresh(ctx, g.ID, now, now.Add(RefreshLease)); err != nil || !claimed {
		h.t.Fatalf("claim: %v %v", claimed, err)
	}
	c, err := h.dp.Vault().clients.client(ctx, p)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := c.Refresh(ctx, ts.RefreshToken, ts.Scopes); err != nil { // answered, then lost
		h.t.Fatal(err)
	}
	return g
}

// details returns the events' details.
func details(es []*behalf.AuditEvent) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Detail)
	}
	return out
}

const interruptedWarning = "refresh token refused after an interrupted refresh (lease expired unfinished); the provider may have rotated it"

// Ensure a refresh the provider refuses with invalid_grant after an
// earlier refresh's lease ran out unfinished is logged at WARN, saying so,
// with the grant and provider and no secret, and audited with that
// reason; the user is sent back to consent. A refusal with no interrupted
// refresh before it is audited as plain invalid_grant and logs no such
// warning.
func TestRefreshRefusedAfterInterruptedRefresh(t *testing.T) {
	h := newHarness(t)
	logs := &syncLog{}
	h.rebuild(func(c *Config) { c.Log = slog.New(slog.NewTextHandler(logs, nil)) })
	fp := fakeprovider.New(t, fakeprovider.Options{RotateRefreshTokens: true})
	p := h.addProvider("drive", fp.Metadata())
	g := h.interruptedGrant(fp, p, "grant-alice", alice)
	lease := h.clock.Now().Add(RefreshLease)
	h.clock.Advance(2 * time.Hour)

	res := h.fetch(alice, p)
	if !res.AccessToken.IsZero() || res.AuthorizationURL == "" {
		t.Fatalf("fetch after the provider refused the refresh token = %+v, want a consent", res)
	}
	var warn string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, interruptedWarning) {
			warn = line
		}
	}
	if !strings.Contains(warn, "level=WARN") || !strings.Contains(warn, "grant="+g.ID) || !strings.Contains(warn, "provider=drive") ||
		!strings.Contains(warn, "leaseExpired="+lease.Format(time.RFC3339)) {
		t.Errorf("want a WARN line naming the grant, provider and lease:\n%s", logs)
	}
	if strings.Contains(logs.String(), "1//") || strings.Contains(logs.String(), "ya29.") {
		t.Errorf("the log holds a token:\n%s", logs)
	}
	es := h.events(behalf.AuditRefreshFailed)
	want := "invalid_grant after an interrupted refresh: a refresh lease expired unfinished at " + lease.Format(time.RFC3339) +
		"; the provider may have rotated the refresh token"
	if len(es) != 1 || es[0].Detail != want || es[0].ProviderID != p.ID {
		t.Fatalf("audit events %v, want one with detail %q", details(es), want)
	}

	// Refused with no interrupted refresh before: plain invalid_grant.
	fp2 := fakeprovider.New(t, fakeprovider.Options{RotateRefreshTokens: true})
	p2 := h.addProvider("drive-2", fp2.Metadata())
	h.addGrant("grant-bob", bob, p2, h.fakeGrant(fp2, p2))
	h.clock.Advance(2 * time.Hour)
	fp2.FailRefreshWith(400, "invalid_grant")
	if res := h.fetch(bob, p2); !res.AccessToken.IsZero() {
		t.Fatalf("fetch = %+v, want a consent", res)
	}
	es = h.events(behalf.AuditRefreshFailed)
	if len(es) != 2 || es[0].Detail != "invalid_grant" {
		t.Fatalf("audit events %v, want the newest with detail invalid_grant", details(es))
	}
	if n := strings.Count(logs.String(), interruptedWarning); n != 1 {
		t.Errorf("%d interrupted-refresh warnings, want 1 (the refusal without an interruption logs none):\n%s", n, logs)
	}
}

// Ensure that at a provider with a reuse grace window, a refresh after an
// interrupted one (the answer lost, the lease run out) loses nothing: the
// replaced refresh token still works inside the window, the grant is
// refreshed with the successor, and the interruption is cleared.
func TestRefreshAfterInterruptedRefreshInGraceWindow(t *testing.T) {
	h := newHarness(t)
	logs := &syncLog{}
	h.rebuild(func(c *Config) { c.Log = slog.New(slog.NewTextHandler(logs, nil)) })
	fp := fakeprovider.New(t, fakeprovider.Options{RotateRefreshTokens: true, RotationGrace: time.Hour})
	p := h.addProvider("drive", fp.Metadata())
	g := h.interruptedGrant(fp, p, "grant-alice", alice)
	h.clock.Advance(2 * time.Hour)

	if res := h.fetch(alice, p); res.AccessToken.IsZero() {
		t.Fatalf("fetch after an interrupted refresh inside the grace window = %+v, want a token", res)
	}
	if n := fp.GraceRefreshes(); n != 1 {
		t.Fatalf("the provider answered %d refreshes inside the grace window, want 1", n)
	}
	got, err := h.db.GetGrantByID(context.Background(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.InterruptedLease.IsZero() || !got.RefreshLease.IsZero() {
		t.Errorf("after the refresh: InterruptedLease %v, RefreshLease %v; want both zero", got.InterruptedLease, got.RefreshLease)
	}
	// The stored token is the current one: it refreshes once the window
	// is closed by the next rotation.
	h.clock.Advance(2 * time.Hour)
	if res := h.fetch(alice, p); res.AccessToken.IsZero() {
		t.Fatalf("the next refresh = %+v", res)
	}
	if strings.Contains(logs.String(), "level=WARN") || strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("logged:\n%s", logs)
	}
}
