package oidcop_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/seal"
	"github.com/behalf-dev/behalf/sqlstore"
	"github.com/behalf-dev/behalf/userpool"
	"github.com/behalf-dev/behalf/userpool/oidcop"
	"golang.org/x/oauth2"
)

// testHashParams keep argon2id cheap in tests (never in production).
var testHashParams = userpool.HashParams{Memory: 64, Time: 1, Threads: 1}

const (
	alicePassword = "Correct-Horse-1!"
	aliceEmail    = "alice@example.com"
)

// env is a running hosted login: one URL served round-robin by two
// replicas (each its own Service, Sealer and Provider over one database),
// a pool, a user and clients, and the relying party's callback server.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	rp     *httptest.Server
	svc    *userpool.Service // replica 0's
	store  *sqlstore.DB
	sealer behalf.Sealer // replica 0's
	pool   *behalf.UserPool
	issuer string
	// base is the URL the pool's routes are asked at: the issuer, or a
	// domain of the pool (domain_test.go), which client reaches.
	base   string
	client *http.Client
	alice  *behalf.PoolUser

	public       *behalf.AppClient // code + PKCE, no secret
	confidential *behalf.AppClient // code, with a secret
	secret       behalf.Secret
	apiOnly      *behalf.AppClient // code, custom scope only (no openid)
	machine      *behalf.AppClient // client_credentials
	machineKey   behalf.Secret

	callback  string // the clients' CallbackURL
	logoutURL string // their LogoutURL
}

// newEnv starts an env.
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t)
}

// newEnvWith starts an env whose providers have opts.
func newEnvWith(t *testing.T, opts ...oidcop.Option) *env {
	t.Helper()
	return newEnvConfig(t, nil, opts...)
}

// newEnvConfig starts an env whose services configure sets up (before
// their first use) and whose providers have opts.
func newEnvConfig(t *testing.T, configure func(*userpool.Service), opts ...oidcop.Option) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlstore.Open(ctx, filepath.Join(dir, "behalf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keeper, err := seal.OpenKeeper(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keeper.Close() })

	var replicas [2]http.Handler
	var next atomic.Uint32
	e := &env{t: t, store: store, client: http.DefaultClient}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		replicas[next.Add(1)%2].ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.rp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "relying party: "+r.URL.Path)
	}))
	t.Cleanup(e.rp.Close)

	for i := range replicas {
		sealer := seal.New(keeper, store, seal.Options{})
		svc := &userpool.Service{Store: store, Sealer: sealer, PublicURL: e.srv.URL, HashParams: testHashParams}
		if configure != nil {
			configure(svc)
		}
		p, err := oidcop.New(svc, store, sealer, e.srv.URL, opts...)
		if err != nil {
			t.Fatal(err)
		}
		replicas[i] = p
		if i == 0 {
			e.svc, e.sealer = svc, sealer
		}
	}
	e.setup(ctx)
	return e
}

// setup creates the pool, alice and the clients.
func (e *env) setup(ctx context.Context) {
	t := e.t
	var err error
	if e.pool, err = e.svc.CreateUserPool(ctx, behalf.CreateUserPoolInput{Name: "agents"}); err != nil {
		t.Fatal(err)
	}
	e.issuer = e.svc.Issuer(e.pool.ID)
	e.base = e.issuer
	e.callback, e.logoutURL = e.rp.URL+"/callback", e.rp.URL+"/signed-out"
	e.alice = e.createUser(ctx, "alice", alicePassword, map[string]string{
		"email": aliceEmail, "email_verified": "true", "name": "Alice Liddell",
	})
	if _, err := e.svc.CreateResourceServer(ctx, behalf.ResourceServerInput{
		PoolID: e.pool.ID, Identifier: "agents", Name: "agents",
		Scopes: []behalf.ResourceServerScope{{Name: "invoke", Description: "Invoke agents"}},
	}); err != nil {
		t.Fatal(err)
	}
	codeClient := func(name string, secret bool, scopes ...string) (*behalf.AppClient, behalf.Secret) {
		c, s, err := e.svc.CreateUserPoolClient(ctx, behalf.UserPoolClientInput{
			PoolID: e.pool.ID, Name: name, GenerateSecret: secret,
			AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: scopes, AllowedOAuthFlowsUserPoolClient: true,
			CallbackURLs: []string{e.callback}, LogoutURLs: []string{e.logoutURL},
			SupportedIdentityProviders: []string{"COGNITO"},
		})
		if err != nil {
			t.Fatal(err)
		}
		return c, s
	}
	e.public, _ = codeClient("Agent Console", false, "openid", "email", "profile")
	e.confidential, e.secret = codeClient("Agent Backend", true, "openid", "email")
	e.apiOnly, _ = codeClient("API only", false, "agents/invoke")
	e.machine, e.machineKey, err = e.svc.CreateUserPoolClient(ctx, behalf.UserPoolClientInput{
		PoolID: e.pool.ID, Name: "machine", GenerateSecret: true,
		AllowedOAuthFlows: []string{"client_credentials"}, AllowedOAuthScopes: []string{"agents/invoke"},
		AllowedOAuthFlowsUserPoolClient: true,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// createUser creates a CONFIRMED user with a permanent password.
func (e *env) createUser(ctx context.Context, name, password string, attrs map[string]string) *behalf.PoolUser {
	e.t.Helper()
	if _, _, err := e.svc.AdminCreateUser(ctx, behalf.AdminCreateUserInput{
		PoolID: e.pool.ID, Username: name, Attributes: attrs, MessageAction: "SUPPRESS",
	}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.AdminSetUserPassword(ctx, e.pool.ID, name, behalf.Secret(password), true); err != nil {
		e.t.Fatal(err)
	}
	u, err := e.svc.AdminGetUser(ctx, e.pool.ID, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so each step can be checked.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: e.client.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// authParams are an authorization request's parameters.
type authParams struct {
	client   *behalf.AppClient
	verifier string // PKCE verifier; "" sends no challenge
	scope    string
	state    string
	nonce    string
	extra    url.Values
}

// authorizeURL builds the authorization URL.
func (e *env) authorizeURL(a authParams) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {a.client.ID}, "redirect_uri": {e.callback},
		"scope": {a.scope}, "state": {a.state}, "nonce": {a.nonce},
	}
	if a.scope == "" {
		q.Del("scope")
	}
	if a.verifier != "" {
		q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(a.verifier))
		q.Set("code_challenge_method", "S256")
	}
	for k, v := range a.extra {
		q[k] = v
	}
	return e.base + "/oauth2/authorize?" + q.Encode()
}

// get does a GET with the browser and returns the response and its body.
func (e *env) get(c *http.Client, u string) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readBody(e.t, resp)
}

// postForm posts a form with the browser.
func (e *env) postForm(c *http.Client, u string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readBody(e.t, resp)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// hiddenFields returns the hidden inputs of a login page.
func hiddenFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], m[2])
	}
	return v
}

