package identity

import (
	"context"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// Ensure a session that expired holding a token is ended once: FAILED,
// its token revoked at the provider once and one session.expired event,
// however many sweeps (one per replica) and polls find it.
func TestExpireSessionsOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	fp := fakeprovider.New(t, fakeprovider.Options{})
	p := h.addProvider("drive", fp.Metadata())
	ts := h.fakeGrant(fp, p)
	now := h.clock.Now()
	s := &behalf.AuthSession{
		ID: "expired-session", Workload: testWorkload, User: alice, ProviderID: p.ID, ReturnURL: testReturnURL,
		StateHash: sha256Hex("state"), Status: behalf.SessionCallback, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime),
	}
	var err error
	if s.Pending, err = sealTokenSet(ctx, h.cfg.Sealer, behalf.SessionSeal(s.ID, "pending"), ts); err != nil {
		t.Fatal(err)
	}
	if err := h.db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if n, err := h.dp.Consent().ExpireSessions(ctx, 10); err != nil || n != 0 {
		t.Fatalf("ExpireSessions before expiry = %d, %v; want 0", n, err)
	}
	h.clock.Advance(SessionLifetime + time.Second)
	if n, err := h.dp.Consent().ExpireSessions(ctx, 10); err != nil || n != 1 {
		t.Fatalf("ExpireSessions = %d, %v; want 1", n, err)
	}
	// A second replica's sweep listed it before the first ended it.
	h.dp.Consent().expireSession(ctx, s)
	if n, err := h.dp.Consent().ExpireSessions(ctx, 10); err != nil || n != 0 {
		t.Fatalf("ExpireSessions again = %d, %v; want 0", n, err)
	}
	got, err := h.db.GetSession(ctx, s.ID)
	if err != nil || got.Status != behalf.SessionFailed || len(got.Pending) != 0 || got.FailureReason != "expired" {
		t.Fatalf("session after expiry: %+v, %v; want FAILED without its token", got, err)
	}
	if revoked := fp.Revoked(); len(revoked) != 1 {
		t.Fatalf("the provider revoked %d tokens, want 1", len(revoked))
	}
	if es := h.events(behalf.AuditSessionExpired); len(es) != 1 || es[0].SessionID != s.ID {
		t.Fatalf("session.expired events: %+v, want 1", es)
	}
}

// Ensure every refusal is audited, even of a session already ended: the
// attempt is the event, not the state change.
func TestRefuseAuditsEveryAttempt(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	p := h.addProvider("drive", behalf.AuthServerMetadata{})
	now := h.clock.Now()
	s := &behalf.AuthSession{
		ID: "refused-session", Workload: testWorkload, User: alice, ProviderID: p.ID, ReturnURL: testReturnURL,
		StateHash: sha256Hex("state"), Status: behalf.SessionPending, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime),
	}
	if err := h.db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	h.dp.Consent().refuse(ctx, s, "browser", "opened by "+bob.Key())
	h.dp.Consent().refuse(ctx, s, "browser", "opened by "+bob.Key())
	if got, _ := h.db.GetSession(ctx, s.ID); got.Status != behalf.SessionFailed {
		t.Fatalf("status %q, want FAILED", got.Status)
	}
	if es := h.events(behalf.AuditBindingRefused); len(es) != 2 {
		t.Fatalf("binding.refused events: %d, want 2", len(es))
	}
}
