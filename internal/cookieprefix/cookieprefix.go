// Package cookieprefix names cookies with the prefixes browsers enforce
// (RFC 6265bis §4.1.3): on https, a cookie for the whole site ("Path=/")
// is "__Host-name", which a browser accepts only when Secure, without a
// Domain attribute and set by this host itself, so neither a sibling
// subdomain nor a plain-http response can plant or overwrite it; a cookie
// with a narrower path is "__Secure-name" (Secure, set over https only).
// On http (a loopback development setup) names are unchanged, since a
// browser refuses prefixed cookies there.
package cookieprefix

// Name returns the wire name of the cookie name with path, for a site
// served over https (secure) or not.
func Name(name, path string, secure bool) string {
	switch {
	case !secure:
		return name
	case path == "/":
		return "__Host-" + name
	default:
		return "__Secure-" + name
	}
}
