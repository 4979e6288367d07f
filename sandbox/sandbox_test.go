package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf/sandbox"
)

const (
	redirect   = "http://127.0.0.1:1/callback"
	driveScope = sandbox.DriveScope + ".metadata.readonly"
)

// start runs a sandbox with one confidential client and returns the
// x/oauth2 configuration for it.
func start(t *testing.T, opts sandbox.Options) (*sandbox.Server, *oauth2.Config) {
	t.Helper()
	s, err := sandbox.Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.AddClient(sandbox.Client{ID: "client-1", Secret: "s3cret", Name: "Drive Agent", RedirectURIs: []string{redirect}}); err != nil {
		t.Fatal(err)
	}
	md := s.Metadata()
	return s, &oauth2.Config{
		ClientID: "client-1", ClientSecret: "s3cret", RedirectURL: redirect,
		Scopes:   []string{"openid", "email", "profile", driveScope},
		Endpoint: oauth2.Endpoint{AuthURL: md.AuthorizationEndpoint, TokenURL: md.TokenEndpoint, AuthStyle: oauth2.AuthStyleInHeader},
	}
}

// browser is a plain HTTP client with a cookie jar that stops at the
// first redirect, so the test sees where the sandbox sends it.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type form struct {
	action string
	values url.Values
	body   string
}

var (
	actionRE = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	userRE   = regexp.MustCompile(`<input id="user" name="user" type="email" value="([^"]*)"`)
)

// openConsent GETs the authorization URL and reads the consent form.
func openConsent(t *testing.T, s *sandbox.Server, b *http.Client, authURL string) form {
	t.Helper()
	resp, err := b.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("consent page: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	m := actionRE.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no form in\n%s", body)
	}
	f := form{action: s.URL + html.UnescapeString(m[1]), values: url.Values{}, body: string(body)}
	for _, h := range hiddenRE.FindAllStringSubmatch(string(body), -1) {
		f.values.Set(h[1], html.UnescapeString(h[2]))
	}
	if m := userRE.FindStringSubmatch(string(body)); m != nil {
		f.values.Set("user", html.UnescapeString(m[1]))
	}
	return f
}

// post submits the form with extra fields and returns the response.
func post(t *testing.T, b *http.Client, f form, extra url.Values) *http.Response {
	t.Helper()
	v := url.Values{}
	for k, vs := range f.values {
		v[k] = vs
	}
	for k, vs := range extra {
		v[k] = vs
	}
	resp, err := b.PostForm(f.action, v)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// back checks resp redirects to the client's redirect URI and returns the
// query it carries.
func back(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("want a redirect, got %d %v", resp.StatusCode, err)
	}
	if loc.Scheme+"://"+loc.Host+loc.Path != redirect {
		t.Fatalf("redirected to %s", loc)
	}
	return loc.Query()
}

