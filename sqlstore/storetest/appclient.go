package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newAppClient returns an app client of pool poolID with every field set.
// The validities include a microsecond part, which stores must keep.
func newAppClient(id, poolID string) *behalf.AppClient {
	return &behalf.AppClient{
		ID:                              id,
		PoolID:                          poolID,
		Name:                            "client " + id,
		Secret:                          behalf.Sealed{0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 'c'},
		ExplicitAuthFlows:               []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		AllowedOAuthFlows:               []string{"code", "client_credentials"},
		AllowedOAuthScopes:              []string{"openid", "email", "https://api.example.com/read"},
		AllowedOAuthFlowsUserPoolClient: true,
		CallbackURLs:                    []string{"https://app.example.com/callback", "http://localhost:3000/cb?x=1"},
		LogoutURLs:                      []string{"https://app.example.com/logout"},
		SupportedIdentityProviders:      []string{"COGNITO"},
		AccessTokenValidity:             time.Hour,
		IDTokenValidity:                 5*time.Minute + 250*time.Microsecond,
		RefreshTokenValidity:            30 * 24 * time.Hour,
		EnableTokenRevocation:           true,
		DynamicallyRegistered:           true,
		CreatedAt:                       t0,
		UpdatedAt:                       t0.Add(time.Second),
	}
}

// createAppClient stores c, failing t on error.
func createAppClient(t *testing.T, s behalf.Store, c *behalf.AppClient) {
	t.Helper()
	if err := s.CreateAppClient(t.Context(), c); err != nil {
		t.Fatalf("CreateAppClient(%q): %v", c.ID, err)
	}
}

// getAppClient reads the app client with the given id, failing t on error.
func getAppClient(t *testing.T, s behalf.Store, id string) *behalf.AppClient {
	t.Helper()
	c, err := s.GetAppClient(t.Context(), id)
	if err != nil {
		t.Fatalf("GetAppClient(%q): %v", id, err)
	}
	return c
}

