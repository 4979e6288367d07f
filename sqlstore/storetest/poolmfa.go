package storetest

import (
	"sync"
	"testing"

	"github.com/behalf-dev/behalf"
)

// testPoolMFA checks what migration 0038 added for TOTP MFA: pools' MFA
// configuration, users' sealed software tokens and preferences, and the
// atomic last-used TOTP step.
func testPoolMFA(t *testing.T, open openFunc) {
	t.Run("PoolConfig", func(t *testing.T) {
		s := open(t)
		p := newUserPool(poolA)
		p.MFAConfiguration, p.SoftwareTokenMFA = behalf.MFAOptional, true
		createUserPool(t, s, p)
		got, err := s.GetUserPool(t.Context(), poolA)
		ok(t, err)
		wantEqual(t, "GetUserPool", got, p)
		got, err = s.UpdateUserPool(t.Context(), poolA, func(p *behalf.UserPool) error {
			p.MFAConfiguration, p.SoftwareTokenMFA = behalf.MFAOn, true
			return nil
		})
		ok(t, err)
		got2, err := s.GetUserPool(t.Context(), poolA)
		ok(t, err)
		wantEqual(t, "after update", got2, got)
	})
	t.Run("UserToken", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		u := newPoolUser(poolA, "alice", "sub-alice")
		u.SoftwareToken, u.PendingSoftwareToken = behalf.Sealed{0x00, 0xff, 't'}, behalf.Sealed{'p'}
		u.SoftwareTokenMFAEnabled, u.PreferredMFA, u.TOTPLastStep = true, behalf.ChallengeSoftwareTokenMFA, 63_000_000
		createPoolUser(t, s, u)
		got, err := s.GetPoolUser(t.Context(), poolA, "alice")
		ok(t, err)
		wantEqual(t, "GetPoolUser", got, u)
		_, err = s.UpdatePoolUser(t.Context(), poolA, "alice", func(u *behalf.PoolUser) error {
			u.SoftwareToken, u.PendingSoftwareToken = u.PendingSoftwareToken, nil
			u.SoftwareTokenMFAEnabled, u.PreferredMFA, u.TOTPLastStep = false, "", 7
			return nil
		})
		ok(t, err)
		got, err = s.GetPoolUser(t.Context(), poolA, "alice")
		ok(t, err)
		if string(got.SoftwareToken) != "p" || got.PendingSoftwareToken != nil || got.SoftwareTokenMFAEnabled || got.PreferredMFA != "" || got.TOTPLastStep != 7 {
			t.Fatalf("after update: %+v", got)
		}
	})
	t.Run("TOTPStep", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolUser(t, s, newPoolUser(poolA, "alice", "sub-alice"))
		createPoolUser(t, s, newPoolUser(poolA, "bob", "sub-bob"))
		ok(t, s.UsePoolUserTOTPStep(t.Context(), poolA, "alice", 100))
		wantCode(t, s.UsePoolUserTOTPStep(t.Context(), poolA, "alice", 100), behalf.ECONFLICT)
		wantCode(t, s.UsePoolUserTOTPStep(t.Context(), poolA, "alice", 99), behalf.ECONFLICT)
		ok(t, s.UsePoolUserTOTPStep(t.Context(), poolA, "alice", 101))
		// Another user's steps are its own.
		ok(t, s.UsePoolUserTOTPStep(t.Context(), poolA, "bob", 100))
		wantCode(t, s.UsePoolUserTOTPStep(t.Context(), poolA, "carol", 100), behalf.ENOTFOUND)
		wantCode(t, s.UsePoolUserTOTPStep(t.Context(), poolB, "alice", 100), behalf.ENOTFOUND)
		got, err := s.GetPoolUser(t.Context(), poolA, "alice")
		ok(t, err)
		wantEqual(t, "TOTPLastStep", got.TOTPLastStep, int64(101))
		// Concurrent uses of one step (two sign-ins with the same code):
		// exactly one wins.
		var wg sync.WaitGroup
		wins := make(chan struct{}, 8)
		for range 8 {
			wg.Go(func() {
				if s.UsePoolUserTOTPStep(t.Context(), poolA, "alice", 102) == nil {
					wins <- struct{}{}
				}
			})
		}
		wg.Wait()
		wantEqual(t, "winners", len(wins), 1)
	})
}
