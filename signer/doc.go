// Package signer holds Behalf's own token-signing keys: it creates them,
// keeps their private halves sealed in a behalf.SigningKeyStore, signs
// tokens with the active key of one use ("wat" for workload access tokens;
// later one use per user pool), verifies tokens against every published key
// of that use, and publishes the public keys as a JSON Web Key Set.
//
// Keys are generated with the standard library and serialized as PKCS #8
// before sealing; all JWT and JWS work is done by
// github.com/lestrrat-go/jwx/v3. A key's kid is its RFC 7638 SHA-256
// thumbprint. Private keys never leave the package.
//
// Keys are separated per use: a Signer only knows the keys of its own use,
// so a token signed for one use never verifies under another, whatever its
// header or claims say. Tokens carry the header typ "JWT".
//
// Rotation ("behalf keys rotate --signing", RotateAndRetire) adds a new
// active key and sets the older keys' RetireAt to when the last token they
// signed expires (RetireGrace): until then they verify and are published;
// after it they are neither. A Signer rereads the store when Verify meets
// an unknown kid (at most once per ReloadInterval) and, in the background,
// when Sign, Verify or PublicJWKS find its keys older than RefreshInterval, so every
// process signs with the new key within about a minute of a rotation made
// elsewhere.
//
// Several processes may share one store. Processes that start together on
// a store with no key of their use (replicas on a new database) race to
// create it: the store keeps the first (CreateFirstSigningKey stores
// nothing when an active key of the use and algorithm exists, and the store
// allows one active key per use), and every Signer rereads the store after
// its attempt and signs with the stored key, so all of them sign with one
// kid from their first token on.
package signer
