package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// grantUser is the user of the grant fixtures.
var grantUser = behalf.User{Issuer: "https://idp.example.com", Subject: "alice"}.Key()

// newGrant returns a grant with every field set and Version 1, as PutGrant
// stores a new grant.
func newGrant(id, workload, userKey, providerID string) *behalf.Grant {
	return &behalf.Grant{
		ID:           id,
		Workload:     workload,
		UserKey:      userKey,
		ProviderID:   providerID,
		Scopes:       []string{"openid", "email", "https://www.googleapis.com/auth/calendar"},
		Token:        behalf.Sealed{0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 't'},
		ExpiresAt:    t0.Add(time.Hour),
		HasRefresh:   true,
		RefreshLease: t0.Add(time.Minute),
		Version:      1,
		CreatedAt:    t0,
		UpdatedAt:    t0.Add(time.Second),
		RefreshedAt:  t0.Add(2 * time.Second),
		LastUsedAt:   t0.Add(3 * time.Second),
		Account:      "alice@example.com",

		InterruptedLease: t0.Add(4 * time.Second),
	}
}

// putGrant stores g, failing t on error.
func putGrant(t *testing.T, s behalf.Store, g *behalf.Grant) {
	t.Helper()
	if err := s.PutGrant(t.Context(), g); err != nil {
		t.Fatalf("PutGrant(%q): %v", g.ID, err)
	}
}

// getGrant reads the grant of workload × userKey × providerID, failing t on
// error.
func getGrant(t *testing.T, s behalf.Store, workload, userKey, providerID string) *behalf.Grant {
	t.Helper()
	g, err := s.GetGrant(t.Context(), workload, userKey, providerID)
	if err != nil {
		t.Fatalf("GetGrant(%q, %q, %q): %v", workload, userKey, providerID, err)
	}
	return g
}

// grantIDs returns the ids ListGrants(userKey) returns, in order.
func grantIDs(t *testing.T, s behalf.Store, userKey string) []string {
	t.Helper()
	gs, err := s.ListGrants(t.Context(), userKey)
	ok(t, err)
	return names(gs, func(g *behalf.Grant) string { return g.ID })
}