// testAppClients checks the app client methods of UserPoolStore.
func testAppClients(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createAppClient(t, s, newAppClient("client1", poolA))
			wantEqual(t, "GetAppClient", getAppClient(t, s, "client1"), newAppClient("client1", poolA))
		})
		t.Run("ZeroFields", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			bare := &behalf.AppClient{ID: "client1", PoolID: poolA}
			createAppClient(t, s, bare)
			wantEqual(t, "GetAppClient", getAppClient(t, s, "client1"), bare)
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createAppClient(t, s, newAppClient("client1", poolA))
			// Client ids are unique across pools.
			for _, poolID := range []string{poolA, poolB} {
				dup := newAppClient("client1", poolID)
				dup.Name = "other"
				err := s.CreateAppClient(t.Context(), dup)
				wantCode(t, err, behalf.ECONFLICT)
				wantMessage(t, err, "User pool client client1 already exists.")
			}
			wantEqual(t, "GetAppClient after conflict", getAppClient(t, s, "client1"), newAppClient("client1", poolA))
		})
		t.Run("ErrPoolNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			err := s.CreateAppClient(t.Context(), newAppClient("client1", poolB))
			wantCode(t, err, behalf.ENOTFOUND)
			wantMessage(t, err, "User pool "+poolB+" does not exist.")
			_, err = s.GetAppClient(t.Context(), "client1")
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createAppClient(t, s, newAppClient("client1", poolA))
			for _, id := range []string{"client2", "CLIENT1", ""} {
				_, err := s.GetAppClient(t.Context(), id)
				wantCode(t, err, behalf.ENOTFOUND)
				wantMessage(t, err, "User pool client "+id+" does not exist.")
			}
		})
	})
	t.Run("Update", func(t *testing.T) { testUpdateAppClient(t, open) })
	t.Run("CountRegistered", func(t *testing.T) { testCountRegisteredAppClients(t, open) })
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createAppClient(t, s, newAppClient("client1", poolA))
			createAppClient(t, s, newAppClient("client2", poolA))
			ok(t, s.DeleteAppClient(t.Context(), "client1"))
			_, err := s.GetAppClient(t.Context(), "client1")
			wantCode(t, err, behalf.ENOTFOUND)
			wantEqual(t, "other client after delete", getAppClient(t, s, "client2"), newAppClient("client2", poolA))
			getUserPool(t, s, poolA)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			err := s.DeleteAppClient(t.Context(), "client1")
			wantCode(t, err, behalf.ENOTFOUND)
			wantMessage(t, err, "User pool client client1 does not exist.")
		})
		t.Run("RevokesTokens", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createAppClient(t, s, newAppClient("client1", poolA))
			createAppClient(t, s, newAppClient("client2", poolA))
			createPoolRefreshToken(t, s, newPoolRefreshToken("hash-1", poolA, "client1", "alice"))
			createPoolRefreshToken(t, s, newPoolRefreshToken("hash-2", poolA, "client2", "alice"))
			ok(t, s.DeleteAppClient(t.Context(), "client1"))
			if !getPoolRefreshToken(t, s, "hash-1").Revoked {
				t.Error("the deleted client's refresh token is not revoked")
			}
			wantEqual(t, "other client's refresh token", getPoolRefreshToken(t, s, "hash-2"),
				newPoolRefreshToken("hash-2", poolA, "client2", "alice"))
		})
	})
	t.Run("List", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			// Clients of another pool, sorting before, between and after.
			for _, id := range []string{"A", "a0", "zz"} {
				createAppClient(t, s, newAppClient(id, poolB))
			}
			create := func(id string) { createAppClient(t, s, newAppClient(id, poolA)) }
			list := func(opt behalf.ListOptions) []string {
				cs, err := s.ListAppClients(t.Context(), poolA, opt)
				ok(t, err)
				return names(cs, func(c *behalf.AppClient) string { return c.ID })
			}
			testPaging(t, create, list)
		})
		t.Run("Fields", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createAppClient(t, s, newAppClient("client2", poolA))
			createAppClient(t, s, newAppClient("client1", poolA))
			cs, err := s.ListAppClients(t.Context(), poolA, behalf.ListOptions{})
			ok(t, err)
			wantEqualList(t, "ListAppClients", cs, []*behalf.AppClient{newAppClient("client1", poolA), newAppClient("client2", poolA)})
		})
		t.Run("NoPool", func(t *testing.T) {
			s := open(t)
			cs, err := s.ListAppClients(t.Context(), poolA, behalf.ListOptions{})
			ok(t, err)
			if len(cs) != 0 {
				t.Fatalf("ListAppClients of a missing pool = %d clients", len(cs))
			}
		})
	})
}

