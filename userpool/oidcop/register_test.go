package oidcop_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/userpool/oidcop"
	"golang.org/x/oauth2"
)

// registration is a registration endpoint's answer.
type registration struct {
	Status                  int
	ClientID                string   `json:"client_id"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope"`
	Error                   string   `json:"error"`
	Description             string   `json:"error_description"`
}

// register posts a registration body to the pool's endpoint.
func (e *env) register(body string) registration {
	e.t.Helper()
	resp, err := e.client.Post(e.base+"/oauth2/register", "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	b := readBody(e.t, resp)
	var r registration
	if err := json.Unmarshal([]byte(b), &r); err != nil {
		e.t.Fatalf("register: %d %v\n%s", resp.StatusCode, err, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
		e.t.Errorf("register: Content-Type %q, Cache-Control %q", ct, resp.Header.Get("Cache-Control"))
	}
	r.Status = resp.StatusCode
	return r
}

// setRegistration sets the pool's TagClientRegistration ("" removes it).
func (e *env) setRegistration(mode string) {
	e.t.Helper()
	tags := map[string]string{}
	if mode != "" {
		tags[behalf.TagClientRegistration] = mode
	}
	var err error
	e.pool, err = e.svc.UpdateUserPool(context.Background(), behalf.UpdateUserPoolInput{PoolID: e.pool.ID, Tags: tags})
	if err != nil {
		e.t.Fatal(err)
	}
}

// registeredCount is how many clients registered themselves in the pool.
func (e *env) registeredCount() int {
	e.t.Helper()
	n, err := e.store.CountRegisteredAppClients(context.Background(), e.pool.ID, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// Ensure RFC 8414 metadata is served at every form MCP clients try, with
// the registration endpoint and PKCE S256, and that a pool that takes no
// registrations does not advertise the endpoint.
func TestAuthorizationServerMetadata(t *testing.T) {
	e := newEnv(t)
	forms := []string{
		e.srv.URL + "/.well-known/oauth-authorization-server/" + e.pool.ID,
		e.issuer + "/.well-known/oauth-authorization-server",
		e.srv.URL + "/.well-known/openid-configuration/" + e.pool.ID,
		e.issuer + "/.well-known/openid-configuration",
	}
	metadata := func(u string) map[string]any {
		t.Helper()
		resp, body := e.get(http.DefaultClient, u)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, u := range forms {
		d := metadata(u)
		want(t, u+" issuer", d["issuer"], any(e.issuer))
		want(t, u+" registration_endpoint", d["registration_endpoint"], any(e.issuer+"/oauth2/register"))
		want(t, u+" token_endpoint", d["token_endpoint"], any(e.issuer+"/oauth2/token"))
		b, _ := json.Marshal(d["code_challenge_methods_supported"])
		want(t, u+" code_challenge_methods_supported", string(b), `["S256"]`)
	}
	e.setRegistration(behalf.ClientRegistrationOff)
	for _, u := range forms {
		if d := metadata(u); d["registration_endpoint"] != nil {
			t.Errorf("%s: registration_endpoint %v on a pool that takes no registrations", u, d["registration_endpoint"])
		}
	}
	resp, _ := e.get(http.DefaultClient, e.srv.URL+"/us-east-1_Nope12345/.well-known/oauth-authorization-server")
	want(t, "unknown pool", resp.StatusCode, http.StatusNotFound)
}

// Ensure a public client with loopback redirect URIs registers as an
// ordinary app client of the pool, flagged as registered, with the
// defaults the answer states.
func TestRegister(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.register(`{"redirect_uris":["` + e.callback + `","http://[::1]:8123/cb","http://localhost/cb"],
		"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],
		"response_types":["code"],"client_name":"Claude Code (MCP) — ünïcode","application_type":"native",
		"software_id":"ignored","logo_uri":"https://example.com/x.png"}`)
	if r.Status != http.StatusCreated || r.ClientID == "" {
		t.Fatalf("register: %+v", r)
	}
	want(t, "client_name", r.ClientName, "Claude Code (MCP) — ünïcode")
	want(t, "token_endpoint_auth_method", r.TokenEndpointAuthMethod, "none")
	want(t, "scope", r.Scope, "openid email phone profile")
	want(t, "redirect_uris", strings.Join(r.RedirectURIs, " "), e.callback+" http://[::1]:8123/cb http://localhost/cb")
	want(t, "grant_types", strings.Join(r.GrantTypes, " "), "authorization_code refresh_token")
	want(t, "response_types", strings.Join(r.ResponseTypes, " "), "code")
	if r.ClientIDIssuedAt == 0 {
		t.Error("client_id_issued_at is missing")
	}

	c, secret, err := e.svc.DescribeUserPoolClient(ctx, e.pool.ID, r.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if !c.DynamicallyRegistered || !secret.IsZero() || len(c.Secret) != 0 || !c.RotateRefreshTokens {
		t.Errorf("registered client: dynamic %v, secret %v, rotation %v", c.DynamicallyRegistered, !secret.IsZero(), c.RotateRefreshTokens)
	}
	want(t, "flows", strings.Join(c.AllowedOAuthFlows, " "), "code")
	want(t, "auth flows", strings.Join(c.ExplicitAuthFlows, " "), behalf.AllowRefreshTokenAuth)
	list, _, err := e.svc.ListUserPoolClients(ctx, e.pool.ID, behalf.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range list {
		found = found || l.ID == r.ClientID
	}
	if !found {
		t.Error("ListUserPoolClients does not list the registered client")
	}

	// No token_endpoint_auth_method is taken as none (RFC 7591 lets the
	// server choose), and custom scopes of the pool can be asked for.
	r = e.register(`{"redirect_uris":["` + e.callback + `"],"scope":"openid agents/invoke"}`)
	if r.Status != http.StatusCreated || r.TokenEndpointAuthMethod != "none" || r.Scope != "openid agents/invoke" {
		t.Errorf("register without auth method: %+v", r)
	}
	want(t, "registered", e.registeredCount(), 2)
}

// Ensure bad registrations are refused in RFC 7591's error shape, naming
// the problem, and store nothing.
func TestRegisterRefused(t *testing.T) {
	e := newEnv(t)
	cb := `"` + e.callback + `"`
	for name, tc := range map[string]struct {
		body, code string
	}{
		"http on a public host":   {`{"redirect_uris":["http://example.com/cb"]}`, "invalid_redirect_uri"},
		"http on a private host":  {`{"redirect_uris":["http://10.0.0.1/cb"]}`, "invalid_redirect_uri"},
		"fragment":                {`{"redirect_uris":["` + e.callback + `#x"]}`, "invalid_redirect_uri"},
		"empty fragment":          {`{"redirect_uris":["` + e.callback + `#"]}`, "invalid_redirect_uri"},
		"custom scheme":           {`{"redirect_uris":["myapp://cb"]}`, "invalid_redirect_uri"},
		"javascript":              {`{"redirect_uris":["javascript:alert(1)"]}`, "invalid_redirect_uri"},
		"user info":               {`{"redirect_uris":["http://evil@127.0.0.1/cb"]}`, "invalid_redirect_uri"},
		"relative":                {`{"redirect_uris":["/cb"]}`, "invalid_redirect_uri"},
		"no redirect_uris":        {`{"client_name":"x"}`, "invalid_redirect_uri"},
		"https in loopback mode":  {`{"redirect_uris":["https://app.example.com/cb"]}`, "invalid_redirect_uri"},
		"client_secret_basic":     {`{"redirect_uris":[` + cb + `],"token_endpoint_auth_method":"client_secret_basic"}`, "invalid_client_metadata"},
		"client_secret_post":      {`{"redirect_uris":[` + cb + `],"token_endpoint_auth_method":"client_secret_post"}`, "invalid_client_metadata"},
		"private_key_jwt":         {`{"redirect_uris":[` + cb + `],"token_endpoint_auth_method":"private_key_jwt"}`, "invalid_client_metadata"},
		"client_credentials":      {`{"redirect_uris":[` + cb + `],"grant_types":["client_credentials"]}`, "invalid_client_metadata"},
		"implicit":                {`{"redirect_uris":[` + cb + `],"response_types":["token"]}`, "invalid_client_metadata"},
		"refresh only":            {`{"redirect_uris":[` + cb + `],"grant_types":["refresh_token"]}`, "invalid_client_metadata"},
		"admin scope":             {`{"redirect_uris":[` + cb + `],"scope":"openid aws.cognito.signin.user.admin"}`, "invalid_client_metadata"},
		"unknown custom scope":    {`{"redirect_uris":[` + cb + `],"scope":"openid agents/nope"}`, "invalid_client_metadata"},
		"empty scope":             {`{"redirect_uris":[` + cb + `],"scope":" "}`, "invalid_client_metadata"},
		"control in client_name":  {`{"redirect_uris":[` + cb + `],"client_name":"Bank\nof Trust"}`, "invalid_client_metadata"},
		"bidi in client_name":     {`{"redirect_uris":[` + cb + `],"client_name":"moc.elgoog\u202e"}`, "invalid_client_metadata"},
		"long client_name":        {`{"redirect_uris":[` + cb + `],"client_name":"` + strings.Repeat("a", 129) + `"}`, "invalid_client_metadata"},
		"bad application_type":    {`{"redirect_uris":[` + cb + `],"application_type":"desktop"}`, "invalid_client_metadata"},
		"wrong type":              {`{"redirect_uris":"` + e.callback + `"}`, "invalid_client_metadata"},
		"not JSON":                {`redirect_uris=x`, "invalid_client_metadata"},
		"case-variant member":     {`{"Redirect_uris":[` + cb + `]}`, "invalid_client_metadata"},
		"member twice by case":    {`{"redirect_uris":[` + cb + `],"REDIRECT_URIS":["http://127.0.0.1:9/other"]}`, "invalid_client_metadata"},
		"array":                   {`[]`, "invalid_client_metadata"},
		"too many redirect_uris":  {`{"redirect_uris":[` + strings.Repeat(cb+",", 10) + `"http://127.0.0.1/x"]}`, "invalid_redirect_uri"},
		"redirect URI too long":   {`{"redirect_uris":["http://127.0.0.1/` + strings.Repeat("a", 1100) + `"]}`, "invalid_redirect_uri"},
		"space in a redirect URI": {`{"redirect_uris":["http://127.0.0.1/a b"]}`, "invalid_redirect_uri"},
	} {
		r := e.register(tc.body)
		if r.Status != http.StatusBadRequest || r.Error != tc.code || r.Description == "" || r.ClientID != "" {
			t.Errorf("%s: %d %q %q, want 400 %s", name, r.Status, r.Error, r.Description, tc.code)
		}
	}

	resp, err := e.client.Post(e.issuer+"/oauth2/register", "text/plain", strings.NewReader(`{"redirect_uris":[`+cb+`]}`))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "text/plain", resp.StatusCode, http.StatusBadRequest)
	readBody(t, resp)
	big := `{"redirect_uris":[` + cb + `],"x":"` + strings.Repeat("a", 17<<10) + `"}`
	resp, err = e.client.Post(e.issuer+"/oauth2/register", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "huge body", resp.StatusCode, http.StatusRequestEntityTooLarge)
	readBody(t, resp)
	resp, err = e.client.Get(e.issuer + "/oauth2/register")
	if err != nil {
		t.Fatal(err)
	}
	want(t, "GET", resp.StatusCode, http.StatusMethodNotAllowed)
	readBody(t, resp)
	want(t, "stored after refusals", e.registeredCount(), 0)
}

// Ensure the pool's tag decides which clients register: none when off,
// https ones only when open.
func TestRegistrationModes(t *testing.T) {
	e := newEnv(t)
	https := `{"redirect_uris":["https://app.example.com/cb"],"client_name":"Web client"}`
	loopback := `{"redirect_uris":["` + e.callback + `"]}`

	e.setRegistration(behalf.ClientRegistrationOff)
	for _, body := range []string{https, loopback} {
		if r := e.register(body); r.Status != http.StatusForbidden || r.Error != "access_denied" {
			t.Errorf("off: %+v, want 403 access_denied", r)
		}
	}
	e.setRegistration(behalf.ClientRegistrationOpen)
	if r := e.register(https); r.Status != http.StatusCreated {
		t.Errorf("open, https: %+v", r)
	}
	if r := e.register(`{"redirect_uris":["http://app.example.com/cb"]}`); r.Error != "invalid_redirect_uri" {
		t.Errorf("open, http on a public host: %+v", r)
	}
	e.setRegistration(behalf.ClientRegistrationLoopback)
	if r := e.register(https); r.Error != "invalid_redirect_uri" {
		t.Errorf("loopback, https: %+v", r)
	}
	if r := e.register(loopback); r.Status != http.StatusCreated {
		t.Errorf("loopback: %+v", r)
	}
	_, err := e.svc.UpdateUserPool(context.Background(), behalf.UpdateUserPoolInput{
		PoolID: e.pool.ID, Tags: map[string]string{behalf.TagClientRegistration: "yes"}})
	if behalf.CognitoException(err) != behalf.CognitoInvalidParameter {
		t.Errorf("tag value yes: %v, want InvalidParameterException", err)
	}
}

// Ensure the cap on registered clients holds, and that clients an
// administrator created do not count.
func TestRegistrationLimit(t *testing.T) {
	e := newEnvWith(t, oidcop.WithRegistrationLimit(2))
	body := `{"redirect_uris":["` + e.callback + `"]}`
	for range 2 {
		if r := e.register(body); r.Status != http.StatusCreated {
			t.Fatalf("register: %+v", r)
		}
	}
	if r := e.register(body); r.Status != http.StatusForbidden || r.Error != "access_denied" {
		t.Errorf("third: %+v, want 403 access_denied", r)
	}
	want(t, "registered", e.registeredCount(), 2)
}

// Ensure a registered client signs a user in only as the MCP spec asks:
// its exact redirect URI, PKCE S256, the login page every time (naming
// it and where the code goes), and tokens whose aud is the RFC 8707
// resource asked for, refreshed with rotation.
func TestRegisteredClientFlow(t *testing.T) {
	e := newEnv(t)
	r := e.register(`{"redirect_uris":["` + e.callback + `"],"client_name":"Notes <MCP>","token_endpoint_auth_method":"none"}`)
	if r.Status != http.StatusCreated {
		t.Fatalf("register: %+v", r)
	}
	client := &behalf.AppClient{ID: r.ClientID}
	const resource = "https://mcp.example.com/gateways/g1/mcp"
	c := e.browser()
	verifier := oauth2.GenerateVerifier()

	// Another redirect URI: a page, never a redirect.
	bad := strings.Replace(e.authorizeURL(authParams{client: client, verifier: verifier, scope: "openid"}),
		url.QueryEscape(e.callback), url.QueryEscape(e.callback+"/other"), 1)
	resp, _ := e.get(c, bad)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("other redirect_uri: %d Location=%q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for name, tc := range map[string]struct {
		a    authParams
		want string
	}{
		"no PKCE": {authParams{client: client, scope: "openid"}, "invalid_request"},
		"plain PKCE": {authParams{client: client, scope: "openid", extra: url.Values{
			"code_challenge": {verifier}, "code_challenge_method": {"plain"}}}, "invalid_request"},
		"resource with a fragment": {authParams{client: client, verifier: verifier, scope: "openid",
			extra: url.Values{"resource": {resource + "#x"}}}, "invalid_target"},
		"relative resource": {authParams{client: client, verifier: verifier, scope: "openid",
			extra: url.Values{"resource": {"/mcp"}}}, "invalid_target"},
		"prompt=none": {authParams{client: client, verifier: verifier, scope: "openid",
			extra: url.Values{"prompt": {"none"}}}, "login_required"},
	} {
		tc.a.state = "s"
		resp, _ := e.get(c, e.authorizeURL(tc.a))
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("error") != tc.want {
			t.Errorf("%s: %d Location=%q, want error %s", name, resp.StatusCode, resp.Header.Get("Location"), tc.want)
		}
	}

	a := authParams{client: client, verifier: verifier, scope: "openid email", state: "st",
		extra: url.Values{"resource": {resource}}}
	resp, _ = e.get(c, e.authorizeURL(a))
	loginURL := resp.Header.Get("Location")
	_, page := e.get(c, loginURL)
	host := strings.TrimPrefix(e.rp.URL, "http://")
	for _, s := range []string{"to continue to <strong>Notes &lt;MCP&gt;</strong>", `id="registered-notice"`, "<strong>" + host + "</strong>"} {
		if !strings.Contains(page, s) {
			t.Errorf("login page lacks %q:\n%s", s, page)
		}
	}
	resp, body := e.signIn(c, loginURL, hiddenFields(page), "alice", alicePassword)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	code := e.code(resp, "st")

	exchange := func(code string, extra url.Values) tokenReply {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.callback},
			"client_id": {client.ID}, "code_verifier": {verifier}}
		for k, v := range extra {
			form[k] = v
		}
		tr, _ := e.post("/oauth2/token", form, "", "")
		return tr
	}
	if tr := exchange(code, url.Values{"resource": {"https://other.example.com/mcp"}}); tr.Error != "invalid_target" {
		t.Errorf("exchange for another resource: %+v, want invalid_target", tr)
	}
	// The code was presented once: a second exchange is a replay. Sign in
	// again (the session does not skip the page for this client).
	resp, _ = e.get(c, e.authorizeURL(a))
	if !strings.HasPrefix(resp.Header.Get("Location"), e.base+"/login?") {
		t.Fatalf("second authorization with a session: Location=%q, want the login page", resp.Header.Get("Location"))
	}
	loginURL = resp.Header.Get("Location")
	_, page = e.get(c, loginURL)
	resp, _ = e.signIn(c, loginURL, hiddenFields(page), "alice", alicePassword)
	tr := exchange(e.code(resp, "st"), url.Values{"resource": {resource}})
	if tr.Status != http.StatusOK || tr.AccessToken == "" || tr.RefreshToken == "" {
		t.Fatalf("exchange: %+v", tr)
	}
	audOf := func(token string) string {
		b, _ := json.Marshal(claims(t, token)["aud"])
		return string(b)
	}
	want(t, "access token aud", audOf(tr.AccessToken), `["`+resource+`"]`)
	want(t, "access token client_id", claims(t, tr.AccessToken)["client_id"], any(client.ID))
	want(t, "ID token aud", claims(t, tr.IDToken)["aud"], any(client.ID))

	refresh := func(token string, extra url.Values) tokenReply {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}, "client_id": {client.ID}}
		for k, v := range extra {
			form[k] = v
		}
		tr, _ := e.post("/oauth2/token", form, "", "")
		return tr
	}
	if got := refresh(tr.RefreshToken, url.Values{"resource": {"https://other.example.com/mcp"}}); got.Error != "invalid_target" {
		t.Errorf("refresh for another resource: %+v, want invalid_target", got)
	}
	got := refresh(tr.RefreshToken, url.Values{"resource": {resource}})
	if got.Status != http.StatusOK || got.RefreshToken == "" || got.RefreshToken == tr.RefreshToken {
		t.Fatalf("refresh: %+v, want a new (rotated) refresh token", got)
	}
	want(t, "refreshed aud", audOf(got.AccessToken), `["`+resource+`"]`)
	if got := refresh(got.RefreshToken, nil); got.Status != http.StatusOK || audOf(got.AccessToken) != `["`+resource+`"]` {
		t.Errorf("refresh without resource: %+v aud %s, want the sign-in's", got, audOf(got.AccessToken))
	}
}

// Ensure an administrator's client asks for resources too, and keeps its
// session shortcut; a token without resource has no aud, as Cognito's.
func TestResourceIndicators(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	verifier := oauth2.GenerateVerifier()
	a := authParams{client: e.public, verifier: verifier, scope: "openid", state: "s",
		extra: url.Values{"resource": {"https://a.example.com/mcp", "urn:example:b", "https://a.example.com/mcp"}}}
	tr := e.exchange(e.login(c, a), verifier)
	b, _ := json.Marshal(claims(t, tr.AccessToken)["aud"])
	want(t, "aud", string(b), `["https://a.example.com/mcp","urn:example:b"]`)

	a.extra = nil
	resp, _ := e.get(c, e.authorizeURL(a)) // the session's code, at once
	tr = e.exchange(e.code(resp, "s"), verifier)
	if aud, ok := claims(t, tr.AccessToken)["aud"]; ok {
		t.Errorf("aud %v without resource", aud)
	}
	many := url.Values{}
	for i := range behalf.MaxResources + 1 {
		many.Add("resource", "https://r.example.com/"+string(rune('a'+i)))
	}
	a.extra = many
	resp, _ = e.get(c, e.authorizeURL(a))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	want(t, "too many resources", loc.Query().Get("error"), "invalid_target")
}
