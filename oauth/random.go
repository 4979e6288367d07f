package oauth

import (
	"crypto/rand"
	"encoding/base64"

	"golang.org/x/oauth2"
)

// NewVerifier returns a new PKCE code verifier: 256 random bits,
// base64url-encoded (43 characters), from oauth2.GenerateVerifier.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// NewState returns a new state parameter: 256 random bits, base64url.
func NewState() string { return random256() }

// NewNonce returns a new OpenID Connect nonce: 256 random bits, base64url.
func NewNonce() string { return random256() }

// random256 returns 32 bytes from crypto/rand, base64url-encoded without
// padding.
func random256() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (Go 1.24+ crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}
