package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// testTokenVaults checks the TokenVaultStore methods.
func testTokenVaults(t *testing.T, open openFunc) {
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			_, err := s.GetTokenVault(t.Context(), behalf.DefaultTokenVaultID)
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Put", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			v := &behalf.TokenVault{ID: behalf.DefaultTokenVaultID, KeyType: "ServiceManagedKey", UpdatedAt: t0}
			ok(t, s.PutTokenVault(t.Context(), v))
			got, err := s.GetTokenVault(t.Context(), behalf.DefaultTokenVaultID)
			ok(t, err)
			wantEqual(t, "GetTokenVault", got, &behalf.TokenVault{ID: behalf.DefaultTokenVaultID, KeyType: "ServiceManagedKey", UpdatedAt: t0})
		})
		t.Run("Replace", func(t *testing.T) {
			s := open(t)
			ok(t, s.PutTokenVault(t.Context(), &behalf.TokenVault{ID: behalf.DefaultTokenVaultID, KeyType: "ServiceManagedKey", UpdatedAt: t0}))
			other := &behalf.TokenVault{ID: "other", KeyType: "ServiceManagedKey", UpdatedAt: t0}
			ok(t, s.PutTokenVault(t.Context(), other))
			want := &behalf.TokenVault{
				ID:        behalf.DefaultTokenVaultID,
				KeyType:   "CustomerManagedKey",
				KMSKeyARN: "arn:aws:kms:us-east-1:123456789012:key/abc",
				UpdatedAt: t0.Add(time.Hour),
			}
			ok(t, s.PutTokenVault(t.Context(), want))
			got, err := s.GetTokenVault(t.Context(), behalf.DefaultTokenVaultID)
			ok(t, err)
			wantEqual(t, "GetTokenVault after replace", got, want)
			gotOther, err := s.GetTokenVault(t.Context(), "other")
			ok(t, err)
			wantEqual(t, "other vault after replace", gotOther, &behalf.TokenVault{ID: "other", KeyType: "ServiceManagedKey", UpdatedAt: t0})
		})
	})
	t.Run("Reset", func(t *testing.T) {
		s := open(t)
		ok(t, s.PutTokenVault(t.Context(), &behalf.TokenVault{ID: behalf.DefaultTokenVaultID, KeyType: behalf.KeyCustomerManaged, KMSKeyARN: "awskms:///arn:aws:kms:us-east-1:123456789012:key/abc", UpdatedAt: t0}))
		putGrant(t, s, newGrant("g-1", "agent-1", grantUser, "prov-1"))
		obo := newGrant("g-2", "agent-2", grantUser, "prov-1")
		obo.Exchange = "obo:1"
		putGrant(t, s, obo)
		statuses := map[string]string{"s-callback": behalf.SessionCallback, "s-exchange": behalf.SessionExchange,
			"s-authorize": behalf.SessionAuthorize, "s-completed": behalf.SessionCompleted, "s-pending": behalf.SessionPending}
		for id, st := range statuses {
			x := newSession(id, "state-"+id)
			x.Status = st
			createSession(t, s, x)
		}
		want := &behalf.TokenVault{ID: behalf.DefaultTokenVaultID, KeyType: behalf.KeyServiceManaged, UpdatedAt: t0.Add(time.Hour)}
		grants, sessions, err := s.ResetTokenVault(t.Context(), want)
		ok(t, err)
		if grants != 2 || sessions != 2 {
			t.Fatalf("ResetTokenVault ended %d grants and %d sessions, want 2 and 2", grants, sessions)
		}
		if ids := grantIDs(t, s, ""); len(ids) != 0 {
			t.Fatalf("grants after reset: %q", ids)
		}
		for id, st := range statuses {
			got := getSession(t, s, id)
			if st == behalf.SessionCallback || st == behalf.SessionExchange {
				if got.Status != behalf.SessionFailed || got.FailureReason != behalf.SessionFailureVaultReset || len(got.Pending) != 0 || got.Version != 2 {
					t.Fatalf("session %s after reset: %s %q pending %d version %d", id, got.Status, got.FailureReason, len(got.Pending), got.Version)
				}
				continue
			}
			wantEqual(t, "session "+id+" after reset", got.Status, st)
			wantEqual(t, "pending of session "+id+" after reset", got.Pending, newSession(id, "").Pending)
		}
		got, err := s.GetTokenVault(t.Context(), behalf.DefaultTokenVaultID)
		ok(t, err)
		wantEqual(t, "vault after reset", got, want)
	})
}
