package userpool

import (
	"slices"
	"strings"
)

// filterAttributes are the attributes ListUsers filters on.
var filterAttributes = []string{"username", "email", "sub"}

// cognitoSearchable are attributes Cognito searches that Behalf does not.
var cognitoSearchable = []string{
	"phone_number", "name", "given_name", "family_name", "preferred_username",
	"cognito:user_status", "status",
}

// maxFilterLength bounds a filter expression.
const maxFilterLength = 256

// parseFilter parses `attribute = "value"`, the value a double-quoted
// string in which \" and \\ escape. Prefix filters (^=) and attributes
// other than username, email and sub are InvalidParameterException.
func parseFilter(f string) (attr, value string, err error) {
	if len(f) > maxFilterLength {
		return "", "", invalidParameter("Error while parsing filter.")
	}
	rest := strings.TrimSpace(f)
	i := strings.IndexAny(rest, " \t^=")
	if i <= 0 {
		return "", "", invalidParameter("Error while parsing filter.")
	}
	attr, rest = rest[:i], strings.TrimSpace(rest[i:])
	if err := checkFilterAttribute(attr); err != nil {
		return "", "", err
	}
	if strings.HasPrefix(rest, "^=") {
		return "", "", invalidParameter("Prefix filters (^=) are not supported.")
	}
	rest, ok := strings.CutPrefix(rest, "=")
	if !ok {
		return "", "", invalidParameter("Error while parsing filter.")
	}
	value, ok = parseQuoted(strings.TrimSpace(rest))
	if !ok {
		return "", "", invalidParameter("Error while parsing filter.")
	}
	return attr, value, nil
}

// checkFilterAttribute accepts the attributes Behalf filters on.
func checkFilterAttribute(attr string) error {
	switch {
	case slices.Contains(filterAttributes, attr):
		return nil
	case slices.Contains(cognitoSearchable, attr):
		return invalidParameter("Behalf filters users only by username, email or sub, not %s.", attr)
	}
	return invalidParameter("Invalid search attribute: %s", attr)
}

// parseQuoted parses a whole double-quoted string with \" and \\ escapes.
func parseQuoted(s string) (string, bool) {
	if len(s) < 2 || s[0] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
				return "", false
			}
			b.WriteByte(s[i+1])
			i++
		case '"':
			return b.String(), i == len(s)-1
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}