// testGrants checks the GrantStore methods.
func testGrants(t *testing.T, open openFunc) {
	t.Run("Put", func(t *testing.T) { testPutGrant(t, open) })
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			putGrant(t, s, newGrant("g-1", "agent-1", grantUser, "prov-1"))
			for _, k := range [][3]string{
				{"agent-2", grantUser, "prov-1"},
				{"agent-1", "other", "prov-1"},
				{"agent-1", grantUser, "prov-2"},
				{"agent-1", grantUser, "PROV-1"},
				{"", "", ""},
			} {
				_, err := s.GetGrant(t.Context(), k[0], k[1], k[2])
				wantCode(t, err, behalf.ENOTFOUND)
			}
		})
	})
	t.Run("Exchange", func(t *testing.T) { testExchangeGrants(t, open) })
	t.Run("GetByID", func(t *testing.T) {
		s := open(t)
		putGrant(t, s, newGrant("g-1", "agent-1", grantUser, "prov-1"))
		putGrant(t, s, newGrant("g-2", "agent-2", grantUser, "prov-1"))
		g, err := s.GetGrantByID(t.Context(), "g-2")
		ok(t, err)
		wantEqual(t, "GetGrantByID", g, newGrant("g-2", "agent-2", grantUser, "prov-1"))
		for _, id := range []string{"missing", "G-1", ""} {
			_, err := s.GetGrantByID(t.Context(), id)
			wantCode(t, err, behalf.ENOTFOUND)
		}
	})
	t.Run("Touch", func(t *testing.T) { testTouchGrants(t, open) })
	t.Run("Update", func(t *testing.T) { testUpdateGrant(t, open) })
	t.Run("ClaimRefresh", func(t *testing.T) { testClaimGrantRefresh(t, open) })
	t.Run("CompleteRefresh", func(t *testing.T) { testCompleteGrantRefresh(t, open) })
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			putGrant(t, s, newGrant("g-1", "agent-1", grantUser, "prov-1"))
			putGrant(t, s, newGrant("g-2", "agent-1", grantUser, "prov-2"))
			ok(t, s.DeleteGrant(t.Context(), "g-1"))
			_, err := s.GetGrant(t.Context(), "agent-1", grantUser, "prov-1")
			wantCode(t, err, behalf.ENOTFOUND)
			wantCode(t, s.DeleteGrant(t.Context(), "g-1"), behalf.ENOTFOUND)
			getGrant(t, s, "agent-1", grantUser, "prov-2")
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			wantCode(t, s.DeleteGrant(t.Context(), "missing"), behalf.ENOTFOUND)
		})
	})
	t.Run("List", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			if ids := grantIDs(t, s, ""); len(ids) != 0 {
				t.Fatalf("ListGrants on an empty store = %q", ids)
			}
			bob := behalf.User{Subject: "bob"}.Key()
			for _, g := range []*behalf.Grant{
				newGrant("g-1", "b", grantUser, "p2"),
				newGrant("g-2", "a", grantUser, "p2"),
				newGrant("g-3", "b", grantUser, "p1"),
				newGrant("g-4", "a", bob, "p1"),
				newGrant("g-5", "B", grantUser, "p1"),
				newGrant("g-6", "a", grantUser, "p10"),
			} {
				putGrant(t, s, g)
			}
			// By workload, then provider id, bytewise ("p10" < "p2").
			wantEqual(t, "ListGrants(alice)", grantIDs(t, s, grantUser), []string{"g-5", "g-6", "g-2", "g-3", "g-1"})
			wantEqual(t, "ListGrants(bob)", grantIDs(t, s, bob), []string{"g-4"})
			wantEqual(t, "ListGrants(all)", grantIDs(t, s, ""), []string{"g-5", "g-4", "g-6", "g-2", "g-3", "g-1"})
			if ids := grantIDs(t, s, "nobody"); len(ids) != 0 {
				t.Fatalf("ListGrants(nobody) = %q", ids)
			}
		})
		t.Run("Fields", func(t *testing.T) {
			s := open(t)
			putGrant(t, s, newGrant("g-1", "agent-1", grantUser, "prov-1"))
			gs, err := s.ListGrants(t.Context(), grantUser)
			ok(t, err)
			wantEqualList(t, "ListGrants", gs, []*behalf.Grant{newGrant("g-1", "agent-1", grantUser, "prov-1")})
		})
	})
}

