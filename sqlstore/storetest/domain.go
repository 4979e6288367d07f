package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// Domain fixtures: a prefix and a custom domain name.
const (
	prefixDomain = "login-a"
	customDomain = "auth.example.com"
)

// newPoolDomain returns a domain of pool poolID with every field set; a
// name with a dot is a custom domain, as the service makes them.
func newPoolDomain(poolID, name string, custom bool) *behalf.UserPoolDomain {
	d := &behalf.UserPoolDomain{
		Domain: name, PoolID: poolID, Custom: custom, ManagedLoginVersion: 1,
		CreatedAt: t0, UpdatedAt: t0.Add(time.Second),
	}
	if custom {
		d.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/" + name
		d.ManagedLoginVersion = 2
	}
	return d
}

// createPoolDomain stores d, failing t on error.
func createPoolDomain(t *testing.T, s behalf.Store, d *behalf.UserPoolDomain) {
	t.Helper()
	if err := s.CreateUserPoolDomain(t.Context(), d); err != nil {
		t.Fatalf("CreateUserPoolDomain(%q): %v", d.Domain, err)
	}
}

// getPoolDomain reads a domain, failing t on error.
func getPoolDomain(t *testing.T, s behalf.Store, name string) *behalf.UserPoolDomain {
	t.Helper()
	d, err := s.GetUserPoolDomain(t.Context(), name)
	if err != nil {
		t.Fatalf("GetUserPoolDomain(%q): %v", name, err)
	}
	return d
}

