package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
	"github.com/behalf-dev/behalf/oauth"
)

// revocationDesk fronts a fake provider's revocation endpoint like a
// strict provider: it authenticates the client (the stand-in does not) and
// records how each request authenticated, then passes it on.
type revocationDesk struct {
	*httptest.Server
	mu       sync.Mutex
	requests []revokeRequest
}

type revokeRequest struct {
	method string // fakeprovider.AuthBasic, fakeprovider.AuthPost or "none"
	form   url.Values
}

func newRevocationDesk(t *testing.T, s *fakeprovider.Server) *revocationDesk {
	d := &revocationDesk{}
	next := s.Handler()
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		method, id, sec := "none", form.Get("client_id"), ""
		if u, p, ok := r.BasicAuth(); ok {
			method = fakeprovider.AuthBasic
			id, _ = url.QueryUnescape(u)
			sec, _ = url.QueryUnescape(p)
		} else if form.Has("client_secret") {
			method, sec = fakeprovider.AuthPost, form.Get("client_secret")
		}
		d.mu.Lock()
		d.requests = append(d.requests, revokeRequest{method, form})
		d.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != fakeprovider.RevokePath || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "not a revocation request", http.StatusBadRequest)
			return
		}
		if id != clientID || (method != "none" && sec != secret) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"invalid_client","error_description":"Unauthorized"}`))
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *revocationDesk) seen() []revokeRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.requests)
}

// Ensure Revoke speaks RFC 7009 with each client authentication method:
// the refresh token is revoked (the stand-in saw it and refuses it since),
// authenticated the way the provider is configured, with its type hint.
func TestRevokeEachAuthMethod(t *testing.T) {
	for _, tc := range []struct{ configured, want string }{
		{behalf.ClientSecretBasic, fakeprovider.AuthBasic},
		{behalf.ClientSecretPost, fakeprovider.AuthPost},
		{"", fakeprovider.AuthBasic}, // advertised basic and post: basic
	} {
		t.Run(tc.want+"/"+tc.configured, func(t *testing.T) {
			s := fakeprovider.New(t, fakeprovider.Options{})
			desk := newRevocationDesk(t, s)
			c := fakeClient(t, s, tc.configured)
			c.Provider.Metadata.RevocationEndpoint = desk.URL + fakeprovider.RevokePath
			ts := grantFor(t, s, c)
			tok, hint := c.RevocationToken(ts)
			if tok != ts.RefreshToken || hint != oauth.HintRefreshToken {
				t.Fatalf("RevocationToken = %v, %q; want the refresh token", tok == ts.RefreshToken, hint)
			}
			if err := c.Revoke(context.Background(), tok, hint); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if got := s.Revoked(); !slices.Equal(got, []string{ts.RefreshToken.Reveal()}) {
				t.Errorf("the provider saw %d revocations, want the refresh token", len(got))
			}
			reqs := desk.seen()
			if len(reqs) != 1 || reqs[0].method != tc.want || reqs[0].form.Get("token_type_hint") != "refresh_token" {
				t.Fatalf("requests = %+v, want one authenticated with %s", reqs, tc.want)
			}
			if tc.want == fakeprovider.AuthBasic && (reqs[0].form.Has("client_secret") || reqs[0].form.Has("client_id")) {
				t.Errorf("basic authentication also sent credentials in the form: %v", reqs[0].form)
			}
			if _, err := c.Refresh(context.Background(), ts.RefreshToken, nil); !errors.Is(err, oauth.ErrInvalidGrant) {
				t.Errorf("refresh after revocation: %v, want ErrInvalidGrant", err)
			}
		})
	}
}

// Ensure a public client identifies itself with client_id alone, and an
// access token is revoked with its hint.
func TestRevokePublicClientAccessToken(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{})
	desk := newRevocationDesk(t, s)
	c := fakeClient(t, s, "")
	ts := grantFor(t, s, c)
	c.ClientSecret = ""
	c.Provider.Metadata.RevocationEndpoint = desk.URL + fakeprovider.RevokePath
	if err := c.Revoke(context.Background(), ts.AccessToken, oauth.HintAccessToken); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	reqs := desk.seen()
	if len(reqs) != 1 || reqs[0].method != "none" || reqs[0].form.Get("client_id") != clientID || reqs[0].form.Get("token_type_hint") != "access_token" {
		t.Fatalf("requests = %+v", reqs)
	}
	if got := s.Revoked(); !slices.Equal(got, []string{ts.AccessToken.Reveal()}) {
		t.Errorf("the provider saw %d revocations, want the access token", len(got))
	}
}

// Ensure a provider without a revocation endpoint gets no request and the
// caller a typed answer it can explain.
func TestRevokeUnsupported(t *testing.T) {
	for _, vendor := range []string{behalf.VendorMicrosoft, behalf.VendorCustom, behalf.VendorAtlassian} {
		t.Run(vendor, func(t *testing.T) {
			s := fakeprovider.New(t, fakeprovider.Options{})
			c := fakeClient(t, s, "")
			ts := grantFor(t, s, c)
			c.Provider.Vendor = vendor
			c.Provider.Metadata.RevocationEndpoint = ""
			err := c.Revoke(context.Background(), ts.RefreshToken, oauth.HintRefreshToken)
			if !errors.Is(err, oauth.ErrRevocationUnsupported) {
				t.Fatalf("Revoke = %v, want ErrRevocationUnsupported", err)
			}
			if len(s.Revoked()) != 0 {
				t.Error("a request reached the provider")
			}
		})
	}
}

// Ensure a refusal is a *RevocationError with the provider's OAuth error,
// and nothing is revoked.
func TestRevokeRefused(t *testing.T) {
	s := fakeprovider.New(t, fakeprovider.Options{})
	desk := newRevocationDesk(t, s)
	c := fakeClient(t, s, behalf.ClientSecretBasic)
	ts := grantFor(t, s, c)
	c.Provider.Metadata.RevocationEndpoint = desk.URL + fakeprovider.RevokePath
	c.ClientSecret = "not-the-secret"
	err := c.Revoke(context.Background(), ts.RefreshToken, oauth.HintRefreshToken)
	var re *oauth.RevocationError
	if !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized || re.Code != "invalid_client" || re.Description != "Unauthorized" {
		t.Fatalf("Revoke = %#v, want a RevocationError 401 invalid_client", err)
	}
	if strings.Contains(err.Error(), "not-the-secret") || strings.Contains(err.Error(), ts.RefreshToken.Reveal()) {
		t.Errorf("the error shows a secret: %v", err)
	}
	if len(s.Revoked()) != 0 {
		t.Error("the provider revoked the token for a client it refused")
	}
	c.ClientSecret = secret
	if _, err := c.Refresh(context.Background(), ts.RefreshToken, nil); err != nil {
		t.Errorf("the grant was refused revocation but no longer refreshes: %v", err)
	}
}

// Ensure unavailability is a refusal with Retry-After, and a network
// failure is an error that is not a refusal.
func TestRevokeUnavailable(t *testing.T) {
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":"temporarily_unavailable"}`))
	}))
	defer busy.Close()
	c := revokeClient(behalf.VendorCustom, busy.URL+"/revoke")
	err := c.Revoke(context.Background(), "tok", oauth.HintAccessToken)
	var re *oauth.RevocationError
	if !errors.As(err, &re) || re.StatusCode != 503 || re.Code != "temporarily_unavailable" || re.RetryAfter != 7*time.Second {
		t.Fatalf("Revoke = %#v", err)
	}

	busy.Close()
	err = c.Revoke(context.Background(), "tok", oauth.HintAccessToken)
	if err == nil || errors.As(err, &re) || errors.Is(err, oauth.ErrRevocationUnsupported) {
		t.Fatalf("Revoke to a closed server = %v, want a plain error", err)
	}
	if err := c.Revoke(context.Background(), "", ""); err == nil {
		t.Error("Revoke of no token succeeded")
	}
	if err := c.Revoke(context.Background(), "tok", "id_token"); err == nil {
		t.Error("Revoke with an unknown hint succeeded")
	}
}

