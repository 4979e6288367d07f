package userpool

import (
	"slices"
	"strings"

	"github.com/behalf-dev/behalf"
)

// maxFilterLength bounds a filter expression (Cognito's UserFilterType).
const maxFilterLength = 256

// msgFilterSyntax is Cognito's message for a filter it cannot parse.
const msgFilterSyntax = "Error while parsing filter."

// parseFilter parses a ListUsers filter as Cognito documents it:
// `attribute = "value"` (equal) or `attribute ^= "value"` (starts with),
// spaces around the operator optional, the value a double-quoted string in
// which \" and \\ escape. The attribute must be one Cognito searches
// (behalf.SearchAttributes; custom attributes are not); anything else is
// InvalidParameterException.
func parseFilter(f string) (attr, value string, prefix bool, err error) {
	if len(f) > maxFilterLength {
		return "", "", false, invalidParameter("1 validation error detected: Value at 'filter' failed to satisfy constraint: Member must have length less than or equal to %d", maxFilterLength)
	}
	rest := strings.TrimSpace(f)
	i := strings.IndexAny(rest, " \t^=")
	if i <= 0 {
		return "", "", false, invalidParameter(msgFilterSyntax)
	}
	attr, rest = rest[:i], strings.TrimSpace(rest[i:])
	if !slices.Contains(behalf.SearchAttributes, attr) {
		return "", "", false, invalidParameter("Invalid search attribute: %s", attr)
	}
	rest, prefix = strings.CutPrefix(rest, "^=")
	if !prefix {
		var ok bool
		if rest, ok = strings.CutPrefix(rest, "="); !ok {
			return "", "", false, invalidParameter(msgFilterSyntax)
		}
	}
	value, ok := parseQuoted(strings.TrimSpace(rest))
	if !ok {
		return "", "", false, invalidParameter(msgFilterSyntax)
	}
	return attr, value, prefix, nil
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
