package identity

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

var returnURLPattern = regexp.MustCompile(`^\w+:(/?/?)[^\s]+$`)

// nameChars is the character set of a kind of name: ASCII letters and
// digits and the bytes of extra, one or more of them. pattern is how
// AgentCore's model writes it (in messages). It is checked byte by byte,
// without a regular expression: names are checked on every token request.
type nameChars struct{ extra, pattern string }

var (
	workloadNameChars = nameChars{"_.-", `[A-Za-z0-9_.-]+`}
	providerNameChars = nameChars{"-_", `[a-zA-Z0-9\-_]+`}
	customParamChars  = nameChars{"-_.", `[a-zA-Z0-9\-_.]+`}
)

// match reports whether s is one or more of c's characters.
func (c nameChars) match(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || ('0' <= b && b <= '9') || strings.IndexByte(c.extra, b) >= 0 {
			continue
		}
		return false
	}
	return true
}

// maxReturnURLs bounds a workload's allow-list; the model sets no limit, an
// unbounded list is a storage and matching hazard.
const maxReturnURLs = 100

func validateName(field, name string, chars nameChars, min, max int) error {
	n := utf8.RuneCountInString(name)
	if n < min || n > max {
		return behalf.Invalid(field, "%s must be %d to %d characters long.", field, min, max)
	}
	if !chars.match(name) {
		return behalf.Invalid(field, "%s must match the pattern %s.", field, chars.pattern)
	}
	return nil
}

func validateWorkloadName(name string) error {
	return validateName("name", name, workloadNameChars, 3, 255)
}

func validateProviderName(name string) error {
	return validateName("name", name, providerNameChars, 1, 128)
}

// validateReturnURLs checks the allow-list of OAuth return URLs. URLs are
// stored exactly as given (matching later is byte for byte), but each must
// be an absolute URL without userinfo or fragment, and each only once.
func validateReturnURLs(urls []string) error {
	const field = "allowedResourceOauth2ReturnUrls"
	if len(urls) > maxReturnURLs {
		return behalf.Invalid(field, "At most %d return URLs are allowed.", maxReturnURLs)
	}
	seen := make(map[string]bool, len(urls))
	for _, raw := range urls {
		if len(raw) < 1 || len(raw) > 2048 {
			return behalf.Invalid(field, "Each return URL must be 1 to 2048 characters long.")
		}
		if !returnURLPattern.MatchString(raw) {
			return behalf.Invalid(field, "Return URL %q is not a valid URL.", raw)
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" {
			return behalf.Invalid(field, "Return URL %q is not a valid absolute URL.", raw)
		}
		if u.User != nil {
			return behalf.Invalid(field, "Return URL %q must not contain user information.", raw)
		}
		if u.Fragment != "" || strings.Contains(raw, "#") {
			return behalf.Invalid(field, "Return URL %q must not contain a fragment.", raw)
		}
		if seen[raw] {
			return behalf.Invalid(field, "Return URL %q is listed twice.", raw)
		}
		seen[raw] = true
	}
	return nil
}

func validateSecret(field string, s behalf.Secret, min, max int) error {
	if n := len(s.Reveal()); n < min || n > max {
		return behalf.Invalid(field, "%s must be %d to %d characters long.", field, min, max)
	}
	return nil
}
