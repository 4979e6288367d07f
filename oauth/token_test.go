package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
	"github.com/behalf-dev/behalf/oauth"
)

const (
	driveScope = fakeprovider.DriveScope + ".readonly"
	clientID   = "client-1"
	secret     = "secret-1"
)

// fakeClient registers a confidential client at s and returns a Google
// Client for it using method at the token endpoint.
func fakeClient(t *testing.T, s *fakeprovider.Server, method string) *oauth.Client {
	t.Helper()
	s.RegisterClient(clientID, secret, testRedirect)
	v, _ := oauth.LookupVendor(behalf.VendorGoogle)
	p := &behalf.OAuth2Provider{
		ID: "prov-1", Vendor: behalf.VendorGoogle, ClientID: clientID,
		Metadata: s.Metadata(), ClientAuthMethod: method,
	}
	return &oauth.Client{Provider: p, Vendor: v, ClientSecret: secret, RedirectURL: testRedirect, HTTP: privateClient()}
}

// authorize runs the browser leg and returns the code and the verifier.
func authorize(t *testing.T, s *fakeprovider.Server, c *oauth.Client, user string) (code, verifier, nonce string) {
	t.Helper()
	r := newRequest()
	if user != "" {
		r.CustomParameters = map[string]string{"login_hint": user}
	}
	u, err := c.AuthCodeURL(r)
	if err != nil {
		t.Fatalf("AuthCodeURL: %v", err)
	}
	back, err := s.Authorize(context.Background(), u)
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	q := back.Query()
	if q.Get("error") != "" || q.Get("state") != r.State || q.Get("code") == "" {
		t.Fatalf("redirected to %s", back)
	}
	return q.Get("code"), r.PKCEVerifier, r.Nonce
}

// claims decodes the payload of a JWT without checking it.
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token %q is not a JWT", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		t.Fatalf("ID token payload: %v", err)
	}
	return m
}

func TestExchangeWithEachAuthMethod(t *testing.T) {
	for _, tt := range []struct{ method, require, wrong string }{
		{behalf.ClientSecretBasic, fakeprovider.AuthBasic, behalf.ClientSecretPost},
		{behalf.ClientSecretPost, fakeprovider.AuthPost, behalf.ClientSecretBasic},
	} {
		t.Run(tt.method, func(t *testing.T) {
			s := fakeprovider.New(t, fakeprovider.Options{RequireAuthMethod: tt.require})
			c := fakeClient(t, s, tt.method)
			code, verifier, nonce := authorize(t, s, c, "bob@example.com")
			before := time.Now()
			ts, err := c.Exchange(context.Background(), code, verifier, nil)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if !strings.HasPrefix(ts.AccessToken.Reveal(), "ya29.") || ts.RefreshToken.IsZero() || ts.TokenType != "Bearer" {
				t.Errorf("token set = %#v / access %q refresh %q", ts, ts.AccessToken.Reveal(), ts.RefreshToken.Reveal())
			}
			if d := ts.Expiry.Sub(before); d < 59*time.Minute || d > 61*time.Minute {
				t.Errorf("expiry in %v, want about 1h", d)
			}
			if want := []string{"openid", driveScope, "email"}; !slices.Equal(ts.Scopes, want) {
				t.Errorf("scopes = %q, want %q", ts.Scopes, want)
			}
			if cl := claims(t, ts.IDToken.Reveal()); cl["nonce"] != nonce || cl["email"] != "bob@example.com" {
				t.Errorf("ID token claims = %v", cl)
			}
			form := s.LastTokenRequest()
			if form.Get("code_verifier") != verifier || form.Get("redirect_uri") != testRedirect {
				t.Errorf("token request form = %v", form)
			}
			if _, hasSecret := form["client_secret"]; hasSecret != (tt.method == behalf.ClientSecretPost) {
				t.Errorf("client_secret in form = %v with %s", hasSecret, tt.method)
			}

			wrong := fakeClient(t, s, tt.wrong)
			code, verifier, _ = authorize(t, s, wrong, "")
			_, err = wrong.Exchange(context.Background(), code, verifier, nil)
			var te *oauth.TokenError
			if !errors.As(err, &te) || te.Code != "invalid_client" || te.StatusCode != http.StatusUnauthorized || errors.Is(err, oauth.ErrInvalidGrant) || oauth.IsTransient(err) {
				t.Errorf("exchange with %s: err = %v, want invalid_client", tt.wrong, err)
			}
		})
	}
}

