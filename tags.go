package behalf

import (
	"regexp"
	"unicode/utf8"
)

var tagPattern = regexp.MustCompile(`^[a-zA-Z0-9\s._:/=+@-]*$`)

// ValidateTags checks resource tags against AgentCore's rules: at most 50,
// keys 1 to 128 and values up to 256 characters of letters, digits, spaces
// and ._:/=+@-. It returns an EINVALID error naming "tags".
func ValidateTags(tags map[string]string) error {
	if len(tags) > 50 {
		return Invalid("tags", "At most 50 tags are allowed.")
	}
	for k, v := range tags {
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 || !tagPattern.MatchString(k) {
			return Invalid("tags", "Tag key %q must be 1 to 128 characters of letters, digits, spaces and ._:/=+@-.", k)
		}
		if utf8.RuneCountInString(v) > 256 || !tagPattern.MatchString(v) {
			return Invalid("tags", "Tag value for %q must be at most 256 characters of letters, digits, spaces and ._:/=+@-.", k)
		}
	}
	return nil
}
