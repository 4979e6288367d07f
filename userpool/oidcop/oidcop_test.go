package oidcop_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/userpool"
	"github.com/behalf-dev/behalf/userpool/oidcop"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Ensure the discovery document names the pool's issuer and endpoints,
// at the OpenID and RFC 8414 paths, and that the keys are the service's.
func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{
		e.issuer + "/.well-known/openid-configuration",
		e.srv.URL + "/.well-known/oauth-authorization-server/" + e.pool.ID,
	} {
		resp, body := e.get(http.DefaultClient, u)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatal(err)
		}
		for field, v := range map[string]string{
			"issuer":                 e.issuer,
			"jwks_uri":               e.issuer + "/.well-known/jwks.json",
			"authorization_endpoint": e.issuer + "/oauth2/authorize",
			"token_endpoint":         e.issuer + "/oauth2/token",
			"userinfo_endpoint":      e.issuer + "/oauth2/userInfo",
			"revocation_endpoint":    e.issuer + "/oauth2/revoke",
			"end_session_endpoint":   e.issuer + "/logout",
		} {
			want(t, field, d[field], any(v))
		}
		for field, v := range map[string]string{
			"code_challenge_methods_supported":      `["S256"]`,
			"id_token_signing_alg_values_supported": `["RS256"]`,
			"response_types_supported":              `["code"]`,
			"subject_types_supported":               `["public"]`,
		} {
			b, _ := json.Marshal(d[field])
			want(t, field, string(b), v)
		}
		want(t, "request_uri_parameter_supported", d["request_uri_parameter_supported"], any(false))
	}

	resp, body := e.get(http.DefaultClient, e.issuer+"/.well-known/jwks.json")
	jwks, err := e.svc.JWKS(context.Background(), e.pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "JWKS status", resp.StatusCode, http.StatusOK)
	want(t, "JWKS", strings.TrimSpace(body), string(jwks))

	resp, _ = e.get(http.DefaultClient, e.srv.URL+"/us-east-1_Nope12345/.well-known/openid-configuration")
	want(t, "unknown pool discovery", resp.StatusCode, http.StatusNotFound)
	resp, _ = e.get(http.DefaultClient, e.srv.URL+"/us-east-1_Nope12345/oauth2/authorize")
	want(t, "unknown pool authorize", resp.StatusCode, http.StatusNotFound)
}

// Ensure the code flow with PKCE yields Cognito-shaped tokens, and that a
// code is refused with a wrong verifier, and once used.
func TestCodeFlowPKCE(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	verifier := oauth2.GenerateVerifier()
	code := e.login(c, authParams{client: e.public, verifier: verifier, scope: "openid email profile", state: "st-1", nonce: "n-1"})

	tok := e.exchange(code, verifier)
	if tok.Status != http.StatusOK {
		t.Fatalf("exchange: %+v", tok)
	}
	want(t, "token_type", tok.TokenType, "Bearer")
	if tok.RefreshToken == "" || tok.ExpiresIn <= 0 {
		t.Errorf("exchange: %+v, want a refresh token and expires_in", tok)
	}
	at := claims(t, tok.AccessToken)
	want(t, "access client_id", at["client_id"], any(e.public.ID))
	want(t, "access iss", at["iss"], any(e.issuer))
	want(t, "access token_use", at["token_use"], any("access"))
	want(t, "access scope", at["scope"], any("openid email profile"))
	want(t, "access username", at["username"], any("alice"))
	if _, ok := at["aud"]; ok {
		t.Errorf("access token has aud %v; Cognito's have none", at["aud"])
	}
	id := claims(t, tok.IDToken)
	wantAud(t, id, e.public.ID)
	want(t, "id nonce", id["nonce"], any("n-1"))
	want(t, "id sub", id["sub"], any(e.alice.Sub))
	want(t, "id email", id["email"], any(aliceEmail))
	want(t, "id token_use", id["token_use"], any("id"))

	replay := e.exchange(code, verifier)
	want(t, "replayed code", replay.Error, "invalid_grant")
	// The replay revoked what the code was exchanged for.
	want(t, "refresh after replay", e.refresh(tok.RefreshToken).Error, "invalid_grant")
	status, _, _ := e.userInfo(tok.AccessToken)
	want(t, "userinfo after replay", status, http.StatusUnauthorized)

	// The session cookie makes the next authorization skip the password.
	verifier2 := oauth2.GenerateVerifier()
	resp, _ := e.get(c, e.authorizeURL(authParams{client: e.public, verifier: verifier2, scope: "openid", state: "st-2"}))
	code2 := e.code(resp, "st-2")
	bad := e.exchange(code2, oauth2.GenerateVerifier())
	want(t, "wrong verifier", bad.Error, "invalid_grant")
	want(t, "right verifier after a wrong one", e.exchange(code2, verifier2).Error, "invalid_grant")

	resp, _ = e.get(c, e.authorizeURL(authParams{client: e.public, verifier: verifier2, scope: "openid", state: "st-3"}))
	code3 := e.code(resp, "st-3")
	r, _ := e.post("/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code3}, "redirect_uri": {e.callback}, "client_id": {e.public.ID},
	}, "", "")
	want(t, "missing verifier", r.Error, "invalid_request")
}

