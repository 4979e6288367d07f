package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// precedence returns a pointer to p.
func precedence(p int32) *int32 { return &p }

// newPoolGroup returns a group of pool poolID with every field set.
func newPoolGroup(poolID, name string) *behalf.PoolGroup {
	return &behalf.PoolGroup{
		PoolID:      poolID,
		Name:        name,
		Description: "Ünïcode group " + name,
		Precedence:  precedence(7),
		RoleARN:     "arn:aws:iam::123456789012:role/" + name,
		CreatedAt:   t0,
		UpdatedAt:   t0.Add(time.Second),
	}
}

// createPoolGroup stores g, failing t on error.
func createPoolGroup(t *testing.T, s behalf.Store, g *behalf.PoolGroup) {
	t.Helper()
	if err := s.CreatePoolGroup(t.Context(), g); err != nil {
		t.Fatalf("CreatePoolGroup(%q, %q): %v", g.PoolID, g.Name, err)
	}
}

// getPoolGroup reads a group, failing t on error.
func getPoolGroup(t *testing.T, s behalf.Store, poolID, name string) *behalf.PoolGroup {
	t.Helper()
	g, err := s.GetPoolGroup(t.Context(), poolID, name)
	if err != nil {
		t.Fatalf("GetPoolGroup(%q, %q): %v", poolID, name, err)
	}
	return g
}

// wantNoPoolGroup fails t unless err is ENOTFOUND with Cognito's message.
func wantNoPoolGroup(t *testing.T, err error) {
	t.Helper()
	wantCode(t, err, behalf.ENOTFOUND)
	wantMessage(t, err, "Group not found.")
}

// addMember adds a user to a group without a group limit, failing t on
// error.
func addMember(t *testing.T, s behalf.Store, poolID, group, username string) {
	t.Helper()
	if err := s.AddPoolGroupMember(t.Context(), poolID, group, username, 0, t0); err != nil {
		t.Fatalf("AddPoolGroupMember(%q, %q, %q): %v", poolID, group, username, err)
	}
}

// groupsOf lists the names of all of a user's groups.
func groupsOf(t *testing.T, s behalf.Store, poolID, username string) []string {
	t.Helper()
	gs, err := s.ListPoolUserGroups(t.Context(), poolID, username, behalf.ListOptions{})
	ok(t, err)
	return names(gs, func(g *behalf.PoolGroup) string { return g.Name })
}

// membersOf lists the usernames of all of a group's users.
func membersOf(t *testing.T, s behalf.Store, poolID, group string) []string {
	t.Helper()
	us, err := s.ListPoolGroupMembers(t.Context(), poolID, group, behalf.ListOptions{})
	ok(t, err)
	return names(us, func(u *behalf.PoolUser) string { return u.Username })
}

// wantNames fails t unless got and want hold the same names in order
// (nil and empty alike).
func wantNames(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) && (len(got) != 0 || len(want) != 0) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

