package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

func cps(t *testing.T, open openFunc) (behalf.Store, behalf.ConsentPortalStore) {
	t.Helper()
	s := open(t)
	p, ok := s.(behalf.ConsentPortalStore)
	if !ok {
		t.Skip("store does not implement behalf.ConsentPortalStore")
	}
	return s, p
}

// newConsentPortal returns a portal with id for gateway gw, every field set.
func newConsentPortal(id, gw string) *behalf.ConsentPortal {
	return &behalf.ConsentPortal{
		ID: id, Name: "n-" + id, Description: "connect ✓", ExecutionRoleARN: "arn:aws:iam::123456789012:role/p",
		Provider: "pool-idp", Scopes: []string{"openid", "email"}, Audience: "aud", GatewayID: gw,
		Tags: map[string]string{"team": "tools"}, Status: behalf.ConsentPortalActive, CreatedAt: t0, UpdatedAt: t0.Add(time.Second),
	}
}

// testConsentPortals checks the ConsentPortalStore methods.
func testConsentPortals(t *testing.T, open openFunc) {
	t.Run("CreateGetConflict", func(t *testing.T) {
		_, s := cps(t, open)
		want := newConsentPortal("p-0123456789", "gw-1")
		ok(t, s.CreateConsentPortal(t.Context(), want))
		got, err := s.GetConsentPortal(t.Context(), want.ID)
		ok(t, err)
		wantEqual(t, "GetConsentPortal", got, want)
		_, err = s.GetConsentPortal(t.Context(), "missing-0123456789")
		wantCode(t, err, behalf.ENOTFOUND)
		dup := newConsentPortal("p-9999999999", "gw-2")
		dup.Name = want.Name
		wantCode(t, s.CreateConsentPortal(t.Context(), dup), behalf.ECONFLICT)
		sameGW := newConsentPortal("q-9999999999", "gw-1")
		wantCode(t, s.CreateConsentPortal(t.Context(), sameGW), behalf.ECONFLICT)
		bare := &behalf.ConsentPortal{ID: "b-0123456789", Name: "b", GatewayID: "gw-3", Status: behalf.ConsentPortalActive, CreatedAt: t0, UpdatedAt: t0}
		ok(t, s.CreateConsentPortal(t.Context(), bare))
		got, err = s.GetConsentPortal(t.Context(), bare.ID)
		ok(t, err)
		wantEqual(t, "GetConsentPortal bare", got, bare)
	})
	t.Run("UpdateDeleteList", func(t *testing.T) {
		_, s := cps(t, open)
		for _, id := range []string{"c-0123456789", "a-0123456789", "b-0123456789"} {
			ok(t, s.CreateConsentPortal(t.Context(), newConsentPortal(id, "gw-"+id)))
		}
		got, err := s.UpdateConsentPortal(t.Context(), "a-0123456789", func(p *behalf.ConsentPortal) error {
			p.ID, p.Name, p.GatewayID = "x", "x", "x" // kept
			p.Description, p.Scopes, p.Audience, p.Provider, p.UpdatedAt = "new", nil, "", "other", t0.Add(time.Hour)
			return nil
		})
		ok(t, err)
		want := newConsentPortal("a-0123456789", "gw-a-0123456789")
		want.Description, want.Scopes, want.Audience, want.Provider, want.UpdatedAt = "new", nil, "", "other", t0.Add(time.Hour)
		wantEqual(t, "UpdateConsentPortal", got, want)
		got, err = s.GetConsentPortal(t.Context(), "a-0123456789")
		ok(t, err)
		wantEqual(t, "GetConsentPortal after update", got, want)
		_, err = s.UpdateConsentPortal(t.Context(), "a-0123456789", func(*behalf.ConsentPortal) error { return errFn })
		if err != errFn {
			t.Fatalf("UpdateConsentPortal with failing fn: %v, want errFn", err)
		}
		_, err = s.UpdateConsentPortal(t.Context(), "missing", func(*behalf.ConsentPortal) error { return nil })
		wantCode(t, err, behalf.ENOTFOUND)

		page, err := s.ListConsentPortals(t.Context(), behalf.ListOptions{Limit: 2})
		ok(t, err)
		if len(page) != 2 || page[0].ID != "a-0123456789" || page[1].ID != "b-0123456789" {
			t.Fatalf("ListConsentPortals page 1 = %v", page)
		}
		page, err = s.ListConsentPortals(t.Context(), behalf.ListOptions{After: "b-0123456789", Limit: 2})
		ok(t, err)
		if len(page) != 1 || page[0].ID != "c-0123456789" {
			t.Fatalf("ListConsentPortals page 2 = %v", page)
		}
		ok(t, s.DeleteConsentPortal(t.Context(), "b-0123456789"))
		wantCode(t, s.DeleteConsentPortal(t.Context(), "b-0123456789"), behalf.ENOTFOUND)
		_, err = s.GetConsentPortal(t.Context(), "b-0123456789")
		wantCode(t, err, behalf.ENOTFOUND)
		// The gateway is free for a new portal once its portal is deleted.
		ok(t, s.CreateConsentPortal(t.Context(), newConsentPortal("d-0123456789", "gw-b-0123456789")))
	})
}
