package fakeprovider_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

const (
	redirect = "http://127.0.0.1:1/callback"
	scope    = "openid " + fakeprovider.DriveScope + ".readonly"
)

// setup starts a server with one confidential client and returns the
// x/oauth2 configuration for it.
func setup(t *testing.T, opts fakeprovider.Options, secret string) (*fakeprovider.Server, *oauth2.Config) {
	t.Helper()
	s := fakeprovider.New(t, opts)
	s.RegisterClient("client-1", secret, redirect, "http://127.0.0.1:1/other")
	md := s.Metadata()
	return s, &oauth2.Config{
		ClientID: "client-1", ClientSecret: secret, RedirectURL: redirect, Scopes: strings.Fields(scope),
		Endpoint: oauth2.Endpoint{AuthURL: md.AuthorizationEndpoint, TokenURL: md.TokenEndpoint, AuthStyle: oauth2.AuthStyleInHeader},
	}
}

// authorize runs the browser leg with extra parameters and returns the
// redirect's query.
func authorize(t *testing.T, s *fakeprovider.Server, cfg *oauth2.Config, verifier string, extra ...oauth2.AuthCodeOption) url.Values {
	t.Helper()
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}, extra...)
	back, err := s.Authorize(context.Background(), cfg.AuthCodeURL("st-1", opts...))
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if back.Scheme+"://"+back.Host+back.Path != redirect {
		t.Fatalf("redirected to %s", back)
	}
	return back.Query()
}

// codeFlow authorizes and exchanges, returning the token.
func codeFlow(t *testing.T, s *fakeprovider.Server, cfg *oauth2.Config, extra ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	v := oauth2.GenerateVerifier()
	q := authorize(t, s, cfg, v, extra...)
	if q.Get("state") != "st-1" || q.Get("code") == "" {
		t.Fatalf("callback query = %v", q)
	}
	tok, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// drive calls the Drive endpoint with token and returns the status and
// decoded body.
func drive(t *testing.T, s *fakeprovider.Server, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+fakeprovider.DriveFilesPath, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("drive: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestDiscovery(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{RequireAuthMethod: fakeprovider.AuthPost})
	resp, err := http.Get(s.URL + fakeprovider.DiscoveryPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md behalf.AuthServerMetadata
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	if md.Issuer != s.URL || md.TokenEndpoint != s.URL+"/token" || md.AuthorizationEndpoint != s.URL+"/o/oauth2/v2/auth" ||
		md.RevocationEndpoint != s.URL+"/revoke" || !slices.Equal(md.TokenEndpointAuthMethods, []string{"client_secret_post"}) {
		t.Errorf("metadata = %+v", md)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	s, cfg := setup(t, fakeprovider.Options{}, "secret")
	v := oauth2.GenerateVerifier()
	pkce := oauth2.S256ChallengeOption(v)
	set := oauth2.SetAuthURLParam

	// No redirect back for an unknown client or redirect URI.
	bad := *cfg
	bad.ClientID = "nobody"
	if _, err := s.Authorize(context.Background(), bad.AuthCodeURL("st", pkce)); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("unknown client: err = %v", err)
	}
	bad = *cfg
	bad.RedirectURL = "http://127.0.0.1:1/evil"
	if _, err := s.Authorize(context.Background(), bad.AuthCodeURL("st", pkce)); err == nil || !strings.Contains(err.Error(), "redirect_uri_mismatch") {
		t.Errorf("unregistered redirect: err = %v", err)
	}

	tests := []struct {
		name string
		url  string
		want string
	}{
		{"no challenge", cfg.AuthCodeURL("st-1"), "invalid_request"},
		{"plain challenge", cfg.AuthCodeURL("st-1", set("code_challenge", v), set("code_challenge_method", "plain")), "invalid_request"},
		{"token response", cfg.AuthCodeURL("st-1", pkce, set("response_type", "token")), "unsupported_response_type"},
		{"no state", cfg.AuthCodeURL("", pkce), "invalid_request"},
		{"repeated prompt", cfg.AuthCodeURL("st-1", pkce) + "&prompt=consent&prompt=none", "invalid_request"},
	}
	for _, tt := range tests {
		back, err := s.Authorize(context.Background(), tt.url)
		if err != nil || back.Query().Get("error") != tt.want || back.Query().Get("code") != "" {
			t.Errorf("%s: redirect = %v, %v; want error=%s", tt.name, back, err, tt.want)
		}
	}

	s.Deny(true)
	if q := authorize(t, s, cfg, v); q.Get("error") != "access_denied" || q.Get("state") != "st-1" {
		t.Errorf("denied: callback = %v", q)
	}
	s.Deny(false)
	if q := authorize(t, s, cfg, v); q.Get("code") == "" {
		t.Errorf("after Deny(false): callback = %v", q)
	}
	if n, _, _, _ := s.Counts(); n != 9 {
		t.Errorf("authorizations = %d, want 9", n)
	}
}

func TestGoogleRefreshTokenRules(t *testing.T) {
	s, cfg := setup(t, fakeprovider.Options{}, "secret")
	offline, consent := oauth2.AccessTypeOffline, oauth2.ApprovalForce
	if tok := codeFlow(t, s, cfg); tok.RefreshToken != "" {
		t.Error("online access got a refresh token")
	}
	if tok := codeFlow(t, s, cfg, offline); tok.RefreshToken == "" {
		t.Error("first offline consent got no refresh token")
	}
	if tok := codeFlow(t, s, cfg, offline); tok.RefreshToken != "" {
		t.Error("repeat offline consent without prompt=consent got a refresh token")
	}
	if tok := codeFlow(t, s, cfg, offline, consent); tok.RefreshToken == "" {
		t.Error("offline with prompt=consent got no refresh token")
	}
}

func TestExchangeChecks(t *testing.T) {
	s, cfg := setup(t, fakeprovider.Options{}, "s3cr&t:+/")
	ctx := context.Background()
	exchange := func(cfg *oauth2.Config, code, verifier string) string {
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return re.ErrorCode
		}
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		return ""
	}
	v := oauth2.GenerateVerifier()
	other := *cfg
	other.RedirectURL = "http://127.0.0.1:1/other"
	if got := exchange(&other, authorize(t, s, cfg, v).Get("code"), v); got != "invalid_grant" {
		t.Errorf("other redirect_uri: %q", got)
	}
	wrong := *cfg
	wrong.ClientSecret = "nope"
	if got := exchange(&wrong, authorize(t, s, cfg, v).Get("code"), v); got != "invalid_client" {
		t.Errorf("wrong secret: %q", got)
	}
	if got := exchange(cfg, authorize(t, s, cfg, v).Get("code"), ""); got != "invalid_grant" {
		t.Errorf("no verifier: %q", got)
	}
	post := *cfg
	post.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	if got := exchange(&post, authorize(t, s, cfg, v).Get("code"), v); got != "" {
		t.Errorf("post with special characters: %q", got)
	}
	if got := exchange(cfg, authorize(t, s, cfg, v).Get("code"), v); got != "" {
		t.Errorf("basic with special characters: %q", got)
	}
	if _, n, _, _ := s.Counts(); n != 5 {
		t.Errorf("code exchanges = %d, want 5", n)
	}
}

func TestCodeExpires(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, cfg := setup(t, fakeprovider.Options{Now: clock}, "secret")
	v := oauth2.GenerateVerifier()
	code := authorize(t, s, cfg, v).Get("code")
	mu.Lock()
	now = now.Add(11 * time.Minute)
	mu.Unlock()
	_, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(v))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("expired code: err = %v", err)
	}
}