// testUserPoolDomains checks the domain methods of UserPoolStore.
func testUserPoolDomains(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolDomain(t, s, newPoolDomain(poolA, prefixDomain, false))
			createPoolDomain(t, s, newPoolDomain(poolA, customDomain, true))
			wantEqual(t, "prefix domain", getPoolDomain(t, s, prefixDomain), newPoolDomain(poolA, prefixDomain, false))
			wantEqual(t, "custom domain", getPoolDomain(t, s, customDomain), newPoolDomain(poolA, customDomain, true))
		})
		t.Run("ErrSecondOfAKind", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolDomain(t, s, newPoolDomain(poolA, prefixDomain, false))
			createPoolDomain(t, s, newPoolDomain(poolA, customDomain, true))
			for _, d := range []*behalf.UserPoolDomain{
				newPoolDomain(poolA, "login-b", false), newPoolDomain(poolA, "login.example.org", true),
				newPoolDomain(poolA, prefixDomain, false), // its own name again
			} {
				err := s.CreateUserPoolDomain(t.Context(), d)
				wantCode(t, err, behalf.ECONFLICT)
				wantMessage(t, err, "User pool already has a domain configured.")
			}
			ds, err := s.ListUserPoolDomains(t.Context(), poolA)
			ok(t, err)
			wantEqualList(t, "after conflicts", ds, []*behalf.UserPoolDomain{
				newPoolDomain(poolA, prefixDomain, false), newPoolDomain(poolA, customDomain, true)})
		})
		t.Run("ErrNameTaken", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createPoolDomain(t, s, newPoolDomain(poolA, prefixDomain, false))
			createPoolDomain(t, s, newPoolDomain(poolA, customDomain, true))
			for _, d := range []*behalf.UserPoolDomain{newPoolDomain(poolB, prefixDomain, false), newPoolDomain(poolB, customDomain, true)} {
				err := s.CreateUserPoolDomain(t.Context(), d)
				wantCode(t, err, behalf.ECONFLICT)
				wantMessage(t, err, "Domain already associated with another user pool.")
			}
			wantEqual(t, "after conflict", getPoolDomain(t, s, prefixDomain), newPoolDomain(poolA, prefixDomain, false))
			ds, err := s.ListUserPoolDomains(t.Context(), poolB)
			ok(t, err)
			if len(ds) != 0 {
				t.Fatalf("pool B has domains %+v after conflicts", ds)
			}
		})
		t.Run("ErrPoolNotFound", func(t *testing.T) {
			s := open(t)
			err := s.CreateUserPoolDomain(t.Context(), newPoolDomain(poolA, prefixDomain, false))
			wantCode(t, err, behalf.ENOTFOUND)
			wantMessage(t, err, "User pool "+poolA+" does not exist.")
		})
	})
	t.Run("Get", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolDomain(t, s, newPoolDomain(poolA, customDomain, true))
		// Names are exact: no case folding, no trailing dot, no prefix match.
		for _, name := range []string{"AUTH.example.com", customDomain + ".", "auth", "example.com", ""} {
			_, err := s.GetUserPoolDomain(t.Context(), name)
			wantCode(t, err, behalf.ENOTFOUND)
		}
	})
	t.Run("Update", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createPoolDomain(t, s, newPoolDomain(poolA, customDomain, true))
			t1 := t0.Add(time.Hour)
			got, err := s.UpdateUserPoolDomain(t.Context(), customDomain, func(d *behalf.UserPoolDomain) error {
				d.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/new"
				d.ManagedLoginVersion = 1
				d.UpdatedAt = t1
				// Fields an update may not change.
				d.Domain, d.PoolID, d.Custom, d.CreatedAt, d.URL = "other.example.com", poolB, false, t1, "https://x"
				return nil
			})
			ok(t, err)
			want := newPoolDomain(poolA, customDomain, true)
			want.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/new"
			want.ManagedLoginVersion = 1
			want.UpdatedAt = t1
			wantEqual(t, "UpdateUserPoolDomain result", got, want)
			wantEqual(t, "GetUserPoolDomain after update", getPoolDomain(t, s, customDomain), want)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			called := false
			_, err := s.UpdateUserPoolDomain(t.Context(), customDomain, func(*behalf.UserPoolDomain) error {
				called = true
				return nil
			})
			wantCode(t, err, behalf.ENOTFOUND)
			if called {
				t.Fatal("fn called for a missing domain")
			}
		})
		t.Run("ErrFn", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolDomain(t, s, newPoolDomain(poolA, prefixDomain, false))
			_, err := s.UpdateUserPoolDomain(t.Context(), prefixDomain, func(d *behalf.UserPoolDomain) error {
				d.ManagedLoginVersion = 2
				return errFn
			})
			wantFnErr(t, err)
			wantEqual(t, "after failed update", getPoolDomain(t, s, prefixDomain), newPoolDomain(poolA, prefixDomain, false))
		})
	})
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createPoolDomain(t, s, newPoolDomain(poolA, prefixDomain, false))
			createPoolDomain(t, s, newPoolDomain(poolA, customDomain, true))
			ok(t, s.DeleteUserPoolDomain(t.Context(), poolA, prefixDomain))
			_, err := s.GetUserPoolDomain(t.Context(), prefixDomain)
			wantCode(t, err, behalf.ENOTFOUND)
			wantEqual(t, "the other domain", getPoolDomain(t, s, customDomain), newPoolDomain(poolA, customDomain, true))
			// The name is free again, for any pool; the pool may have a
			// prefix domain again.
			createPoolDomain(t, s, newPoolDomain(poolB, prefixDomain, false))
			createPoolDomain(t, s, newPoolDomain(poolA, "login-c", false))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createPoolDomain(t, s, newPoolDomain(poolB, prefixDomain, false))
			// Another pool's domain is not this pool's to delete.
			wantCode(t, s.DeleteUserPoolDomain(t.Context(), poolA, prefixDomain), behalf.ENOTFOUND)
			wantCode(t, s.DeleteUserPoolDomain(t.Context(), poolA, "login-z"), behalf.ENOTFOUND)
			getPoolDomain(t, s, prefixDomain)
		})
	})
	t.Run("List", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		ds, err := s.ListUserPoolDomains(t.Context(), poolA)
		ok(t, err)
		if len(ds) != 0 {
			t.Fatalf("a new pool has domains %+v", ds)
		}
		// Created custom first, listed prefix first.
		createPoolDomain(t, s, newPoolDomain(poolA, customDomain, true))
		createPoolDomain(t, s, newPoolDomain(poolA, prefixDomain, false))
		createPoolDomain(t, s, newPoolDomain(poolB, "login-b", false))
		ds, err = s.ListUserPoolDomains(t.Context(), poolA)
		ok(t, err)
		wantEqualList(t, "ListUserPoolDomains", ds, []*behalf.UserPoolDomain{
			newPoolDomain(poolA, prefixDomain, false), newPoolDomain(poolA, customDomain, true)})
		ds, err = s.ListUserPoolDomains(t.Context(), "us-east-1_nonexist0")
		ok(t, err)
		if len(ds) != 0 {
			t.Fatalf("a missing pool has domains %+v", ds)
		}
	})
	t.Run("DeletePoolCascade", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createPoolDomain(t, s, newPoolDomain(poolA, prefixDomain, false))
		createPoolDomain(t, s, newPoolDomain(poolA, customDomain, true))
		createPoolDomain(t, s, newPoolDomain(poolB, "login-b", false))
		ok(t, s.DeleteUserPool(t.Context(), poolA))
		for _, name := range []string{prefixDomain, customDomain} {
			_, err := s.GetUserPoolDomain(t.Context(), name)
			wantCode(t, err, behalf.ENOTFOUND)
		}
		wantEqual(t, "other pool's domain", getPoolDomain(t, s, "login-b"), newPoolDomain(poolB, "login-b", false))
		// The names are free again.
		createPoolDomain(t, s, newPoolDomain(poolB, customDomain, true))
	})
}
