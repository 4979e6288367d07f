package oidcop_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/route"
	"github.com/behalf-dev/behalf/userpool"
	"github.com/behalf-dev/behalf/userpool/oidcop"
	"golang.org/x/oauth2"
)

// Domain names of the domain tests: prefix domains are {prefix}.auth.example.test.
const (
	testSuffix = "auth.example.test"
	testCustom = "login.example.test"
)

// newDomainEnv starts an env whose services serve prefix domains under
// testSuffix and the custom domain testCustom, and gives the pool the
// prefix domain "agents". Its client reaches any host name at the test
// server, as DNS pointing the domains at Behalf would.
func newDomainEnv(t *testing.T) (e *env, domainBase string) {
	t.Helper()
	e = newEnvConfig(t, func(s *userpool.Service) {
		s.DomainSuffix, s.CustomDomains = testSuffix, []string{testCustom}
	})
	d, err := e.svc.CreateUserPoolDomain(context.Background(), behalf.UserPoolDomainInput{PoolID: e.pool.ID, Domain: "agents"})
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(e.srv.Listener.Addr().String())
	want(t, "domain URL", d.URL, "http://agents."+testSuffix+":"+port)
	e.client = domainClient(e)
	return e, d.URL
}

// discovery fetches a discovery document with e's client.
func (e *env) discovery(u string, host string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if host != "" {
		req.Host = host
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	body := readBody(e.t, resp)
	var d map[string]any
	json.Unmarshal([]byte(body), &d)
	return resp.StatusCode, d
}

// Ensure a pool's domain serves its discovery document, at both
// well-known paths, naming the domain's endpoints and the unchanged
// issuer; and the whole code flow, userinfo, the session and logout at the
// domain's root, with the session cookie on "/" and tokens whose issuer is
// {public-url}/{pool id}.
func TestDomainCodeFlow(t *testing.T) {
	e, base := newDomainEnv(t)
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		status, d := e.discovery(base+path, "")
		want(t, path+" status", status, http.StatusOK)
		for field, v := range map[string]string{
			"issuer":                 e.issuer,
			"authorization_endpoint": base + "/oauth2/authorize",
			"token_endpoint":         base + "/oauth2/token",
			"userinfo_endpoint":      base + "/oauth2/userInfo",
			"revocation_endpoint":    base + "/oauth2/revoke",
			"end_session_endpoint":   base + "/logout",
			"jwks_uri":               base + "/.well-known/jwks.json",
		} {
			want(t, path+" "+field, d[field], any(v))
		}
	}
	// The issuer's own document is unchanged.
	_, d := e.discovery(e.issuer+"/.well-known/openid-configuration", "")
	want(t, "the issuer's token_endpoint", d["token_endpoint"], any(e.issuer+"/oauth2/token"))

	e.base = base
	c := e.browser()
	v := oauth2.GenerateVerifier()
	a := authParams{client: e.public, verifier: v, scope: "openid email", state: "s1", nonce: "n1"}
	resp, _ := e.get(c, e.authorizeURL(a))
	loginURL := resp.Header.Get("Location")
	if !strings.HasPrefix(loginURL, base+"/login?request=") {
		t.Fatalf("authorize at the domain: %d %q", resp.StatusCode, loginURL)
	}
	resp, page := e.get(c, loginURL)
	fields := hiddenFields(page)
	if !strings.Contains(page, `action="/login"`) {
		t.Errorf("the login form does not post to /login on the domain:\n%s", page)
	}
	if i := slices.IndexFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == "behalf_login" }); i < 0 || resp.Cookies()[i].Path != "/login" {
		t.Errorf("login cookie %v, want path /login", resp.Cookies())
	}
	resp, _ = e.signIn(c, loginURL, fields, "alice", alicePassword)
	code := e.code(resp, "s1")
	i := slices.IndexFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == "behalf_session" })
	if i < 0 || resp.Cookies()[i].Path != "/" {
		t.Fatalf("session cookie %v, want path /", resp.Cookies())
	}
	tok := e.exchange(code, v) // at base/oauth2/token
	if tok.Status != http.StatusOK || tok.IDToken == "" {
		t.Fatalf("exchange at the domain: %+v", tok)
	}
	for _, jwt := range []string{tok.AccessToken, tok.IDToken} {
		want(t, "iss", claims(t, jwt)["iss"], any(e.issuer))
	}
	status, info, _ := e.userInfo(tok.AccessToken)
	if status != http.StatusOK || info["email"] != aliceEmail {
		t.Fatalf("userinfo at the domain: %d %v", status, info)
	}
	// The token verifies at the issuer too: one issuer, whatever the URL.
	e.base = e.issuer
	e.client = http.DefaultClient
	status, _, _ = e.userInfo(tok.AccessToken)
	want(t, "userinfo at the issuer", status, http.StatusOK)
	e.base = base
	e.client = domainClient(e)

	// The session (cookie on the domain) skips the password; logout ends it.
	resp, _ = e.get(c, e.authorizeURL(authParams{client: e.public, verifier: v, scope: "openid", state: "s2"}))
	e.code(resp, "s2")
	resp, _ = e.get(c, base+"/logout?"+url.Values{"client_id": {e.public.ID}, "logout_uri": {e.logoutURL}}.Encode())
	want(t, "logout Location", resp.Header.Get("Location"), e.logoutURL)
	if i := slices.IndexFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == "behalf_session" }); i < 0 || resp.Cookies()[i].Path != "/" || resp.Cookies()[i].MaxAge >= 0 {
		t.Errorf("logout cookies %v, want behalf_session on / deleted", resp.Cookies())
	}
	e.loginPage(c, authParams{client: e.public, verifier: v, scope: "openid", state: "s3"})

	// The keys, and client_credentials, at the domain too.
	resp, body := e.get(e.client, base+"/.well-known/jwks.json")
	jwks, _ := e.svc.JWKS(context.Background(), e.pool.ID)
	want(t, "JWKS at the domain", strings.TrimSpace(body), string(jwks))
	want(t, "JWKS status", resp.StatusCode, http.StatusOK)
	r, _ := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, e.machine.ID, e.machineKey)
	if r.Status != http.StatusOK || claims(t, r.AccessToken)["iss"] != e.issuer {
		t.Fatalf("client_credentials at the domain: %+v", r)
	}
}