func TestExchangeResources(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{})
	c := fakeClient(t, s, behalf.ClientSecretBasic)
	code, verifier, _ := authorize(t, s, c, "")
	resources := []string{"https://api.one.example", "https://api.two.example"}
	if _, err := c.Exchange(context.Background(), code, verifier, resources); err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	form := s.LastTokenRequest()
	if !slices.Equal(form["resource"], resources) || form.Get("grant_type") != "authorization_code" || form.Get("code") != code {
		t.Errorf("token request form = %v", form)
	}
}

func TestExchangeCodeReplay(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{})
	c := fakeClient(t, s, behalf.ClientSecretBasic)
	code, verifier, _ := authorize(t, s, c, "")
	if _, err := c.Exchange(context.Background(), code, verifier, nil); err != nil {
		t.Fatalf("first Exchange: %v", err)
	}
	_, err := c.Exchange(context.Background(), code, verifier, nil)
	if !errors.Is(err, oauth.ErrInvalidGrant) || oauth.IsTransient(err) {
		t.Errorf("replayed code: err = %v, want ErrInvalidGrant", err)
	}
	var te *oauth.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_grant" || te.Op != "exchange authorization code" {
		t.Errorf("replayed code: TokenError not in chain: %v", err)
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		t.Errorf("replayed code: the provider's raw answer is in the chain: %v", err)
	}
}

func TestExchangeWrongVerifier(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{})
	c := fakeClient(t, s, behalf.ClientSecretPost)
	code, _, _ := authorize(t, s, c, "")
	_, err := c.Exchange(context.Background(), code, oauth.NewVerifier(), nil)
	if !errors.Is(err, oauth.ErrInvalidGrant) {
		t.Errorf("wrong verifier: err = %v, want ErrInvalidGrant", err)
	}
}

// grantFor runs the whole code flow and returns the token set.
func grantFor(t *testing.T, s *fakeprovider.Server, c *oauth.Client) behalf.TokenSet {
	t.Helper()
	code, verifier, _ := authorize(t, s, c, "")
	ts, err := c.Exchange(context.Background(), code, verifier, nil)
	if err != nil || ts.RefreshToken.IsZero() {
		t.Fatalf("Exchange = %v, refresh token %v", err, !ts.RefreshToken.IsZero())
	}
	return ts
}

func TestRefresh(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{})
	c := fakeClient(t, s, behalf.ClientSecretBasic)
	first := grantFor(t, s, c)
	for i := 1; i <= 2; i++ {
		ts, err := c.Refresh(context.Background(), first.RefreshToken, nil)
		if err != nil {
			t.Fatalf("Refresh %d: %v", i, err)
		}
		if ts.AccessToken.IsZero() || ts.AccessToken == first.AccessToken || !ts.RefreshToken.IsZero() || ts.Expiry.IsZero() {
			t.Errorf("Refresh %d: access changed %v, refresh token %q, expiry %v",
				i, ts.AccessToken != first.AccessToken, ts.RefreshToken.Reveal(), ts.Expiry)
		}
		if !slices.Contains(ts.Scopes, driveScope) {
			t.Errorf("Refresh %d: scopes = %q", i, ts.Scopes)
		}
		// One call, one request: no token source caching between or within calls.
		if _, exchanges, refreshes, _ := s.Counts(); refreshes != i || exchanges != 1 {
			t.Errorf("after %d Refresh calls: %d refresh and %d code requests", i, refreshes, exchanges)
		}
	}
}

func TestRefreshNarrowerScopes(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{})
	c := fakeClient(t, s, behalf.ClientSecretPost)
	first := grantFor(t, s, c)
	ts, err := c.Refresh(context.Background(), first.RefreshToken, []string{driveScope})
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if !slices.Equal(ts.Scopes, []string{driveScope}) || s.LastTokenRequest().Get("scope") != driveScope {
		t.Errorf("scopes = %q, request %v", ts.Scopes, s.LastTokenRequest())
	}
	form := s.LastTokenRequest()
	if form.Get("refresh_token") != first.RefreshToken.Reveal() || form.Get("client_secret") != secret || len(form["scope"]) != 1 {
		t.Errorf("refresh form = %v", form)
	}
}