// testPoolGroups checks the group methods of UserPoolStore.
func testPoolGroups(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolGroup(t, s, newPoolGroup(poolA, "admins"))
			wantEqual(t, "GetPoolGroup", getPoolGroup(t, s, poolA, "admins"), newPoolGroup(poolA, "admins"))
		})
		t.Run("Bare", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			bare := &behalf.PoolGroup{PoolID: poolA, Name: "bare"}
			createPoolGroup(t, s, bare)
			wantEqual(t, "GetPoolGroup", getPoolGroup(t, s, poolA, "bare"), bare)
			zero := &behalf.PoolGroup{PoolID: poolA, Name: "zero", Precedence: precedence(0)}
			createPoolGroup(t, s, zero)
			wantEqual(t, "precedence 0 is not none", getPoolGroup(t, s, poolA, "zero"), zero)
			top := &behalf.PoolGroup{PoolID: poolA, Name: "top", Precedence: precedence(1<<31 - 1)}
			createPoolGroup(t, s, top)
			wantEqual(t, "precedence 2^31-1", getPoolGroup(t, s, poolA, "top"), top)
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createPoolGroup(t, s, newPoolGroup(poolA, "admins"))
			dup := newPoolGroup(poolA, "admins")
			dup.Description = "other"
			err := s.CreatePoolGroup(t.Context(), dup)
			wantCode(t, err, behalf.ECONFLICT)
			wantMessage(t, err, "A group with the name admins already exists.")
			wantEqual(t, "GetPoolGroup after conflict", getPoolGroup(t, s, poolA, "admins"), newPoolGroup(poolA, "admins"))
			// Names are compared exactly, and per pool.
			createPoolGroup(t, s, newPoolGroup(poolA, "Admins"))
			createPoolGroup(t, s, newPoolGroup(poolB, "admins"))
		})
		t.Run("ErrNoPool", func(t *testing.T) {
			s := open(t)
			err := s.CreatePoolGroup(t.Context(), newPoolGroup(poolA, "admins"))
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Get", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolGroup(t, s, newPoolGroup(poolA, "admins"))
		for _, k := range [][2]string{{poolA, "Admins"}, {poolA, "admin"}, {poolB, "admins"}} {
			_, err := s.GetPoolGroup(t.Context(), k[0], k[1])
			wantNoPoolGroup(t, err)
		}
	})
	t.Run("Update", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createPoolGroup(t, s, newPoolGroup(poolA, "admins"))
			t1 := t0.Add(time.Hour)
			edit := func(g *behalf.PoolGroup) {
				g.Description = ""
				g.Precedence = nil
				g.RoleARN = "arn:aws:iam::123456789012:role/other"
				g.UpdatedAt = t1
			}
			got, err := s.UpdatePoolGroup(t.Context(), poolA, "admins", func(g *behalf.PoolGroup) error {
				edit(g)
				g.PoolID = poolB                // immutable: ignored
				g.Name = "other"                // immutable: ignored
				g.CreatedAt = t1.Add(time.Hour) // immutable: ignored
				return nil
			})
			ok(t, err)
			want := newPoolGroup(poolA, "admins")
			edit(want)
			wantEqual(t, "UpdatePoolGroup result", got, want)
			wantEqual(t, "GetPoolGroup after update", getPoolGroup(t, s, poolA, "admins"), want)
			_, err = s.GetPoolGroup(t.Context(), poolA, "other")
			wantNoPoolGroup(t, err)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			_, err := s.UpdatePoolGroup(t.Context(), poolA, "admins", func(*behalf.PoolGroup) error {
				t.Error("fn called for a missing group")
				return nil
			})
			wantNoPoolGroup(t, err)
		})
		t.Run("ErrFn", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolGroup(t, s, newPoolGroup(poolA, "admins"))
			_, err := s.UpdatePoolGroup(t.Context(), poolA, "admins", func(g *behalf.PoolGroup) error {
				g.Description = "changed"
				return errFn
			})
			wantFnErr(t, err)
			wantEqual(t, "GetPoolGroup after failed update", getPoolGroup(t, s, poolA, "admins"), newPoolGroup(poolA, "admins"))
		})
	})
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createPoolGroup(t, s, newPoolGroup(poolA, "admins"))
			createPoolGroup(t, s, newPoolGroup(poolA, "users"))
			createPoolGroup(t, s, newPoolGroup(poolB, "admins"))
			ok(t, s.DeletePoolGroup(t.Context(), poolA, "admins"))
			_, err := s.GetPoolGroup(t.Context(), poolA, "admins")
			wantNoPoolGroup(t, err)
			getPoolGroup(t, s, poolA, "users")
			getPoolGroup(t, s, poolB, "admins")
			// The name is free again.
			createPoolGroup(t, s, newPoolGroup(poolA, "admins"))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolGroup(t, s, newPoolGroup(poolA, "admins"))
			wantNoPoolGroup(t, s.DeletePoolGroup(t.Context(), poolA, "Admins"))
			wantNoPoolGroup(t, s.DeletePoolGroup(t.Context(), poolB, "admins"))
		})
	})
	t.Run("List", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createPoolGroup(t, s, newPoolGroup(poolB, "zz-other-pool"))
		testPaging(t,
			func(name string) { createPoolGroup(t, s, newPoolGroup(poolA, name)) },
			func(opt behalf.ListOptions) []string {
				gs, err := s.ListPoolGroups(t.Context(), poolA, opt)
				ok(t, err)
				for _, g := range gs {
					wantEqual(t, "listed group", g, newPoolGroup(poolA, g.Name))
				}
				return names(gs, func(g *behalf.PoolGroup) string { return g.Name })
			})
		gs, err := s.ListPoolGroups(t.Context(), "us-east-1_nopool", behalf.ListOptions{})
		ok(t, err)
		if len(gs) != 0 {
			t.Fatalf("a missing pool lists %d groups", len(gs))
		}
	})
	t.Run("Count", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		for i := range 5 {
			createPoolGroup(t, s, newPoolGroup(poolA, fmt.Sprintf("g%d", i)))
		}
		createPoolGroup(t, s, newPoolGroup(poolB, "other"))
		for _, c := range []struct{ limit, want int }{{0, 5}, {-1, 5}, {3, 3}, {5, 5}, {10, 5}} {
			n, err := s.CountPoolGroups(t.Context(), poolA, c.limit)
			ok(t, err)
			if n != c.want {
				t.Errorf("CountPoolGroups(limit %d) = %d, want %d", c.limit, n, c.want)
			}
		}
	})
	t.Run("Members", func(t *testing.T) { testPoolGroupMembers(t, open) })
}

