package behalf

import (
	"context"
	"time"
)

// OAuth 2.0 flows of GetResourceOauth2Token.
const (
	FlowUserFederation = "USER_FEDERATION"
	FlowM2M            = "M2M"
	// FlowOnBehalfOf exchanges the user's JWT behind the workload access
	// token at the provider (its OnBehalfOfConfig).
	FlowOnBehalfOf = "ON_BEHALF_OF_TOKEN_EXCHANGE"
)

// SessionURIPrefix begins every authorization session URI.
const SessionURIPrefix = "urn:ietf:params:oauth:request_uri:"

// TokenRequest is an agent's GetResourceOauth2Token call.
type TokenRequest struct {
	WorkloadToken       Secret
	Provider            string
	Scopes              []string
	Flow                string
	SessionURI          string
	ReturnURL           string
	ForceAuthentication bool
	CustomState         Secret
	CustomParameters    map[string]string
	Resources           []string
	Audiences           []string
}

// TokenResult is either a token or an authorization session to follow.
type TokenResult struct {
	AccessToken      Secret
	AuthorizationURL string
	SessionURI       string
	SessionStatus    string // "IN_PROGRESS" or "FAILED" when AccessToken is empty
	// ProviderError, when set, is why the user must authorize again (the
	// provider refused the stored grant's refresh) or why the session
	// FAILED (the provider refused the authorization or its code): the
	// provider's own words, never a secret of the request.
	ProviderError *ProviderRefusal
}

// ProviderRefusal is a credential provider's refusal of a request, in
// words safe to show: its OAuth error code and error_description, with
// anything that echoed the request's secrets (client secret, code,
// refresh token, assertion) removed and their length capped.
type ProviderRefusal struct {
	Code        string // "invalid_grant", "invalid_client", ...
	Description string // may be empty
}

// UserIdentifier names the user completing a session: a JWT or a user id.
type UserIdentifier struct {
	UserToken Secret
	UserID    string
}

// DataPlaneService is what agents and their apps call: workload access
// tokens, users' tokens from the vault, API keys, and session binding.
type DataPlaneService interface {
	// WorkloadAccessToken mints a WAT for the workload itself (no user).
	WorkloadAccessToken(ctx context.Context, workload string) (Secret, error)
	// WorkloadAccessTokenForJWT mints a WAT for the user a trusted JWT names.
	WorkloadAccessTokenForJWT(ctx context.Context, workload string, userToken Secret) (Secret, error)
	// WorkloadAccessTokenForUserID mints a WAT for a caller-asserted user id.
	WorkloadAccessTokenForUserID(ctx context.Context, workload, userID string) (Secret, error)
	// ResourceOAuth2Token returns a user's token or an authorization session.
	ResourceOAuth2Token(ctx context.Context, r TokenRequest) (*TokenResult, error)
	// ResourceAPIKey returns an API-key provider's key.
	ResourceAPIKey(ctx context.Context, workloadToken Secret, provider string) (Secret, error)
	// CompleteResourceTokenAuth binds a session's token to the vault if the
	// user matches the user who started it. Returns EFORBIDDEN otherwise.
	CompleteResourceTokenAuth(ctx context.Context, sessionURI string, user UserIdentifier) error
}

// WATClaims is what a verified workload access token says.
type WATClaims struct {
	// Workload is the workload identity's name.
	Workload string
	// User is the user the token acts for; zero in a token for the
	// workload itself.
	User User
	// SubjectRef is the key of the user's JWT the token was minted from,
	// kept for on-behalf-of exchange (SubjectTokenStore); "" when it was not
	// minted from one.
	SubjectRef string
}

// WATService mints and verifies workload access tokens (WATs): what an
// agent presents to the data plane to act for its workload and a user.
type WATService interface {
	// WorkloadAccessToken mints a WAT for the workload itself (no user).
	WorkloadAccessToken(ctx context.Context, workload string) (Secret, error)
	// WorkloadAccessTokenForJWT mints a WAT for the user a trusted JWT names.
	WorkloadAccessTokenForJWT(ctx context.Context, workload string, userToken Secret) (Secret, error)
	// WorkloadAccessTokenForUserID mints a WAT for a caller-asserted user id.
	WorkloadAccessTokenForUserID(ctx context.Context, workload, userID string) (Secret, error)
	// VerifyWAT checks a WAT's signature, issuer, audience and expiry;
	// that the caller in ctx may act for its workload; that the workload
	// is the one it was minted for (not a later one of the same name); and
	// that its user, if a user pool's, has not since been disabled,
	// deleted or signed out. It returns what the token says, or EINVALID,
	// EUNAUTHORIZED, EFORBIDDEN or ENOTFOUND.
	VerifyWAT(ctx context.Context, token Secret) (WATClaims, error)
}

// ConsentService serves the browser's leg of the flow.
type ConsentService interface {
	// AuthorizeTarget describes the session behind an authorization URL's
	// request_uri without spending it: EINVALID for an unknown, spent or
	// expired one.
	AuthorizeTarget(ctx context.Context, requestURI string) (*AuthorizeTarget, error)
	// Authorize spends the authorization URL (single use) for a browser
	// signed in as user (zero when the target asks for no sign-in) and
	// returns where to send it. A signed-in user who did not start the flow
	// fails the session and gets ErrBindWrongUser; nothing reaches the
	// provider.
	Authorize(ctx context.Context, requestURI string, user User) (*Authorization, error)
	// Callback handles the provider's redirect and returns where to send the
	// browser next (the app's return URL with session_id). browserKeys are
	// the Authorization keys the browser holds: the code is exchanged only
	// for the browser that opened the authorization URL; any other fails
	// the session.
	Callback(ctx context.Context, providerID string, query map[string][]string, browserKeys []Secret) (string, error)
}

// AuthorizeTarget is what the authorization endpoint knows of a session
// before the browser is sent on.
type AuthorizeTarget struct {
	Workload string
	// SignIn, when set, is the identity provider the browser must be signed
	// in with, as the user who started the flow, before it may consent: the
	// workload's inbound identity provider.
	SignIn *SignInProvider
}

// SignInProvider is an OpenID provider and client a browser signs in with.
type SignInProvider struct {
	Issuer       string
	ClientID     string
	ClientSecret Secret
}

// Authorization is a spent authorization URL.
type Authorization struct {
	// RedirectURL is the provider's authorization URL.
	RedirectURL string
	// BrowserKey goes, sealed in a cookie, to the browser sent to the
	// provider; only that browser's callback and binding page are accepted.
	BrowserKey Secret
}

// RetryAfterError is implemented by errors that tell the caller when to retry.
type RetryAfterError interface {
	RetryAfter() time.Duration
}