// revokeClient is a confidential client of vendor whose revocation
// endpoint is endpoint.
func revokeClient(vendor, endpoint string) *oauth.Client {
	v, _ := oauth.LookupVendor(vendor)
	md := v.Metadata
	md.RevocationEndpoint = endpoint
	p := &behalf.OAuth2Provider{ID: "prov-1", Vendor: vendor, ClientID: clientID, Metadata: md}
	return &oauth.Client{Provider: p, Vendor: v, ClientSecret: secret, RedirectURL: testRedirect, HTTP: privateClient()}
}

// Ensure GitHub's grant is deleted through its token API with the
// client's Basic credentials and the access token.
func TestRevokeGitHub(t *testing.T) {
	var got struct {
		method, path, user, pass, accept string
		body                             map[string]string
	}
	answer := http.StatusNoContent
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path, got.accept = r.Method, r.URL.Path, r.Header.Get("Accept")
		got.user, got.pass, _ = r.BasicAuth()
		json.NewDecoder(r.Body).Decode(&got.body)
		if answer != http.StatusNoContent {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(answer)
			w.Write([]byte(`{"message":"Validation Failed","documentation_url":"https://docs.github.com/rest"}`))
			return
		}
		w.WriteHeader(answer)
	}))
	defer api.Close()
	oauth.SetGitHubAPI(t, api.URL)
	c := revokeClient(behalf.VendorGithub, "")
	ts := behalf.TokenSet{AccessToken: "gho_access", RefreshToken: "ghr_refresh"}
	tok, hint := c.RevocationToken(ts)
	if tok != "gho_access" || hint != oauth.HintAccessToken {
		t.Fatalf("RevocationToken = %q, %q; want GitHub's access token", tok.Reveal(), hint)
	}
	if err := c.Revoke(context.Background(), tok, hint); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if got.method != "DELETE" || got.path != "/applications/"+clientID+"/grant" || got.user != clientID || got.pass != secret ||
		got.body["access_token"] != "gho_access" || got.accept != "application/vnd.github+json" {
		t.Fatalf("GitHub saw %+v", got)
	}
	answer = http.StatusUnprocessableEntity
	err := c.Revoke(context.Background(), tok, hint)
	var re *oauth.RevocationError
	if !errors.As(err, &re) || re.StatusCode != 422 || re.Description != "Validation Failed" {
		t.Fatalf("Revoke = %#v, want GitHub's refusal", err)
	}
	c.ClientSecret = ""
	if err := c.Revoke(context.Background(), tok, hint); err == nil || errors.As(err, &re) {
		t.Fatalf("Revoke without a client secret = %v", err)
	}
}

