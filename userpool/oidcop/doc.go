// Package oidcop is the hosted login of Behalf's user pools: an OpenID
// provider per pool, served under the pool's issuer {public-url}/{pool-id}.
//
//	GET  /{pool}/.well-known/openid-configuration   discovery (also RFC 8414 forms, and
//	                                                {pool}/.well-known/oauth-authorization-server)
//	POST /{pool}/oauth2/register                    RFC 7591: public clients register (register.go)
//	                                                an https client_id is a client ID metadata document (document.go)
//	GET  /{pool}/.well-known/jwks.json              the pool's keys (UserPoolService.JWKS)
//	GET  /{pool}/oauth2/authorize                   code flow; PKCE S256 (required for public clients)
//	                       │ no session cookie
//	                       ▼
//	GET  /{pool}/login?request=ID  ──POST──▶ password (AuthenticatePassword)
//	                       │                  ├─ temporary password ─▶ new password (AdminSetUserPassword)
//	                       │                  └─ MFA (LoginMFA) ─303─▶ GET login: TOTP code (CheckLoginCode),
//	                       │                       or under MFA ON a new token (BeginLoginTOTPSetup,
//	                       │                       CompleteLoginTOTPSetup)
//	                       │  view=signup|confirm|forgot|reset: sign-up and password reset (signup.go)
//	                       ▼
//	302  redirect_uri?code=…&state=…  + session cookie
//	POST /{pool}/oauth2/token                       authorization_code, refresh_token, client_credentials;
//	                                                RFC 8707 resource → the access token's aud
//	GET  /{pool}/oauth2/userInfo                    claims of a VerifyAccessToken'd access token
//	POST /{pool}/oauth2/revoke                      UserPoolService.RevokeToken
//	GET  /{pool}/logout                             client_id + logout_uri: clears the session, redirects
//
// A pool's domains (CreateUserPoolDomain) serve the same routes at the
// root of their hosts when the service is a HostResolver: a request whose
// Host is a served domain of a pool (case-insensitive, with the public
// URL's port) is that pool's alone, and its discovery document, login
// redirect, logout and cookie paths name the domain, built from the
// operator's configuration, never the Host header's text. Any other Host
// is served as above, and the issuer (and so tokens' iss) never changes.
// OpenID Connect Discovery asks relying parties to fetch the document from
// the issuer, so strict ones use {public-url}/{pool-id}; the domain's
// document, which names the issuer, serves clients that are configured
// with the domain's URLs (as Cognito's are with its domain's).
//
// Protocol parsing, validation and responses are zitadel/oidc's op package:
// the Provider implements op.Server (and op.MetadataServer) and lets op route,
// decode, authenticate clients' transport, validate redirect URIs, scopes and
// PKCE methods, and encode errors and redirects. It does not use op.Storage,
// because op then signs ID tokens itself with a key it is handed; here every
// token is minted by UserPoolService.IssueTokens (or its refresh flow), so the
// tokens are those an API sign-in gets, signed by the pool's key, which never
// leaves package signer.
//
// State is in the database, so any replica can finish a login: an
// authorization request is a behalf.PoolAuthRequest whose Data (sealed
// under SealContext{"pool-auth-request", id, "data"}) holds the request;
// its code is stored by SHA-256 hash, lives five minutes and is redeemed
// once, by a compare-and-swap on the sealed data. A replayed code revokes
// the refresh token (and so the access tokens) it was exchanged for.
// Since an anonymous GET stores one, each is bounded (limits.go): its
// parameters are capped (8 KiB in all), and before it is stored the
// unexpired requests of its client address and of all are counted against
// WithPendingLimits.
//
// Browser state is in two cookies, both sealed with the Sealer (AES-256-GCM
// under a data key every replica shares; authenticated, so they cannot be
// forged or moved between pools): the session cookie (user, sub, auth time,
// expiry; HttpOnly, SameSite=Lax, Secure on https, path of the pool's
// issuer, one hour by default) and a login CSRF cookie (SameSite=Strict)
// whose value the login form must carry, sealed to the auth request.
package oidcop
