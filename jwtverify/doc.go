// Package jwtverify verifies JWTs issued by trusted external OpenID
// providers (user tokens from Cognito, Entra ID, Okta, Google and the like).
//
// Verification never trusts a claim before the signature verifies. The
// token is first parsed without verification only to read the protected
// header's alg and kid and the payload's iss; iss picks the issuer (which
// must be trusted, exactly as written), the issuer's JWKS and kid pick the
// key, and then github.com/lestrrat-go/jwx/v3 verifies the signature and
// validates the time claims.
//
// Algorithms: the header's alg must be one of RS256, RS384, RS512, PS256,
// ES256, ES384 or EdDSA (never none, never HMAC), and must fit the key:
// when the JWK names an alg it must be exactly the header's; otherwise the
// key type decides (RSA keys for RS* and PS*, EC P-256 for ES256, EC P-384
// for ES384, OKP Ed25519 for EdDSA). Many providers (Entra ID among them)
// publish keys without alg, so requiring it would lock them out. The
// signature is then verified under that one algorithm with that one key.
//
// Key sets are fetched with the caller's SSRF-guarded client
// (internal/safehttp) and cached in memory per JWKS URI: fetched on first
// use, refreshed after an hour, and refetched when a token names an
// unknown kid, but never more often than once per RefetchCooldown per URI
// (any fetch, successful or not, starts the cooldown). Concurrent verifies
// that need a fetch share one.
package jwtverify
