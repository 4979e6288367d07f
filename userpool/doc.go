// Package userpool is Behalf's Cognito-compatible user pool: Service
// implements behalf.UserPoolService over a behalf.UserPoolStore, a
// behalf.SigningKeyStore and a behalf.Sealer. It knows nothing of wire
// formats; package api maps its domain calls to cognito-idp JSON and its
// *behalf.CognitoError values to Cognito exceptions.
//
// Identifiers have Cognito's shapes: pool ids {region}_{9 alphanumerics},
// client ids of 26 and client secrets of 51 lower-case alphanumerics, subs
// random UUIDs. Client secrets are sealed under
// SealContext{"app-client", poolID/clientID, "secret"}.
//
// Passwords are hashed with argon2id (golang.org/x/crypto/argon2) at
// OWASP's m=19 MiB, t=2, p=1, 16-byte salt, 32-byte key, stored as PHC
// strings ($argon2id$v=19$m=19456,t=2,p=1$salt$key) and compared in
// constant time. A semaphore bounds concurrent hashes; unknown users cost
// one dummy hash and get the same answer as wrong passwords. Lockout
// follows Cognito: after 5 consecutive failures a user is locked for
// 2^(n-5) seconds, at most 15 minutes; names that do not exist are locked
// out the same way, so lockout reveals nothing either. The state of every
// name is a store record under a hash of the name (lockout.go), so it
// survives restarts and replicas share it, and a failure costs the same
// store write whether or not the name is a user's.
//
// Tokens are RS256 JWTs signed by package signer with one key pair per pool
// (signer use = pool id); Cognito uses two, one for access and one for ID
// tokens, which no verifier relies on. The issuer is PublicURL/poolID.
// Access tokens carry client_id and no aud; ID tokens carry aud and the
// user's attributes. Refresh tokens are 256 random bits, stored by their
// SHA-256, not rotated on refresh unless the app client's
// RefreshTokenRotation is on (refresh_rotation.go). A refresh token's
// store key is the origin_jti of every token of its sign-in, so revoking
// it (RevokeToken) also makes VerifyAccessToken, GetUser and the other
// token-authorized calls refuse the access tokens minted from it. Global
// sign-out revokes a user's refresh tokens and sets TokensValidAfter;
// access tokens are compared with it to the microsecond (the row of their
// refresh-token family, or the time their jti carries: a version-7 UUID of
// the issue time, since iat has whole seconds and Cognito's tokens no
// finer claim), so a sign-in right after a sign-out is not refused.
//
// Challenge sessions (NEW_PASSWORD_REQUIRED) are stateless sealed blobs,
// bound to the client, valid 3 minutes, and usable once because they name
// the temporary password hash they were issued against.
//
//	InitiateAuth → client → flow allowed → SECRET_HASH → lockout → argon2id → status → tokens | challenge
//	USER_SRP_AUTH → client → flow allowed → SECRET_HASH → SRP_A → lockout → verifier (or simulated) → PASSWORD_VERIFIER (srp.go)
//	PASSWORD_VERIFIER → client → SECRET_HASH → sealed block → lockout → nonce spent ∥ S, key → signature → status → tokens | challenge
//	REFRESH_TOKEN_AUTH → client → flow allowed → token row → SECRET_HASH → revoked/expired/disabled → tokens
//	GetTokensFromRefreshToken → client → client secret → token row → family → rotation (refresh_rotation.go) → tokens
//	RefreshTokens (OAuth refresh_token grant, client already authenticated) → the same, without SECRET_HASH
//	IssueTokens with Username "" (client_credentials) → client allows the flow → scopes → access token (sub = client id)
package userpool
