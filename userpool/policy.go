package userpool

import (
	"crypto/rand"
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

// Password limits: Cognito's policy bounds and API constraint.
const (
	minPolicyLength    = 6
	maxPolicyLength    = 99
	maxPasswordLength  = 256
	maxTempDays        = 365
	generatedMinLength = 16
)

// Character classes of Cognito's password policy: Basic Latin letters,
// ASCII digits, and these symbols (the space counts as a symbol too).
const (
	upperChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerChars  = "abcdefghijklmnopqrstuvwxyz"
	digitChars  = "0123456789"
	symbolChars = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "
)

// normalizePolicy validates a pool's password policy, filling defaults:
// nil is DefaultPasswordPolicy, a zero MinimumLength is 8 and a zero
// TemporaryPasswordValidityDays is 7.
func normalizePolicy(p *behalf.PasswordPolicy) (behalf.PasswordPolicy, error) {
	if p == nil {
		return behalf.DefaultPasswordPolicy, nil
	}
	out := *p
	if out.MinimumLength == 0 {
		out.MinimumLength = behalf.DefaultPasswordPolicy.MinimumLength
	}
	if out.TemporaryPasswordValidityDays == 0 {
		out.TemporaryPasswordValidityDays = behalf.DefaultPasswordPolicy.TemporaryPasswordValidityDays
	}
	if out.MinimumLength < minPolicyLength || out.MinimumLength > maxPolicyLength {
		return out, invalidParameter("MinimumLength must be between %d and %d.", minPolicyLength, maxPolicyLength)
	}
	if out.TemporaryPasswordValidityDays < 0 || out.TemporaryPasswordValidityDays > maxTempDays {
		return out, invalidParameter("TemporaryPasswordValidityDays must be between 0 and %d.", maxTempDays)
	}
	return out, nil
}

// checkPassword enforces a pool's policy on a new password:
// InvalidPasswordException naming the first rule it breaks, or
// InvalidParameterException for a password the API would refuse.
func checkPassword(p behalf.PasswordPolicy, password behalf.Secret) error {
	pw := password.Reveal()
	if !utf8.ValidString(pw) || utf8.RuneCountInString(pw) > maxPasswordLength {
		return invalidParameter("Password must be valid UTF-8 of at most %d characters.", maxPasswordLength)
	}
	if strings.TrimSpace(pw) != pw {
		return policyError("Password must not begin or end with whitespace")
	}
	rules := []struct {
		need bool
		ok   func() bool
		msg  string
	}{
		{true, func() bool { return utf8.RuneCountInString(pw) >= p.MinimumLength }, "Password not long enough"},
		{p.RequireLowercase, func() bool { return strings.ContainsAny(pw, lowerChars) }, "Password must have lowercase characters"},
		{p.RequireUppercase, func() bool { return strings.ContainsAny(pw, upperChars) }, "Password must have uppercase characters"},
		{p.RequireNumbers, func() bool { return strings.ContainsAny(pw, digitChars) }, "Password must have numeric characters"},
		{p.RequireSymbols, func() bool { return strings.ContainsAny(pw, symbolChars) }, "Password must have symbol characters"},
	}
	for _, r := range rules {
		if r.need && !r.ok() {
			return policyError(r.msg)
		}
	}
	return nil
}

// policyError is Cognito's InvalidPasswordException.
func policyError(reason string) error {
	return cognito(behalf.CognitoInvalidPassword, "Password did not conform with policy: %s", reason)
}

// generatePassword returns a random password that satisfies p: one
// character of each class, the rest from all classes, shuffled. Symbols
// exclude the space, so the password never begins or ends with one.
func generatePassword(p behalf.PasswordPolicy) behalf.Secret {
	symbols := strings.TrimSuffix(symbolChars, " ")
	classes := []string{upperChars, lowerChars, digitChars, symbols}
	n := max(p.MinimumLength, generatedMinLength)
	all := strings.Join(classes, "")
	out := make([]byte, 0, n)
	for _, c := range classes {
		out = append(out, c[randInt(len(c))])
	}
	for len(out) < n {
		out = append(out, all[randInt(len(all))])
	}
	for i := len(out) - 1; i > 0; i-- {
		j := randInt(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return behalf.Secret(out)
}

// randInt returns a uniform random int in [0, n).
func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return int(v.Int64())
}

// hasSpace reports whether s contains whitespace or control characters.
func hasSpace(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0
}
