// Package sandbox is a local stand-in for Google, for demos and for
// continuous integration: Google's OAuth 2.0 endpoints and the Drive v3
// files.list API over seeded files. It is a sandbox. It has no real
// accounts, no passwords and no real data, its ID tokens are unsigned, and
// with Options.Open it accepts any client; never put it where real users
// could mistake it for Google.
//
// Endpoints, at Google's paths:
//
//	GET  /.well-known/openid-configuration  OpenID discovery (for Behalf's CustomOauth2 providers)
//	GET  /o/oauth2/v2/auth                  authorization endpoint: checks the request and shows the consent page
//	POST /o/oauth2/v2/consent               the consent page's form (Allow or Deny)
//	POST /token                             token endpoint: authorization_code (PKCE S256), refresh_token, client_credentials
//	POST /revoke                            RFC 7009 revocation (revokes the whole grant, as Google does)
//	GET  /v1/userinfo                       OpenID userinfo (scope openid, email or profile)
//	GET  /drive/v3/files                    Drive v3 files.list over the user's seeded files (a drive scope)
//	POST /sandbox/clients                   sandbox admin: register an OAuth client (JSON)
//	GET  /sandbox/clients                   sandbox admin: list clients (never their secrets)
//
// The consent page is plain HTML without JavaScript: it names the client
// and the requested scopes, lets the person pick the sandbox user to act as
// (any email address; login_hint or DefaultUser by default) and has Allow
// and Deny buttons. Its form carries a CSRF token that must match a cookie
// set with the page, so a script must keep cookies (net/http's cookiejar
// is enough); see Consent for a headless person.
//
// The sandbox follows Google where Google differs from the bare RFCs: a
// refresh token is issued only for access_type=offline, and on a repeat
// consent only with prompt=consent; refreshing returns no new refresh
// token unless Options.RotateRefreshTokens is set (then the old one is
// refused at once, or after Options.RotationGrace, as providers with a
// reuse grace period do); revoking any token
// revokes the grant with its refresh and access tokens. ID tokens (for the
// openid scope) are unsigned JWTs ("alg":"none"): fine for reading claims,
// useless for signature checks, and the discovery document says so.
//
// Test hooks (Deny, FailRefreshWith, ExpireAccessTokens, Counts, ...) let
// CI exercise an agent's error paths. All methods are safe for concurrent
// use.
package sandbox
