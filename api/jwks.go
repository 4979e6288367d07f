package api

import (
	"net/http"

	"github.com/behalf-dev/behalf"
)

// handleProviderJWKS serves GET /identities/oauth2/providers/{providerID}/jwks.json:
// the public keys of a PRIVATE_KEY_JWT provider's client assertions, for
// the admin to register at the provider (or for the provider to fetch as
// the client's jwks_uri). Public keys only, so no signature is asked for.
func (s *Server) handleProviderJWKS(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("providerID")
	if len(id) > 64 {
		writeError(w, r, s.Log, behalf.Errorf(behalf.ENOTFOUND, "No such credential provider."))
		return
	}
	b, err := s.ClientKeys.ProviderJWKS(r.Context(), id)
	if err != nil {
		writeError(w, r, s.Log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Write(b)
}