// testPutGrant checks PutGrant.
func testPutGrant(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		g := newGrant("g-1", "agent-1", grantUser, "prov-1")
		g.Version = 42 // ignored: a new grant is version 1
		putGrant(t, s, g)
		if g.Version != 1 {
			t.Errorf("PutGrant set Version = %d, want 1", g.Version)
		}
		wantEqual(t, "GetGrant", getGrant(t, s, "agent-1", grantUser, "prov-1"), newGrant("g-1", "agent-1", grantUser, "prov-1"))
	})
	t.Run("ZeroFields", func(t *testing.T) {
		s := open(t)
		bare := &behalf.Grant{ID: "g-1", Workload: "agent-1", UserKey: grantUser, ProviderID: "prov-1"}
		putGrant(t, s, bare)
		want := *bare
		want.Version = 1
		wantEqual(t, "GetGrant", getGrant(t, s, "agent-1", grantUser, "prov-1"), &want)
	})
	t.Run("Replace", func(t *testing.T) {
		s := open(t)
		putGrant(t, s, newGrant("g-old", "agent-1", grantUser, "prov-1"))
		_, err := s.UpdateGrant(t.Context(), "g-old", func(*behalf.Grant) error { return nil }) // version 2
		ok(t, err)
		other := newGrant("g-other", "agent-1", grantUser, "prov-2")
		putGrant(t, s, other)

		repl := newGrant("g-new", "agent-1", grantUser, "prov-1")
		repl.Scopes = []string{"openid"}
		repl.Token = behalf.Sealed("new token")
		repl.HasRefresh = false
		repl.RefreshLease = time.Time{}
		repl.CreatedAt = t0.Add(time.Hour)
		putGrant(t, s, repl)
		if repl.Version != 3 {
			t.Errorf("PutGrant replacing a version-2 grant set Version = %d, want 3", repl.Version)
		}
		want := *repl
		wantEqual(t, "GetGrant after replace", getGrant(t, s, "agent-1", grantUser, "prov-1"), &want)
		// The old grant is gone by id too.
		wantCode(t, s.DeleteGrant(t.Context(), "g-old"), behalf.ENOTFOUND)
		_, err = s.ClaimGrantRefresh(t.Context(), "g-old", t0, t0.Add(time.Minute))
		wantCode(t, err, behalf.ENOTFOUND)
		wantEqual(t, "ListGrants after replace", grantIDs(t, s, grantUser), []string{"g-new", "g-other"})
		wantEqual(t, "other grant", getGrant(t, s, "agent-1", grantUser, "prov-2"), other)
	})
	t.Run("ReplaceSameID", func(t *testing.T) {
		s := open(t)
		putGrant(t, s, newGrant("g-1", "agent-1", grantUser, "prov-1"))
		again := newGrant("g-1", "agent-1", grantUser, "prov-1")
		again.Token = behalf.Sealed("second")
		putGrant(t, s, again)
		if again.Version != 2 {
			t.Errorf("second PutGrant set Version = %d, want 2", again.Version)
		}
		wantEqual(t, "GetGrant", getGrant(t, s, "agent-1", grantUser, "prov-1"), again)
		wantEqual(t, "ListGrants", grantIDs(t, s, ""), []string{"g-1"})
	})
	t.Run("ErrConflict", func(t *testing.T) {
		s := open(t)
		putGrant(t, s, newGrant("g-1", "agent-1", grantUser, "prov-1"))
		// Same id, another workload × user × provider.
		dup := newGrant("g-1", "agent-2", grantUser, "prov-1")
		wantCode(t, s.PutGrant(t.Context(), dup), behalf.ECONFLICT)
		wantEqual(t, "GetGrant after conflict", getGrant(t, s, "agent-1", grantUser, "prov-1"), newGrant("g-1", "agent-1", grantUser, "prov-1"))
		_, err := s.GetGrant(t.Context(), "agent-2", grantUser, "prov-1")
		wantCode(t, err, behalf.ENOTFOUND)
	})
}

