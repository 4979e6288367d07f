package oidcop_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/behalf-dev/behalf/internal/route"
	"github.com/behalf-dev/behalf/userpool/oidcop"
)

// Ensure Route names exactly the requests Intercept serves itself, by the
// names the metrics and the rate limits know them by, and that every
// request it passes on is unnamed.
func TestRouteNamesWhatInterceptServes(t *testing.T) {
	e := newEnv(t)
	p, err := oidcop.New(e.svc, e.store, e.sealer, e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	passed := false
	h := p.Intercept(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { passed = true }))
	pool := "/" + e.pool.ID
	for _, c := range []struct {
		method, path string
		want         route.Route
	}{
		{"GET", pool + "/oauth2/authorize", route.Route{Name: "HostedLoginAuthorize", Kind: route.HTML}},
		{"GET", pool + "/login", route.Route{Name: "HostedLogin", Kind: route.HTML}},
		{"POST", pool + "/login", route.Route{Name: "HostedLogin", Kind: route.HTML}},
		{"GET", pool + "/logout", route.Route{Name: "HostedLoginLogout", Kind: route.HTML}},
		{"POST", pool + "/oauth2/token", route.Route{Name: "HostedLoginToken", Kind: route.OAuth}},
		{"POST", pool + "/oauth2/revoke", route.Route{Name: "HostedLoginRevoke", Kind: route.OAuth}},
		{"GET", pool + "/oauth2/userInfo", route.Route{Name: "HostedLoginUserInfo", Kind: route.OAuth}},
		{"GET", pool + "/.well-known/jwks.json", route.Route{Name: "UserPoolJWKS", Kind: route.AWSJSON}},
		{"GET", pool + "/.well-known/openid-configuration", route.Route{Name: "UserPoolDiscovery", Kind: route.AWSJSON}},
		{"GET", "/.well-known/openid-configuration" + pool, route.Route{Name: "UserPoolDiscovery", Kind: route.AWSJSON}},
		{"GET", "/.well-known/oauth-authorization-server" + pool, route.Route{Name: "UserPoolDiscovery", Kind: route.AWSJSON}},
		// A method the route does not allow is still the route's (405).
		{"DELETE", pool + "/oauth2/token", route.Route{Name: "HostedLoginToken", Kind: route.OAuth}},
		// A pool that does not exist is still a pool's route (404 there).
		{"POST", "/us-east-1_Nope1/login", route.Route{Name: "HostedLogin", Kind: route.HTML}},
		// Passed on.
		{"GET", pool + "/other", route.Route{}},
		{"GET", "/not-a-pool/login", route.Route{}},
		{"POST", "/", route.Route{}},
		{"GET", "/identities/oauth2/authorize", route.Route{}},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		got, ok := p.Route(r)
		if got != c.want || ok != (c.want != route.Route{}) {
			t.Errorf("Route(%s %s) = %+v, %v; want %+v", c.method, c.path, got, ok, c.want)
		}
		passed = false
		h.ServeHTTP(httptest.NewRecorder(), r)
		if passed != !ok {
			t.Errorf("%s %s: named %v, but passed on %v", c.method, c.path, ok, passed)
		}
	}
}
