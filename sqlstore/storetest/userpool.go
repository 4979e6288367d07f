package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// Pool fixtures: two pools, so that every test can check that the other
// pool is untouched.
const (
	poolA = "us-east-1_AbC123xyz"
	poolB = "eu-west-1_ZyX987cba"
)

// newUserPool returns a user pool with every field set.
func newUserPool(id string) *behalf.UserPool {
	return &behalf.UserPool{
		ID:   id,
		Name: "pool " + id,
		PasswordPolicy: behalf.PasswordPolicy{
			MinimumLength:                 12,
			RequireUppercase:              true,
			RequireLowercase:              false,
			RequireNumbers:                true,
			RequireSymbols:                false,
			TemporaryPasswordValidityDays: 3,
		},
		UsernameAttributes:       []string{"email", "phone_number"},
		AutoVerifiedAttributes:   []string{"email"},
		AllowAdminCreateUserOnly: true,
		MFAConfiguration:         behalf.MFAOff,
		VerificationMessage:      behalf.VerificationMessage{EmailSubject: "Ünïcode ✓", EmailMessage: "Code: {####}", SMSMessage: "{####} is your code"},
		Domain:                   "login-example",
		Tags:                     map[string]string{"team": "identity", "ünïcode": "✓"},
		CreatedAt:                t0,
		UpdatedAt:                t0.Add(time.Second),
	}
}

// createUserPool stores p, failing t on error.
func createUserPool(t *testing.T, s behalf.Store, p *behalf.UserPool) {
	t.Helper()
	if err := s.CreateUserPool(t.Context(), p); err != nil {
		t.Fatalf("CreateUserPool(%q): %v", p.ID, err)
	}
}

// getUserPool reads the user pool with the given id, failing t on error.
func getUserPool(t *testing.T, s behalf.Store, id string) *behalf.UserPool {
	t.Helper()
	p, err := s.GetUserPool(t.Context(), id)
	if err != nil {
		t.Fatalf("GetUserPool(%q): %v", id, err)
	}
	return p
}

// wantMessage fails t unless err's caller-safe message is want.
func wantMessage(t *testing.T, err error, want string) {
	t.Helper()
	if got := behalf.ErrorMessage(err); got != want {
		t.Fatalf("error message = %q (err: %v), want %q", got, err, want)
	}
}

// testUserPools checks the user pool methods of UserPoolStore.
func testUserPools(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			wantEqual(t, "GetUserPool", getUserPool(t, s, poolA), newUserPool(poolA))
		})
		t.Run("ZeroFields", func(t *testing.T) {
			s := open(t)
			bare := &behalf.UserPool{ID: poolA}
			createUserPool(t, s, bare)
			wantEqual(t, "GetUserPool", getUserPool(t, s, poolA), bare)
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			dup := newUserPool(poolA)
			dup.Name = "other"
			err := s.CreateUserPool(t.Context(), dup)
			wantCode(t, err, behalf.ECONFLICT)
			wantMessage(t, err, "User pool "+poolA+" already exists.")
			wantEqual(t, "GetUserPool after conflict", getUserPool(t, s, poolA), newUserPool(poolA))
		})
	})
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			for _, id := range []string{poolB, "US-EAST-1_ABC123XYZ", ""} {
				_, err := s.GetUserPool(t.Context(), id)
				wantCode(t, err, behalf.ENOTFOUND)
				wantMessage(t, err, "User pool "+id+" does not exist.")
			}
		})
	})
	t.Run("Update", func(t *testing.T) { testUpdateUserPool(t, open) })
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			ok(t, s.DeleteUserPool(t.Context(), poolA))
			_, err := s.GetUserPool(t.Context(), poolA)
			wantCode(t, err, behalf.ENOTFOUND)
			wantEqual(t, "other pool after delete", getUserPool(t, s, poolB), newUserPool(poolB))
			// The id is free again.
			createUserPool(t, s, newUserPool(poolA))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			err := s.DeleteUserPool(t.Context(), poolA)
			wantCode(t, err, behalf.ENOTFOUND)
			wantMessage(t, err, "User pool "+poolA+" does not exist.")
		})
		t.Run("Cascade", func(t *testing.T) { testDeleteUserPoolCascade(t, open) })
	})
	t.Run("List", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			create := func(id string) { createUserPool(t, s, newUserPool(id)) }
			list := func(opt behalf.ListOptions) []string {
				ps, err := s.ListUserPools(t.Context(), opt)
				ok(t, err)
				return names(ps, func(p *behalf.UserPool) string { return p.ID })
			}
			testPaging(t, create, list)
		})
		t.Run("Fields", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolB))
			createUserPool(t, s, newUserPool(poolA))
			ps, err := s.ListUserPools(t.Context(), behalf.ListOptions{})
			ok(t, err)
			wantEqualList(t, "ListUserPools", ps, []*behalf.UserPool{newUserPool(poolB), newUserPool(poolA)})
		})
	})
}