// Ensure a confidential client authenticates at the token endpoint, may
// skip PKCE, and that a wrong secret is a 401 invalid_client.
func TestConfidentialClient(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	code := e.login(c, authParams{client: e.confidential, scope: "openid", state: "s"})
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.callback}}

	r, resp := e.post("/oauth2/token", form, e.confidential.ID, "wrong-secret")
	want(t, "wrong secret status", r.Status, http.StatusUnauthorized)
	want(t, "wrong secret error", r.Error, "invalid_client")
	want(t, "Cache-Control", resp.Header.Get("Cache-Control"), "")

	r, resp = e.post("/oauth2/token", form, e.confidential.ID, e.secret)
	if r.Status != http.StatusOK || r.IDToken == "" {
		t.Fatalf("exchange: %+v", r)
	}
	want(t, "Cache-Control", resp.Header.Get("Cache-Control"), "no-store")
	want(t, "Pragma", resp.Header.Get("Pragma"), "no-cache")
	wantAud(t, claims(t, r.IDToken), e.confidential.ID)
	refreshToken := r.RefreshToken

	// client_secret_post works too; the code is spent by now.
	form.Set("client_id", e.confidential.ID)
	form.Set("client_secret", e.secret.Reveal())
	r, _ = e.post("/oauth2/token", form, "", "")
	want(t, "client_secret_post with a spent code", r.Error, "invalid_grant")

	// The replayed code revoked the refresh token it was exchanged for
	// (confidential clients may refresh: TestConfidentialRefresh).
	r, _ = e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}, e.confidential.ID, e.secret)
	want(t, "refresh after the code was replayed", r.Error, "invalid_grant")
	want(t, "refresh after the code was replayed", r.Description, "Refresh Token has been revoked")
}

// Ensure authorization errors: an unregistered redirect_uri or unknown
// client gets a page, never a redirect; other errors go back to the
// client's redirect_uri with the state.
func TestAuthorizeErrors(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	for name, u := range map[string]string{
		"unregistered redirect_uri": strings.Replace(e.authorizeURL(authParams{client: e.public, verifier: "v", scope: "openid"}),
			url.QueryEscape(e.callback), url.QueryEscape(e.rp.URL+"/evil"), 1),
		"unknown client": e.issuer + "/oauth2/authorize?response_type=code&client_id=nope&redirect_uri=" + url.QueryEscape(e.callback),
		"no client":      e.issuer + "/oauth2/authorize?response_type=code&redirect_uri=" + url.QueryEscape(e.callback),
	} {
		resp, body := e.get(c, u)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d Location=%q, want 400 and no redirect", name, resp.StatusCode, resp.Header.Get("Location"))
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, `role="alert"`) {
			t.Errorf("%s: want an HTML error page, got %q\n%s", name, resp.Header.Get("Content-Type"), body)
		}
	}

	verifier := oauth2.GenerateVerifier()
	for name, tc := range map[string]struct {
		a    authParams
		want string
	}{
		"public client without PKCE": {authParams{client: e.public, scope: "openid"}, "invalid_request"},
		"scope not allowed":          {authParams{client: e.public, verifier: verifier, scope: "openid phone"}, "invalid_scope"},
		"custom scope not allowed":   {authParams{client: e.public, verifier: verifier, scope: "openid agents/invoke"}, "invalid_scope"},
		"email without openid":       {authParams{client: e.public, verifier: verifier, scope: "email"}, "invalid_scope"},
		"plain PKCE": {authParams{client: e.public, scope: "openid", extra: url.Values{
			"code_challenge": {verifier}, "code_challenge_method": {"plain"}}}, "invalid_request"},
		"prompt=none without a session": {authParams{client: e.public, verifier: verifier, scope: "openid",
			extra: url.Values{"prompt": {"none"}}}, "login_required"},
		"implicit flow": {authParams{client: e.public, verifier: verifier, scope: "openid",
			extra: url.Values{"response_type": {"token"}}}, "unauthorized_client"},
	} {
		tc.a.state = "state-" + name
		resp, _ := e.get(c, e.authorizeURL(tc.a))
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), e.callback+"?") {
			t.Errorf("%s: %d Location=%q, want an error redirect", name, resp.StatusCode, resp.Header.Get("Location"))
			continue
		}
		want(t, name+": error", loc.Query().Get("error"), tc.want)
		want(t, name+": state", loc.Query().Get("state"), tc.a.state)
	}
}

