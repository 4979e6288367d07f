package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
)

// OAuth2 flows of GetResourceOauth2Token.
const (
	FlowUserFederation = "USER_FEDERATION" // three-legged, on behalf of the user
	FlowM2M            = "M2M"             // client credentials, as the agent itself
	FlowOnBehalfOf     = "ON_BEHALF_OF_TOKEN_EXCHANGE"
)

// Polling defaults, the Python and TypeScript SDKs' values.
const (
	DefaultPollInterval = 5 * time.Second
	DefaultPollTimeout  = 600 * time.Second
)

// DefaultRegion is the region used when the AWS configuration names none,
// as in the Python SDK.
const DefaultRegion = "us-west-2"

// LocalConfigFile is the local-development file read when an invocation
// has no workload access token.
const LocalConfigFile = ".agentcore.json"

var (
	// ErrNoWorkloadAccessToken is wrapped by errors for a missing WAT.
	ErrNoWorkloadAccessToken = errors.New("agent: no workload access token")
	// ErrAuthorizationFailed is wrapped when the identity service reports
	// the user's authorization session FAILED (the provider refused or
	// the code exchange failed).
	ErrAuthorizationFailed = errors.New("agent: the user's authorization session failed")
	// ErrAuthorizationTimeout matches the error returned when polling
	// ends before the user has consented.
	ErrAuthorizationTimeout = errors.New("agent: timed out waiting for the user's authorization")
)

// AuthRequiredError is returned by AccessToken when the user must consent
// and TokenRequest.ReturnAuthURL is set: the agent should show URL to the
// user and ask them to invoke it again once done. SessionURI identifies
// the authorization session (TokenRequest.SessionURI resumes it).
type AuthRequiredError struct {
	URL        string
	SessionURI string
}

func (e *AuthRequiredError) Error() string {
	return "agent: the user must authorize access at the authorization URL"
}

type pollTimeoutError struct{ after time.Duration }

func (e *pollTimeoutError) Error() string {
	return fmt.Sprintf("agent: polling timed out after %g seconds. User may not have completed authorization.", e.after.Seconds())
}

func (e *pollTimeoutError) Is(target error) bool { return target == ErrAuthorizationTimeout }

// TokenRequest describes the OAuth2 token an agent needs.
type TokenRequest struct {
	// Provider is the credential provider's name. Required.
	Provider string
	// Scopes are the requested scopes; nil sends [].
	Scopes []string
	// Flow is FlowUserFederation (the default), FlowM2M or FlowOnBehalfOf.
	Flow string
	// CallbackURL is the resourceOauth2ReturnUrl; for USER_FEDERATION it
	// defaults to the invocation's OAuth2CallbackUrl (CallbackURL(ctx)).
	CallbackURL string
	// ForceAuthentication starts a new consent even when the vault holds
	// a token. It is sent on the first call only, never on polls.
	ForceAuthentication bool
	// CustomState is echoed to the callback URL as "state".
	CustomState string
	// CustomParameters are added to the provider's authorization request
	// (for Google, access_type=offline yields refresh tokens).
	CustomParameters map[string]string
	// Resources and Audiences are RFC 8707 resource indicators and
	// audiences for the token.
	Resources []string
	Audiences []string

	// SessionURI continues an existing authorization session (for example
	// AuthRequiredError.SessionURI from an earlier invocation).
	SessionURI string
	// WorkloadAccessToken overrides the context's WAT.
	WorkloadAccessToken string

	// ReturnAuthURL makes AccessToken return an *AuthRequiredError at once
	// when the user must consent, instead of polling.
	ReturnAuthURL bool
	// OnAuthURL is called once with the authorization URL before polling
	// starts; an error from it is returned and stops the flow. With
	// neither it nor ReturnAuthURL, AccessToken polls without telling
	// anyone the URL, like the Python SDK without on_auth_url.
	OnAuthURL func(ctx context.Context, url string) error
	// PollInterval is the wait before each poll (default 5 s); PollTimeout
	// bounds the polling (default 600 s).
	PollInterval time.Duration
	PollTimeout  time.Duration
}

// Client calls the AgentCore Identity data plane for an agent.
type Client struct {
	// API is the official data-plane client. When nil, the package
	// default client's is used.
	API *dp.Client
	// LocalConfigPath is the local-development file read when there is no
	// WAT (default ".agentcore.json" in the working directory).
	LocalConfigPath string
}

// NewClient returns a Client using api.
func NewClient(api *dp.Client) *Client { return &Client{API: api} }

// LoadClient builds a Client from the default AWS configuration
// (environment, shared config and credentials files). The region defaults
// to us-west-2; the endpoint comes from the standard settings
// (AWS_ENDPOINT_URL_BEDROCK_AGENTCORE, AWS_ENDPOINT_URL, endpoint_url) or,
// as in the Python SDK, BEDROCK_AGENTCORE_DP_ENDPOINT.
func LoadClient(ctx context.Context, optFns ...func(*config.LoadOptions) error) (*Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, optFns...)
	if err != nil {
		return nil, fmt.Errorf("agent: loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return NewClient(dp.NewFromConfig(cfg, func(o *dp.Options) {
		if ep := os.Getenv("BEDROCK_AGENTCORE_DP_ENDPOINT"); ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})), nil
}

