package behalf

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on RFC 8707 resource indicators.
const (
	// MaxResources is how many resource indicators one authorization or
	// token request may name.
	MaxResources = 10
	// MaxResourceLength bounds one resource indicator, in bytes.
	MaxResourceLength = 1024
)

// ErrInvalidTarget marks an error about an RFC 8707 resource indicator
// (the token endpoint's invalid_target): errors.Is finds it in the
// chain, beside the service's own error.
var ErrInvalidTarget = errors.New("invalid_target")

// ValidResource reports whether raw is a resource indicator RFC 8707 §2
// allows: an absolute URI (a scheme and, for http and https, a host), no
// fragment, no spaces or control characters, at most MaxResourceLength
// bytes.
func ValidResource(raw string) bool {
	if raw == "" || len(raw) > MaxResourceLength || strings.ContainsAny(raw, "# \t\r\n") {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < 0x20 || raw[i] == 0x7f {
			return false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != "" && u.User == nil
	}
	return u.Opaque != "" || u.Host != "" || u.Path != ""
}

// MaxDisplayNameLength bounds a dynamically registered client's name, in
// characters (Cognito's ClientName bound).
const MaxDisplayNameLength = 128

// ValidDisplayName reports whether name can be shown as a dynamically
// registered client's name (RFC 7591's client_name): 1 to
// MaxDisplayNameLength characters of valid UTF-8, none of them control or
// format characters (no line breaks, no bidirectional overrides that make
// it read as another name), no leading or trailing space.
func ValidDisplayName(name string) bool {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxDisplayNameLength ||
		strings.TrimSpace(name) != name {
		return false
	}
	for _, r := range name {
		if (!unicode.IsPrint(r) && r != ' ') || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}