// getJSON GETs u with a bearer token and decodes the answer.
func getJSON(t *testing.T, u, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func fileNames(body map[string]any) []string {
	var names []string
	files, _ := body["files"].([]any)
	for _, f := range files {
		m, _ := f.(map[string]any)
		names = append(names, m["name"].(string))
	}
	return names
}

// Ensure the authorization code flow through the consent page: the page
// names the client and scopes without scripts, Allow as the chosen user
// redirects back with a code, the code buys tokens, and Drive files.list
// and userinfo answer for that user; the form cannot be posted twice.
func TestConsentAllow(t *testing.T) {
	s, cfg := start(t, sandbox.Options{})
	b := browser(t)
	v := oauth2.GenerateVerifier()
	f := openConsent(t, s, b, cfg.AuthCodeURL("st-1", oauth2.S256ChallengeOption(v), oauth2.AccessTypeOffline, oauth2.ApprovalForce))
	for _, want := range []string{"Drive Agent wants to access your Google Account", "See information about your Google Drive files",
		driveScope, `value="` + sandbox.DefaultUser + `"`, `value="allow">Allow</button>`, `value="deny">Deny</button>`, "not Google", "offline access"} {
		if !strings.Contains(f.body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(f.body), "<script") {
		t.Error("consent page has a script")
	}
	if f.values.Get("csrf_token") == "" || f.values.Get("request_id") == "" || f.values.Get("user") != sandbox.DefaultUser {
		t.Fatalf("hidden fields %v", f.values)
	}

	q := back(t, post(t, b, f, url.Values{"decision": {"allow"}, "user": {"bob@example.com"}}))
	if q.Get("state") != "st-1" || q.Get("code") == "" || q.Get("error") != "" {
		t.Fatalf("callback query %v", q)
	}
	tok, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.RefreshToken == "" || tok.Extra("id_token") == nil {
		t.Errorf("token lacks a refresh or ID token: %+v", tok)
	}

	status, body := getJSON(t, s.URL+sandbox.DriveFilesPath+"?pageSize=10&fields=files(id,name,mimeType)", tok.AccessToken)
	names := fileNames(body)
	if status != http.StatusOK || len(names) != sandbox.DefaultSeedFiles || names[0] != "Q3 roadmap" || body["kind"] != "drive#fileList" {
		t.Fatalf("files.list = %d %v", status, body)
	}
	want := sandbox.SeedFiles("bob@example.com", sandbox.DefaultSeedFiles)
	if first := body["files"].([]any)[0].(map[string]any); first["id"] != want[0].ID || first["mimeType"] != want[0].MimeType {
		t.Errorf("first file %v, want %+v", first, want[0])
	}
	if other := sandbox.SeedFiles(sandbox.DefaultUser, 1); other[0].ID == want[0].ID {
		t.Error("two users' files share an id")
	}
	status, info := getJSON(t, s.URL+sandbox.UserinfoPath, tok.AccessToken)
	if status != http.StatusOK || info["email"] != "bob@example.com" || info["sub"] != sandbox.Subject("bob@example.com") || info["name"] != "Bob" {
		t.Errorf("userinfo = %d %v", status, info)
	}
	if status, _ := getJSON(t, s.URL+sandbox.DriveFilesPath, "ya29.bogus"); status != http.StatusUnauthorized {
		t.Errorf("bogus token: %d", status)
	}

	// The page's request is used up.
	if resp := post(t, b, f, url.Values{"decision": {"allow"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("second post of the form: %d, want 400", resp.StatusCode)
	}
	if n, ex, _, _ := s.Counts(); n != 1 || ex != 1 {
		t.Errorf("counts: %d authorizations, %d exchanges", n, ex)
	}
}

// Ensure Deny redirects back with error=access_denied and the state, and
// no code.
func TestConsentDeny(t *testing.T) {
	s, cfg := start(t, sandbox.Options{})
	b := browser(t)
	f := openConsent(t, s, b, cfg.AuthCodeURL("st-2", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	q := back(t, post(t, b, f, url.Values{"decision": {"deny"}}))
	if q.Get("error") != "access_denied" || q.Get("state") != "st-2" || q.Get("code") != "" {
		t.Fatalf("callback query %v", q)
	}
}

// Ensure the consent form is refused without its CSRF token, without the
// browser's cookie, or with another token, and that a refusal does not
// use the page up.
func TestConsentCSRF(t *testing.T) {
	s, cfg := start(t, sandbox.Options{})
	b := browser(t)
	f := openConsent(t, s, b, cfg.AuthCodeURL("st-3", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	allow := url.Values{"decision": {"allow"}}

	noToken := form{action: f.action, values: url.Values{"request_id": f.values["request_id"]}}
	if resp := post(t, b, noToken, allow); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without csrf_token: %d, want 403", resp.StatusCode)
	}
	if resp := post(t, b, f, url.Values{"decision": {"allow"}, "csrf_token": {strings.Repeat("A", 43)}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("with another token: %d, want 403", resp.StatusCode)
	}
	// Another browser (no cookie) posting the victim's form.
	if resp := post(t, browser(t), f, allow); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without the cookie: %d, want 403", resp.StatusCode)
	}
	// An attacker's own page token with the victim's cookie jar.
	other := openConsent(t, s, browser(t), cfg.AuthCodeURL("evil", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if resp := post(t, b, other, allow); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another browser's page: %d, want 403", resp.StatusCode)
	}
	if n, _, _, _ := s.Counts(); n != 2 {
		t.Errorf("authorizations %d", n)
	}
	if q := back(t, post(t, b, f, allow)); q.Get("code") == "" {
		t.Fatalf("the genuine post after refusals: %v", q)
	}
}

// Ensure revoking the refresh token revokes the grant: Drive refuses its
// access tokens and the refresh token no longer refreshes.
func TestRevoke(t *testing.T) {
	s, cfg := start(t, sandbox.Options{})
	b := browser(t)
	v := oauth2.GenerateVerifier()
	f := openConsent(t, s, b, cfg.AuthCodeURL("st-4", oauth2.S256ChallengeOption(v), oauth2.AccessTypeOffline))
	q := back(t, post(t, b, f, url.Values{"decision": {"allow"}}))
	tok, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := getJSON(t, s.URL+sandbox.DriveFilesPath, tok.AccessToken); status != http.StatusOK {
		t.Fatalf("drive before revocation: %d", status)
	}
	resp, err := http.PostForm(s.URL+sandbox.RevokePath, url.Values{"token": {tok.RefreshToken}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	if status, _ := getJSON(t, s.URL+sandbox.DriveFilesPath, tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("drive after revocation: %d, want 401", status)
	}
	_, err = cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("refresh after revocation: %v", err)
	}
	if got := s.Revoked(); !slices.Equal(got, []string{tok.RefreshToken}) {
		t.Errorf("Revoked = %q", got)
	}
}

// Ensure the headless person (Consent) walks from a link through the
// consent page back to the client, and that open mode takes any client
// with any redirect URI and secret.
func TestHeadlessConsentOpenMode(t *testing.T) {
	var got url.Values
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query()
		io.WriteString(w, "<p>Signed in</p>")
	}))
	defer app.Close()
	s, err := sandbox.Start("127.0.0.1:0", sandbox.Options{Open: true, SeedFiles: 25})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := &oauth2.Config{
		ClientID: "anything", ClientSecret: "whatever", RedirectURL: app.URL + "/cb", Scopes: []string{driveScope},
		Endpoint: oauth2.Endpoint{AuthURL: s.URL + sandbox.AuthorizePath, TokenURL: s.URL + sandbox.TokenPath},
	}
	v := oauth2.GenerateVerifier()
	page, end, err := sandbox.Consent(context.Background(), nil, cfg.AuthCodeURL("st-5", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("login_hint", "carol@example.com")), "", true)
	if err != nil {
		t.Fatal(err)
	}
	if page.Client != "anything" || page.User != "carol@example.com" || !slices.Equal(page.Scopes, []string{driveScope}) {
		t.Errorf("consent page %+v", page)
	}
	if end.Status != http.StatusOK || end.Text(100) != "Signed in" || got.Get("state") != "st-5" {
		t.Fatalf("ended on %d %s %q with %v", end.Status, end.URL, end.Text(100), got)
	}
	tok, err := cfg.Exchange(context.Background(), got.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	// Paging: 25 files, 10 a page.
	status, body := getJSON(t, s.URL+sandbox.DriveFilesPath+"?pageSize=10", tok.AccessToken)
	if status != 200 || len(fileNames(body)) != 10 || body["nextPageToken"] == nil {
		t.Fatalf("first page %d %v", status, body)
	}
	status, body = getJSON(t, s.URL+sandbox.DriveFilesPath+"?pageSize=10&pageToken="+body["nextPageToken"].(string), tok.AccessToken)
	if names := fileNames(body); status != 200 || len(names) != 10 || names[0] != "File 11.txt" {
		t.Fatalf("second page %d %v", status, body)
	}
	if status, _ := getJSON(t, s.URL+sandbox.DriveFilesPath+"?pageSize=0", tok.AccessToken); status != http.StatusBadRequest {
		t.Errorf("pageSize=0: %d", status)
	}
	// The drive scope alone does not reach userinfo.
	if status, _ := getJSON(t, s.URL+sandbox.UserinfoPath, tok.AccessToken); status != http.StatusForbidden {
		t.Errorf("userinfo without an identity scope: %d", status)
	}

	// Without open mode the same client is unknown.
	closed, err := sandbox.Start("127.0.0.1:0", sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer closed.Close()
	cfg.Endpoint.AuthURL = closed.URL + sandbox.AuthorizePath
	if _, _, err := sandbox.Consent(context.Background(), nil, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(v)), "", true); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("unknown client without open mode: %v", err)
	}
}

// Ensure the admin endpoint registers clients (never echoing secrets) and
// that discovery names the endpoints.
func TestAdminAndDiscovery(t *testing.T) {
	s, err := sandbox.Start("127.0.0.1:0", sandbox.Options{RequireAuthMethod: sandbox.AuthPost})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := sandbox.RegisterClientAt(ctx, nil, s.URL, sandbox.Client{ID: "app", Secret: "top-secret", RedirectURIs: []string{redirect}}); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.RegisterClientAt(ctx, nil, s.URL, sandbox.Client{ID: "bad", RedirectURIs: []string{"javascript:alert(1)"}}); err == nil {
		t.Error("a javascript: redirect URI was accepted")
	}
	resp, err := http.Get(s.URL + sandbox.ClientsPath)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"client_id":"app"`) || strings.Contains(string(b), "top-secret") {
		t.Errorf("client list %s", b)
	}
	if cs := s.Clients(); len(cs) != 1 || cs[0].Secret != "top-secret" {
		t.Errorf("Clients() = %+v", cs)
	}

	resp, err = http.Get(s.DiscoveryURL())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	for k, want := range map[string]string{
		"issuer": s.URL, "authorization_endpoint": s.URL + "/o/oauth2/v2/auth", "token_endpoint": s.URL + "/token",
		"revocation_endpoint": s.URL + "/revoke", "userinfo_endpoint": s.URL + "/v1/userinfo",
	} {
		if doc[k] != want {
			t.Errorf("discovery %s = %v, want %s", k, doc[k], want)
		}
	}
	if m, _ := doc["token_endpoint_auth_methods_supported"].([]any); len(m) != 1 || m[0] != "client_secret_post" {
		t.Errorf("auth methods %v", doc["token_endpoint_auth_methods_supported"])
	}
	if s.DriveEndpoint() != s.URL+"/drive/v3/" {
		t.Errorf("DriveEndpoint %s", s.DriveEndpoint())
	}
}

// Ensure refresh-token rotation with a grace window: a refresh replaces
// the refresh token; within RotationGrace the replaced one still works and
// answers the same successor (rotating nothing), after it, or once the
// successor was itself rotated, it is refused; without a grace window the
// replaced token is refused at once.
func TestRefreshRotationGrace(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	advance := func(d time.Duration) { now.Add(int64(d)) }
	s, cfg := start(t, sandbox.Options{RotateRefreshTokens: true, RotationGrace: 30 * time.Second, Now: clock})
	b := browser(t)
	v := oauth2.GenerateVerifier()
	f := openConsent(t, s, b, cfg.AuthCodeURL("st-9", oauth2.S256ChallengeOption(v), oauth2.AccessTypeOffline))
	q := back(t, post(t, b, f, url.Values{"decision": {"allow"}}))
	tok, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(rt string) (*oauth2.Token, error) {
		return cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
	}
	refused := func(what, rt string) {
		t.Helper()
		_, err := refresh(rt)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("%s: %v, want invalid_grant", what, err)
		}
	}
	rt1 := tok.RefreshToken
	second, err := refresh(rt1)
	if err != nil {
		t.Fatal(err)
	}
	rt2 := second.RefreshToken
	if rt2 == "" || rt2 == rt1 {
		t.Fatalf("the refresh did not rotate: %q after %q", rt2, rt1)
	}

	advance(29 * time.Second) // inside rt1's window
	retry, err := refresh(rt1)
	if err != nil {
		t.Fatalf("the rotated-out token inside its grace window: %v", err)
	}
	if retry.RefreshToken != rt2 {
		t.Fatalf("a retry inside the window answered refresh token %q, want the successor %q", retry.RefreshToken, rt2)
	}
	if status, _ := getJSON(t, s.URL+sandbox.DriveFilesPath, retry.AccessToken); status != http.StatusOK {
		t.Fatalf("drive with the retry's access token: %d", status)
	}
	if n := s.GraceRefreshes(); n != 1 {
		t.Fatalf("GraceRefreshes = %d, want 1", n)
	}
	advance(time.Second) // the window has ended
	refused("the rotated-out token after its grace window", rt1)

	// Rotating again ends the previous token's window at once.
	third, err := refresh(rt2)
	if err != nil {
		t.Fatal(err)
	}
	refused("the token rotated out two refreshes ago", rt1)
	if _, err := refresh(rt2); err != nil {
		t.Fatalf("the token rotated out last, inside its window: %v", err)
	}

	// Without a grace window the rotated-out token is refused at once.
	s.SetRotationGrace(0)
	fourth, err := refresh(third.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	refused("the rotated-out token without a grace window", third.RefreshToken)
	refused("the token rotated out before the last", rt2)
	if _, err := refresh(fourth.RefreshToken); err != nil {
		t.Fatalf("the current refresh token: %v", err)
	}

	// A grace window needs rotation.
	if _, err := sandbox.New(sandbox.Options{URL: "http://127.0.0.1:1", RotationGrace: time.Second}); err == nil {
		t.Fatal("New accepted RotationGrace without RotateRefreshTokens")
	}
}
