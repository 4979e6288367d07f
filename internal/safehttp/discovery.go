package safehttp

import (
	"errors"
	"net/url"
	"strings"
)

// Discovery documents' well-known paths.
const (
	OIDCWellKnown  = "/.well-known/openid-configuration"       // OpenID Connect Discovery 1.0
	OAuthWellKnown = "/.well-known/oauth-authorization-server" // RFC 8414
)

// DiscoveryKinds says which discovery documents a URL may name.
type DiscoveryKinds int

const (
	// OIDCDiscovery: a path ending in OIDCWellKnown.
	OIDCDiscovery DiscoveryKinds = 1 << iota
	// OAuthDiscovery: RFC 8414's path, ending in OAuthWellKnown or
	// starting with it followed by the issuer's path.
	OAuthDiscovery
)

// CheckDiscoveryURL is the one check of a discovery document's URL before
// it is fetched: it must parse, have no query or fragment, have the path of
// one of kinds' documents, and pass o.CheckURL. Errors are *Error; their
// Msg starts with "URL" so that a caller can name the field (Describe).
func (o Options) CheckDiscoveryURL(raw string, kinds DiscoveryKinds) error {
	u, err := url.Parse(raw)
	if err != nil {
		return failf(err, "URL is not a valid URL")
	}
	if !kinds.match(u) {
		want := OIDCWellKnown
		if kinds&OAuthDiscovery != 0 {
			want += " or " + OAuthWellKnown
		}
		if kinds&OIDCDiscovery == 0 {
			want = OAuthWellKnown
		}
		return refusef("URL must end in %s", want)
	}
	_, err = o.CheckURL(raw)
	return err
}

// match reports whether u has one of kinds' discovery paths and no query
// or fragment.
func (k DiscoveryKinds) match(u *url.URL) bool {
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.Contains(u.Opaque, "#") {
		return false
	}
	p := u.EscapedPath()
	return k&OIDCDiscovery != 0 && strings.HasSuffix(p, OIDCWellKnown) ||
		k&OAuthDiscovery != 0 && (strings.HasSuffix(p, OAuthWellKnown) || strings.HasPrefix(p, OAuthWellKnown+"/"))
}

// Describe words err, from a check of a URL, for the field name: "name
// must end in …" for the package's "URL must end in …", else "name is not
// allowed: <reason>". Only the package's plain messages are shown.
func Describe(name string, err error) string {
	msg := "the request failed"
	var se *Error
	if errors.As(err, &se) {
		msg = se.Msg
	}
	if rest, ok := strings.CutPrefix(msg, "URL "); ok {
		return name + " " + rest
	}
	return name + " is not allowed: " + msg
}
