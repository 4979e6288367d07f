package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newWorkload returns a workload identity with every field set.
func newWorkload(name string) *behalf.WorkloadIdentity {
	return &behalf.WorkloadIdentity{
		ID:                "id-" + name,
		Name:              name,
		AllowedReturnURLs: []string{"https://agent.example.com/callback", "http://localhost:8080/cb?x=1"},
		Tags:              map[string]string{"team": "agents", "env": "test", "ünïcode": "✓"},
		Inbound: behalf.WorkloadInbound{
			Issuer: "https://behalf.example.com/us-east-1_abc", ClientID: "client-1",
			ClientSecret: behalf.Sealed("sealed-secret"), BindRedirectURL: "https://app.example.com/done",
		},
		CreatedAt: t0,
		UpdatedAt: t0.Add(time.Second),
	}
}

// createWorkload stores w, failing t on error.
func createWorkload(t *testing.T, s behalf.Store, w *behalf.WorkloadIdentity) {
	t.Helper()
	if err := s.CreateWorkload(t.Context(), w); err != nil {
		t.Fatalf("CreateWorkload(%q): %v", w.Name, err)
	}
}

// getWorkload reads the named workload identity, failing t on error.
func getWorkload(t *testing.T, s behalf.Store, name string) *behalf.WorkloadIdentity {
	t.Helper()
	w, err := s.GetWorkload(t.Context(), name)
	if err != nil {
		t.Fatalf("GetWorkload(%q): %v", name, err)
	}
	return w
}

// testWorkloads checks the WorkloadStore methods.
func testWorkloads(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			w := newWorkload("agent-1")
			createWorkload(t, s, w)
			wantEqual(t, "GetWorkload", getWorkload(t, s, "agent-1"), newWorkload("agent-1"))
		})
		t.Run("EmptyCollections", func(t *testing.T) {
			s := open(t)
			bare := &behalf.WorkloadIdentity{Name: "bare", CreatedAt: t0, UpdatedAt: t0}
			createWorkload(t, s, bare)
			got := getWorkload(t, s, "bare")
			if got.ID == "" || got.ID != bare.ID {
				t.Fatalf("a workload created with no ID: stored ID %q, set in the argument %q; want the same, non-empty", got.ID, bare.ID)
			}
			in := got.Inbound
			if len(got.AllowedReturnURLs) != 0 || len(got.Tags) != 0 || in.Issuer != "" || in.ClientID != "" || in.ClientSecret != nil || in.BindRedirectURL != "" {
				t.Fatalf("GetWorkload = %+v, want no return URLs and no tags", got)
			}
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createWorkload(t, s, newWorkload("agent-1"))
			dup := newWorkload("agent-1")
			dup.AllowedReturnURLs = []string{"https://other.example.com/"}
			wantCode(t, s.CreateWorkload(t.Context(), dup), behalf.ECONFLICT)
			wantEqual(t, "GetWorkload after conflict", getWorkload(t, s, "agent-1"), newWorkload("agent-1"))
		})
		t.Run("ErrConflictID", func(t *testing.T) {
			s := open(t)
			createWorkload(t, s, newWorkload("agent-1"))
			dup := newWorkload("agent-2")
			dup.ID = newWorkload("agent-1").ID
			wantCode(t, s.CreateWorkload(t.Context(), dup), behalf.ECONFLICT)
			_, err := s.GetWorkload(t.Context(), "agent-2")
			wantCode(t, err, behalf.ENOTFOUND)
		})
		// Every creation gets a new id, a re-creation under the same name
		// too: what tells a deleted workload's keys from a new one's.
		t.Run("NewIDs", func(t *testing.T) {
			s := open(t)
			seen := map[string]bool{}
			for i := range 3 {
				w := &behalf.WorkloadIdentity{Name: "agent-1", CreatedAt: t0, UpdatedAt: t0}
				createWorkload(t, s, w)
				other := &behalf.WorkloadIdentity{Name: "agent-2", CreatedAt: t0, UpdatedAt: t0}
				createWorkload(t, s, other)
				for _, id := range []string{w.ID, other.ID} {
					if id == "" || seen[id] {
						t.Fatalf("creation %d: id %q is empty or was given before (%v)", i, id, seen)
					}
					seen[id] = true
				}
				ok(t, s.DeleteWorkload(t.Context(), "agent-1"))
				ok(t, s.DeleteWorkload(t.Context(), "agent-2"))
			}
		})
	})
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			_, err := s.GetWorkload(t.Context(), "missing")
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Update", func(t *testing.T) { testUpdateWorkload(t, open) })
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createWorkload(t, s, newWorkload("agent-1"))
			createWorkload(t, s, newWorkload("agent-2"))
			ok(t, s.DeleteWorkload(t.Context(), "agent-1"))
			_, err := s.GetWorkload(t.Context(), "agent-1")
			wantCode(t, err, behalf.ENOTFOUND)
			getWorkload(t, s, "agent-2")
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			wantCode(t, s.DeleteWorkload(t.Context(), "missing"), behalf.ENOTFOUND)
		})
	})
	t.Run("List", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			create := func(name string) { createWorkload(t, s, newWorkload(name)) }
			list := func(opt behalf.ListOptions) []string {
				ws, err := s.ListWorkloads(t.Context(), opt)
				ok(t, err)
				return names(ws, func(w *behalf.WorkloadIdentity) string { return w.Name })
			}
			testPaging(t, create, list)
		})
		t.Run("Fields", func(t *testing.T) {
			s := open(t)
			createWorkload(t, s, newWorkload("agent-1"))
			ws, err := s.ListWorkloads(t.Context(), behalf.ListOptions{})
			ok(t, err)
			wantEqualList(t, "ListWorkloads", ws, []*behalf.WorkloadIdentity{newWorkload("agent-1")})
		})
	})
}