// testUpdateGrant checks UpdateGrant.
func testUpdateGrant(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		putGrant(t, s, newGrant("g-1", "agent-1", grantUser, "prov-1"))
		t1 := t0.Add(time.Hour)
		got, err := s.UpdateGrant(t.Context(), "g-1", func(g *behalf.Grant) error {
			if g.Version != 1 {
				t.Errorf("fn got Version %d, want 1", g.Version)
			}
			g.Scopes = append(g.Scopes, "profile")
			g.Token = behalf.Sealed("refreshed")
			g.ExpiresAt = t1.Add(time.Hour)
			g.HasRefresh = false
			g.RefreshLease = time.Time{}
			g.UpdatedAt = t1
			g.RefreshedAt = t1
			g.ID = "g-2"            // immutable: ignored
			g.Workload = "agent-2"  // immutable: ignored
			g.UserKey = "mallory"   // immutable: ignored
			g.ProviderID = "prov-2" // immutable: ignored
			g.CreatedAt = t1        // immutable: ignored
			g.Version = 100         // set by the store: ignored
			return nil
		})
		ok(t, err)
		want := newGrant("g-1", "agent-1", grantUser, "prov-1")
		want.Scopes = append(want.Scopes, "profile")
		want.Token = behalf.Sealed("refreshed")
		want.ExpiresAt = t1.Add(time.Hour)
		want.HasRefresh = false
		want.RefreshLease = time.Time{}
		want.UpdatedAt = t1
		want.RefreshedAt = t1
		want.Version = 2
		wantEqual(t, "UpdateGrant result", got, want)
		wantEqual(t, "GetGrant after update", getGrant(t, s, "agent-1", grantUser, "prov-1"), want)
		wantEqual(t, "ListGrants after update", grantIDs(t, s, ""), []string{"g-1"})

		got, err = s.UpdateGrant(t.Context(), "g-1", func(*behalf.Grant) error { return nil })
		ok(t, err)
		if got.Version != 3 {
			t.Errorf("Version after second update = %d, want 3", got.Version)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.UpdateGrant(t.Context(), "missing", func(*behalf.Grant) error {
			t.Error("fn called for a missing grant")
			return nil
		})
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrFn", func(t *testing.T) {
		s := open(t)
		putGrant(t, s, newGrant("g-1", "agent-1", grantUser, "prov-1"))
		_, err := s.UpdateGrant(t.Context(), "g-1", func(g *behalf.Grant) error {
			g.Token = nil
			g.Scopes = nil
			g.UpdatedAt = t0.Add(time.Hour)
			return errFn
		})
		wantFnErr(t, err)
		wantEqual(t, "GetGrant after failed update", getGrant(t, s, "agent-1", grantUser, "prov-1"), newGrant("g-1", "agent-1", grantUser, "prov-1"))
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		g := newGrant("g-1", "agent-1", grantUser, "prov-1")
		g.Scopes = nil
		putGrant(t, s, g)
		const n = 20
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, err := s.UpdateGrant(t.Context(), "g-1", func(g *behalf.Grant) error {
					time.Sleep(2 * time.Millisecond) // widen the read-write window
					g.Scopes = append(g.Scopes, "s")
					return nil
				})
				if err != nil {
					t.Errorf("UpdateGrant %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		got := getGrant(t, s, "agent-1", grantUser, "prov-1")
		if len(got.Scopes) != n || got.Version != n+1 {
			t.Fatalf("after %d concurrent updates: %d scopes, Version %d; want %d and %d", n, len(got.Scopes), got.Version, n, n+1)
		}
	})
}

// testClaimGrantRefresh checks ClaimGrantRefresh.
func testClaimGrantRefresh(t *testing.T, open openFunc) {
	now := t0.Add(time.Hour)
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		g := newGrant("g-1", "agent-1", grantUser, "prov-1")
		g.RefreshLease = time.Time{}
		putGrant(t, s, g)
		until := now.Add(30 * time.Second)
		claimed, err := s.ClaimGrantRefresh(t.Context(), "g-1", now, until)
		ok(t, err)
		if !claimed {
			t.Fatal("ClaimGrantRefresh of a grant with no lease = false")
		}
		want := *g
		want.RefreshLease = until
		want.Version = 2
		wantEqual(t, "GetGrant after claim", getGrant(t, s, "agent-1", grantUser, "prov-1"), &want)

		// Held until until: a second claim before then fails and changes nothing.
		for _, at := range []time.Time{now, now.Add(29 * time.Second)} {
			claimed, err = s.ClaimGrantRefresh(t.Context(), "g-1", at, at.Add(time.Minute))
			ok(t, err)
			if claimed {
				t.Fatalf("ClaimGrantRefresh at %v of a grant leased until %v = true", at, until)
			}
		}
		wantEqual(t, "GetGrant after refused claims", getGrant(t, s, "agent-1", grantUser, "prov-1"), &want)

		// A lease that ends at or before now is free again; taking it over
		// unreleased records its end as InterruptedLease.
		for i, at := range []time.Time{until, until.Add(time.Hour)} {
			next := at.Add(30 * time.Second)
			claimed, err = s.ClaimGrantRefresh(t.Context(), "g-1", at, next)
			ok(t, err)
			if !claimed {
				t.Fatalf("ClaimGrantRefresh at %v of a grant leased until %v = false", at, want.RefreshLease)
			}
			want.InterruptedLease = want.RefreshLease
			want.RefreshLease = next
			want.Version = int64(3 + i)
			wantEqual(t, "GetGrant after reclaim", getGrant(t, s, "agent-1", grantUser, "prov-1"), &want)
		}
	})
	t.Run("Release", func(t *testing.T) {
		s := open(t)
		g := newGrant("g-1", "agent-1", grantUser, "prov-1")
		g.RefreshLease = now.Add(time.Hour)
		putGrant(t, s, g)
		claimed, err := s.ClaimGrantRefresh(t.Context(), "g-1", now, now.Add(time.Minute))
		ok(t, err)
		if claimed {
			t.Fatal("ClaimGrantRefresh of a leased grant = true")
		}
		_, err = s.UpdateGrant(t.Context(), "g-1", func(g *behalf.Grant) error {
			g.RefreshLease = time.Time{}
			return nil
		})
		ok(t, err)
		claimed, err = s.ClaimGrantRefresh(t.Context(), "g-1", now, now.Add(time.Minute))
		ok(t, err)
		if !claimed {
			t.Fatal("ClaimGrantRefresh after the lease was released = false")
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.ClaimGrantRefresh(t.Context(), "missing", now, now.Add(time.Minute))
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		g := newGrant("g-1", "agent-1", grantUser, "prov-1")
		g.RefreshLease = now.Add(-time.Second) // expired
		putGrant(t, s, g)
		const n = 20
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				claimed, err := s.ClaimGrantRefresh(t.Context(), "g-1", now, now.Add(time.Minute))
				if err != nil {
					t.Errorf("ClaimGrantRefresh %d: %v", i, err)
				}
				if claimed {
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if got := wins.Load(); got != 1 {
			t.Fatalf("%d of %d concurrent claims succeeded, want exactly 1", got, n)
		}
		got := getGrant(t, s, "agent-1", grantUser, "prov-1")
		if !got.RefreshLease.Equal(now.Add(time.Minute)) || got.Version != 2 {
			t.Fatalf("after the claims: lease %v, Version %d; want %v and 2", got.RefreshLease, got.Version, now.Add(time.Minute))
		}
	})
}

// testCompleteGrantRefresh checks CompleteGrantRefresh: the token set is
// stored and the lease released in one write, InterruptedLease is cleared,
// the other fields are kept; a released lease is not recorded as
// interrupted by the next claim.
func testCompleteGrantRefresh(t *testing.T, open openFunc) {
	now := t0.Add(time.Hour)
	s := open(t)
	g := newGrant("g-1", "agent-1", grantUser, "prov-1")
	g.RefreshLease = time.Time{}
	putGrant(t, s, g)
	claimed, err := s.ClaimGrantRefresh(t.Context(), "g-1", now, now.Add(time.Minute))
	ok(t, err)
	if !claimed {
		t.Fatal("ClaimGrantRefresh = false")
	}
	token := behalf.Sealed{0x02, 0x03, 'n', 'e', 'w'}
	at := now.Add(time.Second)
	ok(t, s.CompleteGrantRefresh(t.Context(), "g-1", token, now.Add(2*time.Hour), []string{"openid", "drive"}, at))
	want := *g
	want.Token, want.ExpiresAt, want.Scopes = token, now.Add(2*time.Hour), []string{"openid", "drive"}
	want.RefreshLease, want.InterruptedLease = time.Time{}, time.Time{}
	want.RefreshedAt, want.UpdatedAt = at, at
	want.Version = 3
	wantEqual(t, "GetGrant after CompleteGrantRefresh", getGrant(t, s, "agent-1", grantUser, "prov-1"), &want)

	// The lease was released: the next claim records no interruption.
	claimed, err = s.ClaimGrantRefresh(t.Context(), "g-1", at, at.Add(time.Minute))
	ok(t, err)
	if got := getGrant(t, s, "agent-1", grantUser, "prov-1"); !claimed || !got.InterruptedLease.IsZero() {
		t.Fatalf("claim after a completed refresh: claimed %v, InterruptedLease %v; want true and zero", claimed, got.InterruptedLease)
	}
	wantCode(t, s.CompleteGrantRefresh(t.Context(), "missing", token, now, nil, at), behalf.ENOTFOUND)
}

// testTouchGrants checks TouchGrants: LastUsedAt only moves forward, nothing
// else changes, missing ids are skipped, and UpdateGrant and a replacing
// PutGrant keep their own rules for it.
func testTouchGrants(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		g1 := newGrant("g-1", "agent-1", grantUser, "prov-1")
		g2 := newGrant("g-2", "agent-1", grantUser, "prov-2")
		g2.LastUsedAt = time.Time{}
		putGrant(t, s, g1)
		putGrant(t, s, g2)
		ok(t, s.TouchGrants(t.Context(), nil))
		ok(t, s.TouchGrants(t.Context(), map[string]time.Time{
			"g-1":     t0.Add(time.Hour),
			"g-2":     t0.Add(2 * time.Hour),
			"missing": t0.Add(time.Hour),
		}))
		want1, want2 := *g1, *g2
		want1.LastUsedAt, want2.LastUsedAt = t0.Add(time.Hour), t0.Add(2*time.Hour)
		wantEqual(t, "g-1 after touch", getGrant(t, s, "agent-1", grantUser, "prov-1"), &want1)
		wantEqual(t, "g-2 after touch", getGrant(t, s, "agent-1", grantUser, "prov-2"), &want2)

		// An older time does not move it back.
		ok(t, s.TouchGrants(t.Context(), map[string]time.Time{"g-1": t0}))
		wantEqual(t, "g-1 after an older touch", getGrant(t, s, "agent-1", grantUser, "prov-1"), &want1)

		// UpdateGrant neither writes nor reverts it.
		got, err := s.UpdateGrant(t.Context(), "g-1", func(g *behalf.Grant) error {
			g.LastUsedAt = t0.Add(-time.Hour)
			return nil
		})
		ok(t, err)
		want1.Version = 2
		wantEqual(t, "UpdateGrant result", got, &want1)
		wantEqual(t, "g-1 after UpdateGrant", getGrant(t, s, "agent-1", grantUser, "prov-1"), &want1)

		// A new grant replacing it (a new consent) starts afresh.
		repl := newGrant("g-3", "agent-1", grantUser, "prov-1")
		repl.LastUsedAt = time.Time{}
		putGrant(t, s, repl)
		wantEqual(t, "replacing grant", getGrant(t, s, "agent-1", grantUser, "prov-1"), repl)
	})
}

