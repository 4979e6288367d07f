package oauth

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// redacted replaces a secret in a provider's text.
const redacted = "[REDACTED]"

// minSecret is the shortest value redact looks for: shorter ones are no
// secret worth the name, and replacing every "s" of a text would garble it.
const minSecret = 4

// redactor removes the secrets of one request to a provider from what the
// provider answered, before any of it reaches an error (and so a log line
// or an API response).
type redactor struct {
	forms []string // every form of every secret, longest first
}

// newRedactor returns a redactor for the secrets a request carried and the
// client id (not secret, but part of the Basic credentials it sent).
// Besides each value as sent, it looks for the forms a provider may echo:
// form-encoded (as in the request body), JSON-escaped, and the Basic
// credentials (RFC 6749 section 2.3.1, both parts form-encoded, as x/oauth2
// and Revoke send them, and not).
func newRedactor(clientID string, secrets ...string) redactor {
	var r redactor
	add := func(v string) {
		if len(v) >= minSecret && !slices.Contains(r.forms, v) {
			r.forms = append(r.forms, v)
		}
	}
	for _, s := range secrets {
		if len(s) < minSecret {
			continue
		}
		add(s)
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
		if b, err := json.Marshal(s); err == nil {
			add(strings.Trim(string(b), `"`))
		}
	}
	if len(secrets) > 0 && len(secrets[0]) >= minSecret { // the client secret comes first
		add(base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(secrets[0]))))
		add(base64.StdEncoding.EncodeToString([]byte(clientID + ":" + secrets[0])))
	}
	slices.SortFunc(r.forms, func(a, b string) int { return len(b) - len(a) })
	return r
}

// secretNames are the request parameters whose values are secret.
const secretNames = `subject_token|actor_token|client_secret|code|code_verifier|refresh_token|access_token|id_token|token|assertion|client_assertion|password`

// secretForm and secretJSON find a secret parameter's value wherever a
// provider echoes it as name=value or "name":"value", so that an echo in
// an encoding redact does not know still loses the value.
var (
	secretForm = regexp.MustCompile(`(?i)(\b(?:` + secretNames + `)=)[^&\s"]+`)
	secretJSON = regexp.MustCompile(`(?i)("(?:` + secretNames + `)"\s*:\s*")(?:[^"\\]|\\.)*`)
)

// redact removes the secrets from s: every known form, and the value of
// every secret parameter.
func (r redactor) redact(s string) string {
	for _, f := range r.forms {
		s = strings.ReplaceAll(s, f, redacted)
	}
	s = secretForm.ReplaceAllString(s, "${1}"+redacted)
	return secretJSON.ReplaceAllString(s, "${1}"+redacted)
}

// text is a provider's free text (error_description, a message) fit for an
// error: secrets redacted, control characters replaced, at most n bytes.
func (r redactor) text(s string, n int) string {
	return truncate(r.redact(s), n)
}

// code is a provider's error code fit for an error: redacted, only the
// characters RFC 6749 section 5.2 allows, at most maxErrorCode bytes.
func (r redactor) code(s string) string {
	s = strings.Map(func(c rune) rune {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return -1
		}
		return c
	}, r.redact(s))
	return truncate(s, maxErrorCode)
}
