package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newPoolUser returns a user of pool poolID with every field set. Its email
// and phone number derive from the username, so that users differ.
func newPoolUser(poolID, username, sub string) *behalf.PoolUser {
	return &behalf.PoolUser{
		PoolID:   poolID,
		Username: username,
		Sub:      sub,
		Attributes: map[string]string{
			"email":          username + "@example.com",
			"email_verified": "true",
			"phone_number":   "+1555" + username,
			"name":           "Ünïcode ✓ " + username,
		},
		PasswordHash:      "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		Status:            behalf.UserConfirmed,
		Enabled:           true,
		PasswordChangedAt: t0.Add(-time.Hour),
		TokensValidAfter:  t0.Add(-2 * time.Hour),
		CreatedAt:         t0,
		UpdatedAt:         t0.Add(time.Second),
	}
}

// createPoolUser stores u, failing t on error.
func createPoolUser(t *testing.T, s behalf.Store, u *behalf.PoolUser) {
	t.Helper()
	if err := s.CreatePoolUser(t.Context(), u); err != nil {
		t.Fatalf("CreatePoolUser(%q, %q): %v", u.PoolID, u.Username, err)
	}
}

// getPoolUser reads a pool's user by username, failing t on error.
func getPoolUser(t *testing.T, s behalf.Store, poolID, username string) *behalf.PoolUser {
	t.Helper()
	u, err := s.GetPoolUser(t.Context(), poolID, username)
	if err != nil {
		t.Fatalf("GetPoolUser(%q, %q): %v", poolID, username, err)
	}
	return u
}

// wantNoPoolUser fails t unless err is ENOTFOUND with Cognito's message.
func wantNoPoolUser(t *testing.T, err error) {
	t.Helper()
	wantCode(t, err, behalf.ENOTFOUND)
	wantMessage(t, err, "User does not exist.")
}

// testPoolUsers checks the pool user methods of UserPoolStore.
func testPoolUsers(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) { testCreatePoolUser(t, open) })
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
			for _, k := range [][2]string{{poolA, "bob"}, {poolA, "Alice"}, {poolA, "sub-1"}, {poolB, "alice"}, {poolA, ""}, {"", "alice"}} {
				_, err := s.GetPoolUser(t.Context(), k[0], k[1])
				wantNoPoolUser(t, err)
			}
		})
	})
	t.Run("GetBySub", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
			createPoolUser(t, s, newPoolUser(poolA, "bob", "sub-2"))
			got, err := s.GetPoolUserBySub(t.Context(), poolA, "sub-2")
			ok(t, err)
			wantEqual(t, "GetPoolUserBySub", got, newPoolUser(poolA, "bob", "sub-2"))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
			for _, k := range [][2]string{{poolA, "sub-2"}, {poolA, "alice"}, {poolB, "sub-1"}, {poolA, ""}} {
				_, err := s.GetPoolUserBySub(t.Context(), k[0], k[1])
				wantNoPoolUser(t, err)
			}
		})
	})
	t.Run("FindByAttribute", func(t *testing.T) { testFindPoolUserByAttribute(t, open) })
	t.Run("Update", func(t *testing.T) { testUpdatePoolUser(t, open) })
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
			createPoolUser(t, s, newPoolUser(poolA, "bob", "sub-2"))
			createPoolUser(t, s, newPoolUser(poolB, "alice", "sub-1"))
			ok(t, s.DeletePoolUser(t.Context(), poolA, "alice"))
			_, err := s.GetPoolUser(t.Context(), poolA, "alice")
			wantNoPoolUser(t, err)
			_, err = s.GetPoolUserBySub(t.Context(), poolA, "sub-1")
			wantNoPoolUser(t, err)
			_, err = s.FindPoolUserByAttribute(t.Context(), poolA, "email", "alice@example.com")
			wantNoPoolUser(t, err)
			wantEqual(t, "other user", getPoolUser(t, s, poolA, "bob"), newPoolUser(poolA, "bob", "sub-2"))
			wantEqual(t, "same user in other pool", getPoolUser(t, s, poolB, "alice"), newPoolUser(poolB, "alice", "sub-1"))
			// Username and sub are free again.
			createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
			wantNoPoolUser(t, s.DeletePoolUser(t.Context(), poolA, "Alice"))
			wantNoPoolUser(t, s.DeletePoolUser(t.Context(), poolB, "alice"))
		})
		t.Run("RevokesTokens", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
			createPoolUser(t, s, newPoolUser(poolA, "bob", "sub-2"))
			createPoolRefreshToken(t, s, newPoolRefreshToken("hash-1", poolA, "client1", "alice"))
			createPoolRefreshToken(t, s, newPoolRefreshToken("hash-2", poolA, "client2", "alice"))
			createPoolRefreshToken(t, s, newPoolRefreshToken("hash-3", poolA, "client1", "bob"))
			ok(t, s.DeletePoolUser(t.Context(), poolA, "alice"))
			for _, h := range []string{"hash-1", "hash-2"} {
				if !getPoolRefreshToken(t, s, h).Revoked {
					t.Errorf("refresh token %s of the deleted user is not revoked", h)
				}
			}
			wantEqual(t, "other user's refresh token", getPoolRefreshToken(t, s, "hash-3"),
				newPoolRefreshToken("hash-3", poolA, "client1", "bob"))
		})
	})
	t.Run("List", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			// Users of another pool, sorting before, between and after.
			for _, name := range []string{"A", "a0", "zz"} {
				createPoolUser(t, s, newPoolUser(poolB, name, "sub-"+name))
			}
			create := func(name string) { createPoolUser(t, s, newPoolUser(poolA, name, "sub-"+name)) }
			list := func(opt behalf.ListOptions) []string {
				us, err := s.ListPoolUsers(t.Context(), poolA, opt)
				ok(t, err)
				return names(us, func(u *behalf.PoolUser) string { return u.Username })
			}
			testPaging(t, create, list)
		})
		t.Run("Fields", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolUser(t, s, newPoolUser(poolA, "bob", "sub-1"))
			createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-2"))
			us, err := s.ListPoolUsers(t.Context(), poolA, behalf.ListOptions{})
			ok(t, err)
			wantEqualList(t, "ListPoolUsers", us, []*behalf.PoolUser{newPoolUser(poolA, "alice", "sub-2"), newPoolUser(poolA, "bob", "sub-1")})
		})
		t.Run("NoPool", func(t *testing.T) {
			s := open(t)
			us, err := s.ListPoolUsers(t.Context(), poolA, behalf.ListOptions{})
			ok(t, err)
			if len(us) != 0 {
				t.Fatalf("ListPoolUsers of a missing pool = %d users", len(us))
			}
		})
	})
}

