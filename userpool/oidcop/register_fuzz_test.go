package oidcop

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
)

// FuzzParseRegistration feeds registration bodies to parseRegistration:
// it never panics, every error is an RFC 7591 one, and what it accepts is
// a public client whose redirect URIs are https or loopback http without
// fragments (https only in open mode), whose name can be shown, and which
// never gets aws.cognito.signin.user.admin.
func FuzzParseRegistration(f *testing.F) {
	for _, s := range []string{
		`{"redirect_uris":["http://127.0.0.1:3000/cb"],"token_endpoint_auth_method":"none","client_name":"x"}`,
		`{"redirect_uris":["https://app.example.com/cb","http://[::1]/cb"],"scope":"openid a/b","grant_types":["authorization_code","refresh_token"]}`,
		`{"redirect_uris":["http://localhost/cb#f"]}`,
		`{"redirect_uris":["http://evil.com@127.0.0.1/"],"client_name":"\u202e"}`,
		`{"redirect_uris":null,"scope":""}`, `[]`, `null`, `{"redirect_uris":["HTTP://LOCALHOST/x"]}`,
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, open bool) {
		mode := behalf.ClientRegistrationLoopback
		if open {
			mode = behalf.ClientRegistrationOpen
		}
		in, _, err := parseRegistration(body, "us-east-1_abc", mode)
		if err != nil {
			re, ok := err.(*registrationError)
			if !ok || re.status != 400 || (re.Code != errorInvalidClientMetadata && re.Code != errorInvalidRedirectURI) {
				t.Fatalf("error %#v is not an RFC 7591 error", err)
			}
			return
		}
		if !in.DynamicallyRegistered || in.GenerateSecret || !behalf.ValidDisplayName(in.Name) {
			t.Fatalf("accepted %+v", in)
		}
		if len(in.CallbackURLs) == 0 || len(in.CallbackURLs) > maxRedirectURIs {
			t.Fatalf("accepted %d redirect URIs", len(in.CallbackURLs))
		}
		for _, raw := range in.CallbackURLs {
			u, err := url.Parse(raw)
			if err != nil || strings.Contains(raw, "#") || u.User != nil || u.Host == "" {
				t.Fatalf("accepted redirect URI %q", raw)
			}
			loopback := isLoopbackHost(u.Hostname())
			if !(u.Scheme == "https" && (open || loopback)) && !(u.Scheme == "http" && loopback) {
				t.Fatalf("accepted redirect URI %q in mode %s", raw, mode)
			}
		}
		if slices.Contains(in.AllowedOAuthScopes, behalf.ScopeCognitoAdmin) || len(in.AllowedOAuthScopes) == 0 {
			t.Fatalf("accepted scopes %q", in.AllowedOAuthScopes)
		}
	})
}

// FuzzCheckResources feeds resource parameters to checkResources: what it
// accepts is behalf.ValidResource, without fragments, at most
// behalf.MaxResources, each once.
func FuzzCheckResources(f *testing.F) {
	for _, s := range []string{"https://mcp.example.com/mcp", "urn:x:y", "https://a/b#c", "/rel", "http://u@h/", "ht tp://x"} {
		f.Add(s, s+"/2")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		out, err := checkResources([]string{a, b, a})
		if err != nil {
			return
		}
		if len(out) > 2 || len(out) > behalf.MaxResources {
			t.Fatalf("checkResources = %q", out)
		}
		for i, r := range out {
			u, err := url.Parse(r)
			if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(r, "#") || slices.Contains(out[:i], r) {
				t.Fatalf("accepted resource %q", r)
			}
		}
	})
}
