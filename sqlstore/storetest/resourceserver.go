package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// apiServer is the identifier of the resource-server fixtures: an URL, so
// that its scopes have two slashes before the scope name.
const apiServer = "https://api.example.com"

// newResourceServer returns a resource server of pool poolID with every
// field set: its scopes are read, write and admin.
func newResourceServer(poolID, identifier string) *behalf.ResourceServer {
	return &behalf.ResourceServer{
		PoolID:     poolID,
		Identifier: identifier,
		Name:       "server " + identifier,
		Scopes: []behalf.ResourceServerScope{
			{Name: "read", Description: "Read the ünïcode data"},
			{Name: "write", Description: "Write it"},
			{Name: "admin", Description: "Everything"},
		},
		CreatedAt: t0,
		UpdatedAt: t0.Add(time.Second),
	}
}

// createResourceServer stores rs, failing t on error.
func createResourceServer(t *testing.T, s behalf.Store, rs *behalf.ResourceServer) {
	t.Helper()
	if err := s.CreateResourceServer(t.Context(), rs); err != nil {
		t.Fatalf("CreateResourceServer(%q): %v", rs.Identifier, err)
	}
}

// getResourceServer reads a resource server, failing t on error.
func getResourceServer(t *testing.T, s behalf.Store, poolID, identifier string) *behalf.ResourceServer {
	t.Helper()
	rs, err := s.GetResourceServer(t.Context(), poolID, identifier)
	if err != nil {
		t.Fatalf("GetResourceServer(%q, %q): %v", poolID, identifier, err)
	}
	return rs
}

// scopedClient returns newAppClient with the given scopes.
func scopedClient(id, poolID string, scopes ...string) *behalf.AppClient {
	c := newAppClient(id, poolID)
	c.AllowedOAuthScopes = scopes
	return c
}

// testResourceServers checks the resource server methods of UserPoolStore.
func testResourceServers(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createResourceServer(t, s, newResourceServer(poolA, apiServer))
			wantEqual(t, "GetResourceServer", getResourceServer(t, s, poolA, apiServer), newResourceServer(poolA, apiServer))
		})
		t.Run("NoScopes", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			bare := &behalf.ResourceServer{PoolID: poolA, Identifier: "bare", Name: "bare"}
			createResourceServer(t, s, bare)
			wantEqual(t, "GetResourceServer", getResourceServer(t, s, poolA, "bare"), bare)
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createResourceServer(t, s, newResourceServer(poolA, apiServer))
			dup := newResourceServer(poolA, apiServer)
			dup.Name = "other"
			err := s.CreateResourceServer(t.Context(), dup)
			wantCode(t, err, behalf.ECONFLICT)
			wantEqual(t, "after conflict", getResourceServer(t, s, poolA, apiServer), newResourceServer(poolA, apiServer))
			// Identifiers are unique within a pool only.
			createResourceServer(t, s, newResourceServer(poolB, apiServer))
		})
		t.Run("ErrPoolNotFound", func(t *testing.T) {
			s := open(t)
			err := s.CreateResourceServer(t.Context(), newResourceServer(poolA, apiServer))
			wantCode(t, err, behalf.ENOTFOUND)
			wantMessage(t, err, "User pool "+poolA+" does not exist.")
		})
	})
	t.Run("Get", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createResourceServer(t, s, newResourceServer(poolA, apiServer))
		for _, key := range [][2]string{{poolB, apiServer}, {poolA, apiServer + "/"}, {poolA, "HTTPS://api.example.com"}, {poolA, ""}} {
			_, err := s.GetResourceServer(t.Context(), key[0], key[1])
			wantCode(t, err, behalf.ENOTFOUND)
		}
	})
	t.Run("Update", func(t *testing.T) { testUpdateResourceServer(t, open) })
	t.Run("Delete", func(t *testing.T) { testDeleteResourceServer(t, open) })
	t.Run("List", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			for _, id := range []string{"A", "a0", "zz"} {
				createResourceServer(t, s, newResourceServer(poolB, id))
			}
			create := func(id string) { createResourceServer(t, s, newResourceServer(poolA, id)) }
			list := func(opt behalf.ListOptions) []string {
				rs, err := s.ListResourceServers(t.Context(), poolA, opt)
				ok(t, err)
				return names(rs, func(r *behalf.ResourceServer) string { return r.Identifier })
			}
			testPaging(t, create, list)
		})
		t.Run("Fields", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createResourceServer(t, s, newResourceServer(poolA, "b"))
			createResourceServer(t, s, newResourceServer(poolA, "a"))
			rs, err := s.ListResourceServers(t.Context(), poolA, behalf.ListOptions{})
			ok(t, err)
			wantEqualList(t, "ListResourceServers", rs, []*behalf.ResourceServer{newResourceServer(poolA, "a"), newResourceServer(poolA, "b")})
		})
	})
	t.Run("DeletePoolCascade", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createResourceServer(t, s, newResourceServer(poolA, apiServer))
		createResourceServer(t, s, newResourceServer(poolB, apiServer))
		ok(t, s.DeleteUserPool(t.Context(), poolA))
		_, err := s.GetResourceServer(t.Context(), poolA, apiServer)
		wantCode(t, err, behalf.ENOTFOUND)
		createUserPool(t, s, newUserPool(poolA))
		createResourceServer(t, s, newResourceServer(poolA, apiServer))
		wantEqual(t, "other pool's server", getResourceServer(t, s, poolB, apiServer), newResourceServer(poolB, apiServer))
	})
}