// testUpdateWorkload checks UpdateWorkload.
func testUpdateWorkload(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		createWorkload(t, s, newWorkload("agent-1"))
		t1 := t0.Add(time.Hour)
		got, err := s.UpdateWorkload(t.Context(), "agent-1", func(w *behalf.WorkloadIdentity) error {
			w.AllowedReturnURLs = append(w.AllowedReturnURLs, "https://new.example.com/cb")
			w.Tags["added"] = "yes"
			w.UpdatedAt = t1
			w.ID = "id-changed"             // immutable: ignored
			w.Name = "renamed"              // immutable: ignored
			w.CreatedAt = t1.Add(time.Hour) // immutable: ignored
			return nil
		})
		ok(t, err)
		want := newWorkload("agent-1")
		want.AllowedReturnURLs = append(want.AllowedReturnURLs, "https://new.example.com/cb")
		want.Tags["added"] = "yes"
		want.UpdatedAt = t1
		wantEqual(t, "UpdateWorkload result", got, want)
		wantEqual(t, "GetWorkload after update", getWorkload(t, s, "agent-1"), want)
		_, err = s.GetWorkload(t.Context(), "renamed")
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.UpdateWorkload(t.Context(), "missing", func(*behalf.WorkloadIdentity) error {
			t.Error("fn called for a missing workload")
			return nil
		})
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrFn", func(t *testing.T) {
		s := open(t)
		createWorkload(t, s, newWorkload("agent-1"))
		_, err := s.UpdateWorkload(t.Context(), "agent-1", func(w *behalf.WorkloadIdentity) error {
			w.AllowedReturnURLs = nil
			w.UpdatedAt = t0.Add(time.Hour)
			return errFn
		})
		wantFnErr(t, err)
		wantEqual(t, "GetWorkload after failed update", getWorkload(t, s, "agent-1"), newWorkload("agent-1"))
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		base := newWorkload("agent-1")
		base.AllowedReturnURLs = nil
		createWorkload(t, s, base)
		const n = 20
		var want []string
		var wg sync.WaitGroup
		for i := range n {
			url := fmt.Sprintf("https://agent.example.com/cb/%02d", i)
			want = append(want, url)
			wg.Go(func() {
				_, err := s.UpdateWorkload(t.Context(), "agent-1", func(w *behalf.WorkloadIdentity) error {
					w.AllowedReturnURLs = append(w.AllowedReturnURLs, url)
					return nil
				})
				if err != nil {
					t.Errorf("UpdateWorkload %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		got := slices.Sorted(slices.Values(getWorkload(t, s, "agent-1").AllowedReturnURLs))
		if !slices.Equal(got, want) {
			t.Fatalf("after %d concurrent updates the return URLs are\n %q\nwant\n %q", n, got, want)
		}
	})
}