var defaultClient struct {
	mu sync.Mutex
	c  *Client
}

// Default returns the package default Client, built by LoadClient on
// first use (a failure is not cached).
func Default(ctx context.Context) (*Client, error) {
	defaultClient.mu.Lock()
	defer defaultClient.mu.Unlock()
	if defaultClient.c == nil {
		c, err := LoadClient(ctx)
		if err != nil {
			return nil, err
		}
		defaultClient.c = c
	}
	return defaultClient.c, nil
}

// clientFrom returns the context's Client (WithClient, App.Client) or the
// default.
func clientFrom(ctx context.Context) (*Client, error) {
	if c, _ := ctx.Value(keyClient).(*Client); c != nil {
		return c, nil
	}
	return Default(ctx)
}

func (c *Client) api(ctx context.Context) (*dp.Client, error) {
	if c != nil && c.API != nil {
		return c.API, nil
	}
	d, err := Default(ctx)
	if err != nil {
		return nil, err
	}
	return d.API, nil
}

// AccessToken returns an OAuth2 access token for req using the context's
// client (see WithClient) or the default one. See Client.AccessToken.
func AccessToken(ctx context.Context, req TokenRequest) (string, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return "", err
	}
	return c.AccessToken(ctx, req)
}

// APIKey returns the API key of an API-key credential provider using the
// context's client or the default one.
func APIKey(ctx context.Context, provider string) (string, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return "", err
	}
	return c.APIKey(ctx, provider)
}

// AccessToken calls GetResourceOauth2Token with the context's WAT (or the
// local-development one). A vaulted or freshly obtained token is returned
// at once. When the user must consent: with req.ReturnAuthURL it returns
// an *AuthRequiredError; otherwise it calls req.OnAuthURL once and polls
// the session every PollInterval until a token arrives (returned), the
// session FAILED (ErrAuthorizationFailed), PollTimeout passes
// (ErrAuthorizationTimeout) or ctx ends.
func (c *Client) AccessToken(ctx context.Context, req TokenRequest) (string, error) {
	if req.Provider == "" {
		return "", errors.New("agent: TokenRequest.Provider is required")
	}
	api, err := c.api(ctx)
	if err != nil {
		return "", err
	}
	wat, err := c.workloadAccessToken(ctx, req.WorkloadAccessToken)
	if err != nil {
		return "", err
	}
	flow := req.Flow
	if flow == "" {
		flow = FlowUserFederation
	}
	scopes := req.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	in := &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken:          aws.String(wat),
		ResourceCredentialProviderName: aws.String(req.Provider),
		Scopes:                         scopes,
		Oauth2Flow:                     types.Oauth2FlowType(flow),
	}
	callback := req.CallbackURL
	if callback == "" && flow == FlowUserFederation {
		callback = CallbackURL(ctx)
	}
	if callback != "" {
		in.ResourceOauth2ReturnUrl = aws.String(callback)
	}
	if req.ForceAuthentication {
		in.ForceAuthentication = aws.Bool(true)
	}
	if req.CustomState != "" {
		in.CustomState = aws.String(req.CustomState)
	}
	if len(req.CustomParameters) > 0 {
		in.CustomParameters = req.CustomParameters
	}
	if len(req.Resources) > 0 {
		in.Resources = req.Resources
	}
	if len(req.Audiences) > 0 {
		in.Audiences = req.Audiences
	}
	if req.SessionURI != "" {
		in.SessionUri = aws.String(req.SessionURI)
	}

	out, err := api.GetResourceOauth2Token(ctx, in)
	if err != nil {
		return "", fmt.Errorf("agent: GetResourceOauth2Token: %w", err)
	}
	if tok := aws.ToString(out.AccessToken); tok != "" {
		return tok, nil
	}
	sessionURI := aws.ToString(out.SessionUri)
	if out.SessionStatus == types.SessionStatusFailed {
		return "", fmt.Errorf("%w (session %s)", ErrAuthorizationFailed, sessionURI)
	}
	authURL := aws.ToString(out.AuthorizationUrl)
	if authURL == "" {
		return "", errors.New("agent: the identity service did not return a token or an authorization URL")
	}
	if req.ReturnAuthURL {
		return "", &AuthRequiredError{URL: authURL, SessionURI: sessionURI}
	}
	if sessionURI == "" {
		return "", errors.New("agent: the identity service returned an authorization URL without a session URI to poll")
	}
	if req.OnAuthURL != nil {
		if err := req.OnAuthURL(ctx, authURL); err != nil {
			return "", err
		}
	}

	// Poll the session: same request, with the session URI and never
	// forcing a new flow.
	in.SessionUri = aws.String(sessionURI)
	in.ForceAuthentication = aws.Bool(false)
	interval, timeout := req.PollInterval, req.PollTimeout
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	if timeout <= 0 {
		timeout = DefaultPollTimeout
	}
	deadline := time.Now().Add(timeout)
	for {
		wait := min(interval, time.Until(deadline))
		if wait <= 0 {
			return "", &pollTimeoutError{after: timeout}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("agent: waiting for the user's authorization: %w", context.Cause(ctx))
		case <-t.C:
		}
		out, err := api.GetResourceOauth2Token(ctx, in)
		if err != nil {
			if ctx.Err() != nil {
				return "", fmt.Errorf("agent: waiting for the user's authorization: %w", context.Cause(ctx))
			}
			return "", fmt.Errorf("agent: GetResourceOauth2Token (polling): %w", err)
		}
		if tok := aws.ToString(out.AccessToken); tok != "" {
			return tok, nil
		}
		if out.SessionStatus == types.SessionStatusFailed {
			return "", fmt.Errorf("%w (session %s)", ErrAuthorizationFailed, sessionURI)
		}
	}
}

