package behalf

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// A token of a Behalf user pool must be told from a global sign-out in
// the same second: a token issued just before the sign-out is refused, one
// issued just after (a sign-in right after signing out) is not. iat has
// whole seconds only, and Cognito's tokens carry no finer claim, so
// Behalf's user pools put the issue time in the token's jti, which Cognito
// defines only as a unique UUID: a version-7 UUID (RFC 9562 §5.7) whose
// 48-bit Unix millisecond timestamp is followed, in rand_a, by the
// sub-millisecond fraction in 12 bits (§6.2, method 3), random bits after
// that. TokenIssuedAt reads it back to the microsecond.

// ClaimIssuedMicros is the private claim (iat in Unix microseconds) that
// Behalf's user-pool access tokens carried before their jti held the issue
// time. It is no longer issued; TokenIssuedAt still reads it, for tokens
// minted before (they live a day at most).
const ClaimIssuedMicros = "behalf:iat_us"

// NewTimeUUID returns a random version-7 UUID carrying t to the
// microsecond: the jti of Behalf's user-pool tokens.
func NewTimeUUID(t time.Time) string {
	var b [16]byte
	rand.Read(b[:]) // never fails (Go 1.24+ panics instead)
	us := t.UnixMicro()
	ms, sub := us/1000, us%1000
	if sub < 0 {
		ms, sub = ms-1, sub+1000
	}
	frac := sub * 4096 / 1000 // 12 bits of the millisecond
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = 0x70 | byte(frac>>8)
	b[7] = byte(frac)
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// TimeOfUUID returns the time a NewTimeUUID carries, to the microsecond;
// ok is false for anything else than a version-7 UUID.
func TimeOfUUID(id string) (time.Time, bool) {
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return time.Time{}, false
	}
	b, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil || len(b) != 16 || b[6]>>4 != 7 || b[8]>>6 != 2 {
		return time.Time{}, false
	}
	var ms int64
	for i := range 6 {
		ms = ms<<8 | int64(b[i])
	}
	frac := int64(b[6]&0x0f)<<8 | int64(b[7])
	sub := (frac*1000 + 4095) / 4096 // the microsecond frac was made from
	return time.UnixMicro(ms*1000 + sub).UTC(), true
}

// TokenIssuedAt returns when a token with claims was issued, given its
// iat: the time of its jti when that is a version-7 UUID lying in the
// second of iat, else the time of a ClaimIssuedMicros claim lying there,
// else iat itself.
func TokenIssuedAt(iat time.Time, claims map[string]any) time.Time {
	if jti, ok := claims["jti"].(string); ok {
		if t, ok := TimeOfUUID(jti); ok && t.Truncate(time.Second).Equal(iat) {
			return t
		}
	}
	f, ok := claims[ClaimIssuedMicros].(float64)
	if !ok {
		return iat
	}
	t := time.UnixMicro(int64(f)).UTC()
	if !t.Truncate(time.Second).Equal(iat) {
		return iat
	}
	return t
}
