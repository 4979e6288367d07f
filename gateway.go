package behalf

import (
	"context"
	"time"
)

// Gateway and gateway-target statuses (AgentCore's GatewayStatus and
// TargetStatus). Behalf accepts a gateway or target READY at once: it has
// nothing to provision.
const (
	GatewayReady    = "READY"
	GatewayDeleting = "DELETING"
	GatewayFailed   = "FAILED"

	// An MCP-server target's listing failed at create, update or
	// synchronize (StatusReasons say why).
	TargetUpdateUnsuccessful      = "UPDATE_UNSUCCESSFUL"
	TargetSynchronizeUnsuccessful = "SYNCHRONIZE_UNSUCCESSFUL"
	// An MCP-server target whose listing needs a user's OAuth consent
	// waits in these until an admin consents at its AuthorizationURL and
	// synchronizes it.
	TargetCreatePendingAuth      = "CREATE_PENDING_AUTH"
	TargetUpdatePendingAuth      = "UPDATE_PENDING_AUTH"
	TargetSynchronizePendingAuth = "SYNCHRONIZE_PENDING_AUTH"
)

// Gateway authorizer types (AgentCore's AuthorizerType) that Behalf serves.
const (
	GatewayAuthorizerJWT  = "CUSTOM_JWT"
	GatewayAuthorizerNone = "NONE"
)

// Gateway target kinds (AgentCore's TargetType) that Behalf serves.
const (
	TargetOpenAPI   = "OPEN_API_SCHEMA"
	TargetMCPServer = "MCP_SERVER"
)

// Outbound credential types of a gateway target (CredentialProviderType),
// API-key locations and OAuth grant types.
const (
	CredentialAPIKey = "API_KEY"
	CredentialOAuth  = "OAUTH"

	APIKeyInHeader = "HEADER"
	APIKeyInQuery  = "QUERY_PARAMETER"

	GrantClientCredentials = "CLIENT_CREDENTIALS"
	GrantAuthorizationCode = "AUTHORIZATION_CODE"
)