// domainClient returns a client that dials e's server whatever the host.
func domainClient(e *env) *http.Client {
	addr := e.srv.Listener.Addr().String()
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
}

// Ensure only the configured and created domains are routed by Host:
// anything else (another host, another port, a prefix no pool has, a
// custom domain allowed but not created, a deleted domain) is served as
// without domains, under the issuer, and a Host header never makes its
// way into a discovery document. On a domain, only its pool's routes are
// served.
func TestDomainHostRouting(t *testing.T) {
	e, base := newDomainEnv(t)
	_, port, _ := net.SplitHostPort(e.srv.Listener.Addr().String())
	pathDiscovery := e.srv.URL + "/" + e.pool.ID + "/.well-known/openid-configuration"
	for _, host := range []string{
		"evil.example.com", "evil.example.com:" + port, // Host-header injection
		"agents." + testSuffix, "agents." + testSuffix + ":1", // another port
		"nobody." + testSuffix + ":" + port, // no pool has it
		testCustom + ":" + port,             // allowed, not created
		"x.agents." + testSuffix + ":" + port,
	} {
		status, d := e.discovery(pathDiscovery, host)
		if status != http.StatusOK || d["token_endpoint"] != e.issuer+"/oauth2/token" || d["issuer"] != e.issuer {
			t.Errorf("Host %q: %d %v, want the issuer's document", host, status, d)
		}
		status, _ = e.discovery(e.srv.URL+"/.well-known/openid-configuration", host)
		want(t, "Host "+host+" root discovery", status, http.StatusNotFound)
	}
	// Case-insensitive.
	status, d := e.discovery(e.srv.URL+"/.well-known/openid-configuration", "AGENTS.Auth.Example.TEST:"+port)
	if status != http.StatusOK || d["token_endpoint"] != base+"/oauth2/token" {
		t.Errorf("upper-case Host: %d %v", status, d)
	}

	// On the domain, the pool's routes only.
	for _, path := range []string{"/", "/" + e.pool.ID + "/oauth2/authorize", "/" + e.pool.ID + "/.well-known/openid-configuration",
		"/.well-known/oauth-authorization-server/" + e.pool.ID, "/healthz", "/oauth2/authorize/x"} {
		resp, _ := e.get(e.client, base+path)
		want(t, "GET "+path+" on the domain", resp.StatusCode, http.StatusNotFound)
	}
	resp, _ := e.postForm(e.client, base+"/", url.Values{})
	want(t, "POST / on the domain", resp.StatusCode, http.StatusNotFound)
	resp, _ = e.get(e.client, base+"/oauth2/token")
	want(t, "GET /oauth2/token on the domain", resp.StatusCode, http.StatusMethodNotAllowed)

	// A custom domain once created; a deleted domain no longer.
	ctx := context.Background()
	arn := "arn:aws:acm:us-east-1:123456789012:certificate/abc"
	if _, err := e.svc.CreateUserPoolDomain(ctx, behalf.UserPoolDomainInput{PoolID: e.pool.ID, Domain: testCustom, CertificateARN: &arn}); err != nil {
		t.Fatal(err)
	}
	customBase := "http://" + testCustom + ":" + port
	status, d = e.discovery(customBase+"/.well-known/openid-configuration", "")
	if status != http.StatusOK || d["authorization_endpoint"] != customBase+"/oauth2/authorize" || d["issuer"] != e.issuer {
		t.Errorf("custom domain discovery: %d %v", status, d)
	}
	if err := e.svc.DeleteUserPoolDomain(ctx, e.pool.ID, "agents"); err != nil {
		t.Fatal(err)
	}
	status, _ = e.discovery(base+"/.well-known/openid-configuration", "")
	want(t, "a deleted domain's discovery", status, http.StatusNotFound)
}