// testCreatePoolUser checks CreatePoolUser.
func testCreatePoolUser(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		wantEqual(t, "GetPoolUser", getPoolUser(t, s, poolA, "alice"), newPoolUser(poolA, "alice", "sub-1"))
	})
	t.Run("ZeroFields", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		bare := &behalf.PoolUser{PoolID: poolA, Username: "alice", Sub: "sub-1"}
		createPoolUser(t, s, bare)
		wantEqual(t, "GetPoolUser", getPoolUser(t, s, poolA, "alice"), bare)
	})
	t.Run("ErrConflict", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		// Same username; same sub.
		for _, dup := range []*behalf.PoolUser{newPoolUser(poolA, "alice", "sub-2"), newPoolUser(poolA, "bob", "sub-1")} {
			dup.Attributes["email"] = "other@example.com"
			err := s.CreatePoolUser(t.Context(), dup)
			wantCode(t, err, behalf.ECONFLICT)
			wantMessage(t, err, "User account already exists.")
		}
		wantEqual(t, "GetPoolUser after conflict", getPoolUser(t, s, poolA, "alice"), newPoolUser(poolA, "alice", "sub-1"))
		_, err := s.GetPoolUser(t.Context(), poolA, "bob")
		wantNoPoolUser(t, err)
		_, err = s.GetPoolUserBySub(t.Context(), poolA, "sub-2")
		wantNoPoolUser(t, err)
		_, err = s.FindPoolUserByAttribute(t.Context(), poolA, "email", "other@example.com")
		wantNoPoolUser(t, err)
	})
	t.Run("OtherPool", func(t *testing.T) {
		// Usernames and subs are unique within a pool only.
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		createPoolUser(t, s, newPoolUser(poolB, "alice", "sub-1"))
		wantEqual(t, "user of pool B", getPoolUser(t, s, poolB, "alice"), newPoolUser(poolB, "alice", "sub-1"))
	})
	t.Run("CaseSensitive", func(t *testing.T) {
		// Usernames are compared exactly.
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		createPoolUser(t, s, newPoolUser(poolA, "Alice", "sub-2"))
		wantEqual(t, "GetPoolUser(alice)", getPoolUser(t, s, poolA, "alice"), newPoolUser(poolA, "alice", "sub-1"))
		wantEqual(t, "GetPoolUser(Alice)", getPoolUser(t, s, poolA, "Alice"), newPoolUser(poolA, "Alice", "sub-2"))
		_, err := s.GetPoolUser(t.Context(), poolA, "ALICE")
		wantNoPoolUser(t, err)
	})
	t.Run("ErrPoolNotFound", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		err := s.CreatePoolUser(t.Context(), newPoolUser(poolB, "alice", "sub-1"))
		wantCode(t, err, behalf.ENOTFOUND)
		wantMessage(t, err, "User pool "+poolB+" does not exist.")
	})
}