// testUpdateAppClient checks UpdateAppClient.
func testUpdateAppClient(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createAppClient(t, s, newAppClient("client1", poolA))
		t1 := t0.Add(time.Hour)
		edit := func(c *behalf.AppClient) {
			c.Name = "renamed"
			c.Secret = nil
			c.ExplicitAuthFlows = []string{"ALLOW_REFRESH_TOKEN_AUTH"}
			c.AllowedOAuthFlows = nil
			c.AllowedOAuthScopes = append(c.AllowedOAuthScopes, "profile")
			c.AllowedOAuthFlowsUserPoolClient = false
			c.CallbackURLs = []string{"https://new.example.com/cb"}
			c.LogoutURLs = nil
			c.SupportedIdentityProviders = []string{"COGNITO", "Google"}
			c.AccessTokenValidity = 5 * time.Minute
			c.IDTokenValidity = 24 * time.Hour
			c.RefreshTokenValidity = time.Hour + time.Microsecond
			c.EnableTokenRevocation = false
			c.UpdatedAt = t1
		}
		got, err := s.UpdateAppClient(t.Context(), "client1", func(c *behalf.AppClient) error {
			edit(c)
			c.ID = "client2"                // immutable: ignored
			c.PoolID = poolB                // immutable: ignored
			c.CreatedAt = t1.Add(time.Hour) // immutable: ignored
			return nil
		})
		ok(t, err)
		want := newAppClient("client1", poolA)
		edit(want)
		wantEqual(t, "UpdateAppClient result", got, want)
		wantEqual(t, "GetAppClient after update", getAppClient(t, s, "client1"), want)
		_, err = s.GetAppClient(t.Context(), "client2")
		wantCode(t, err, behalf.ENOTFOUND)
		cs, err := s.ListAppClients(t.Context(), poolB, behalf.ListOptions{})
		ok(t, err)
		if len(cs) != 0 {
			t.Fatalf("the client moved to pool %s", poolB)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		_, err := s.UpdateAppClient(t.Context(), "client1", func(*behalf.AppClient) error {
			t.Error("fn called for a missing client")
			return nil
		})
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrFn", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createAppClient(t, s, newAppClient("client1", poolA))
		_, err := s.UpdateAppClient(t.Context(), "client1", func(c *behalf.AppClient) error {
			c.Name = "changed"
			c.CallbackURLs = nil
			c.AccessTokenValidity = time.Minute
			return errFn
		})
		wantFnErr(t, err)
		wantEqual(t, "GetAppClient after failed update", getAppClient(t, s, "client1"), newAppClient("client1", poolA))
	})
}

// testCountRegisteredAppClients checks CountRegisteredAppClients: only
// the pool's DynamicallyRegistered clients count, up to the limit.
func testCountRegisteredAppClients(t *testing.T, open openFunc) {
	s := open(t)
	createUserPool(t, s, newUserPool(poolA))
	createUserPool(t, s, newUserPool(poolB))
	count := func(poolID string, limit int) int {
		t.Helper()
		n, err := s.CountRegisteredAppClients(t.Context(), poolID, limit)
		ok(t, err)
		return n
	}
	if n := count(poolA, 0); n != 0 {
		t.Fatalf("CountRegisteredAppClients(empty pool) = %d, want 0", n)
	}
	for i, id := range []string{"r1", "r2", "r3"} {
		c := newAppClient(id, poolA)
		c.DynamicallyRegistered = true
		createAppClient(t, s, c)
		admin := newAppClient("admin"+id, poolA)
		admin.DynamicallyRegistered = false
		createAppClient(t, s, admin)
		other := newAppClient("other"+id, poolB)
		createAppClient(t, s, other)
		if got, want := count(poolA, 0), i+1; got != want {
			t.Fatalf("CountRegisteredAppClients(%s) = %d, want %d", poolA, got, want)
		}
	}
	if got := count(poolA, 2); got != 2 {
		t.Fatalf("CountRegisteredAppClients(limit 2) = %d, want 2", got)
	}
	if got := count(poolA, 10); got != 3 {
		t.Fatalf("CountRegisteredAppClients(limit 10) = %d, want 3", got)
	}
	if got := getAppClient(t, s, "adminr1"); got.DynamicallyRegistered {
		t.Fatal("an administrator's client reads as dynamically registered")
	}
	// The flag is not an update's to change.
	got, err := s.UpdateAppClient(t.Context(), "r1", func(c *behalf.AppClient) error {
		c.DynamicallyRegistered = false
		return nil
	})
	ok(t, err)
	if !got.DynamicallyRegistered || !getAppClient(t, s, "r1").DynamicallyRegistered {
		t.Fatal("UpdateAppClient cleared DynamicallyRegistered")
	}
	ok(t, s.DeleteAppClient(t.Context(), "r2"))
	if got := count(poolA, 0); got != 2 {
		t.Fatalf("CountRegisteredAppClients after a delete = %d, want 2", got)
	}
}