// Ensure the login page refuses a wrong password with a generic message,
// and posts without the CSRF token, with a wrong one or with another
// request's.
func TestLoginPage(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	a := authParams{client: e.public, verifier: oauth2.GenerateVerifier(), scope: "openid", state: "s"}
	loginURL, fields := e.loginPage(c, a)

	resp, page := e.signIn(c, loginURL, fields, "alice", "wrong")
	want(t, "wrong password status", resp.StatusCode, http.StatusUnauthorized)
	if !strings.Contains(page, "Incorrect username or password.") || !strings.Contains(page, `value="alice"`) {
		t.Errorf("wrong password page:\n%s", page)
	}
	resp, page2 := e.signIn(c, loginURL, hiddenFields(page), "mallory", "wrong")
	want(t, "unknown user status", resp.StatusCode, http.StatusUnauthorized)
	if !strings.Contains(page2, "Incorrect username or password.") {
		t.Errorf("unknown user page:\n%s", page2)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Cache-Control"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("login page has no %s header", h)
		}
	}

	_, other := e.loginPage(c, authParams{client: e.public, verifier: oauth2.GenerateVerifier(), scope: "openid", state: "o"})
	for name, csrf := range map[string][]string{
		"no CSRF token":            nil,
		"wrong CSRF token":         {"AAAA" + fields.Get("csrf")[4:]},
		"another request's token":  {other.Get("csrf")},
		"token of another browser": {hiddenFields(e.otherBrowserPage(loginURL)).Get("csrf")},
	} {
		f := url.Values{"request": {fields.Get("request")}, "csrf": csrf}
		resp, body := e.signIn(c, loginURL, f, "alice", alicePassword)
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d Location=%q, want 403", name, resp.StatusCode, resp.Header.Get("Location"))
		}
		if !strings.Contains(body, "Reload the page") {
			t.Errorf("%s: page\n%s", name, body)
		}
	}

	// The form still works with its own token.
	resp, _ = e.signIn(c, loginURL, hiddenFields(page2), "alice", alicePassword)
	e.code(resp, "s")
	resp, body := e.get(c, loginURL)
	want(t, "used login link", resp.StatusCode, http.StatusBadRequest)
	if !strings.Contains(body, "expired or was already used") {
		t.Errorf("used login link:\n%s", body)
	}
}

// otherBrowserPage loads a login page in a fresh cookie jar.
func (e *env) otherBrowserPage(loginURL string) string {
	_, page := e.get(e.browser(), loginURL)
	return page
}