// testFindPoolUserByAttribute checks FindPoolUserByAttribute.
func testFindPoolUserByAttribute(t *testing.T, open openFunc) {
	find := func(t *testing.T, s behalf.Store, poolID, name, value string) *behalf.PoolUser {
		t.Helper()
		u, err := s.FindPoolUserByAttribute(t.Context(), poolID, name, value)
		if err != nil {
			t.Fatalf("FindPoolUserByAttribute(%q, %q, %q): %v", poolID, name, value, err)
		}
		return u
	}
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		createPoolUser(t, s, newPoolUser(poolA, "bob", "sub-2"))
		createPoolUser(t, s, newPoolUser(poolB, "bob", "sub-3"))
		wantEqual(t, "by email", find(t, s, poolA, "email", "bob@example.com"), newPoolUser(poolA, "bob", "sub-2"))
		wantEqual(t, "by phone_number", find(t, s, poolA, "phone_number", "+1555alice"), newPoolUser(poolA, "alice", "sub-1"))
		wantEqual(t, "by email in pool B", find(t, s, poolB, "email", "bob@example.com"), newPoolUser(poolB, "bob", "sub-3"))
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		noEmail := newPoolUser(poolA, "bob", "sub-2")
		delete(noEmail.Attributes, "email")
		noEmail.Attributes["phone_number"] = ""
		createPoolUser(t, s, noEmail)
		createPoolUser(t, s, &behalf.PoolUser{PoolID: poolA, Username: "carol", Sub: "sub-3"})
		for _, k := range [][3]string{
			{poolA, "email", "ALICE@example.com"}, // exact comparison
			{poolA, "email", "alice@example.com "},
			{poolA, "email", "+1555alice"},
			{poolA, "phone_number", "alice@example.com"},
			{poolB, "email", "alice@example.com"},
			{poolA, "email", ""}, // bob and carol have none
			{poolA, "phone_number", ""},
		} {
			_, err := s.FindPoolUserByAttribute(t.Context(), k[0], k[1], k[2])
			wantNoPoolUser(t, err)
		}
	})
	t.Run("ErrUnsupported", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		for _, name := range []string{"name", "email_verified", "sub", "username", "Email", "email = email OR 1", ""} {
			_, err := s.FindPoolUserByAttribute(t.Context(), poolA, name, "alice@example.com")
			wantCode(t, err, behalf.EINVALID)
			if msg := behalf.ErrorMessage(err); !strings.Contains(msg, "unsupported") {
				t.Errorf("message %q does not say the attribute is unsupported", msg)
			}
		}
	})
	t.Run("Ambiguous", func(t *testing.T) {
		// The store does not make emails unique; the oldest user wins,
		// then the first username.
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		twin := func(username, sub string, created time.Time) *behalf.PoolUser {
			u := newPoolUser(poolA, username, sub)
			u.Attributes["email"] = "shared@example.com"
			u.CreatedAt = created
			return u
		}
		createPoolUser(t, s, twin("a-newer", "sub-1", t0.Add(time.Hour)))
		createPoolUser(t, s, twin("z-older", "sub-2", t0))
		createPoolUser(t, s, twin("b-older", "sub-3", t0))
		wantEqual(t, "by shared email", find(t, s, poolA, "email", "shared@example.com"), twin("b-older", "sub-3", t0))
		// The phone numbers still differ.
		wantEqual(t, "by phone_number", find(t, s, poolA, "phone_number", "+1555a-newer"), twin("a-newer", "sub-1", t0.Add(time.Hour)))
	})
	t.Run("AfterUpdate", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		wantEqual(t, "by email after create", find(t, s, poolA, "email", "alice@example.com"), newPoolUser(poolA, "alice", "sub-1"))
		updated, err := s.UpdatePoolUser(t.Context(), poolA, "alice", func(u *behalf.PoolUser) error {
			u.Attributes["email"] = "alice@new.example.com"
			delete(u.Attributes, "phone_number")
			return nil
		})
		ok(t, err)
		wantEqual(t, "by new email", find(t, s, poolA, "email", "alice@new.example.com"), updated)
		_, err = s.FindPoolUserByAttribute(t.Context(), poolA, "email", "alice@example.com")
		wantNoPoolUser(t, err)
		_, err = s.FindPoolUserByAttribute(t.Context(), poolA, "phone_number", "+1555alice")
		wantNoPoolUser(t, err)
		// An update that fails leaves the lookup columns alone.
		_, err = s.UpdatePoolUser(t.Context(), poolA, "alice", func(u *behalf.PoolUser) error {
			u.Attributes["email"] = "alice@failed.example.com"
			return errFn
		})
		wantFnErr(t, err)
		_, err = s.FindPoolUserByAttribute(t.Context(), poolA, "email", "alice@failed.example.com")
		wantNoPoolUser(t, err)
		// Removing every attribute removes the email.
		_, err = s.UpdatePoolUser(t.Context(), poolA, "alice", func(u *behalf.PoolUser) error {
			u.Attributes = nil
			return nil
		})
		ok(t, err)
		_, err = s.FindPoolUserByAttribute(t.Context(), poolA, "email", "alice@new.example.com")
		wantNoPoolUser(t, err)
	})
}

