package behalf_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Ensure a token's jti carries its issue time to the microsecond, as a
// well-formed version-7 UUID, and TokenIssuedAt reads it only when it lies
// in the second of iat (then the legacy claim, then iat).
func TestTokenIssuedAt(t *testing.T) {
	base := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, us := range []int{0, 1, 2, 999, 1000, 1001, 123456, 499999, 999998, 999999} {
		at := base.Add(time.Duration(us) * time.Microsecond)
		id := behalf.NewTimeUUID(at)
		if !uuidV7.MatchString(id) {
			t.Fatalf("NewTimeUUID = %q, not a version-7 UUID", id)
		}
		got, ok := behalf.TimeOfUUID(id)
		if !ok || !got.Equal(at) {
			t.Fatalf("TimeOfUUID(NewTimeUUID(%v)) = %v %v", at, got, ok)
		}
		if got := behalf.TokenIssuedAt(base, map[string]any{"jti": id}); !got.Equal(at) {
			t.Fatalf("TokenIssuedAt = %v, want %v", got, at)
		}
	}
	if a, b := behalf.NewTimeUUID(base), behalf.NewTimeUUID(base); a == b {
		t.Fatal("two UUIDs of one time are equal")
	}
	at := base.Add(123456 * time.Microsecond)
	for name, tc := range map[string]struct {
		claims map[string]any
		want   time.Time
	}{
		"v4 jti":                 {map[string]any{"jti": "0b9e5a2e-6f3c-4d8a-9b1e-2f7c5d4e3a21"}, base},
		"jti of another second":  {map[string]any{"jti": behalf.NewTimeUUID(base.Add(time.Second))}, base},
		"not a uuid":             {map[string]any{"jti": "nope"}, base},
		"no jti":                 {map[string]any{}, base},
		"legacy claim":           {map[string]any{behalf.ClaimIssuedMicros: float64(at.UnixMicro())}, at},
		"legacy claim elsewhere": {map[string]any{behalf.ClaimIssuedMicros: float64(at.Add(time.Hour).UnixMicro())}, base},
	} {
		if got := behalf.TokenIssuedAt(base, tc.claims); !got.Equal(tc.want) {
			t.Errorf("%s: TokenIssuedAt = %v, want %v", name, got, tc.want)
		}
	}
}