// APIKey calls GetResourceApiKey with the context's WAT (or the
// local-development one).
func (c *Client) APIKey(ctx context.Context, provider string) (string, error) {
	if provider == "" {
		return "", errors.New("agent: the credential provider name is required")
	}
	api, err := c.api(ctx)
	if err != nil {
		return "", err
	}
	wat, err := c.workloadAccessToken(ctx, "")
	if err != nil {
		return "", err
	}
	out, err := api.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
		WorkloadIdentityToken: aws.String(wat), ResourceCredentialProviderName: aws.String(provider),
	})
	if err != nil {
		return "", fmt.Errorf("agent: GetResourceApiKey: %w", err)
	}
	return aws.ToString(out.ApiKey), nil
}

// CompleteResourceTokenAuth binds the authorization session sessionURI to
// user, the artifact (JWT or user id) that minted the WAT which started
// the session. See CallbackHandler.
func (c *Client) CompleteResourceTokenAuth(ctx context.Context, sessionURI string, user types.UserIdentifier) error {
	api, err := c.api(ctx)
	if err != nil {
		return err
	}
	_, err = api.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{
		SessionUri: aws.String(sessionURI), UserIdentifier: user,
	})
	if err != nil {
		return fmt.Errorf("agent: CompleteResourceTokenAuth: %w", err)
	}
	return nil
}

// LocalConfig is the content of .agentcore.json.
type LocalConfig struct {
	WorkloadIdentityName string `json:"workload_identity_name"`
	UserID               string `json:"user_id"`
}

// workloadAccessToken returns explicit, else the context's WAT, else one
// minted from the local-development file.
func (c *Client) workloadAccessToken(ctx context.Context, explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if wat := WorkloadAccessToken(ctx); wat != "" {
		return wat, nil
	}
	if os.Getenv("DOCKER_CONTAINER") == "1" {
		return "", fmt.Errorf("%w: workload access token has not been set. If invoking agent runtime via SIGV4 inbound auth, please specify the X-Amzn-Bedrock-AgentCore-Runtime-User-Id header and retry", ErrNoWorkloadAccessToken)
	}
	return c.localWorkloadAccessToken(ctx)
}

// localWorkloadAccessToken mints a WAT for the workload and user named in
// the local-development file.
func (c *Client) localWorkloadAccessToken(ctx context.Context) (string, error) {
	path := LocalConfigFile
	if c != nil && c.LocalConfigPath != "" {
		path = c.LocalConfigPath
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf(`%w: the invocation carried none (headers %s or %s) and the local-development file %s does not exist. `+
			`To run the agent outside the runtime, create a workload identity (for example "behalf workload create my-agent --return-url http://localhost:9090/callback") `+
			`and write %s containing {"workload_identity_name": "my-agent", "user_id": "local-user"}`,
			ErrNoWorkloadAccessToken, HeaderWAT, HeaderWorkloadAccessToken, abs, abs)
	}
	if err != nil {
		return "", fmt.Errorf("%w: reading %s: %v", ErrNoWorkloadAccessToken, abs, err)
	}
	var lc LocalConfig
	if err := json.Unmarshal(b, &lc); err != nil {
		return "", fmt.Errorf("%w: %s is not valid JSON: %v", ErrNoWorkloadAccessToken, abs, err)
	}
	if lc.WorkloadIdentityName == "" || lc.UserID == "" {
		return "", fmt.Errorf(`%w: %s must set both "workload_identity_name" and "user_id"`, ErrNoWorkloadAccessToken, abs)
	}
	api, err := c.api(ctx)
	if err != nil {
		return "", err
	}
	out, err := api.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{
		WorkloadName: aws.String(lc.WorkloadIdentityName), UserId: aws.String(lc.UserID),
	})
	if err != nil {
		return "", fmt.Errorf("agent: minting a local-development workload access token (GetWorkloadAccessTokenForUserId for %q from %s): %w", lc.WorkloadIdentityName, abs, err)
	}
	return aws.ToString(out.WorkloadAccessToken), nil
}
