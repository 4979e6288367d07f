package userpool

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Alphabets of generated identifiers.
const (
	alnumChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// Shapes of Cognito identifiers.
const (
	poolSuffixLen   = 9  // us-east-1_AbC123xyz
	clientIDLen     = 26 // lower-case alphanumerics
	clientSecretLen = 51 // lower-case alphanumerics, about 263 bits
	refreshTokenLen = 32 // random bytes of an opaque refresh token
)

// randomString returns n characters drawn uniformly from chars (at most
// 256 of them) with crypto/rand, rejecting bytes that would bias the draw.
func randomString(n int, chars string) string {
	limit := 256 - 256%len(chars)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		rand.Read(buf) // never fails (Go 1.24+ panics instead)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, chars[int(b)%len(chars)])
			}
		}
	}
	return string(out)
}

// newPoolID returns {region}_{9 alphanumerics}.
func newPoolID(region string) string {
	return region + "_" + randomString(poolSuffixLen, alnumChars)
}

// newClientID returns 26 lower-case alphanumerics.
func newClientID() string { return randomString(clientIDLen, lowerAlnum) }

// newClientSecret returns 51 lower-case alphanumerics.
func newClientSecret() string { return randomString(clientSecretLen, lowerAlnum) }

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newRefreshToken returns an opaque refresh token of 256 random bits.
func newRefreshToken() string {
	b := make([]byte, refreshTokenLen)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash returns the hex SHA-256 of a token: the key it is stored by.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
