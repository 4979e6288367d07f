package behalf

import "time"

// ClaimIssuedMicros is a private claim of the access tokens Behalf's user
// pools issue: iat in Unix microseconds. iat has whole seconds only, and a
// token must be told from a global sign-out in the same second.
const ClaimIssuedMicros = "behalf:iat_us"

// TokenIssuedAt returns when a token with claims was issued: its
// ClaimIssuedMicros claim when that lies in the second of iat (the token's
// iat claim), else iat itself.
func TokenIssuedAt(iat time.Time, claims map[string]any) time.Time {
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
