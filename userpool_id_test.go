package behalf

import (
	"regexp"
	"testing"
)

// poolIDPattern is the UserPoolId pattern of Cognito's API model, which
// IsPoolID implements.
var poolIDPattern = regexp.MustCompile(`^[\w-]+_[0-9a-zA-Z]+$`)

func TestIsPoolID(t *testing.T) {
	for s, want := range map[string]bool{
		"us-east-1_AbC123": true, "eu_west_9": true, "a_b": true, "_-_x": true,
		"identities": false, "us-east-1_": false, "_abc": false, "us-east-1_ab-c": false,
		"us east_1": false, "": false, "_": false, "a_b\n": false, "é_a": false,
	} {
		if got := IsPoolID(s); got != want || got != poolIDPattern.MatchString(s) {
			t.Errorf("IsPoolID(%q) = %v, want %v (pattern: %v)", s, got, want, poolIDPattern.MatchString(s))
		}
	}
}

func FuzzIsPoolID(f *testing.F) {
	for _, s := range []string{"us-east-1_AbC123", "identities", "a__b", "-_-", "x_y_z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := IsPoolID(s), poolIDPattern.MatchString(s); got != want {
			t.Fatalf("IsPoolID(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