func TestRefreshRotation(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{RotateRefreshTokens: true})
	c := fakeClient(t, s, behalf.ClientSecretBasic)
	first := grantFor(t, s, c)
	ts, err := c.Refresh(context.Background(), first.RefreshToken, nil)
	if err != nil || ts.RefreshToken.IsZero() || ts.RefreshToken == first.RefreshToken {
		t.Fatalf("Refresh = %v; want a rotated refresh token", err)
	}
	if _, err := c.Refresh(context.Background(), first.RefreshToken, nil); !errors.Is(err, oauth.ErrInvalidGrant) {
		t.Errorf("old refresh token: err = %v, want ErrInvalidGrant", err)
	}
	if _, err := c.Refresh(context.Background(), ts.RefreshToken, nil); err != nil {
		t.Errorf("new refresh token: %v", err)
	}
}

func TestRefreshInvalidGrant(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{})
	c := fakeClient(t, s, behalf.ClientSecretBasic)
	first := grantFor(t, s, c)
	s.FailRefreshWith(http.StatusBadRequest, "invalid_grant")
	_, err := c.Refresh(context.Background(), first.RefreshToken, nil)
	if !errors.Is(err, oauth.ErrInvalidGrant) || oauth.IsTransient(err) || oauth.RetryAfter(err) != 0 {
		t.Errorf("err = %v, want ErrInvalidGrant, not transient", err)
	}
	s.FailRefreshWith(0, "")
	_, err = c.Refresh(context.Background(), "1//unknown", nil)
	if !errors.Is(err, oauth.ErrInvalidGrant) {
		t.Errorf("unknown refresh token: err = %v, want ErrInvalidGrant", err)
	}
}

func TestRefreshTransient(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{})
	c := fakeClient(t, s, behalf.ClientSecretBasic)
	first := grantFor(t, s, c)
	tests := []struct {
		status int
		code   string
		after  time.Duration
		want   time.Duration
	}{
		{http.StatusServiceUnavailable, "temporarily_unavailable", 7 * time.Second, 7 * time.Second},
		{http.StatusTooManyRequests, "rate_limited", 30 * time.Second, 30 * time.Second},
		{http.StatusInternalServerError, "server_error", 7 * time.Second, 0}, // Retry-After only counts on 429/503
		{http.StatusBadGateway, "", 0, 0},
	}
	for _, tt := range tests {
		s.FailRefreshWith(tt.status, tt.code)
		s.SetRetryAfter(tt.after)
		_, err := c.Refresh(context.Background(), first.RefreshToken, nil)
		if !oauth.IsTransient(err) || errors.Is(err, oauth.ErrInvalidGrant) || oauth.RetryAfter(err) != tt.want {
			t.Errorf("%d %s: err = %v, transient %v, RetryAfter %v; want transient, %v",
				tt.status, tt.code, err, oauth.IsTransient(err), oauth.RetryAfter(err), tt.want)
		}
	}
	s.FailRefreshWith(0, "")
	if _, err := c.Refresh(context.Background(), first.RefreshToken, nil); err != nil {
		t.Errorf("after the outage: %v", err)
	}
}

func TestClientCredentials(t *testing.T) {
	for _, method := range []string{behalf.ClientSecretBasic, behalf.ClientSecretPost} {
		s := fakeprovider.New(t, fakeprovider.Options{AccessTokenTTL: 5 * time.Minute})
		c := fakeClient(t, s, method)
		ts, err := c.ClientCredentials(context.Background(), []string{"read", "write"},
			[]string{"https://api.one.example", "https://api.two.example"}, []string{"aud-1"})
		if err != nil {
			t.Fatalf("%s: ClientCredentials: %v", method, err)
		}
		if ts.AccessToken.IsZero() || !ts.RefreshToken.IsZero() || !slices.Equal(ts.Scopes, []string{"read", "write"}) ||
			time.Until(ts.Expiry) > 5*time.Minute {
			t.Errorf("%s: token set = %#v, scopes %q", method, ts, ts.Scopes)
		}
		form := s.LastTokenRequest()
		if form.Get("grant_type") != "client_credentials" || len(form["resource"]) != 2 || form.Get("audience") != "aud-1" {
			t.Errorf("%s: form = %v", method, form)
		}
		if _, _, _, n := s.Counts(); n != 1 {
			t.Errorf("%s: %d client credentials requests", method, n)
		}
	}
}