// Ensure an https domain's cookies: Secure, __Secure- named, on "/".
func TestDomainCookiesHTTPS(t *testing.T) {
	e := newEnv(t)
	const public = "https://behalf.example.com"
	svc := &userpool.Service{Store: e.svc.Store, Sealer: e.svc.Sealer, PublicURL: public, HashParams: testHashParams,
		DomainSuffix: "auth.example.com"}
	p, err := oidcop.New(svc, e.svc.Store, e.svc.Sealer, public)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.CreateUserPoolDomain(ctx, behalf.UserPoolDomainInput{PoolID: e.pool.ID, Domain: "secure"}); err != nil {
		t.Fatal(err)
	}
	client, _, err := svc.CreateUserPoolClient(ctx, behalf.UserPoolClientInput{
		PoolID: e.pool.ID, Name: "https app", AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid"},
		AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: []string{"https://app.example.com/cb"},
	})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: handlerTransport{p}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const base = "https://secure.auth.example.com"
	q := url.Values{"response_type": {"code"}, "client_id": {client.ID}, "redirect_uri": {"https://app.example.com/cb"},
		"scope": {"openid"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
	resp, _ := e.get(c, base+"/oauth2/authorize?"+q.Encode())
	loginURL := resp.Header.Get("Location")
	if !strings.HasPrefix(loginURL, base+"/login?request=") {
		t.Fatalf("authorize at the domain: %d %q", resp.StatusCode, loginURL)
	}
	resp, page := e.get(c, loginURL)
	if i := slices.IndexFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == "__Secure-behalf_login" }); i < 0 || resp.Cookies()[i].Path != "/login" {
		t.Errorf("login cookie on an https domain: %v", resp.Cookies())
	}
	resp, _ = e.signIn(c, loginURL, hiddenFields(page), "alice", alicePassword)
	if !strings.HasPrefix(resp.Header.Get("Location"), "https://app.example.com/cb?code=") {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	i := slices.IndexFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == "__Secure-behalf_session" })
	if i < 0 || !resp.Cookies()[i].Secure || !resp.Cookies()[i].HttpOnly || resp.Cookies()[i].Path != "/" {
		t.Fatalf("session cookie on an https domain: %v", resp.Cookies())
	}
}

// Ensure a request on a pool's domain is named as the same route at the
// pool's path is (so the per-IP limits and metrics see it), a discovery
// path as discovery, anything else there as an unnamed HTML answer, and a
// request on another host by its path alone.
func TestDomainRouteNames(t *testing.T) {
	e, base := newDomainEnv(t)
	p, err := oidcop.New(e.svc, e.store, e.sealer, e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(base, "http://")
	for path, want := range map[string]string{
		"/oauth2/token":                     "HostedLoginToken",
		"/oauth2/authorize":                 "HostedLoginAuthorize",
		"/login":                            "HostedLogin",
		"/.well-known/openid-configuration": "UserPoolDiscovery",
		"/healthz":                          "",
	} {
		r := httptest.NewRequest(http.MethodPost, "http://"+host+path, nil)
		rt, ok := p.Route(r)
		if !ok || rt.Name != want || rt.Kind == route.None {
			t.Errorf("%s on the domain: %+v, %v; want %q", path, rt, ok, want)
		}
		pathRoute, _ := p.Route(httptest.NewRequest(http.MethodPost, e.srv.URL+"/"+e.pool.ID+path, nil))
		if want != "" && want != "UserPoolDiscovery" && pathRoute != rt {
			t.Errorf("%s: on the domain %+v, under the issuer %+v", path, rt, pathRoute)
		}
	}
	if rt, ok := p.Route(httptest.NewRequest(http.MethodPost, e.srv.URL+"/oauth2/token", nil)); ok {
		t.Errorf("/oauth2/token on the public host was named %+v", rt)
	}
}
