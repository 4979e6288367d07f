package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newOAuth2Provider returns an OAuth 2.0 provider with every field set.
func newOAuth2Provider(name, id string) *behalf.OAuth2Provider {
	return &behalf.OAuth2Provider{
		ID:           id,
		Name:         name,
		Vendor:       behalf.VendorCustom,
		ClientID:     "client-" + name,
		ClientSecret: behalf.Sealed{0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 's'},
		TenantID:     "tenant-1",
		DiscoveryURL: "https://idp.example.com/.well-known/openid-configuration",
		Metadata: behalf.AuthServerMetadata{
			Issuer:                   "https://idp.example.com",
			AuthorizationEndpoint:    "https://idp.example.com/authorize",
			TokenEndpoint:            "https://idp.example.com/token",
			RevocationEndpoint:       "https://idp.example.com/revoke",
			UserinfoEndpoint:         "https://idp.example.com/userinfo",
			JWKSURI:                  "https://idp.example.com/jwks",
			ResponseTypes:            []string{"code"},
			TokenEndpointAuthMethods: []string{behalf.ClientSecretBasic, behalf.ClientSecretPost},
			ScopesSupported:          []string{"openid", "email"},
			CodeChallengeMethods:     []string{"S256"},
		},
		ClientAuthMethod: behalf.ClientSecretPost,
		OnBehalfOf: &behalf.OnBehalfOfConfig{GrantType: behalf.OBOTokenExchange, ActorTokenContent: behalf.ActorM2M,
			ActorTokenScopes: []string{"actor.read", "actor.write"}, NoClientAuth: true},
		PrivateKeyJWT: &behalf.PrivateKeyJWTConfig{SigningAlgorithm: "PS256",
			HeaderClaims: map[string]string{"x5t#S256": "thumb"}, PayloadClaims: map[string]string{"aud": "https://idp.example.com"}},
		Tags:      map[string]string{"team": "platform"},
		CreatedAt: t0,
		UpdatedAt: t0.Add(time.Second),
	}
}

// createOAuth2Provider stores p, failing t on error.
func createOAuth2Provider(t *testing.T, s behalf.Store, p *behalf.OAuth2Provider) {
	t.Helper()
	if err := s.CreateOAuth2Provider(t.Context(), p); err != nil {
		t.Fatalf("CreateOAuth2Provider(%q): %v", p.Name, err)
	}
}

// getOAuth2Provider reads the named provider, failing t on error.
func getOAuth2Provider(t *testing.T, s behalf.Store, name string) *behalf.OAuth2Provider {
	t.Helper()
	p, err := s.GetOAuth2Provider(t.Context(), name)
	if err != nil {
		t.Fatalf("GetOAuth2Provider(%q): %v", name, err)
	}
	return p
}