func TestPublicClient(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{RequireAuthMethod: fakeprovider.AuthBasic})
	c := fakeClient(t, s, behalf.ClientSecretBasic)
	s.RegisterClient("public-1", "", testRedirect)
	c.Provider.ClientID, c.ClientSecret = "public-1", ""
	code, verifier, _ := authorize(t, s, c, "")
	if _, err := c.Exchange(context.Background(), code, verifier, nil); err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	form := s.LastTokenRequest()
	if _, ok := form["client_secret"]; ok || form.Get("client_id") != "public-1" {
		t.Errorf("public client form = %v", form)
	}
}

func TestUnsupportedAuthMethod(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{})
	c := fakeClient(t, s, "TLS_CLIENT_AUTH")
	_, err := c.Refresh(context.Background(), "1//x", nil)
	if behalf.ErrorCode(err) != behalf.EINVALID {
		t.Errorf("err = %v, want EINVALID", err)
	}
	if _, _, n, _ := s.Counts(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// Ensure a PRIVATE_KEY_JWT client sends a fresh client assertion with its
// client_id on every token request, and never its secret; and that it
// sends nothing without a way to sign one.
func TestPrivateKeyJWTRequests(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{})
	c := fakeClient(t, s, behalf.ClientPrivateKeyJWT)
	n := 0
	c.ClientAssertion = func(context.Context) (string, error) { n++; return fmt.Sprintf("assertion-%d", n), nil }
	ctx := context.Background()
	calls := []func(){
		func() { c.Refresh(ctx, "1//x", nil) },
		func() { c.ClientCredentials(ctx, []string{"a"}, nil, nil) },
		func() {
			c.OnBehalfOf(ctx, oauth.ExchangeRequest{GrantType: oauth.GrantTypeTokenExchange, SubjectToken: "user-jwt"})
		},
	}
	for i, call := range calls {
		call()
		form := s.LastTokenRequest()
		if form.Get("client_assertion") != fmt.Sprintf("assertion-%d", i+1) || form.Get("client_assertion_type") != oauth.ClientAssertionType ||
			form.Get("client_id") != clientID || form.Has("client_secret") {
			t.Errorf("request %d: %v", i, form)
		}
	}
	_, _, before, _ := s.Counts()
	c.ClientAssertion = nil
	if _, err := c.Refresh(ctx, "1//x", nil); err == nil {
		t.Error("refreshed without a client assertion")
	}
	if _, _, after, _ := s.Counts(); after != before {
		t.Error("a request was sent without a client assertion")
	}
}

func TestFormEncodedCommaScopes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		w.Write([]byte("access_token=gho_abc&scope=repo%2Cgist&token_type=bearer"))
	}))
	t.Cleanup(srv.Close)
	v, _ := oauth.LookupVendor(behalf.VendorGithub)
	p := &behalf.OAuth2Provider{ClientID: "gh", ClientAuthMethod: behalf.ClientSecretPost,
		Metadata: behalf.AuthServerMetadata{AuthorizationEndpoint: srv.URL + "/authorize", TokenEndpoint: srv.URL + "/token"}}
	c := &oauth.Client{Provider: p, Vendor: v, ClientSecret: "s", RedirectURL: testRedirect, HTTP: privateClient()}
	ts, err := c.Exchange(context.Background(), "code", oauth.NewVerifier(), nil)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if ts.AccessToken.Reveal() != "gho_abc" || ts.TokenType != "Bearer" || !slices.Equal(ts.Scopes, []string{"repo", "gist"}) ||
		!ts.RefreshToken.IsZero() || !ts.IDToken.IsZero() || !ts.Expiry.IsZero() {
		t.Errorf("token set = %#v, scopes %q", ts, ts.Scopes)
	}
}
