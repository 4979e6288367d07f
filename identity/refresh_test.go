package identity

import (
	"bytes"
	"context"
	"slices"
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
	ts, err := h.dp.openTokenSet(context.Background(), behalf.GrantSeal(g.Workload, g.UserKey, g.ProviderID), g.Token)
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
	h.dp.Metrics = m

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
