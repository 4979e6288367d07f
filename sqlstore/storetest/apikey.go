package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newAPIKeyProvider returns an API-key provider with every field set.
func newAPIKeyProvider(name, id string) *behalf.APIKeyProvider {
	return &behalf.APIKeyProvider{
		ID:        id,
		Name:      name,
		APIKey:    behalf.Sealed{0x00, 0xff, 'k', 'e', 'y'},
		Tags:      map[string]string{"service": name},
		CreatedAt: t0,
		UpdatedAt: t0.Add(time.Second),
	}
}

// createAPIKeyProvider stores p, failing t on error.
func createAPIKeyProvider(t *testing.T, s behalf.Store, p *behalf.APIKeyProvider) {
	t.Helper()
	if err := s.CreateAPIKeyProvider(t.Context(), p); err != nil {
		t.Fatalf("CreateAPIKeyProvider(%q): %v", p.Name, err)
	}
}

// getAPIKeyProvider reads the named provider, failing t on error.
func getAPIKeyProvider(t *testing.T, s behalf.Store, name string) *behalf.APIKeyProvider {
	t.Helper()
	p, err := s.GetAPIKeyProvider(t.Context(), name)
	if err != nil {
		t.Fatalf("GetAPIKeyProvider(%q): %v", name, err)
	}
	return p
}

// testAPIKeyProviders checks the APIKeyProviderStore methods.
func testAPIKeyProviders(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createAPIKeyProvider(t, s, newAPIKeyProvider("openai", "id-1"))
			wantEqual(t, "GetAPIKeyProvider", getAPIKeyProvider(t, s, "openai"), newAPIKeyProvider("openai", "id-1"))
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createAPIKeyProvider(t, s, newAPIKeyProvider("openai", "id-1"))
			err := s.CreateAPIKeyProvider(t.Context(), newAPIKeyProvider("openai", "id-2"))
			wantCode(t, err, behalf.ECONFLICT)
		})
		t.Run("ErrConflictID", func(t *testing.T) {
			s := open(t)
			createAPIKeyProvider(t, s, newAPIKeyProvider("openai", "id-1"))
			err := s.CreateAPIKeyProvider(t.Context(), newAPIKeyProvider("anthropic", "id-1"))
			wantCode(t, err, behalf.ECONFLICT)
		})
	})
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			_, err := s.GetAPIKeyProvider(t.Context(), "missing")
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Update", func(t *testing.T) { testUpdateAPIKeyProvider(t, open) })
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createAPIKeyProvider(t, s, newAPIKeyProvider("openai", "id-1"))
			ok(t, s.DeleteAPIKeyProvider(t.Context(), "openai"))
			_, err := s.GetAPIKeyProvider(t.Context(), "openai")
			wantCode(t, err, behalf.ENOTFOUND)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			wantCode(t, s.DeleteAPIKeyProvider(t.Context(), "missing"), behalf.ENOTFOUND)
		})
	})
	t.Run("List", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			create := func(name string) { createAPIKeyProvider(t, s, newAPIKeyProvider(name, "id-"+name)) }
			list := func(opt behalf.ListOptions) []string {
				ps, err := s.ListAPIKeyProviders(t.Context(), opt)
				ok(t, err)
				return names(ps, func(p *behalf.APIKeyProvider) string { return p.Name })
			}
			testPaging(t, create, list)
		})
		t.Run("Fields", func(t *testing.T) {
			s := open(t)
			createAPIKeyProvider(t, s, newAPIKeyProvider("openai", "id-1"))
			ps, err := s.ListAPIKeyProviders(t.Context(), behalf.ListOptions{})
			ok(t, err)
			wantEqualList(t, "ListAPIKeyProviders", ps, []*behalf.APIKeyProvider{newAPIKeyProvider("openai", "id-1")})
		})
	})
}

// testUpdateAPIKeyProvider checks UpdateAPIKeyProvider.
func testUpdateAPIKeyProvider(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		createAPIKeyProvider(t, s, newAPIKeyProvider("openai", "id-1"))
		t1 := t0.Add(time.Hour)
		got, err := s.UpdateAPIKeyProvider(t.Context(), "openai", func(p *behalf.APIKeyProvider) error {
			p.APIKey = behalf.Sealed("rotated")
			p.Tags = nil
			p.UpdatedAt = t1
			p.ID = "id-other"               // immutable: ignored
			p.Name = "renamed"              // immutable: ignored
			p.CreatedAt = t1.Add(time.Hour) // immutable: ignored
			return nil
		})
		ok(t, err)
		want := newAPIKeyProvider("openai", "id-1")
		want.APIKey = behalf.Sealed("rotated")
		want.Tags = nil
		want.UpdatedAt = t1
		wantEqual(t, "UpdateAPIKeyProvider result", got, want)
		wantEqual(t, "GetAPIKeyProvider after update", getAPIKeyProvider(t, s, "openai"), want)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.UpdateAPIKeyProvider(t.Context(), "missing", func(*behalf.APIKeyProvider) error {
			t.Error("fn called for a missing provider")
			return nil
		})
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrFn", func(t *testing.T) {
		s := open(t)
		createAPIKeyProvider(t, s, newAPIKeyProvider("openai", "id-1"))
		_, err := s.UpdateAPIKeyProvider(t.Context(), "openai", func(p *behalf.APIKeyProvider) error {
			p.APIKey = behalf.Sealed("rotated")
			return errFn
		})
		wantFnErr(t, err)
		wantEqual(t, "GetAPIKeyProvider after failed update", getAPIKeyProvider(t, s, "openai"), newAPIKeyProvider("openai", "id-1"))
	})
}