// testPoolGroupMembers checks memberships: adding, removing, listing both
// ways, the limit, and the cascades from groups, users and pools.
func testPoolGroupMembers(t *testing.T, open openFunc) {
	// setup makes pool A with users alice, bob and carol and groups
	// admins, users and empty, and pool B with a user and group of the same
	// names.
	setup := func(t *testing.T) behalf.Store {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		for i, u := range []string{"alice", "bob", "carol"} {
			createPoolUser(t, s, newPoolUser(poolA, u, fmt.Sprintf("sub-%d", i)))
		}
		createPoolUser(t, s, newPoolUser(poolB, "alice", "sub-b"))
		for _, g := range []string{"admins", "users", "empty"} {
			createPoolGroup(t, s, newPoolGroup(poolA, g))
		}
		createPoolGroup(t, s, newPoolGroup(poolB, "admins"))
		return s
	}
	t.Run("AddAndList", func(t *testing.T) {
		s := setup(t)
		addMember(t, s, poolA, "users", "carol")
		addMember(t, s, poolA, "users", "alice")
		addMember(t, s, poolA, "admins", "alice")
		addMember(t, s, poolA, "users", "bob")
		// Adding a member again changes nothing.
		addMember(t, s, poolA, "admins", "alice")
		wantNames(t, "alice's groups", groupsOf(t, s, poolA, "alice"), []string{"admins", "users"})
		wantNames(t, "bob's groups", groupsOf(t, s, poolA, "bob"), []string{"users"})
		wantNames(t, "users", membersOf(t, s, poolA, "users"), []string{"alice", "bob", "carol"})
		wantNames(t, "admins", membersOf(t, s, poolA, "admins"), []string{"alice"})
		wantNames(t, "empty", membersOf(t, s, poolA, "empty"), nil)
		// Pools are separate.
		wantNames(t, "pool B alice's groups", groupsOf(t, s, poolB, "alice"), nil)
		wantNames(t, "pool B admins", membersOf(t, s, poolB, "admins"), nil)
		wantNames(t, "missing user's groups", groupsOf(t, s, poolA, "nobody"), nil)
		wantNames(t, "missing group's users", membersOf(t, s, poolA, "nogroup"), nil)
		// Listed records are whole.
		gs, err := s.ListPoolUserGroups(t.Context(), poolA, "alice", behalf.ListOptions{})
		ok(t, err)
		wantEqualList(t, "alice's groups", gs, []*behalf.PoolGroup{newPoolGroup(poolA, "admins"), newPoolGroup(poolA, "users")})
		us, err := s.ListPoolGroupMembers(t.Context(), poolA, "admins", behalf.ListOptions{})
		ok(t, err)
		wantEqualList(t, "admins", us, []*behalf.PoolUser{newPoolUser(poolA, "alice", "sub-0")})
	})
	t.Run("Paging", func(t *testing.T) {
		s := setup(t)
		testPaging(t,
			func(name string) {
				createPoolUser(t, s, newPoolUser(poolA, "u-"+name, "sub-u-"+name))
				createPoolGroup(t, s, newPoolGroup(poolA, name))
				addMember(t, s, poolA, name, "alice")
				addMember(t, s, poolA, "empty", "u-"+name)
			},
			func(opt behalf.ListOptions) []string {
				gs, err := s.ListPoolUserGroups(t.Context(), poolA, "alice", opt)
				ok(t, err)
				got := names(gs, func(g *behalf.PoolGroup) string { return g.Name })
				if opt.After != "" {
					opt.After = "u-" + opt.After
				}
				us, err := s.ListPoolGroupMembers(t.Context(), poolA, "empty", opt)
				ok(t, err)
				for i, u := range us {
					if i >= len(got) || u.Username != "u-"+got[i] {
						t.Fatalf("members page %q does not match groups page %q", names(us, func(u *behalf.PoolUser) string { return u.Username }), got)
					}
				}
				if len(us) != len(got) {
					t.Fatalf("members page has %d users, groups page %d groups", len(us), len(got))
				}
				return got
			})
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := setup(t)
		wantNoPoolGroup(t, s.AddPoolGroupMember(t.Context(), poolA, "nogroup", "alice", 0, t0))
		wantNoPoolGroup(t, s.AddPoolGroupMember(t.Context(), poolA, "Admins", "alice", 0, t0))
		wantNoPoolUser(t, s.AddPoolGroupMember(t.Context(), poolA, "admins", "nobody", 0, t0))
		wantNoPoolUser(t, s.AddPoolGroupMember(t.Context(), poolA, "admins", "Alice", 0, t0))
		wantNoPoolUser(t, s.AddPoolGroupMember(t.Context(), "us-east-1_nopool", "admins", "alice", 0, t0))
		wantNames(t, "alice's groups", groupsOf(t, s, poolA, "alice"), nil)
	})
	t.Run("Remove", func(t *testing.T) {
		s := setup(t)
		addMember(t, s, poolA, "admins", "alice")
		addMember(t, s, poolA, "users", "alice")
		addMember(t, s, poolA, "admins", "bob")
		ok(t, s.RemovePoolGroupMember(t.Context(), poolA, "admins", "alice"))
		wantNames(t, "alice's groups", groupsOf(t, s, poolA, "alice"), []string{"users"})
		wantNames(t, "admins", membersOf(t, s, poolA, "admins"), []string{"bob"})
		// Removing what is not there is not an error.
		ok(t, s.RemovePoolGroupMember(t.Context(), poolA, "admins", "alice"))
		ok(t, s.RemovePoolGroupMember(t.Context(), poolA, "nogroup", "alice"))
		ok(t, s.RemovePoolGroupMember(t.Context(), poolA, "admins", "nobody"))
		ok(t, s.RemovePoolGroupMember(t.Context(), poolB, "admins", "bob"))
		wantNames(t, "admins", membersOf(t, s, poolA, "admins"), []string{"bob"})
	})
	t.Run("Limit", func(t *testing.T) {
		s := setup(t)
		ok(t, s.AddPoolGroupMember(t.Context(), poolA, "admins", "alice", 2, t0))
		ok(t, s.AddPoolGroupMember(t.Context(), poolA, "users", "alice", 2, t0))
		err := s.AddPoolGroupMember(t.Context(), poolA, "empty", "alice", 2, t0)
		wantCode(t, err, behalf.EFORBIDDEN)
		// Being a member already is fine at the limit.
		ok(t, s.AddPoolGroupMember(t.Context(), poolA, "users", "alice", 2, t0))
		// The limit is per user.
		ok(t, s.AddPoolGroupMember(t.Context(), poolA, "empty", "bob", 2, t0))
		wantNames(t, "alice's groups", groupsOf(t, s, poolA, "alice"), []string{"admins", "users"})
	})
	t.Run("LimitConcurrent", func(t *testing.T) {
		s := setup(t)
		const n, max = 12, 5
		for i := range n {
			createPoolGroup(t, s, newPoolGroup(poolA, fmt.Sprintf("c%02d", i)))
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				err := s.AddPoolGroupMember(t.Context(), poolA, fmt.Sprintf("c%02d", i), "alice", max, t0)
				if err != nil && behalf.ErrorCode(err) != behalf.EFORBIDDEN {
					t.Errorf("AddPoolGroupMember %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if got := groupsOf(t, s, poolA, "alice"); len(got) != max {
			t.Fatalf("after %d concurrent adds with a limit of %d alice is in %q", n, max, got)
		}
	})
	t.Run("DeleteGroupRemovesMemberships", func(t *testing.T) {
		s := setup(t)
		addMember(t, s, poolA, "admins", "alice")
		addMember(t, s, poolA, "users", "alice")
		addMember(t, s, poolA, "admins", "bob")
		addMember(t, s, poolB, "admins", "alice")
		ok(t, s.DeletePoolGroup(t.Context(), poolA, "admins"))
		wantNames(t, "alice's groups", groupsOf(t, s, poolA, "alice"), []string{"users"})
		wantNames(t, "bob's groups", groupsOf(t, s, poolA, "bob"), nil)
		wantNames(t, "pool B alice's groups", groupsOf(t, s, poolB, "alice"), []string{"admins"})
		// A new group of the same name starts empty.
		createPoolGroup(t, s, newPoolGroup(poolA, "admins"))
		wantNames(t, "new admins", membersOf(t, s, poolA, "admins"), nil)
	})
	t.Run("DeleteUserRemovesMemberships", func(t *testing.T) {
		s := setup(t)
		addMember(t, s, poolA, "admins", "alice")
		addMember(t, s, poolA, "users", "alice")
		addMember(t, s, poolA, "users", "bob")
		addMember(t, s, poolB, "admins", "alice")
		ok(t, s.DeletePoolUser(t.Context(), poolA, "alice"))
		wantNames(t, "admins", membersOf(t, s, poolA, "admins"), nil)
		wantNames(t, "users", membersOf(t, s, poolA, "users"), []string{"bob"})
		wantNames(t, "pool B admins", membersOf(t, s, poolB, "admins"), []string{"alice"})
		// A new user of the same name is in no group.
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-new"))
		wantNames(t, "new alice's groups", groupsOf(t, s, poolA, "alice"), nil)
	})
	t.Run("DeletePoolRemovesAll", func(t *testing.T) {
		s := setup(t)
		addMember(t, s, poolA, "admins", "alice")
		addMember(t, s, poolB, "admins", "alice")
		ok(t, s.DeleteUserPool(t.Context(), poolA))
		createUserPool(t, s, newUserPool(poolA))
		gs, err := s.ListPoolGroups(t.Context(), poolA, behalf.ListOptions{})
		ok(t, err)
		if len(gs) != 0 {
			t.Fatalf("a re-created pool has %d groups", len(gs))
		}
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-0"))
		createPoolGroup(t, s, newPoolGroup(poolA, "admins"))
		wantNames(t, "re-created alice's groups", groupsOf(t, s, poolA, "alice"), nil)
		wantNames(t, "pool B admins", membersOf(t, s, poolB, "admins"), []string{"alice"})
	})
}