// testOAuth2Providers checks the OAuth2ProviderStore methods.
func testOAuth2Providers(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createOAuth2Provider(t, s, newOAuth2Provider("google", "id-1"))
			want := newOAuth2Provider("google", "id-1")
			wantEqual(t, "GetOAuth2Provider", getOAuth2Provider(t, s, "google"), want)
			byID, err := s.GetOAuth2ProviderByID(t.Context(), "id-1")
			ok(t, err)
			wantEqual(t, "GetOAuth2ProviderByID", byID, want)
		})
		t.Run("EmptyFields", func(t *testing.T) {
			s := open(t)
			createOAuth2Provider(t, s, &behalf.OAuth2Provider{ID: "id-1", Name: "bare", CreatedAt: t0, UpdatedAt: t0})
			got := getOAuth2Provider(t, s, "bare")
			if len(got.ClientSecret) != 0 || len(got.Tags) != 0 || got.Metadata.TokenEndpoint != "" {
				t.Fatalf("GetOAuth2Provider = %+v, want empty fields", got)
			}
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createOAuth2Provider(t, s, newOAuth2Provider("google", "id-1"))
			err := s.CreateOAuth2Provider(t.Context(), newOAuth2Provider("google", "id-2"))
			wantCode(t, err, behalf.ECONFLICT)
		})
		t.Run("ErrConflictID", func(t *testing.T) {
			s := open(t)
			createOAuth2Provider(t, s, newOAuth2Provider("google", "id-1"))
			err := s.CreateOAuth2Provider(t.Context(), newOAuth2Provider("github", "id-1"))
			wantCode(t, err, behalf.ECONFLICT)
			_, err = s.GetOAuth2Provider(t.Context(), "github")
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			_, err := s.GetOAuth2Provider(t.Context(), "missing")
			wantCode(t, err, behalf.ENOTFOUND)
		})
		t.Run("ByIDErrNotFound", func(t *testing.T) {
			s := open(t)
			createOAuth2Provider(t, s, newOAuth2Provider("google", "id-1"))
			_, err := s.GetOAuth2ProviderByID(t.Context(), "google")
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Update", func(t *testing.T) { testUpdateOAuth2Provider(t, open) })
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createOAuth2Provider(t, s, newOAuth2Provider("google", "id-1"))
			ok(t, s.DeleteOAuth2Provider(t.Context(), "google"))
			_, err := s.GetOAuth2Provider(t.Context(), "google")
			wantCode(t, err, behalf.ENOTFOUND)
			_, err = s.GetOAuth2ProviderByID(t.Context(), "id-1")
			wantCode(t, err, behalf.ENOTFOUND)
			createOAuth2Provider(t, s, newOAuth2Provider("google", "id-1")) // name and id are free again
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			wantCode(t, s.DeleteOAuth2Provider(t.Context(), "missing"), behalf.ENOTFOUND)
		})
	})
	t.Run("List", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			create := func(name string) { createOAuth2Provider(t, s, newOAuth2Provider(name, "id-"+name)) }
			list := func(opt behalf.ListOptions) []string {
				ps, err := s.ListOAuth2Providers(t.Context(), opt)
				ok(t, err)
				return names(ps, func(p *behalf.OAuth2Provider) string { return p.Name })
			}
			testPaging(t, create, list)
		})
		t.Run("Fields", func(t *testing.T) {
			s := open(t)
			createOAuth2Provider(t, s, newOAuth2Provider("google", "id-1"))
			ps, err := s.ListOAuth2Providers(t.Context(), behalf.ListOptions{})
			ok(t, err)
			wantEqualList(t, "ListOAuth2Providers", ps, []*behalf.OAuth2Provider{newOAuth2Provider("google", "id-1")})
		})
	})
}

// testUpdateOAuth2Provider checks UpdateOAuth2Provider.
func testUpdateOAuth2Provider(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		createOAuth2Provider(t, s, newOAuth2Provider("google", "id-1"))
		t1 := t0.Add(time.Hour)
		edit := func(p *behalf.OAuth2Provider) {
			p.Vendor = behalf.VendorGoogle
			p.ClientID = "client-2"
			p.ClientSecret = behalf.Sealed("new sealed secret")
			p.TenantID = ""
			p.DiscoveryURL = ""
			p.Metadata.TokenEndpoint = "https://oauth2.example.com/token"
			p.Metadata.ScopesSupported = nil
			p.ClientAuthMethod = behalf.ClientSecretBasic
			p.Tags = map[string]string{"team": "identity"}
			p.UpdatedAt = t1
		}
		got, err := s.UpdateOAuth2Provider(t.Context(), "google", func(p *behalf.OAuth2Provider) error {
			edit(p)
			p.ID = "id-other"               // immutable: ignored
			p.Name = "renamed"              // immutable: ignored
			p.CreatedAt = t1.Add(time.Hour) // immutable: ignored
			return nil
		})
		ok(t, err)
		want := newOAuth2Provider("google", "id-1")
		edit(want)
		wantEqual(t, "UpdateOAuth2Provider result", got, want)
		wantEqual(t, "GetOAuth2Provider after update", getOAuth2Provider(t, s, "google"), want)
		byID, err := s.GetOAuth2ProviderByID(t.Context(), "id-1")
		ok(t, err)
		wantEqual(t, "GetOAuth2ProviderByID after update", byID, want)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.UpdateOAuth2Provider(t.Context(), "missing", func(*behalf.OAuth2Provider) error {
			t.Error("fn called for a missing provider")
			return nil
		})
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrFn", func(t *testing.T) {
		s := open(t)
		createOAuth2Provider(t, s, newOAuth2Provider("google", "id-1"))
		_, err := s.UpdateOAuth2Provider(t.Context(), "google", func(p *behalf.OAuth2Provider) error {
			p.ClientID = "changed"
			p.ClientSecret = nil
			return errFn
		})
		wantFnErr(t, err)
		wantEqual(t, "GetOAuth2Provider after failed update", getOAuth2Provider(t, s, "google"), newOAuth2Provider("google", "id-1"))
	})
}
