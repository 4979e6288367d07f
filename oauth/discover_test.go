package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/oauth"
)

// idp is a test authorization server serving one discovery document at
// path; "$BASE" in its strings stands for the server's URL.
type idp struct {
	*httptest.Server
	path   string
	doc    map[string]any
	status int
}

func newIDP(t *testing.T, path string, doc map[string]any) *idp {
	t.Helper()
	s := &idp{path: path, doc: doc, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *idp) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != s.path {
		http.NotFound(w, r)
		return
	}
	b, _ := json.Marshal(s.doc)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(s.status)
	w.Write([]byte(strings.ReplaceAll(string(b), "$BASE", s.URL)))
}

// fullDoc is a complete document for issuer ($BASE-relative).
func fullDoc(issuer string) map[string]any {
	return map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                "$BASE/authorize",
		"token_endpoint":                        "$BASE/token",
		"jwks_uri":                              "$BASE/jwks",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt"},
		"response_types_supported":              []string{"code"},
		"code_challenge_methods_supported":      []string{"S256"},
	}
}

func privateClient() *http.Client {
	return safehttp.NewClient(safehttp.Options{AllowPrivate: true})
}

func TestDiscoverForms(t *testing.T) {
	tests := []struct {
		name, path, issuer string
	}{
		{"oidc root", "/.well-known/openid-configuration", "$BASE"},
		{"oidc trailing slash", "/.well-known/openid-configuration", "$BASE/"},
		{"oidc with path", "/realms/acme/.well-known/openid-configuration", "$BASE/realms/acme"},
		{"rfc8414 root", "/.well-known/oauth-authorization-server", "$BASE"},
		{"rfc8414 inserted", "/.well-known/oauth-authorization-server/tenant1", "$BASE/tenant1"},
		{"rfc8414 appended", "/tenant1/.well-known/oauth-authorization-server", "$BASE/tenant1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIDP(t, tt.path, fullDoc(tt.issuer))
			md, err := oauth.Discover(context.Background(), privateClient(), s.URL+tt.path)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if md.Issuer != strings.ReplaceAll(tt.issuer, "$BASE", s.URL) || md.TokenEndpoint != s.URL+"/token" ||
				md.AuthorizationEndpoint != s.URL+"/authorize" || md.JWKSURI != s.URL+"/jwks" ||
				len(md.TokenEndpointAuthMethods) != 2 || md.CodeChallengeMethods[0] != "S256" {
				t.Errorf("metadata = %+v", md)
			}
		})
	}
}

// wantInvalid checks err is EINVALID on DiscoveryURLField with a message
// containing want.
func wantInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if behalf.ErrorCode(err) != behalf.EINVALID || behalf.ErrorField(err) != oauth.DiscoveryURLField {
		t.Fatalf("err = %v, want EINVALID on %s", err, oauth.DiscoveryURLField)
	}
	if msg := behalf.ErrorMessage(err); !strings.Contains(msg, want) {
		t.Fatalf("message = %q, want it to contain %q", msg, want)
	}
}

func TestDiscoverDocumentProblems(t *testing.T) {
	const oidc = "/.well-known/openid-configuration"
	const rfc = "/.well-known/oauth-authorization-server"
	tests := []struct {
		name, path string
		edit       func(map[string]any)
		want       string
	}{
		{"issuer mismatch", oidc, func(d map[string]any) { d["issuer"] = "https://evil.example.com" },
			"names issuer https://evil.example.com, which does not match the discovery URL."},
		{"issuer path mismatch", oidc, func(d map[string]any) { d["issuer"] = "$BASE/other" },
			"which does not match the discovery URL."},
		{"rfc8414 issuer mismatch", rfc, func(d map[string]any) { d["issuer"] = "$BASE/tenant2" },
			"which does not match the discovery URL."},
		{"missing token endpoint", oidc, func(d map[string]any) { delete(d, "token_endpoint") },
			"is missing token_endpoint."},
		{"missing issuer and authorize", oidc, func(d map[string]any) { delete(d, "issuer"); d["authorization_endpoint"] = "" },
			"is missing issuer and authorization_endpoint."},
		{"http token endpoint on public host", oidc, func(d map[string]any) { d["token_endpoint"] = "http://93.184.216.34/token" },
			"has an unusable token_endpoint http://93.184.216.34/token: URL must use https (http is allowed only for loopback and private hosts)."},
		{"relative endpoint", oidc, func(d map[string]any) { d["authorization_endpoint"] = "/authorize" },
			"has an unusable authorization_endpoint /authorize: URL must use https."},
		{"userinfo in endpoint", oidc, func(d map[string]any) { d["jwks_uri"] = "https://u:p@idp.example.com/jwks" },
			"has an unusable jwks_uri"},
		{"wrong type", oidc, func(d map[string]any) { d["token_endpoint"] = 42 },
			"Could not fetch discovery document: response field token_endpoint has the wrong type (JSON number)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := fullDoc("$BASE")
			tt.edit(doc)
			s := newIDP(t, tt.path, doc)
			_, err := oauth.Discover(context.Background(), privateClient(), s.URL+tt.path)
			wantInvalid(t, err, tt.want)
			if !strings.Contains(behalf.ErrorMessage(err), "Discovery document at "+s.URL+tt.path) &&
				!strings.HasPrefix(behalf.ErrorMessage(err), "Could not fetch") {
				t.Errorf("message %q does not name the document", behalf.ErrorMessage(err))
			}
		})
	}
}

