package oidcop_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf/api"
	"github.com/behalf-dev/behalf/userpool/oidcop"
	"golang.org/x/oauth2"
)

// Ensure the wiring cmd/behalf uses: Intercept in front of the wire API
// serves the pools' routes and leaves every other path to the API.
func TestInterceptInFrontOfAPI(t *testing.T) {
	e := newEnv(t)
	p, err := oidcop.New(e.svc, e.svc.Store, e.svc.Sealer, e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	apiServer := &api.Server{UserPools: e.svc, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := p.Intercept(apiServer.Handler())
	serve := func(method, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w
	}
	for _, path := range []string{
		"/" + e.pool.ID + "/.well-known/openid-configuration",
		"/.well-known/oauth-authorization-server/" + e.pool.ID,
		"/" + e.pool.ID + "/.well-known/jwks.json",
	} {
		if w := serve(http.MethodGet, path); w.Code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, w.Code, w.Body)
		}
	}
	q := strings.TrimPrefix(e.authorizeURL(authParams{client: e.public, verifier: oauth2.GenerateVerifier(), scope: "openid"}), e.srv.URL)
	if w := serve(http.MethodGet, q); w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), e.issuer+"/login?") {
		t.Errorf("authorize: %d %q", w.Code, w.Header().Get("Location"))
	}
	// Paths that are not the pools' reach the API.
	if w := serve(http.MethodGet, "/healthz"); w.Code != http.StatusOK {
		t.Errorf("GET /healthz: %d", w.Code)
	}
	if w := serve(http.MethodGet, "/"+e.pool.ID+"/unknown"); w.Header().Get("X-Amzn-ErrorType") == "" {
		t.Errorf("GET an unknown pool path: %d %v, want the API's answer", w.Code, w.Header())
	}
}