// testExchangeGrants checks that exchange grants (on-behalf-of results)
// live beside the consent grant of the same workload × user × provider,
// one per exchange key, and that GetGrant never returns one.
func testExchangeGrants(t *testing.T, open openFunc) {
	s := open(t)
	consent := newGrant("g-consent", "agent-1", grantUser, "prov-1")
	a := newGrant("g-a", "agent-1", grantUser, "prov-1")
	a.Exchange = "obo:a"
	b := newGrant("g-b", "agent-1", grantUser, "prov-1")
	b.Exchange = "obo:b"
	putGrant(t, s, a)
	_, err := s.GetGrant(t.Context(), "agent-1", grantUser, "prov-1")
	wantCode(t, err, behalf.ENOTFOUND)
	putGrant(t, s, consent)
	putGrant(t, s, b)
	wantEqual(t, "GetGrant", getGrant(t, s, "agent-1", grantUser, "prov-1"), consent)
	for _, want := range []*behalf.Grant{a, b} {
		got, err := s.GetExchangeGrant(t.Context(), "agent-1", grantUser, "prov-1", want.Exchange)
		ok(t, err)
		wantEqual(t, "GetExchangeGrant", got, want)
	}
	_, err = s.GetExchangeGrant(t.Context(), "agent-1", grantUser, "prov-1", "obo:c")
	wantCode(t, err, behalf.ENOTFOUND)
	got, err := s.GetExchangeGrant(t.Context(), "agent-1", grantUser, "prov-1", "")
	ok(t, err)
	wantEqual(t, "GetExchangeGrant of \"\"", got, consent)

	// PutGrant replaces only the grant of the same exchange key.
	a2 := newGrant("g-a2", "agent-1", grantUser, "prov-1")
	a2.Exchange = "obo:a"
	putGrant(t, s, a2)
	wantEqual(t, "grant ids", grantIDs(t, s, grantUser), []string{"g-consent", "g-a2", "g-b"})

	// UpdateGrant cannot move a grant to another exchange key.
	g, err := s.UpdateGrant(t.Context(), "g-b", func(g *behalf.Grant) error { g.Exchange = "obo:z"; return nil })
	ok(t, err)
	if g.Exchange != "obo:b" {
		t.Errorf("UpdateGrant changed Exchange to %q", g.Exchange)
	}
}
