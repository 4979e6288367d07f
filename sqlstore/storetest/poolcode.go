package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newPoolCode returns a code record with every field set.
func newPoolCode(poolID, username, purpose, hash string) *behalf.PoolCode {
	return &behalf.PoolCode{
		PoolID: poolID, Username: username, Purpose: purpose, Hash: hash, Attribute: "email",
		Attempts: 1, ExpiresAt: t0.Add(time.Hour), Sends: 2, SendWindow: t0.Add(-time.Minute), CreatedAt: t0,
	}
}

// testPoolCodes checks the code and outbox methods of UserPoolStore.
func testPoolCodes(t *testing.T, open openFunc) {
	setup := func(t *testing.T) behalf.Store {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-alice"))
		createPoolUser(t, s, newPoolUser(poolA, "bob", "sub-bob"))
		return s
	}
	ctx := t.Context()
	t.Run("PutGet", func(t *testing.T) {
		s := setup(t)
		c := newPoolCode(poolA, "alice", behalf.CodeSignUp, hashAlice)
		ok(t, s.PutPoolCode(ctx, c))
		got, err := s.GetPoolCode(ctx, poolA, "alice", behalf.CodeSignUp)
		ok(t, err)
		wantEqual(t, "GetPoolCode", got, c)
		// Purposes and users are apart.
		_, err = s.GetPoolCode(ctx, poolA, "alice", behalf.CodeResetPassword)
		wantCode(t, err, behalf.ENOTFOUND)
		_, err = s.GetPoolCode(ctx, poolA, "bob", behalf.CodeSignUp)
		wantCode(t, err, behalf.ENOTFOUND)
		// A new code replaces the old one.
		c2 := newPoolCode(poolA, "alice", behalf.CodeSignUp, hashBob)
		c2.Attempts, c2.Sends, c2.Attribute = 0, 3, "phone_number"
		ok(t, s.PutPoolCode(ctx, c2))
		got, err = s.GetPoolCode(ctx, poolA, "alice", behalf.CodeSignUp)
		ok(t, err)
		wantEqual(t, "GetPoolCode after replacement", got, c2)
	})
	t.Run("ErrNoUser", func(t *testing.T) {
		s := setup(t)
		wantCode(t, s.PutPoolCode(ctx, newPoolCode(poolA, "nobody", behalf.CodeSignUp, hashAlice)), behalf.ENOTFOUND)
		wantCode(t, s.PutPoolCode(ctx, newPoolCode(poolB, "alice", behalf.CodeSignUp, hashAlice)), behalf.ENOTFOUND)
		m := &behalf.PoolMessage{ID: "m1", PoolID: poolA, Username: "nobody", Purpose: behalf.CodeSignUp, Medium: behalf.DeliveryEmail, Sealed: behalf.Sealed("x"), CreatedAt: t0, ExpiresAt: t0}
		wantCode(t, s.AddPoolMessage(ctx, m), behalf.ENOTFOUND)
	})
	t.Run("FailAndUse", func(t *testing.T) {
		s := setup(t)
		ok(t, s.PutPoolCode(ctx, newPoolCode(poolA, "alice", behalf.CodeResetPassword, hashAlice)))
		n, err := s.FailPoolCode(ctx, poolA, "alice", behalf.CodeResetPassword, hashAlice)
		ok(t, err)
		wantEqual(t, "attempts", n, 2)
		// A replaced (other hash) or missing code is not counted.
		_, err = s.FailPoolCode(ctx, poolA, "alice", behalf.CodeResetPassword, hashBob)
		wantCode(t, err, behalf.ENOTFOUND)
		wantCode(t, s.UsePoolCode(ctx, poolA, "alice", behalf.CodeResetPassword, hashBob), behalf.ENOTFOUND)
		ok(t, s.UsePoolCode(ctx, poolA, "alice", behalf.CodeResetPassword, hashAlice))
		wantCode(t, s.UsePoolCode(ctx, poolA, "alice", behalf.CodeResetPassword, hashAlice), behalf.ENOTFOUND)
		_, err = s.GetPoolCode(ctx, poolA, "alice", behalf.CodeResetPassword)
		wantCode(t, err, behalf.ENOTFOUND)
		ok(t, s.DeletePoolCode(ctx, poolA, "alice", behalf.CodeResetPassword)) // none: no error
	})
	t.Run("ConcurrentFailAndUse", func(t *testing.T) {
		s := setup(t)
		c := newPoolCode(poolA, "alice", behalf.CodeSignUp, hashAlice)
		c.Attempts = 0
		ok(t, s.PutPoolCode(ctx, c))
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := s.FailPoolCode(ctx, poolA, "alice", behalf.CodeSignUp, hashAlice); err != nil {
					t.Errorf("FailPoolCode: %v", err)
				}
			})
		}
		wg.Wait()
		got, err := s.GetPoolCode(ctx, poolA, "alice", behalf.CodeSignUp)
		ok(t, err)
		wantEqual(t, "attempts after 8 concurrent failures", got.Attempts, 8)
		used := make(chan error, 8)
		for range 8 {
			wg.Go(func() { used <- s.UsePoolCode(ctx, poolA, "alice", behalf.CodeSignUp, hashAlice) })
		}
		wg.Wait()
		close(used)
		n := 0
		for err := range used {
			if err == nil {
				n++
			} else if behalf.ErrorCode(err) != behalf.ENOTFOUND {
				t.Fatalf("UsePoolCode: %v", err)
			}
		}
		wantEqual(t, "successful concurrent uses", n, 1)
	})
	t.Run("Outbox", func(t *testing.T) {
		s := setup(t)
		for i, id := range []string{"m1", "m2", "m3"} {
			user := "alice"
			if id == "m3" {
				user = "bob"
			}
			ok(t, s.AddPoolMessage(ctx, &behalf.PoolMessage{
				ID: id, PoolID: poolA, Username: user, Purpose: behalf.CodeSignUp, Medium: behalf.DeliveryEmail,
				Destination: user + "@example.com", Sealed: behalf.Sealed{0, 1, 2, byte(i)},
				ExpiresAt: t0.Add(time.Duration(i) * time.Hour), CreatedAt: t0.Add(time.Duration(i) * time.Minute),
			}))
		}
		ms, err := s.ListPoolMessages(ctx, poolA, "alice")
		ok(t, err)
		wantEqual(t, "outbox of alice", names(ms, func(m *behalf.PoolMessage) string { return m.ID }), []string{"m2", "m1"})
		wantEqual(t, "m2", ms[0], &behalf.PoolMessage{ID: "m2", PoolID: poolA, Username: "alice", Purpose: behalf.CodeSignUp,
			Medium: behalf.DeliveryEmail, Destination: "alice@example.com", Sealed: behalf.Sealed{0, 1, 2, 1},
			ExpiresAt: t0.Add(time.Hour), CreatedAt: t0.Add(time.Minute)})
		n, err := s.DeleteExpiredPoolMessages(ctx, t0.Add(90*time.Minute))
		ok(t, err)
		wantEqual(t, "expired messages deleted", n, 2)
		ms, err = s.ListPoolMessages(ctx, poolA, "bob")
		ok(t, err)
		wantEqual(t, "outbox of bob", len(ms), 1)
	})
	t.Run("Expiry", func(t *testing.T) {
		s := setup(t)
		ok(t, s.PutPoolCode(ctx, newPoolCode(poolA, "alice", behalf.CodeSignUp, hashAlice)))
		late := newPoolCode(poolA, "bob", behalf.CodeSignUp, hashBob)
		late.ExpiresAt = t0.Add(2 * time.Hour)
		ok(t, s.PutPoolCode(ctx, late))
		n, err := s.DeleteExpiredPoolCodes(ctx, t0.Add(90*time.Minute))
		ok(t, err)
		wantEqual(t, "expired codes deleted", n, 1)
		_, err = s.GetPoolCode(ctx, poolA, "bob", behalf.CodeSignUp)
		ok(t, err)
	})
	t.Run("GoWithUser", func(t *testing.T) {
		s := setup(t)
		ok(t, s.PutPoolCode(ctx, newPoolCode(poolA, "alice", behalf.CodeSignUp, hashAlice)))
		ok(t, s.AddPoolMessage(ctx, &behalf.PoolMessage{ID: "m1", PoolID: poolA, Username: "alice", Purpose: behalf.CodeSignUp,
			Medium: behalf.DeliveryEmail, Sealed: behalf.Sealed("x"), ExpiresAt: t0, CreatedAt: t0}))
		ok(t, s.DeletePoolUser(ctx, poolA, "alice"))
		_, err := s.GetPoolCode(ctx, poolA, "alice", behalf.CodeSignUp)
		wantCode(t, err, behalf.ENOTFOUND)
		ms, err := s.ListPoolMessages(ctx, poolA, "alice")
		ok(t, err)
		wantEqual(t, "outbox of a deleted user", len(ms), 0)
		ok(t, s.DeleteUserPool(ctx, poolA))
	})
}
