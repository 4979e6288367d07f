package oauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/oauth"
)

const testRedirect = "https://behalf.example.com/identities/oauth2/callback/prov-1"

// staticClient is a Google client that makes no requests.
func staticClient(t *testing.T) *oauth.Client {
	t.Helper()
	v, ok := oauth.LookupVendor(behalf.VendorGoogle)
	if !ok {
		t.Fatal("no Google vendor")
	}
	p := &behalf.OAuth2Provider{ID: "prov-1", Vendor: behalf.VendorGoogle, ClientID: "client-1", Metadata: v.Metadata}
	return &oauth.Client{Provider: p, Vendor: v, ClientSecret: "secret-1", RedirectURL: testRedirect}
}

// parseAuthURL builds the URL for r and returns its query.
func parseAuthURL(t *testing.T, c *oauth.Client, r oauth.AuthRequest) (*url.URL, url.Values) {
	t.Helper()
	raw, err := c.AuthCodeURL(r)
	if err != nil {
		t.Fatalf("AuthCodeURL: %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return u, u.Query()
}

// wantParam checks that q has exactly one value for key, equal to want.
func wantParam(t *testing.T, q url.Values, key, want string) {
	t.Helper()
	if got := q[key]; len(got) != 1 || got[0] != want {
		t.Errorf("%s = %q, want exactly [%q]", key, got, want)
	}
}

// s256 computes the PKCE S256 challenge of verifier (RFC 7636 4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func newRequest() oauth.AuthRequest {
	return oauth.AuthRequest{
		Scopes:       []string{"https://www.googleapis.com/auth/drive.readonly", "email"},
		State:        oauth.NewState(),
		PKCEVerifier: oauth.NewVerifier(),
		Nonce:        oauth.NewNonce(),
	}
}

func TestAuthCodeURLParameters(t *testing.T) {
	c := staticClient(t)
	r := newRequest()
	r.Resources = []string{"https://api.one.example", "https://api.two.example"}
	r.Audiences = []string{"aud-1", "aud-2"}
	u, q := parseAuthURL(t, c, r)

	if got := u.Scheme + "://" + u.Host + u.Path; got != c.Provider.Metadata.AuthorizationEndpoint {
		t.Errorf("endpoint = %s, want %s", got, c.Provider.Metadata.AuthorizationEndpoint)
	}
	wantParam(t, q, "response_type", "code")
	wantParam(t, q, "client_id", "client-1")
	wantParam(t, q, "redirect_uri", testRedirect)
	wantParam(t, q, "scope", "openid https://www.googleapis.com/auth/drive.readonly email")
	wantParam(t, q, "state", r.State)
	wantParam(t, q, "code_challenge", s256(r.PKCEVerifier))
	wantParam(t, q, "code_challenge_method", "S256")
	wantParam(t, q, "nonce", r.Nonce)
	wantParam(t, q, "access_type", "offline")
	wantParam(t, q, "prompt", "consent")
	if !slices.Equal(q["resource"], r.Resources) || !slices.Equal(q["audience"], r.Audiences) {
		t.Errorf("resource = %q, audience = %q", q["resource"], q["audience"])
	}
	if q.Has("code_verifier") || strings.Contains(u.RawQuery, r.PKCEVerifier) {
		t.Error("the URL leaks the PKCE verifier")
	}
}

func TestAuthCodeURLNonOIDCVendor(t *testing.T) {
	c := staticClient(t)
	c.Vendor, _ = oauth.LookupVendor(behalf.VendorGithub)
	r := newRequest()
	r.Nonce = ""
	r.Scopes = []string{"repo"}
	_, q := parseAuthURL(t, c, r)
	wantParam(t, q, "scope", "repo")
	for _, k := range []string{"nonce", "access_type", "prompt"} {
		if q.Has(k) {
			t.Errorf("GitHub URL has %s=%q", k, q[k])
		}
	}
}

func TestAuthCodeURLOpenIDNotDuplicated(t *testing.T) {
	r := newRequest()
	r.Scopes = []string{"email", "openid"}
	_, q := parseAuthURL(t, staticClient(t), r)
	wantParam(t, q, "scope", "email openid")
}

func TestAuthCodeURLCustomParameters(t *testing.T) {
	r := newRequest()
	r.CustomParameters = map[string]string{"login_hint": "bob@example.com", "prompt": "select_account", "hd": "example.com"}
	_, q := parseAuthURL(t, staticClient(t), r)
	wantParam(t, q, "login_hint", "bob@example.com")
	wantParam(t, q, "hd", "example.com")
	wantParam(t, q, "prompt", "select_account") // replaces Google's default
	wantParam(t, q, "access_type", "offline")   // other defaults stay

	r.CustomParameters = map[string]string{"access_type": "online"}
	_, q = parseAuthURL(t, staticClient(t), r)
	wantParam(t, q, "access_type", "online")
	wantParam(t, q, "prompt", "consent")
}

func TestAuthCodeURLRefusesOverrides(t *testing.T) {
	c := staticClient(t)
	reserved := []string{"response_type", "client_id", "redirect_uri", "scope", "state",
		"code_challenge", "code_challenge_method", "nonce", "request_uri", "request"}
	for _, key := range reserved {
		r := newRequest()
		r.CustomParameters = map[string]string{"login_hint": "x", key: "evil"}
		u, err := c.AuthCodeURL(r)
		if u != "" || behalf.ErrorCode(err) != behalf.EINVALID || behalf.ErrorField(err) != oauth.CustomParametersField ||
			!strings.Contains(behalf.ErrorMessage(err), "parameter "+key+" ") {
			t.Errorf("custom %s: AuthCodeURL = %q, %v; want EINVALID naming it", key, u, err)
		}
	}
	r := newRequest()
	r.Resources = []string{"https://api.example"}
	r.CustomParameters = map[string]string{"resource": "https://other.example"}
	if _, err := c.AuthCodeURL(r); behalf.ErrorCode(err) != behalf.EINVALID {
		t.Errorf("custom resource beside Resources: err = %v, want EINVALID", err)
	}
}

func TestAuthCodeURLAudienceReplacesVendorDefault(t *testing.T) {
	c := staticClient(t)
	c.Vendor, _ = oauth.LookupVendor(behalf.VendorAtlassian)
	r := newRequest()
	_, q := parseAuthURL(t, c, r)
	wantParam(t, q, "audience", "api.atlassian.com")
	r.Audiences = []string{"api.example.com"}
	_, q = parseAuthURL(t, c, r)
	wantParam(t, q, "audience", "api.example.com")
}

func TestAuthCodeURLRequiresStateVerifierNonce(t *testing.T) {
	c := staticClient(t)
	tests := map[string]func(*oauth.AuthRequest){
		"no state":       func(r *oauth.AuthRequest) { r.State = "" },
		"no verifier":    func(r *oauth.AuthRequest) { r.PKCEVerifier = "" },
		"short verifier": func(r *oauth.AuthRequest) { r.PKCEVerifier = "abc" },
		"bad verifier":   func(r *oauth.AuthRequest) { r.PKCEVerifier = strings.Repeat("a", 42) + "/" },
		"no nonce":       func(r *oauth.AuthRequest) { r.Nonce = "" },
	}
	for name, edit := range tests {
		r := newRequest()
		edit(&r)
		if u, err := c.AuthCodeURL(r); err == nil {
			t.Errorf("%s: AuthCodeURL = %q, want an error", name, u)
		}
	}
}

func TestRandomValues(t *testing.T) {
	for name, gen := range map[string]func() string{
		"verifier": oauth.NewVerifier, "state": oauth.NewState, "nonce": oauth.NewNonce,
	} {
		a, b := gen(), gen()
		raw, err := base64.RawURLEncoding.DecodeString(a)
		if err != nil || len(raw) < 16 || a == b {
			t.Errorf("%s: %q, %q: want distinct base64url values of at least 128 bits", name, a, b)
		}
	}
}