func TestDiscoverFetchProblems(t *testing.T) {
	const oidc = "/.well-known/openid-configuration"
	s := newIDP(t, oidc, fullDoc("$BASE"))
	s.status = http.StatusNotFound
	_, err := oauth.Discover(context.Background(), privateClient(), s.URL+oidc)
	wantInvalid(t, err, "Could not fetch discovery document: server answered 404.")
	if !errors.As(err, new(*safehttp.Error)) {
		t.Errorf("fetch error not wrapped: %#v", err)
	}

	big := fullDoc("$BASE")
	big["padding"] = strings.Repeat("x", oauth.MaxDiscoveryBytes)
	s = newIDP(t, oidc, big)
	_, err = oauth.Discover(context.Background(), privateClient(), s.URL+oidc)
	wantInvalid(t, err, "Could not fetch discovery document: response larger than 512 KiB.")
}

func TestDiscoverPrivateRefused(t *testing.T) {
	const oidc = "/.well-known/openid-configuration"
	s := newIDP(t, oidc, fullDoc("$BASE"))
	c := safehttp.NewClient(safehttp.Options{})
	_, err := oauth.Discover(context.Background(), c, s.URL+oidc)
	wantInvalid(t, err, "address 127.0.0.1 is loopback; start behalf with --allow-private-endpoints to allow it.")

	_, err = oauth.Discover(context.Background(), c, "https://10.0.0.1"+oidc)
	wantInvalid(t, err, "Discovery URL is not allowed: address 10.0.0.1 is private; start behalf with --allow-private-endpoints to allow it.")
}

func TestDiscoverBadURL(t *testing.T) {
	c := safehttp.NewClient(safehttp.Options{})
	tests := []struct{ url, want string }{
		{"https://idp.example.com/openid-configuration",
			"Discovery URL must end in /.well-known/openid-configuration or /.well-known/oauth-authorization-server."},
		{"https://idp.example.com/.well-known/openid-configuration/", "Discovery URL must end in"},
		{"https://idp.example.com/.well-known/openid-configuration?x=1", "Discovery URL must end in"},
		{"https://idp.example.com/.well-known/openid-configuration#f", "Discovery URL must end in"},
		{"https://idp.example.com/.well-known/jwks.json", "Discovery URL must end in"},
		{"https://idp.example.com/.well-known/oauth-authorization-serverx", "Discovery URL must end in"},
		{"", "Discovery URL must end in"},
		{"http://idp.example.com/.well-known/openid-configuration", "Discovery URL must use https."},
		{"https://u:p@idp.example.com/.well-known/openid-configuration",
			"Discovery URL must not contain a user name or password."},
		{"https://idp.exa mple.com/.well-known/openid-configuration", "Discovery URL is not a valid URL."},
		{"/.well-known/openid-configuration", "Discovery URL must use https."},
	}
	for _, tt := range tests {
		_, err := oauth.Discover(context.Background(), c, tt.url)
		if behalf.ErrorField(err) != oauth.DiscoveryURLField || !strings.Contains(behalf.ErrorMessage(err), tt.want) {
			t.Errorf("Discover(%q) = %v, want %q", tt.url, err, tt.want)
		}
	}
}