// Ensure a user with a temporary password must choose a new one, on a
// page the password's POST redirects to (POST → redirect → GET), shown
// only to the browser that gave the password.
func TestTemporaryPassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, _, err := e.svc.AdminCreateUser(ctx, behalf.AdminCreateUserInput{
		PoolID: e.pool.ID, Username: "bob", TemporaryPassword: "Temp-Pass-1!", MessageAction: "SUPPRESS",
	}); err != nil {
		t.Fatal(err)
	}
	c := e.browser()
	loginURL, fields := e.loginPage(c, authParams{client: e.public, verifier: oauth2.GenerateVerifier(), scope: "openid", state: "s"})
	resp, page := e.signIn(c, loginURL, fields, "bob", "Temp-Pass-1!")
	next := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(next, "/"+e.pool.ID+"/login?request=") {
		t.Fatalf("temporary password: %d → %q, want a redirect to the login page\n%s", resp.StatusCode, next, page)
	}
	if _, other := e.get(e.browser(), e.srv.URL+next); strings.Contains(other, `name="new_password"`) {
		t.Fatalf("another browser is offered the new password form:\n%s", other)
	}
	resp, page = e.get(c, e.srv.URL+next)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="new_password"`) {
		t.Fatalf("the new password page: %d\n%s", resp.StatusCode, page)
	}
	if resp, again := e.get(c, e.srv.URL+next); resp.StatusCode != http.StatusOK || !strings.Contains(again, `name="new_password"`) {
		t.Fatalf("a reload of the new password page: %d\n%s", resp.StatusCode, again)
	}
	f := hiddenFields(page)
	f.Set("new_password", "New-Pass-1!")
	f.Set("confirm_password", "Other-Pass-1!")
	resp, page = e.postForm(c, loginURL, f)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "do not match") {
		t.Fatalf("mismatch: %d\n%s", resp.StatusCode, page)
	}
	f = hiddenFields(page)
	f.Set("new_password", "short")
	f.Set("confirm_password", "short")
	resp, page = e.postForm(c, loginURL, f)
	want(t, "weak password status", resp.StatusCode, http.StatusBadRequest)
	f = hiddenFields(page)
	f.Set("new_password", "New-Pass-1!")
	f.Set("confirm_password", "New-Pass-1!")
	resp, _ = e.postForm(c, loginURL, f)
	e.code(resp, "s")
	u, err := e.svc.AdminGetUser(ctx, e.pool.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	want(t, "status", u.Status, behalf.UserConfirmed)
}

// Ensure refresh, userinfo and revocation.
func TestRefreshUserInfoRevoke(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	verifier := oauth2.GenerateVerifier()
	tok := e.exchange(e.login(c, authParams{client: e.public, verifier: verifier, scope: "openid email", state: "s"}), verifier)
	if tok.Status != http.StatusOK {
		t.Fatalf("exchange: %+v", tok)
	}

	status, info, _ := e.userInfo(tok.AccessToken)
	want(t, "userinfo status", status, http.StatusOK)
	want(t, "sub", info["sub"], any(e.alice.Sub))
	want(t, "username", info["username"], any("alice"))
	want(t, "email", info["email"], any(aliceEmail))
	want(t, "email_verified", info["email_verified"], any(true))
	if _, ok := info["name"]; ok {
		t.Errorf("userinfo released name without the profile scope: %v", info)
	}
	status, _, h := e.userInfo("not-a-token")
	want(t, "bad token", status, http.StatusUnauthorized)
	want(t, "WWW-Authenticate", h.Get("WWW-Authenticate"), `Bearer error="invalid_token"`)

	ref := e.refresh(tok.RefreshToken)
	if ref.Status != http.StatusOK || ref.AccessToken == "" || ref.IDToken == "" || ref.RefreshToken != "" {
		t.Fatalf("refresh: %+v, want access and ID tokens and no new refresh token", ref)
	}
	want(t, "refreshed scope", claims(t, ref.AccessToken)["scope"], any("openid email"))

	r, _ := e.post("/oauth2/revoke", url.Values{"token": {tok.AccessToken}, "client_id": {e.public.ID}}, "", "")
	want(t, "revoke an access token", r.Error, "unsupported_token_type")
	r, _ = e.post("/oauth2/revoke", url.Values{"token": {"unknown"}, "client_id": {e.public.ID}}, "", "")
	want(t, "revoke an unknown token", r.Status, http.StatusOK)
	r, _ = e.post("/oauth2/revoke", url.Values{"token": {tok.RefreshToken}}, e.confidential.ID, "wrong")
	want(t, "revoke with a wrong secret", r.Status, http.StatusUnauthorized)
	r, _ = e.post("/oauth2/revoke", url.Values{"token": {tok.RefreshToken}, "client_id": {e.public.ID}}, "", "")
	want(t, "revoke", r.Status, http.StatusOK)

	want(t, "refresh after revoke", e.refresh(tok.RefreshToken).Error, "invalid_grant")
	status, _, _ = e.userInfo(ref.AccessToken)
	want(t, "userinfo after revoke", status, http.StatusUnauthorized)

	// A token without openid may not read userinfo.
	v2 := oauth2.GenerateVerifier()
	resp, _ := e.get(c, e.authorizeURL(authParams{client: e.apiOnly, verifier: v2, scope: "agents/invoke", state: "api"}))
	r, _ = e.post("/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {e.code(resp, "api")}, "redirect_uri": {e.callback},
		"client_id": {e.apiOnly.ID}, "code_verifier": {v2},
	}, "", "")
	if r.Status != http.StatusOK || r.IDToken != "" {
		t.Fatalf("exchange without openid: %+v, want an access token only", r)
	}
	status, _, h = e.userInfo(r.AccessToken)
	want(t, "userinfo without openid", status, http.StatusForbidden)
	want(t, "WWW-Authenticate", h.Get("WWW-Authenticate"), `Bearer error="insufficient_scope", scope="openid"`)
}

// Ensure the client_credentials grant for a client that allows it.
func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	r, _ := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {e.public.ID}}, "", "")
	want(t, "public client", r.Error, "unauthorized_client")
	r, _ = e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, e.machine.ID, e.machineKey)
	want(t, "scope not allowed", r.Error, "invalid_scope")
	r, _ = e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"agents/invoke"}}, e.machine.ID, "wrong-secret")
	want(t, "wrong secret", r.Status, http.StatusUnauthorized)
	for name, form := range map[string]url.Values{
		"scope":    {"grant_type": {"client_credentials"}, "scope": {"agents/invoke"}},
		"no scope": {"grant_type": {"client_credentials"}}, // every scope the client may have
	} {
		var resp *http.Response
		r, resp = e.post("/oauth2/token", form, e.machine.ID, e.machineKey)
		if r.Status != http.StatusOK {
			t.Fatalf("client_credentials (%s): %+v", name, r)
		}
		want(t, name+": Cache-Control", resp.Header.Get("Cache-Control"), "no-store")
		want(t, name+": Pragma", resp.Header.Get("Pragma"), "no-cache")
		at := claims(t, r.AccessToken)
		want(t, name+": sub", at["sub"], any(e.machine.ID))
		want(t, name+": client_id", at["client_id"], any(e.machine.ID))
		want(t, name+": scope", at["scope"], any("agents/invoke"))
		want(t, name+": token_use", at["token_use"], any("access"))
		want(t, name+": iss", at["iss"], any(e.issuer))
		want(t, name+": token_type", r.TokenType, "Bearer")
		if _, ok := at["username"]; ok {
			t.Errorf("%s: a client's token has a username: %v", name, at)
		}
		if r.IDToken != "" || r.RefreshToken != "" || r.ExpiresIn != 3600 {
			t.Errorf("client_credentials (%s) returned %+v, want an access token only, for an hour", name, r)
		}
		// The service verifies it as the client's token, with no user.
		c, err := e.svc.VerifyAccessToken(context.Background(), behalf.Secret(r.AccessToken))
		if err != nil || c.ClientID != e.machine.ID || c.Sub != e.machine.ID || c.User != nil {
			t.Errorf("VerifyAccessToken (%s) = %+v, %v", name, c, err)
		}
		// It names no user, so userinfo refuses it.
		status, _, _ := e.userInfo(r.AccessToken)
		want(t, name+": userinfo", status, http.StatusUnauthorized)
	}
}

// Ensure the refresh_token grant for a confidential client: it
// authenticates at the token endpoint (no SECRET_HASH), gets new access
// and ID tokens and no new refresh token; a wrong secret, another client's
// token, a revoked token and a disabled user are refused.
func TestConfidentialRefresh(t *testing.T) {
	e := newEnv(t)
	var _ oidcop.Refresher = e.svc
	c := e.browser()
	code := e.login(c, authParams{client: e.confidential, scope: "openid email", state: "s", nonce: "n1"})
	r, _ := e.post("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.callback}}, e.confidential.ID, e.secret)
	if r.Status != http.StatusOK || r.RefreshToken == "" {
		t.Fatalf("exchange: %+v", r)
	}
	first := claims(t, r.AccessToken)
	refreshToken := r.RefreshToken
	ref := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}

	// client_secret_basic.
	got, resp := e.post("/oauth2/token", ref, e.confidential.ID, e.secret)
	if got.Status != http.StatusOK || got.AccessToken == "" || got.IDToken == "" || got.RefreshToken != "" {
		t.Fatalf("refresh: %+v, want access and ID tokens and no new refresh token", got)
	}
	want(t, "Cache-Control", resp.Header.Get("Cache-Control"), "no-store")
	want(t, "Pragma", resp.Header.Get("Pragma"), "no-cache")
	at, id := claims(t, got.AccessToken), claims(t, got.IDToken)
	want(t, "sub", at["sub"], any(e.alice.Sub))
	want(t, "client_id", at["client_id"], any(e.confidential.ID))
	want(t, "scope", at["scope"], any("openid email"))
	want(t, "origin_jti", at["origin_jti"], first["origin_jti"])
	want(t, "auth_time", at["auth_time"], first["auth_time"])
	want(t, "email", id["email"], any(aliceEmail))
	wantAud(t, id, e.confidential.ID)
	if status, _, _ := e.userInfo(got.AccessToken); status != http.StatusOK {
		t.Errorf("userinfo with the refreshed token: %d", status)
	}

	// client_secret_post.
	form := url.Values{"client_id": {e.confidential.ID}, "client_secret": {e.secret.Reveal()}}
	for k, v := range ref {
		form[k] = v
	}
	if got, _ = e.post("/oauth2/token", form, "", ""); got.Status != http.StatusOK || got.AccessToken == "" {
		t.Errorf("refresh with client_secret_post: %+v", got)
	}

	got, _ = e.post("/oauth2/token", ref, e.confidential.ID, "wrong-secret")
	want(t, "wrong secret status", got.Status, http.StatusUnauthorized)
	want(t, "wrong secret error", got.Error, "invalid_client")
	// Without credentials, a confidential client is not authenticated.
	got, _ = e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {e.confidential.ID}}, "", "")
	want(t, "no secret", got.Error, "invalid_client")

	// Another client's refresh token is refused to this one, and this
	// client's to another.
	v := oauth2.GenerateVerifier()
	resp, _ = e.get(c, e.authorizeURL(authParams{client: e.public, verifier: v, scope: "openid", state: "p"}))
	pub := e.exchange(e.code(resp, "p"), v)
	got, _ = e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pub.RefreshToken}}, e.confidential.ID, e.secret)
	want(t, "another client's token", got.Error, "invalid_grant")
	want(t, "the public client with the confidential one's token", e.refresh(refreshToken).Error, "invalid_grant")
	got, _ = e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"unknown"}}, e.confidential.ID, e.secret)
	want(t, "unknown token", got.Error, "invalid_grant")

	// A disabled user cannot refresh; enabling does not bring back the
	// tokens disabling revoked.
	ctx := context.Background()
	if err := e.svc.AdminDisableUser(ctx, e.pool.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	got, _ = e.post("/oauth2/token", ref, e.confidential.ID, e.secret)
	want(t, "disabled user", got.Error, "invalid_grant")
	if err := e.svc.AdminEnableUser(ctx, e.pool.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	got, _ = e.post("/oauth2/token", ref, e.confidential.ID, e.secret)
	want(t, "after disable and enable", got.Error, "invalid_grant")

	// A revoked token is refused.
	code = e.login(e.browser(), authParams{client: e.confidential, scope: "openid", state: "s2"})
	r, _ = e.post("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.callback}}, e.confidential.ID, e.secret)
	if r.Status != http.StatusOK {
		t.Fatalf("exchange: %+v", r)
	}
	ref.Set("refresh_token", r.RefreshToken)
	if got, _ = e.post("/oauth2/token", ref, e.confidential.ID, e.secret); got.Status != http.StatusOK {
		t.Fatalf("refresh after a new sign-in: %+v", got)
	}
	if got, _ = e.post("/oauth2/revoke", url.Values{"token": {r.RefreshToken}}, e.confidential.ID, e.secret); got.Status != http.StatusOK {
		t.Fatalf("revoke: %+v", got)
	}
	got, _ = e.post("/oauth2/token", ref, e.confidential.ID, e.secret)
	want(t, "revoked token", got.Error, "invalid_grant")
}

// Ensure logout: an unregistered logout_uri is refused without touching
// the session; a registered one clears it, so the next authorization asks
// for the password again.
func TestLogout(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	e.login(c, authParams{client: e.public, verifier: oauth2.GenerateVerifier(), scope: "openid", state: "s"})
	logout := func(uri string) (*http.Response, string) {
		return e.get(c, e.issuer+"/logout?"+url.Values{"client_id": {e.public.ID}, "logout_uri": {uri}}.Encode())
	}

	resp, body := logout(e.rp.URL + "/elsewhere")
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || len(resp.Cookies()) != 0 {
		t.Fatalf("unregistered logout_uri: %d Location=%q cookies=%v\n%s", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies(), body)
	}
	v := oauth2.GenerateVerifier()
	resp, _ = e.get(c, e.authorizeURL(authParams{client: e.public, verifier: v, scope: "openid", state: "still"}))
	e.code(resp, "still") // still signed in

	resp, _ = logout(e.logoutURL)
	want(t, "logout status", resp.StatusCode, http.StatusFound)
	want(t, "logout Location", resp.Header.Get("Location"), e.logoutURL)
	if i := slices.IndexFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == "behalf_session" }); i < 0 || resp.Cookies()[i].MaxAge >= 0 {
		t.Errorf("logout cookies %v, want behalf_session deleted", resp.Cookies())
	}
	e.loginPage(c, authParams{client: e.public, verifier: v, scope: "openid", state: "again"})
}

// Ensure a global sign-out ends the hosted-login session too.
func TestGlobalSignOutEndsSession(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	e.login(c, authParams{client: e.public, verifier: oauth2.GenerateVerifier(), scope: "openid", state: "s"})
	if err := e.svc.AdminUserGlobalSignOut(context.Background(), e.pool.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	e.loginPage(c, authParams{client: e.public, verifier: oauth2.GenerateVerifier(), scope: "openid", state: "s"})
}

// Ensure a verifier that knows only the discovery URL (coreos/go-oidc)
// accepts the ID token, and golang.org/x/oauth2 can run the exchange.
func TestIndependentVerifier(t *testing.T) {
	e := newEnv(t)
	ctx := oidc.ClientContext(context.Background(), e.srv.Client())
	provider, err := oidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{
		ClientID: e.confidential.ID, ClientSecret: e.secret.Reveal(), RedirectURL: e.callback,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email"},
	}
	verifier := oauth2.GenerateVerifier()
	c := e.browser()
	resp, _ := e.get(c, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1")))
	if !strings.HasPrefix(resp.Header.Get("Location"), e.issuer+"/login?") {
		t.Fatalf("AuthCodeURL: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	loginURL := resp.Header.Get("Location")
	_, page := e.get(c, loginURL)
	resp, _ = e.signIn(c, loginURL, hiddenFields(page), "alice", alicePassword)
	tok, err := conf.Exchange(ctx, e.code(resp, "st"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: e.confidential.ID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	want(t, "nonce", idt.Nonce, "nonce-1")
	want(t, "subject", idt.Subject, e.alice.Sub)
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	// Access tokens have no aud: check signature, issuer and expiry only.
	if _, err := provider.Verifier(&oidc.Config{SkipClientIDCheck: true}).Verify(ctx, tok.AccessToken); err != nil {
		t.Errorf("verify access token: %v", err)
	}
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "userinfo email", ui.Email, aliceEmail)
}

// wantAud checks an ID token's aud: the client id, as a string (Cognito)
// or a one-element array (RFC 7519 allows both).
func wantAud(t *testing.T, c map[string]any, clientID string) {
	t.Helper()
	switch aud := c["aud"].(type) {
	case string:
		want(t, "aud", aud, clientID)
	case []any:
		if len(aud) != 1 || aud[0] != clientID {
			t.Errorf("aud = %v, want %s", aud, clientID)
		}
	default:
		t.Errorf("aud = %v, want %s", c["aud"], clientID)
	}
}

// Ensure the lockout message of the service reaches the login page.
func TestLockoutMessage(t *testing.T) {
	e := newEnv(t)
	e.createUser(context.Background(), "carol", alicePassword, nil)
	c := e.browser()
	loginURL, fields := e.loginPage(c, authParams{client: e.public, verifier: oauth2.GenerateVerifier(), scope: "openid", state: "s"})
	var page string
	for range 5 {
		_, page = e.signIn(c, loginURL, fields, "carol", "wrong")
		fields = hiddenFields(page)
	}
	resp, page := e.signIn(c, loginURL, fields, "carol", alicePassword)
	want(t, "locked status", resp.StatusCode, http.StatusUnauthorized)
	if !strings.Contains(page, "Password attempts exceeded") {
		t.Errorf("locked-out page:\n%s", page)
	}
}

// handlerTransport serves requests in-process, so a client with a cookie
// jar can talk to an https public URL.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	sr := r.Clone(r.Context()) // as a server sees it: never a nil body, always a Host
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	if sr.Host == "" {
		sr.Host = r.URL.Host
	}
	w := httptest.NewRecorder()
	ht.h.ServeHTTP(w, sr)
	resp := w.Result()
	resp.Request = r
	return resp, nil
}

// Ensure the cookies' attributes under an https public URL: Secure,
// HttpOnly, the pool's path, SameSite=Lax for the session and Strict for
// the login form's.
func TestCookieAttributes(t *testing.T) {
	e := newEnv(t)
	const public = "https://login.example.com"
	svc := &userpool.Service{Store: e.svc.Store, Sealer: e.svc.Sealer, PublicURL: public, HashParams: testHashParams}
	p, err := oidcop.New(svc, e.svc.Store, e.svc.Sealer, public)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client, _, err := svc.CreateUserPoolClient(ctx, behalf.UserPoolClientInput{
		PoolID: e.pool.ID, Name: "https app", AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid"},
		AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: []string{"https://app.example.com/cb"},
	})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: handlerTransport{p}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	issuer := public + "/" + e.pool.ID
	q := url.Values{"response_type": {"code"}, "client_id": {client.ID}, "redirect_uri": {"https://app.example.com/cb"},
		"scope": {"openid"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
	resp, _ := e.get(c, issuer+"/oauth2/authorize?"+q.Encode())
	loginURL := resp.Header.Get("Location")
	resp, page := e.get(c, loginURL)
	check := func(name string, cookies []*http.Cookie, path string, sameSite http.SameSite) {
		t.Helper()
		i := slices.IndexFunc(cookies, func(c *http.Cookie) bool { return c.Name == name })
		if i < 0 {
			t.Fatalf("no %s cookie in %v", name, cookies)
		}
		ck := cookies[i]
		if !ck.Secure || !ck.HttpOnly || ck.Path != path || ck.SameSite != sameSite || ck.MaxAge <= 0 {
			t.Errorf("%s cookie: %s", name, ck)
		}
	}
	check("__Secure-behalf_login", resp.Cookies(), "/"+e.pool.ID+"/login", http.SameSiteStrictMode)
	resp, _ = e.signIn(c, loginURL, hiddenFields(page), "alice", alicePassword)
	if !strings.HasPrefix(resp.Header.Get("Location"), "https://app.example.com/cb?code=") {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	check("__Secure-behalf_session", resp.Cookies(), "/"+e.pool.ID, http.SameSiteLaxMode)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://app.example.com") {
		t.Errorf("CSP %q does not let the login form redirect to the client", csp)
	}
}

// Ensure the client_credentials grant with client_secret_post too, and
// that it answers invalid_scope for any scope the client may not have or
// no resource server defines (any more): one stored before definitions
// were checked, one a server dropped, and none left at all.
func TestClientCredentialsScopes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	post := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.machine.ID}, "client_secret": {e.machineKey.Reveal()}}
	r, _ := e.post("/oauth2/token", post, "", "")
	if r.Status != http.StatusOK || claims(t, r.AccessToken)["scope"] != "agents/invoke" {
		t.Fatalf("client_secret_post: %+v", r)
	}
	ask := func(scope string) tokenReply {
		t.Helper()
		r, _ := e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, e.machine.ID, e.machineKey)
		return r
	}
	for _, scope := range []string{"agents/other", "IDENT/read", "agents/invoke IDENT/read", "email"} {
		r := ask(scope)
		want(t, scope+": status", r.Status, http.StatusBadRequest)
		want(t, scope+": error", r.Error, "invalid_scope")
	}
	if _, err := e.store.UpdateAppClient(ctx, e.machine.ID, func(c *behalf.AppClient) error {
		c.AllowedOAuthScopes = append(c.AllowedOAuthScopes, "IDENT/read")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want(t, "a stored scope no server defines", ask("IDENT/read").Error, "invalid_scope")
	if _, err := e.svc.UpdateResourceServer(ctx, behalf.ResourceServerInput{
		PoolID: e.pool.ID, Identifier: "agents", Name: "agents",
		Scopes: []behalf.ResourceServerScope{{Name: "list", Description: "List agents"}},
	}); err != nil {
		t.Fatal(err)
	}
	want(t, "a dropped scope", ask("agents/invoke").Error, "invalid_scope")
	if err := e.svc.DeleteResourceServer(ctx, e.pool.ID, "agents"); err != nil {
		t.Fatal(err)
	}
	r, _ = e.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, e.machine.ID, e.machineKey)
	want(t, "IDENT/read alone left, undefined", r.Error, "invalid_scope")
}