// Gateway is an MCP endpoint in front of targets (AgentCore Gateway): MCP
// clients reach it at {public-url}/gateways/{ID}/mcp, authorized by its
// JWT authorizer (nil for NONE), and its tools call the targets with
// outbound credentials obtained through the workload identity Workload.
type Gateway struct {
	// ID is "<lower-cased name>-<10 lower-case alphanumerics>".
	ID string
	// Name is unique; ([0-9a-zA-Z][-]?){1,100}.
	Name        string
	Description string
	// RoleARN is recorded only.
	RoleARN string
	// ProtocolType is "MCP".
	ProtocolType string
	// AuthorizerType is GatewayAuthorizerJWT (Authorizer set) or
	// GatewayAuthorizerNone.
	AuthorizerType string
	Authorizer     *JWTAuthorizer
	// Instructions are sent to MCP clients at initialize.
	Instructions string
	// ExceptionLevel is "" or "DEBUG".
	ExceptionLevel string
	// Workload is the gateway's workload identity, named ID; created and
	// deleted with the gateway.
	Workload  string
	Tags      map[string]string
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GatewayCredential is one of a target's credentialProviderConfigurations.
type GatewayCredential struct {
	// Type is CredentialAPIKey or CredentialOAuth.
	Type string `json:"type"`
	// Provider is the credential provider's name (from its ARN).
	Provider string `json:"provider"`
	// API_KEY: where the key goes, under which name, after which prefix.
	Location      string `json:"location,omitempty"`
	ParameterName string `json:"parameterName,omitempty"`
	Prefix        string `json:"prefix,omitempty"`
	// OAUTH: scopes, grant type, the 3LO return URL and extra parameters.
	Scopes           []string          `json:"scopes,omitempty"`
	GrantType        string            `json:"grantType,omitempty"`
	DefaultReturnURL string            `json:"defaultReturnUrl,omitempty"`
	CustomParameters map[string]string `json:"customParameters,omitempty"`
}

// GatewayTarget is a gateway's tool source: an OpenAPI document whose
// operations become tools, or a remote MCP server.
type GatewayTarget struct {
	GatewayID string
	// ID is 10 upper-case alphanumerics, unique within the gateway.
	ID string
	// Name is unique within the gateway; tools are "{Name}___{tool}".
	Name        string
	Description string
	// Kind is TargetOpenAPI or TargetMCPServer.
	Kind string
	// OpenAPI is the inline OpenAPI document (JSON or YAML) of TargetOpenAPI.
	OpenAPI string
	// Endpoint is the MCP server's URL of TargetMCPServer.
	Endpoint    string
	Credentials []GatewayCredential
	Status      string
	// StatusReasons say why a target is not READY.
	StatusReasons []string
	// AuthUserID is the user id an MCP-server target with an
	// AUTHORIZATION_CODE credential lists its tools as (AgentCore's
	// authorizationData.oauth2.userId): "{gatewayId}{targetId}{uuid}".
	AuthUserID string
	// AuthorizationURL is where an admin consents for AuthUserID while
	// the target is *_PENDING_AUTH ("" otherwise).
	AuthorizationURL string
	// SyncedAt is when the target's tools were last listed (zero: never).
	SyncedAt  time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GatewayARN returns the ARN of the gateway with id.
func GatewayARN(region, account, id string) string {
	return "arn:aws:bedrock-agentcore:" + region + ":" + account + ":gateway/" + id
}

// GatewayPath is the path of a gateway's MCP endpoint.
func GatewayPath(id string) string { return "/gateways/" + id + "/mcp" }

// GatewayStore persists gateways and their targets.
type GatewayStore interface {
	// CreateGateway inserts g and its workload identity w (named
	// g.Workload) in one transaction. ECONFLICT if g's name or id, or w's
	// name, exists.
	CreateGateway(ctx context.Context, g *Gateway, w *WorkloadIdentity) error
	// GetGateway returns the gateway whose ID or Name is idOrName, or
	// ENOTFOUND.
	GetGateway(ctx context.Context, idOrName string) (*Gateway, error)
	// UpdateGateway applies fn to the gateway with id in one transaction;
	// ID, Name, Workload and CreatedAt cannot change. ENOTFOUND, or fn's
	// error unchanged.
	UpdateGateway(ctx context.Context, id string, fn func(*Gateway) error) (*Gateway, error)
	// DeleteGateway deletes the gateway with id and its workload identity,
	// returning it. ENOTFOUND; ECONFLICT while it has targets.
	DeleteGateway(ctx context.Context, id string) (*Gateway, error)
	// ListGateways returns gateways ordered by ID.
	ListGateways(ctx context.Context, opt ListOptions) ([]*Gateway, error)

	// CreateGatewayTarget inserts t. ENOTFOUND if its gateway does not
	// exist; ECONFLICT if its id or its name exists in the gateway.
	CreateGatewayTarget(ctx context.Context, t *GatewayTarget) error
	// GetGatewayTarget returns a target of a gateway, or ENOTFOUND.
	GetGatewayTarget(ctx context.Context, gatewayID, id string) (*GatewayTarget, error)
	// UpdateGatewayTarget applies fn in one transaction; GatewayID, ID and
	// CreatedAt cannot change. ENOTFOUND, ECONFLICT for a name taken, or
	// fn's error unchanged.
	UpdateGatewayTarget(ctx context.Context, gatewayID, id string, fn func(*GatewayTarget) error) (*GatewayTarget, error)
	// DeleteGatewayTarget deletes a target, returning it, or ENOTFOUND.
	DeleteGatewayTarget(ctx context.Context, gatewayID, id string) (*GatewayTarget, error)
	// ListGatewayTargets returns a gateway's targets ordered by ID.
	ListGatewayTargets(ctx context.Context, gatewayID string, opt ListOptions) ([]*GatewayTarget, error)
}

// GatewayInput is what an admin sets on a gateway. On update Name must be
// the gateway's own, and every other field replaces the stored one.
type GatewayInput struct {
	Name           string
	Description    string
	RoleARN        string
	ProtocolType   string
	AuthorizerType string
	Authorizer     *JWTAuthorizer
	Instructions   string
	ExceptionLevel string
	Tags           map[string]string
}

// GatewayTargetInput is what an admin sets on a gateway target; on update
// every field replaces the stored one (Name "" keeps it).
type GatewayTargetInput struct {
	Name        string
	Description string
	Kind        string
	OpenAPI     string
	Endpoint    string
	Credentials []GatewayCredential
}

// GatewayService manages gateways and their targets.
type GatewayService interface {
	// CreateGateway creates a gateway and its workload identity.
	// EINVALID or ECONFLICT.
	CreateGateway(ctx context.Context, in GatewayInput) (*Gateway, error)
	// GetGateway returns a gateway by id (or name). EINVALID or ENOTFOUND.
	GetGateway(ctx context.Context, id string) (*Gateway, error)
	// UpdateGateway replaces a gateway's configuration. EINVALID or
	// ENOTFOUND.
	UpdateGateway(ctx context.Context, id string, in GatewayInput) (*Gateway, error)
	// DeleteGateway deletes a gateway without targets and its workload
	// identity. EINVALID, ENOTFOUND or ECONFLICT.
	DeleteGateway(ctx context.Context, id string) (*Gateway, error)
	// ListGateways returns one page, by id.
	ListGateways(ctx context.Context, page PageRequest) ([]*Gateway, string, error)

	// CreateGatewayTarget adds a target. EINVALID, ENOTFOUND, ECONFLICT.
	CreateGatewayTarget(ctx context.Context, gatewayID string, in GatewayTargetInput) (*GatewayTarget, error)
	// GetGatewayTarget returns a target. EINVALID or ENOTFOUND.
	GetGatewayTarget(ctx context.Context, gatewayID, id string) (*GatewayTarget, error)
	// UpdateGatewayTarget replaces a target's configuration.
	UpdateGatewayTarget(ctx context.Context, gatewayID, id string, in GatewayTargetInput) (*GatewayTarget, error)
	// DeleteGatewayTarget deletes a target.
	DeleteGatewayTarget(ctx context.Context, gatewayID, id string) (*GatewayTarget, error)
	// ListGatewayTargets returns one page of a gateway's targets, by id.
	ListGatewayTargets(ctx context.Context, gatewayID string, page PageRequest) ([]*GatewayTarget, string, error)
	// SynchronizeGatewayTargets lists MCP-server targets' tools again.
	// EINVALID, ENOTFOUND, ECONFLICT.
	SynchronizeGatewayTargets(ctx context.Context, gatewayID string, ids []string) ([]*GatewayTarget, error)
}