// testUpdatePoolUser checks UpdatePoolUser.
func testUpdatePoolUser(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		t1 := t0.Add(time.Hour)
		edit := func(u *behalf.PoolUser) {
			u.Attributes["given_name"] = "Alice"
			delete(u.Attributes, "email_verified")
			u.PasswordHash = ""
			u.Status = behalf.UserForceChangePassword
			u.Enabled = false
			u.PasswordChangedAt = t1
			u.TokensValidAfter = t1.Add(time.Minute)
			u.UpdatedAt = t1
		}
		got, err := s.UpdatePoolUser(t.Context(), poolA, "alice", func(u *behalf.PoolUser) error {
			edit(u)
			u.PoolID = poolB                // immutable: ignored
			u.Username = "bob"              // immutable: ignored
			u.Sub = "sub-2"                 // immutable: ignored
			u.CreatedAt = t1.Add(time.Hour) // immutable: ignored
			return nil
		})
		ok(t, err)
		want := newPoolUser(poolA, "alice", "sub-1")
		edit(want)
		wantEqual(t, "UpdatePoolUser result", got, want)
		wantEqual(t, "GetPoolUser after update", getPoolUser(t, s, poolA, "alice"), want)
		bySub, err := s.GetPoolUserBySub(t.Context(), poolA, "sub-1")
		ok(t, err)
		wantEqual(t, "GetPoolUserBySub after update", bySub, want)
		for _, k := range [][2]string{{poolA, "bob"}, {poolB, "alice"}, {poolB, "bob"}} {
			_, err = s.GetPoolUser(t.Context(), k[0], k[1])
			wantNoPoolUser(t, err)
		}
		_, err = s.GetPoolUserBySub(t.Context(), poolA, "sub-2")
		wantNoPoolUser(t, err)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		for _, k := range [][2]string{{poolA, "bob"}, {poolA, "ALICE"}, {poolB, "alice"}} {
			_, err := s.UpdatePoolUser(t.Context(), k[0], k[1], func(*behalf.PoolUser) error {
				t.Error("fn called for a missing user")
				return nil
			})
			wantNoPoolUser(t, err)
		}
	})
	t.Run("ErrFn", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		_, err := s.UpdatePoolUser(t.Context(), poolA, "alice", func(u *behalf.PoolUser) error {
			u.TokensValidAfter = t0
			u.Enabled = false
			u.Attributes = nil
			return errFn
		})
		wantFnErr(t, err)
		wantEqual(t, "GetPoolUser after failed update", getPoolUser(t, s, poolA, "alice"), newPoolUser(poolA, "alice", "sub-1"))
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-1"))
		const n = 20
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, err := s.UpdatePoolUser(t.Context(), poolA, "alice", func(u *behalf.PoolUser) error {
					attrs := u.Attributes
					// Widen the window between read and write, so that a
					// store that does not lock the row loses updates.
					time.Sleep(5 * time.Millisecond)
					attrs[fmt.Sprintf("custom:g%d", i)] = "x"
					u.Attributes = attrs
					return nil
				})
				if err != nil {
					t.Errorf("UpdatePoolUser %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		added := 0
		for name := range getPoolUser(t, s, poolA, "alice").Attributes {
			if strings.HasPrefix(name, "custom:g") {
				added++
			}
		}
		if added != n {
			t.Fatalf("after %d concurrent updates adding an attribute each the user has %d of them, want %d", n, added, n)
		}
	})
}