func TestCodeReplayRevokesTokens(t *testing.T) {
	s, cfg := setup(t, fakeprovider.Options{}, "secret")
	v := oauth2.GenerateVerifier()
	code := authorize(t, s, cfg, v, oauth2.AccessTypeOffline).Get("code")
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := drive(t, s, tok.AccessToken); status != http.StatusOK {
		t.Fatalf("drive before replay: %d", status)
	}
	if _, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(v)); err == nil {
		t.Fatal("replayed code accepted")
	}
	if status, _ := drive(t, s, tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("drive after replay: %d, want 401", status)
	}
}

func TestDriveAndRevocation(t *testing.T) {
	s, cfg := setup(t, fakeprovider.Options{}, "secret")
	tok := codeFlow(t, s, cfg, oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("login_hint", "carol@example.com"))
	status, body := drive(t, s, tok.AccessToken)
	files, _ := body["files"].([]any)
	if status != http.StatusOK || len(files) == 0 || !strings.Contains(files[0].(map[string]any)["name"].(string), "carol@example.com") {
		t.Fatalf("drive = %d %v", status, body)
	}
	if status, _ := drive(t, s, "ya29.bogus"); status != http.StatusUnauthorized {
		t.Errorf("bogus token: %d", status)
	}

	narrow := *cfg
	narrow.Scopes = []string{"email"}
	if status, _ := drive(t, s, codeFlow(t, s, &narrow).AccessToken); status != http.StatusForbidden {
		t.Errorf("token without Drive scope: %d, want 403", status)
	}

	s.ExpireAccessTokens()
	if status, _ := drive(t, s, tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("expired token: %d", status)
	}
	fresh, err := cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if status, _ := drive(t, s, fresh.AccessToken); status != http.StatusOK {
		t.Errorf("refreshed token: %d", status)
	}

	resp, err := http.PostForm(s.URL+fakeprovider.RevokePath, url.Values{"token": {tok.RefreshToken}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	if got := s.Revoked(); !slices.Equal(got, []string{tok.RefreshToken}) {
		t.Errorf("Revoked = %q", got)
	}
	if status, _ := drive(t, s, fresh.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("access token after revocation: %d", status)
	}
	_, err = cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("refresh after revocation: %v", err)
	}
}

func TestInjectedRefreshFailure(t *testing.T) {
	s, cfg := setup(t, fakeprovider.Options{}, "secret")
	tok := codeFlow(t, s, cfg, oauth2.AccessTypeOffline)
	s.FailRefreshWith(http.StatusServiceUnavailable, "temporarily_unavailable")
	s.SetRetryAfter(7 * time.Second)
	_, err := cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != 503 || re.Response.Header.Get("Retry-After") != "7" {
		t.Fatalf("err = %v", err)
	}
	s.FailRefreshWith(0, "")
	if _, err := cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Errorf("after clearing: %v", err)
	}
	if _, _, n, _ := s.Counts(); n != 2 {
		t.Errorf("refreshes = %d, want 2", n)
	}
}

func TestConcurrentRefreshes(t *testing.T) {
	s, cfg := setup(t, fakeprovider.Options{}, "secret")
	tok := codeFlow(t, s, cfg, oauth2.AccessTypeOffline)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
				t.Errorf("refresh: %v", err)
			}
			s.Counts()
			s.ExpireAccessTokens()
		})
	}
	wg.Wait()
	if _, _, n, _ := s.Counts(); n != 8 {
		t.Errorf("refreshes = %d, want 8", n)
	}
}
