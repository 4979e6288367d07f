package identity

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// Ensure each name character set accepts exactly what the regular
// expression of AgentCore's model accepts: every byte alone, every
// pattern's corner cases, and random strings over a mixed alphabet.
func TestNameCharsMatchPattern(t *testing.T) {
	for _, c := range []nameChars{workloadNameChars, providerNameChars, customParamChars} {
		re := regexp.MustCompile("^" + c.pattern + "$")
		check := func(s string) {
			if got, want := c.match(s), re.MatchString(s); got != want {
				t.Fatalf("%s: match(%q) = %v, the pattern says %v", c.pattern, s, got, want)
			}
		}
		check("")
		for b := range 256 {
			check(string([]byte{byte(b)}))
			check("a" + string([]byte{byte(b)}) + "b")
		}
		for _, s := range []string{"abc", "A-b_c.d", "é", "a\nb", "a b", "a\x00", "日本", "~", "a/b", "a+b"} {
			check(s)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		const alphabet = "aZ09-_.~ /+\x00\xff"
		for range 5000 {
			b := make([]byte, rng.IntN(8))
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			check(string(b))
		}
	}
}
