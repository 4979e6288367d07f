package userpool

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP (RFC 6238) as authenticator apps and Cognito use it: HMAC-SHA1,
// 6 digits, 30-second steps, a code accepted one step early or late.
// Secrets are 20 bytes from crypto/rand (pquerna/otp's Generate), given to
// the user once as base32 (SecretCode, the otpauth:// URI) and stored
// sealed in PoolUser.SoftwareToken (verified) or PendingSoftwareToken
// (associated, not yet verified) under SealContext{"pool-user",
// pool/username, "totp-secret" or "totp-pending"}. A code is single-use:
// its step must be after the user's TOTPLastStep, which the store raises
// to it in one conditional UPDATE (UsePoolUserTOTPStep) before the code
// counts, so that of two sign-ins with the same code exactly one wins.
const (
	totpPeriod     = 30
	totpDigits     = otp.DigitsSix
	totpSkew       = 1
	totpSecretSize = 20
	totpField      = "totp-secret"
	totpPending    = "totp-pending"
)

// totpContext is where a user's TOTP secret (field totpField or
// totpPending) is sealed.
func totpContext(poolID, username, field string) behalf.SealContext {
	return behalf.SealContext{Kind: srpUserKind, Key: poolID + "/" + username, Field: field}
}

// newTOTPKey generates a secret and its otpauth:// URI, labelled with
// issuer and account.
func newTOTPKey(issuer, account string) (*otp.Key, error) {
	if issuer == "" {
		issuer = "Behalf"
	}
	return totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: account, Period: totpPeriod, SecretSize: totpSecretSize,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, Rand: rand.Reader,
	})
}

// totpStep is the TOTP step of t.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// wellFormedCode reports whether code is totpDigits ASCII digits.
func wellFormedCode(code string) bool {
	if len(code) != totpDigits.Length() {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// matchTOTP returns the step, within totpSkew of now's and after after,
// whose code (of the base32 secret) is code; ok is false if there is none.
// The comparison is pquerna/otp's, in constant time.
func matchTOTP(secret, code string, now time.Time, after int64) (step int64, ok bool) {
	if !wellFormedCode(code) {
		return 0, false
	}
	cur := totpStep(now)
	for _, d := range []int64{0, -1, 1} {
		st := cur + d
		if st <= after || st < 0 || d < -totpSkew || d > totpSkew {
			continue
		}
		match, err := hotp.ValidateCustom(code, uint64(st), secret, hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err == nil && match {
			return st, true
		}
	}
	return 0, false
}

// sealTOTP seals a user's base32 secret for field.
func (s *Service) sealTOTP(ctx context.Context, poolID, username, field, secret string) (behalf.Sealed, error) {
	sealed, err := s.Sealer.Seal(ctx, totpContext(poolID, username, field), []byte(secret))
	if err != nil {
		return nil, internal("seal TOTP secret", err)
	}
	return sealed, nil
}

// openTOTP opens a user's sealed secret of field.
func (s *Service) openTOTP(ctx context.Context, u *behalf.PoolUser, field string, sealed behalf.Sealed) (string, error) {
	b, err := s.Sealer.Open(ctx, totpContext(u.PoolID, u.Username, field), sealed)
	if err != nil {
		return "", internal("open TOTP secret", err)
	}
	return string(b), nil
}