// testUpdateUserPool checks UpdateUserPool.
func testUpdateUserPool(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		t1 := t0.Add(time.Hour)
		edit := func(p *behalf.UserPool) {
			p.Name = "renamed pool"
			p.PasswordPolicy = behalf.DefaultPasswordPolicy
			p.UsernameAttributes = nil
			p.AutoVerifiedAttributes = []string{"phone_number", "email"}
			p.AllowAdminCreateUserOnly = false
			p.VerificationMessage = behalf.VerificationMessage{}
			p.Domain = ""
			p.Tags["added"] = "yes"
			p.UpdatedAt = t1
		}
		got, err := s.UpdateUserPool(t.Context(), poolA, func(p *behalf.UserPool) error {
			edit(p)
			p.ID = poolB                    // immutable: ignored
			p.CreatedAt = t1.Add(time.Hour) // immutable: ignored
			return nil
		})
		ok(t, err)
		want := newUserPool(poolA)
		edit(want)
		wantEqual(t, "UpdateUserPool result", got, want)
		wantEqual(t, "GetUserPool after update", getUserPool(t, s, poolA), want)
		_, err = s.GetUserPool(t.Context(), poolB)
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.UpdateUserPool(t.Context(), poolA, func(*behalf.UserPool) error {
			t.Error("fn called for a missing pool")
			return nil
		})
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrFn", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		_, err := s.UpdateUserPool(t.Context(), poolA, func(p *behalf.UserPool) error {
			p.Name = "changed"
			p.PasswordPolicy.MinimumLength = 6
			p.Tags = nil
			return errFn
		})
		wantFnErr(t, err)
		wantEqual(t, "GetUserPool after failed update", getUserPool(t, s, poolA), newUserPool(poolA))
	})
}

// testDeleteUserPoolCascade checks that deleting a pool deletes its app
// clients, users, refresh tokens and auth requests, and nothing of another
// pool.
func testDeleteUserPoolCascade(t *testing.T, open openFunc) {
	s := open(t)
	type content struct {
		client  *behalf.AppClient
		user    *behalf.PoolUser
		token   *behalf.PoolRefreshToken
		request *behalf.PoolAuthRequest
	}
	fill := func(poolID, suffix string) content {
		createUserPool(t, s, newUserPool(poolID))
		c := content{
			client:  newAppClient("client"+suffix, poolID),
			user:    newPoolUser(poolID, "alice", "sub-alice"+suffix),
			token:   newPoolRefreshToken("hash"+suffix, poolID, "client"+suffix, "alice"),
			request: newPoolAuthRequest("req"+suffix, poolID, "code"+suffix),
		}
		createAppClient(t, s, c.client)
		createPoolUser(t, s, c.user)
		createPoolRefreshToken(t, s, c.token)
		createPoolAuthRequest(t, s, c.request)
		return c
	}
	a := fill(poolA, "-a")
	b := fill(poolB, "-b")

	ok(t, s.DeleteUserPool(t.Context(), poolA))

	_, err := s.GetAppClient(t.Context(), a.client.ID)
	wantCode(t, err, behalf.ENOTFOUND)
	_, err = s.GetPoolUser(t.Context(), poolA, "alice")
	wantCode(t, err, behalf.ENOTFOUND)
	_, err = s.GetPoolUserBySub(t.Context(), poolA, a.user.Sub)
	wantCode(t, err, behalf.ENOTFOUND)
	_, err = s.FindPoolUserByAttribute(t.Context(), poolA, "email", a.user.Attributes["email"])
	wantCode(t, err, behalf.ENOTFOUND)
	_, err = s.GetPoolRefreshToken(t.Context(), a.token.Hash)
	wantCode(t, err, behalf.ENOTFOUND)
	_, err = s.GetPoolAuthRequest(t.Context(), a.request.ID)
	wantCode(t, err, behalf.ENOTFOUND)
	_, err = s.GetPoolAuthRequestByCode(t.Context(), a.request.CodeHash)
	wantCode(t, err, behalf.ENOTFOUND)

	// A pool re-created with the same id starts empty.
	createUserPool(t, s, newUserPool(poolA))
	cs, err := s.ListAppClients(t.Context(), poolA, behalf.ListOptions{})
	ok(t, err)
	us, err := s.ListPoolUsers(t.Context(), poolA, behalf.ListOptions{})
	ok(t, err)
	if len(cs) != 0 || len(us) != 0 {
		t.Fatalf("re-created pool has %d clients and %d users, want none", len(cs), len(us))
	}
	// The ids and codes of the deleted records are free again.
	fill2 := content{
		client:  newAppClient(a.client.ID, poolA),
		user:    newPoolUser(poolA, "alice", a.user.Sub),
		token:   newPoolRefreshToken(a.token.Hash, poolA, a.client.ID, "alice"),
		request: newPoolAuthRequest(a.request.ID, poolA, a.request.CodeHash),
	}
	createAppClient(t, s, fill2.client)
	createPoolUser(t, s, fill2.user)
	createPoolRefreshToken(t, s, fill2.token)
	createPoolAuthRequest(t, s, fill2.request)

	// The other pool is untouched.
	wantEqual(t, "other pool", getUserPool(t, s, poolB), newUserPool(poolB))
	wantEqual(t, "other pool's client", getAppClient(t, s, b.client.ID), b.client)
	wantEqual(t, "other pool's user", getPoolUser(t, s, poolB, "alice"), b.user)
	wantEqual(t, "other pool's refresh token", getPoolRefreshToken(t, s, b.token.Hash), b.token)
	wantEqual(t, "other pool's auth request", getPoolAuthRequest(t, s, b.request.ID), b.request)
}
