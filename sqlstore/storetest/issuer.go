package storetest

import (
	"testing"

	"github.com/behalf-dev/behalf"
)

// newIssuer returns a trusted issuer with every field set.
func newIssuer(issuer string) *behalf.TrustedIssuer {
	return &behalf.TrustedIssuer{
		Issuer:       issuer,
		DiscoveryURL: issuer + "/.well-known/openid-configuration",
		JWKSURI:      issuer + "/jwks",
		Audiences:    []string{"behalf", "api://behalf"},
		CreatedAt:    t0,
	}
}

// createIssuer stores i, failing t on error.
func createIssuer(t *testing.T, s behalf.Store, i *behalf.TrustedIssuer) {
	t.Helper()
	if err := s.CreateIssuer(t.Context(), i); err != nil {
		t.Fatalf("CreateIssuer(%q): %v", i.Issuer, err)
	}
}

// getIssuer reads the trusted issuer, failing t on error.
func getIssuer(t *testing.T, s behalf.Store, issuer string) *behalf.TrustedIssuer {
	t.Helper()
	i, err := s.GetIssuer(t.Context(), issuer)
	if err != nil {
		t.Fatalf("GetIssuer(%q): %v", issuer, err)
	}
	return i
}

// testIssuers checks the IssuerStore methods.
func testIssuers(t *testing.T, open openFunc) {
	const iss = "https://idp.example.com"
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createIssuer(t, s, newIssuer(iss))
			wantEqual(t, "GetIssuer", getIssuer(t, s, iss), newIssuer(iss))
		})
		t.Run("EmptyAudiences", func(t *testing.T) {
			s := open(t)
			bare := &behalf.TrustedIssuer{Issuer: iss}
			createIssuer(t, s, bare)
			wantEqual(t, "GetIssuer", getIssuer(t, s, iss), bare)
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createIssuer(t, s, newIssuer(iss))
			dup := newIssuer(iss)
			dup.JWKSURI = "https://other.example.com/jwks"
			wantCode(t, s.CreateIssuer(t.Context(), dup), behalf.ECONFLICT)
			wantEqual(t, "GetIssuer after conflict", getIssuer(t, s, iss), newIssuer(iss))
		})
		t.Run("ExactBytes", func(t *testing.T) {
			s := open(t)
			createIssuer(t, s, newIssuer(iss))
			// Issuers that differ from iss only in case or a trailing slash
			// are other issuers.
			for _, other := range []string{iss + "/", "https://IDP.example.com", "HTTPS://idp.example.com"} {
				_, err := s.GetIssuer(t.Context(), other)
				wantCode(t, err, behalf.ENOTFOUND)
				createIssuer(t, s, newIssuer(other))
				wantEqual(t, "GetIssuer", getIssuer(t, s, other), newIssuer(other))
			}
			wantEqual(t, "GetIssuer", getIssuer(t, s, iss), newIssuer(iss))
		})
	})
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			_, err := s.GetIssuer(t.Context(), iss)
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createIssuer(t, s, newIssuer(iss))
			createIssuer(t, s, newIssuer(iss+"/"))
			ok(t, s.DeleteIssuer(t.Context(), iss))
			_, err := s.GetIssuer(t.Context(), iss)
			wantCode(t, err, behalf.ENOTFOUND)
			getIssuer(t, s, iss+"/")
			wantCode(t, s.DeleteIssuer(t.Context(), iss), behalf.ENOTFOUND)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			wantCode(t, s.DeleteIssuer(t.Context(), iss), behalf.ENOTFOUND)
		})
	})
	t.Run("List", func(t *testing.T) {
		s := open(t)
		is, err := s.ListIssuers(t.Context())
		ok(t, err)
		if len(is) != 0 {
			t.Fatalf("ListIssuers on an empty store = %d issuers", len(is))
		}
		var want []*behalf.TrustedIssuer
		// Bytewise order: "B" < "a-b" < "aB" < "a_b" < "ab" < "c1" < "c10" < "c2".
		for _, name := range []string{"B", "a-b", "aB", "a_b", "ab", "c1", "c10", "c2"} {
			want = append(want, newIssuer(name))
		}
		for _, name := range pagingNames {
			createIssuer(t, s, newIssuer(name))
		}
		is, err = s.ListIssuers(t.Context())
		ok(t, err)
		wantEqualList(t, "ListIssuers", is, want)
	})
}
