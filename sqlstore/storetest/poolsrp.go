package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// testPoolSRP checks what migration 0028 added for USER_SRP_AUTH and
// refresh-token rotation: users' sealed SRP verifiers, app clients'
// rotation settings, refresh tokens' RotatedAt, single-use nonces and
// per-pool secrets.
func testPoolSRP(t *testing.T, open openFunc) {
	t.Run("UserVerifier", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		u := newPoolUser(poolA, "alice", "sub-alice")
		u.SRPVerifier = behalf.Sealed{0x00, 0x80, 0xff, 's'}
		createPoolUser(t, s, u)
		got, err := s.GetPoolUser(t.Context(), poolA, "alice")
		ok(t, err)
		wantEqual(t, "GetPoolUser", got, u)
		// An update writes it, and nil clears it.
		want := behalf.Sealed{'v', '2'}
		got, err = s.UpdatePoolUser(t.Context(), poolA, "alice", func(u *behalf.PoolUser) error { u.SRPVerifier = want; return nil })
		ok(t, err)
		wantEqual(t, "updated verifier", string(got.SRPVerifier), string(want))
		_, err = s.UpdatePoolUser(t.Context(), poolA, "alice", func(u *behalf.PoolUser) error { u.SRPVerifier = nil; return nil })
		ok(t, err)
		got, err = s.GetPoolUser(t.Context(), poolA, "alice")
		ok(t, err)
		if got.SRPVerifier != nil {
			t.Fatalf("cleared verifier = %x, want nil", got.SRPVerifier)
		}
	})
	t.Run("ClientRotation", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		c := newAppClient("client1", poolA)
		c.RotateRefreshTokens, c.RefreshRetryGrace = true, 42*time.Second
		createAppClient(t, s, c)
		got, err := s.GetAppClient(t.Context(), "client1")
		ok(t, err)
		wantEqual(t, "GetAppClient", got, c)
		_, err = s.UpdateAppClient(t.Context(), "client1", func(c *behalf.AppClient) error {
			c.RotateRefreshTokens, c.RefreshRetryGrace = false, 0
			return nil
		})
		ok(t, err)
		got, err = s.GetAppClient(t.Context(), "client1")
		ok(t, err)
		if got.RotateRefreshTokens || got.RefreshRetryGrace != 0 {
			t.Fatalf("after update: rotate=%v grace=%v", got.RotateRefreshTokens, got.RefreshRetryGrace)
		}
	})
	t.Run("RotateRefreshToken", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		rt := newPoolRefreshToken("hash-1", poolA, "client1", "alice")
		createPoolRefreshToken(t, s, rt)
		if got := getPoolRefreshToken(t, s, "hash-1"); !got.RotatedAt.IsZero() {
			t.Fatalf("new token RotatedAt = %v", got.RotatedAt)
		}
		first := t0.Add(time.Minute)
		got, err := s.RotatePoolRefreshToken(t.Context(), "hash-1", first)
		ok(t, err)
		wantEqual(t, "RotatedAt", got.RotatedAt, first)
		// A second rotation keeps the first time.
		got, err = s.RotatePoolRefreshToken(t.Context(), "hash-1", first.Add(time.Hour))
		ok(t, err)
		wantEqual(t, "RotatedAt after a second rotation", got.RotatedAt, first)
		wantEqual(t, "GetPoolRefreshToken", getPoolRefreshToken(t, s, "hash-1").RotatedAt, first)
		_, err = s.RotatePoolRefreshToken(t.Context(), "hash-2", first)
		wantCode(t, err, behalf.ENOTFOUND)
		// Created rotated: the field round-trips.
		rt2 := newPoolRefreshToken("hash-3", poolA, "client1", "alice")
		rt2.RotatedAt = t0.Add(3 * time.Second)
		createPoolRefreshToken(t, s, rt2)
		wantEqual(t, "created rotated", getPoolRefreshToken(t, s, "hash-3"), rt2)
	})
	t.Run("Nonce", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		ok(t, s.UsePoolNonce(t.Context(), poolA, "n1", t0.Add(time.Minute)))
		wantCode(t, s.UsePoolNonce(t.Context(), poolA, "n1", t0.Add(time.Hour)), behalf.ECONFLICT)
		ok(t, s.UsePoolNonce(t.Context(), poolB, "n1", t0.Add(time.Minute)))
		ok(t, s.UsePoolNonce(t.Context(), poolA, "n2", t0.Add(time.Hour)))
		wantCode(t, s.UsePoolNonce(t.Context(), "us-east-1_nopool", "n1", t0), behalf.ENOTFOUND)
		n, err := s.DeleteExpiredPoolNonces(t.Context(), t0.Add(2*time.Minute))
		ok(t, err)
		wantEqual(t, "deleted", n, 2)
		ok(t, s.UsePoolNonce(t.Context(), poolA, "n1", t0.Add(time.Minute)))
		wantCode(t, s.UsePoolNonce(t.Context(), poolA, "n2", t0), behalf.ECONFLICT)
		// Concurrent uses: exactly one wins.
		var wg sync.WaitGroup
		wins := make(chan struct{}, 8)
		for range 8 {
			wg.Go(func() {
				if s.UsePoolNonce(t.Context(), poolA, "race", t0.Add(time.Minute)) == nil {
					wins <- struct{}{}
				}
			})
		}
		wg.Wait()
		wantEqual(t, "winners", len(wins), 1)
	})
	t.Run("Secret", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		got, err := s.EnsurePoolSecret(t.Context(), poolA, "srp", behalf.Sealed("first"))
		ok(t, err)
		wantEqual(t, "first", string(got), "first")
		got, err = s.EnsurePoolSecret(t.Context(), poolA, "srp", behalf.Sealed("second"))
		ok(t, err)
		wantEqual(t, "kept", string(got), "first")
		got, err = s.EnsurePoolSecret(t.Context(), poolB, "srp", behalf.Sealed("other"))
		ok(t, err)
		wantEqual(t, "other pool", string(got), "other")
		_, err = s.EnsurePoolSecret(t.Context(), "us-east-1_nopool", "srp", behalf.Sealed("x"))
		wantCode(t, err, behalf.ENOTFOUND)
		// Deleting the pool deletes its secrets and nonces.
		ok(t, s.UsePoolNonce(t.Context(), poolA, "n", t0))
		ok(t, s.DeleteUserPool(t.Context(), poolA))
		createUserPool(t, s, newUserPool(poolA))
		got, err = s.EnsurePoolSecret(t.Context(), poolA, "srp", behalf.Sealed("new"))
		ok(t, err)
		wantEqual(t, "after re-creation", string(got), "new")
		ok(t, s.UsePoolNonce(t.Context(), poolA, "n", t0))
	})
}
