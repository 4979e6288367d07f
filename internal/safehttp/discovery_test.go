package safehttp

import (
	"testing"
)

// Ensure the one discovery-URL check accepts exactly the well-known paths
// of the kinds asked for, without query or fragment, and applies CheckURL;
// and that Describe names the field.
func TestCheckDiscoveryURL(t *testing.T) {
	both := OIDCDiscovery | OAuthDiscovery
	for _, c := range []struct {
		raw   string
		kinds DiscoveryKinds
		want  string // "" accepted, else the Describe("discoveryUrl", err) text
	}{
		{"https://idp.example.com/.well-known/openid-configuration", OIDCDiscovery, ""},
		{"https://idp.example.com/tenant/.well-known/openid-configuration", OIDCDiscovery, ""},
		{"https://idp.example.com/.well-known/oauth-authorization-server", both, ""},
		{"https://idp.example.com/.well-known/oauth-authorization-server/tenant", both, ""},
		{"https://idp.example.com/.well-known/oauth-authorization-server", OIDCDiscovery, "discoveryUrl must end in /.well-known/openid-configuration"},
		{"https://idp.example.com/.well-known/openid-configuration", OAuthDiscovery, "discoveryUrl must end in /.well-known/oauth-authorization-server"},
		{"https://idp.example.com/.well-known/jwks.json", both, "discoveryUrl must end in /.well-known/openid-configuration or /.well-known/oauth-authorization-server"},
		{"https://idp.example.com/.well-known/openid-configuration/", OIDCDiscovery, "discoveryUrl must end in /.well-known/openid-configuration"},
		{"https://idp.example.com/.well-known/openid-configuration?x=1", OIDCDiscovery, "discoveryUrl must end in /.well-known/openid-configuration"},
		{"https://idp.example.com/.well-known/openid-configuration#f", OIDCDiscovery, "discoveryUrl must end in /.well-known/openid-configuration"},
		{"https://idp.example.com/.well-known/openid-configuration?", OIDCDiscovery, "discoveryUrl must end in /.well-known/openid-configuration"},
		{"https://idp.exa mple.com/.well-known/openid-configuration", OIDCDiscovery, "discoveryUrl is not a valid URL"},
		{"http://idp.example.com/.well-known/openid-configuration", OIDCDiscovery, "discoveryUrl must use https"},
		{"https://10.0.0.1/.well-known/openid-configuration", OIDCDiscovery, "discoveryUrl is not allowed: address 10.0.0.1 is private"},
		{"", OIDCDiscovery, "discoveryUrl must end in /.well-known/openid-configuration"},
	} {
		err := Options{}.CheckDiscoveryURL(c.raw, c.kinds)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q refused: %v", c.raw, err)
		case c.want != "" && err == nil:
			t.Errorf("%q accepted", c.raw)
		case c.want != "" && !hasPrefix(Describe("discoveryUrl", err), c.want):
			t.Errorf("%q: %q, want %q…", c.raw, Describe("discoveryUrl", err), c.want)
		}
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