// testUpdateResourceServer checks UpdateResourceServer, and that the
// scopes it drops leave the pool's clients (and only those scopes, and
// only that pool's clients).
func testUpdateResourceServer(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createResourceServer(t, s, newResourceServer(poolA, apiServer))
		t1 := t0.Add(time.Hour)
		got, err := s.UpdateResourceServer(t.Context(), poolA, apiServer, func(rs *behalf.ResourceServer) error {
			rs.Name = "renamed"
			rs.Scopes = []behalf.ResourceServerScope{{Name: "read", Description: "new words"}, {Name: "list", Description: "List"}}
			rs.UpdatedAt = t1
			// Fields an update may not change.
			rs.PoolID, rs.Identifier, rs.CreatedAt = poolB, "other", t1
			return nil
		})
		ok(t, err)
		want := newResourceServer(poolA, apiServer)
		want.Name = "renamed"
		want.Scopes = []behalf.ResourceServerScope{{Name: "read", Description: "new words"}, {Name: "list", Description: "List"}}
		want.UpdatedAt = t1
		wantEqual(t, "UpdateResourceServer result", got, want)
		wantEqual(t, "GetResourceServer after update", getResourceServer(t, s, poolA, apiServer), want)
	})
	t.Run("DropsClientScopes", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createResourceServer(t, s, newResourceServer(poolA, apiServer))
		createResourceServer(t, s, newResourceServer(poolA, apiServer+"/v2"))
		both := scopedClient("both", poolA, "openid", apiServer+"/read", apiServer+"/write", apiServer+"/v2/write", apiServer+"/admin")
		kept := scopedClient("kept", poolA, apiServer+"/read")
		other := scopedClient("other", poolB, apiServer+"/write")
		for _, c := range []*behalf.AppClient{both, kept, other} {
			createAppClient(t, s, c)
		}
		_, err := s.UpdateResourceServer(t.Context(), poolA, apiServer, func(rs *behalf.ResourceServer) error {
			rs.Scopes = []behalf.ResourceServerScope{{Name: "read", Description: "Read"}, {Name: "list", Description: "List"}}
			return nil
		})
		ok(t, err)
		// write and admin are gone; UpdatedAt and everything else stay.
		want := scopedClient("both", poolA, "openid", apiServer+"/read", apiServer+"/v2/write")
		wantEqual(t, "client losing two scopes", getAppClient(t, s, "both"), want)
		wantEqual(t, "client losing none", getAppClient(t, s, "kept"), kept)
		wantEqual(t, "client of another pool", getAppClient(t, s, "other"), other)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createResourceServer(t, s, newResourceServer(poolB, apiServer))
		called := false
		_, err := s.UpdateResourceServer(t.Context(), poolA, apiServer, func(*behalf.ResourceServer) error {
			called = true
			return nil
		})
		wantCode(t, err, behalf.ENOTFOUND)
		if called {
			t.Fatal("fn called for a missing resource server")
		}
	})
	t.Run("ErrFn", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createResourceServer(t, s, newResourceServer(poolA, apiServer))
		createAppClient(t, s, scopedClient("client1", poolA, apiServer+"/write"))
		_, err := s.UpdateResourceServer(t.Context(), poolA, apiServer, func(rs *behalf.ResourceServer) error {
			rs.Name = "changed"
			rs.Scopes = nil
			return errFn
		})
		wantFnErr(t, err)
		wantEqual(t, "after failed update", getResourceServer(t, s, poolA, apiServer), newResourceServer(poolA, apiServer))
		wantEqual(t, "client after failed update", getAppClient(t, s, "client1"), scopedClient("client1", poolA, apiServer+"/write"))
	})
}

// testDeleteResourceServer checks DeleteResourceServer and that its scopes
// leave the pool's clients.
func testDeleteResourceServer(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createResourceServer(t, s, newResourceServer(poolA, apiServer))
		createResourceServer(t, s, newResourceServer(poolA, apiServer+"/v2"))
		createResourceServer(t, s, newResourceServer(poolB, apiServer))
		// A scope of the server, one it does not define (stored before
		// definitions were checked), another server's, and system scopes.
		createAppClient(t, s, scopedClient("client1", poolA, "openid", apiServer+"/read", apiServer+"/undefined",
			apiServer+"/v2/read", "email"))
		createAppClient(t, s, scopedClient("client2", poolB, apiServer+"/read"))
		ok(t, s.DeleteResourceServer(t.Context(), poolA, apiServer))
		_, err := s.GetResourceServer(t.Context(), poolA, apiServer)
		wantCode(t, err, behalf.ENOTFOUND)
		wantEqual(t, "client of the pool", getAppClient(t, s, "client1"),
			scopedClient("client1", poolA, "openid", apiServer+"/v2/read", "email"))
		wantEqual(t, "client of another pool", getAppClient(t, s, "client2"), scopedClient("client2", poolB, apiServer+"/read"))
		wantEqual(t, "other server", getResourceServer(t, s, poolA, apiServer+"/v2"), newResourceServer(poolA, apiServer+"/v2"))
		wantEqual(t, "other pool's server", getResourceServer(t, s, poolB, apiServer), newResourceServer(poolB, apiServer))
		// The identifier is free again.
		createResourceServer(t, s, newResourceServer(poolA, apiServer))
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createResourceServer(t, s, newResourceServer(poolB, apiServer))
		err := s.DeleteResourceServer(t.Context(), poolA, apiServer)
		wantCode(t, err, behalf.ENOTFOUND)
		getResourceServer(t, s, poolB, apiServer)
	})
}