// loginPage follows an authorization to the login page and returns its
// URL and hidden fields.
func (e *env) loginPage(c *http.Client, a authParams) (string, url.Values) {
	e.t.Helper()
	resp, _ := e.get(c, e.authorizeURL(a))
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), e.base+"/login?") {
		e.t.Fatalf("authorize: %d Location=%q, want 302 to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	loginURL := resp.Header.Get("Location")
	resp, page := e.get(c, loginURL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="password"`) {
		e.t.Fatalf("login page: %d\n%s", resp.StatusCode, page)
	}
	return loginURL, hiddenFields(page)
}

// signIn posts credentials on a login page; it returns the response.
func (e *env) signIn(c *http.Client, loginURL string, fields url.Values, user, password string) (*http.Response, string) {
	e.t.Helper()
	form := url.Values{"username": {user}, "password": {password}}
	for k, v := range fields {
		form[k] = v
	}
	return e.postForm(c, loginURL, form)
}

// code returns the code (checking the state) of a redirect to the callback.
func (e *env) code(resp *http.Response, state string) string {
	e.t.Helper()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode/100 != 3 || !strings.HasPrefix(loc.String(), e.callback+"?") {
		e.t.Fatalf("got %d Location=%q, want a redirect to %s", resp.StatusCode, resp.Header.Get("Location"), e.callback)
	}
	q := loc.Query()
	if q.Get("state") != state || q.Get("code") == "" {
		e.t.Fatalf("callback query %v, want a code and state %q", q, state)
	}
	return q.Get("code")
}

// login runs a whole code flow for alice and returns the code.
func (e *env) login(c *http.Client, a authParams) string {
	e.t.Helper()
	loginURL, fields := e.loginPage(c, a)
	resp, body := e.signIn(c, loginURL, fields, "alice", alicePassword)
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	return e.code(resp, a.state)
}

// tokenReply is a token endpoint answer.
type tokenReply struct {
	Status       int
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// post posts a form to an endpoint of the pool, with Basic auth when
// secret is set, and decodes the JSON answer into a tokenReply.
func (e *env) post(path string, form url.Values, clientID string, secret behalf.Secret) (tokenReply, *http.Response) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !secret.IsZero() {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret.Reveal()))
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	body := readBody(e.t, resp)
	var r tokenReply
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && body != "" {
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			e.t.Fatalf("%s: %v\n%s", path, err, body)
		}
	}
	r.Status = resp.StatusCode
	return r, resp
}

// exchange redeems a code of the public client.
func (e *env) exchange(code, verifier string) tokenReply {
	e.t.Helper()
	r, _ := e.post("/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.callback},
		"client_id": {e.public.ID}, "code_verifier": {verifier},
	}, "", "")
	return r
}

// refresh runs the refresh_token grant for the public client.
func (e *env) refresh(token string) tokenReply {
	e.t.Helper()
	r, _ := e.post("/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {token}, "client_id": {e.public.ID},
	}, "", "")
	return r
}

// userInfo calls the userinfo endpoint with a bearer token.
func (e *env) userInfo(token string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.base+"/oauth2/userInfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	body := readBody(e.t, resp)
	var m map[string]any
	json.Unmarshal([]byte(body), &m)
	return resp.StatusCode, m, resp.Header
}

// claims returns a JWT's payload, unverified.
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// want fails the test if got != want.
func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestMain keeps zitadel's per-request warnings (it logs to slog's
// default logger) out of the test output; failures report what matters.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	os.Exit(m.Run())
}
