package behalf

import (
	"context"
	"time"
)

// OAuth 2.0 flows of GetResourceOauth2Token.
const (
	FlowUserFederation = "USER_FEDERATION"
	FlowM2M            = "M2M"
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

// ConsentService serves the browser's leg of the flow.
type ConsentService interface {
	// Authorize consumes a session's authorization URL (single use) and
	// returns the provider's authorization URL to redirect to.
	Authorize(ctx context.Context, requestURI string) (string, error)
	// Callback handles the provider's redirect and returns where to send the
	// browser next (the app's return URL with session_id).
	Callback(ctx context.Context, providerID string, query map[string][]string) (string, error)
}

// RetryAfterError is implemented by errors that tell the caller when to retry.
type RetryAfterError interface {
	RetryAfter() time.Duration
}