// Ensure Slack's auth.revoke is called with the token as bearer and its
// "ok": false is a refusal.
func TestRevokeSlack(t *testing.T) {
	var bearer string
	reply := `{"ok":true,"revoked":true}`
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearer = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(reply))
	}))
	defer api.Close()
	c := revokeClient(behalf.VendorSlack, api.URL+"/api/auth.revoke")
	tok, hint := c.RevocationToken(behalf.TokenSet{AccessToken: "xoxp-1", RefreshToken: "xoxe-1"})
	if tok != "xoxp-1" || hint != oauth.HintAccessToken {
		t.Fatalf("RevocationToken = %q, %q; want Slack's access token", tok.Reveal(), hint)
	}
	if err := c.Revoke(context.Background(), tok, hint); err != nil || bearer != "Bearer xoxp-1" {
		t.Fatalf("Revoke = %v, Authorization %q", err, bearer)
	}
	reply = `{"ok":false,"error":"invalid_auth"}`
	err := c.Revoke(context.Background(), tok, hint)
	var re *oauth.RevocationError
	if !errors.As(err, &re) || re.Code != "invalid_auth" {
		t.Fatalf("Revoke = %#v, want Slack's refusal", err)
	}
}

// Ensure the catalogue's revocation endpoints: Google and Slack have one,
// Microsoft none (it has no standard endpoint), GitHub its token API.
func TestRevocationEndpoints(t *testing.T) {
	for vendor, want := range map[string]bool{
		behalf.VendorGoogle: true, behalf.VendorSlack: true, behalf.VendorSalesforce: true,
		behalf.VendorMicrosoft: false, behalf.VendorAtlassian: false, behalf.VendorLinkedin: false,
	} {
		v, _ := oauth.LookupVendor(vendor)
		if got := v.Metadata.RevocationEndpoint != ""; got != want {
			t.Errorf("%s has a revocation endpoint: %v, want %v", vendor, got, want)
		}
	}
}

// Ensure a redirect is not followed: the token goes to the configured
// endpoint only, and the redirect is a refusal.
func TestRevokeNoRedirect(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/revoke", http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()
	c := revokeClient(behalf.VendorCustom, redirecting.URL+"/revoke")
	err := c.Revoke(context.Background(), "tok", oauth.HintAccessToken)
	var re *oauth.RevocationError
	if !errors.As(err, &re) || re.StatusCode != http.StatusTemporaryRedirect || elsewhere.Load() != 0 {
		t.Fatalf("Revoke = %#v; requests elsewhere: %d", err, elsewhere.Load())
	}
}
