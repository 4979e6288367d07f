package behalf

import (
	"context"
	"strings"
	"time"
)

// Agent runtime statuses: AgentCore's AgentRuntimeStatus values. Behalf
// runs no containers, so a runtime it accepts is READY at once (the agent
// behind ContainerURI is already running); the other values exist for
// wire compatibility.
const (
	RuntimeCreating     = "CREATING"
	RuntimeCreateFailed = "CREATE_FAILED"
	RuntimeUpdating     = "UPDATING"
	RuntimeUpdateFailed = "UPDATE_FAILED"
	RuntimeReady        = "READY"
	RuntimeDeleting     = "DELETING"
	RuntimeDeleteFailed = "DELETE_FAILED"
)

// Server protocols of an agent runtime (AgentCore's ServerProtocol).
const (
	ProtocolHTTP = "HTTP"
	ProtocolMCP  = "MCP"
	ProtocolA2A  = "A2A"
	ProtocolAGUI = "AGUI"
)

// Custom claim value types and operators of a JWT authorizer (AgentCore's
// InboundTokenClaimValueType and ClaimMatchOperatorType).
const (
	ClaimString      = "STRING"
	ClaimStringArray = "STRING_ARRAY"

	ClaimEquals      = "EQUALS"       // STRING claim == Value
	ClaimContains    = "CONTAINS"     // STRING_ARRAY claim contains Value
	ClaimContainsAny = "CONTAINS_ANY" // STRING_ARRAY claim contains any of Values
)

// DefaultEndpoint is the name of the one endpoint every runtime has; the
// invocation qualifier that selects it.
const DefaultEndpoint = "DEFAULT"

// CallbackURLEnv is the environmentVariables key that carries a runtime's
// CallbackURL on the wire (AgentCore has no dedicated field). Behalf hands
// the value to the agent in the OAuth2CallbackUrl request header.
const CallbackURLEnv = "OAUTH2_CALLBACK_URL"

// ClaimRule is one custom-claim check of a JWT authorizer: the token's
// claim Name, of type ValueType, must match by Operator either Value
// (EQUALS, CONTAINS) or Values (CONTAINS_ANY). On the wire Value is
// claimMatchValue.matchValueString and Values matchValueStringList.
type ClaimRule struct {
	Name      string   `json:"name"`
	ValueType string   `json:"valueType"`
	Operator  string   `json:"operator"`
	Value     string   `json:"value,omitempty"`
	Values    []string `json:"values,omitempty"`
}

// JWTAuthorizer is a runtime's inbound authorizer (customJWTAuthorizer):
// callers present a bearer JWT that must verify against the keys of the
// issuer DiscoveryURL describes. Each non-empty list is one check; all
// checks must pass.
type JWTAuthorizer struct {
	DiscoveryURL    string      `json:"discoveryUrl"`
	AllowedClients  []string    `json:"allowedClients,omitempty"`  // client_id claim
	AllowedAudience []string    `json:"allowedAudience,omitempty"` // aud claim
	AllowedScopes   []string    `json:"allowedScopes,omitempty"`   // scope claim: at least one
	CustomClaims    []ClaimRule `json:"customClaims,omitempty"`
}

// AgentRuntime is an agent Behalf fronts: an already running HTTP server at
// ContainerURI, its inbound authorizer, and the workload identity Behalf
// created for it. Its ARN is
// arn:aws:bedrock-agentcore:{region}:{account}:runtime/{ID}.
type AgentRuntime struct {
	// ID is "<Name>-<10 alphanumerics>"; stable and unique.
	ID string
	// Name is unique; [a-zA-Z][a-zA-Z0-9_]{0,47}.
	Name        string
	Description string
	// ContainerURI is the http(s) base URL of the running agent
	// (agentRuntimeArtifact.containerConfiguration.containerUri). The agent
	// serves the AgentCore HTTP contract under it: POST {ContainerURI}/invocations
	// and GET {ContainerURI}/ping for the HTTP protocol.
	ContainerURI string
	// Protocol is the server protocol (ProtocolHTTP unless set); ProtocolPath
	// is protocolConfiguration.path, "" for the protocol's default.
	Protocol     string
	ProtocolPath string
	// RoleARN is the roleArn the caller gave; Behalf records it only.
	RoleARN string
	// Authorizer is nil for SigV4 (IAM) inbound auth.
	Authorizer *JWTAuthorizer
	// HeaderAllowlist names the request headers passed through to the agent
	// (requestHeaderConfiguration.requestHeaderAllowlist).
	HeaderAllowlist []string
	// Workload is the name of the workload identity Behalf created for this
	// runtime: its ID (runtimes created before Behalf named it so keep
	// their own "<Name>-<10 random characters>"); deleted with the runtime.
	Workload string
	// CallbackURL is the OAuth2 return URL to hand the agent
	// (OAuth2CallbackUrl header); "" for none. Wire: environmentVariables
	// entry CallbackURLEnv.
	CallbackURL string
	// Environment holds the other environmentVariables entries, recorded and
	// returned but not delivered anywhere (Behalf starts no process).
	Environment map[string]string
	// IdleSessionTimeout and MaxLifetime are lifecycleConfiguration, in
	// seconds; 0 means AgentCore's default (900 and 28800).
	IdleSessionTimeout int
	MaxLifetime        int
	Tags               map[string]string
	// Status is one of the Runtime* constants.
	Status string
	// Version is "1" at creation and grows by one with each update.
	Version   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AgentRuntimeARN returns the ARN of the runtime with id.
func AgentRuntimeARN(region, account, id string) string {
	return "arn:aws:bedrock-agentcore:" + region + ":" + account + ":runtime/" + id
}

// ParseAgentRuntimeARN returns the runtime id in an ARN that
// AgentRuntimeARN made, and ok=false for anything else. It does not check
// the region or account.
func ParseAgentRuntimeARN(arn string) (region, account, id string, ok bool) {
	rest, found := strings.CutPrefix(arn, "arn:aws:bedrock-agentcore:")
	if !found {
		return "", "", "", false
	}
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) != 3 {
		return "", "", "", false
	}
	id, found = strings.CutPrefix(parts[2], "runtime/")
	if !found || id == "" || strings.Contains(id, "/") {
		return "", "", "", false
	}
	return parts[0], parts[1], id, true
}

// AgentRuntimeStore persists agent runtimes.
type AgentRuntimeStore interface {
	// CreateAgentRuntime inserts r and its workload identity w (named
	// r.Workload) in one transaction. Returns ECONFLICT if r's name or id,
	// or w's name, exists.
	CreateAgentRuntime(ctx context.Context, r *AgentRuntime, w *WorkloadIdentity) error
	// GetAgentRuntime returns the runtime whose ID or Name is idOrName (ids
	// contain '-', names cannot), or ENOTFOUND.
	GetAgentRuntime(ctx context.Context, idOrName string) (*AgentRuntime, error)
	// UpdateAgentRuntime loads the runtime with id, applies fn inside one
	// transaction and stores the result; ID, Name, Workload and CreatedAt
	// cannot change. Returns ENOTFOUND, or fn's error unchanged.
	UpdateAgentRuntime(ctx context.Context, id string, fn func(*AgentRuntime) error) (*AgentRuntime, error)
	// DeleteAgentRuntime deletes the runtime with id and its workload
	// identity (if it still exists) in one transaction, returning the
	// deleted runtime. Returns ENOTFOUND.
	DeleteAgentRuntime(ctx context.Context, id string) (*AgentRuntime, error)
	// ListAgentRuntimes returns runtimes ordered by ID.
	ListAgentRuntimes(ctx context.Context, opt ListOptions) ([]*AgentRuntime, error)
}

// AgentRuntimeInput is what an admin sets on an agent runtime. On update,
// Name is ignored and every other field replaces the stored one (as
// UpdateAgentRuntime does: a nil Authorizer removes the authorizer).
type AgentRuntimeInput struct {
	Name            string
	Description     string
	ContainerURI    string
	Protocol        string
	ProtocolPath    string
	RoleARN         string
	Authorizer      *JWTAuthorizer
	HeaderAllowlist []string
	CallbackURL     string
	// Environment may also carry CallbackURLEnv; it then sets CallbackURL
	// (and must agree with CallbackURL if both are set).
	Environment        map[string]string
	IdleSessionTimeout int
	MaxLifetime        int
	Tags               map[string]string
}

// AgentRuntimeService manages agent runtimes, their versions and their
// endpoints.
type AgentRuntimeService interface {
	AgentRuntimeVersionService
	// CreateAgentRuntime creates a runtime and its workload identity.
	// Returns EINVALID or ECONFLICT.
	CreateAgentRuntime(ctx context.Context, in AgentRuntimeInput) (*AgentRuntime, error)
	// GetAgentRuntime returns a runtime by id (or name). Returns EINVALID
	// or ENOTFOUND.
	GetAgentRuntime(ctx context.Context, id string) (*AgentRuntime, error)
	// UpdateAgentRuntime replaces a runtime's configuration and bumps its
	// version. Returns EINVALID or ENOTFOUND.
	UpdateAgentRuntime(ctx context.Context, id string, in AgentRuntimeInput) (*AgentRuntime, error)
	// DeleteAgentRuntime deletes a runtime and its workload identity,
	// returning what was deleted. Returns EINVALID or ENOTFOUND.
	DeleteAgentRuntime(ctx context.Context, id string) (*AgentRuntime, error)
	// ListAgentRuntimes returns one page, by id. Returns EINVALID for a bad
	// token or size.
	ListAgentRuntimes(ctx context.Context, page PageRequest) ([]*AgentRuntime, string, error)
}

// AgentRuntimeVersionStore keeps every version of every runtime: the store
// records a runtime's configuration as version r.Version whenever
// CreateAgentRuntime inserts it or UpdateAgentRuntime changes its Version.
type AgentRuntimeVersionStore interface {
	// GetAgentRuntimeVersion returns version of the runtime with id as it
	// was configured then (Tags, Status and Workload are the runtime's
	// current ones), or ENOTFOUND.
	GetAgentRuntimeVersion(ctx context.Context, id, version string) (*AgentRuntime, error)
	// ListAgentRuntimeVersions returns the runtime's versions in numeric
	// order, those after version opt.After (a version number) first. It
	// returns an empty list for a runtime that does not exist.
	ListAgentRuntimeVersions(ctx context.Context, id string, opt ListOptions) ([]*AgentRuntime, error)
}

// AgentRuntimeEndpoint is a named endpoint of a runtime (AgentCore's
// AgentRuntimeEndpoint), serving one of its versions; InvokeAgentRuntime
// selects it by its Name as qualifier. The DEFAULT endpoint is not
// stored: every runtime has it and it serves the latest version. Its ARN
// is the runtime's ARN followed by "/runtime-endpoint/{Name}".
type AgentRuntimeEndpoint struct {
	RuntimeID string
	// Name is [a-zA-Z][a-zA-Z0-9_]{0,47}, unique per runtime; it is also
	// the endpoint's id.
	Name        string
	Description string
	// Version is the runtime version the endpoint serves (its liveVersion
	// and targetVersion: Behalf switches at once).
	Version   string
	Tags      map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AgentRuntimeEndpointStore persists runtimes' named endpoints; deleting
// a runtime deletes its endpoints.
type AgentRuntimeEndpointStore interface {
	// CreateAgentRuntimeEndpoint inserts e. Returns ENOTFOUND if its
	// runtime does not exist and ECONFLICT if the runtime has an endpoint
	// of that name.
	CreateAgentRuntimeEndpoint(ctx context.Context, e *AgentRuntimeEndpoint) error
	// GetAgentRuntimeEndpoint returns ENOTFOUND.
	GetAgentRuntimeEndpoint(ctx context.Context, runtimeID, name string) (*AgentRuntimeEndpoint, error)
	// UpdateAgentRuntimeEndpoint applies fn in one transaction and stores
	// the result; RuntimeID, Name and CreatedAt cannot change. Returns
	// ENOTFOUND, or fn's error unchanged.
	UpdateAgentRuntimeEndpoint(ctx context.Context, runtimeID, name string, fn func(*AgentRuntimeEndpoint) error) (*AgentRuntimeEndpoint, error)
	// DeleteAgentRuntimeEndpoint deletes the endpoint and returns it, or
	// ENOTFOUND.
	DeleteAgentRuntimeEndpoint(ctx context.Context, runtimeID, name string) (*AgentRuntimeEndpoint, error)
	// ListAgentRuntimeEndpoints returns the runtime's endpoints by name.
	ListAgentRuntimeEndpoints(ctx context.Context, runtimeID string, opt ListOptions) ([]*AgentRuntimeEndpoint, error)
}

// RuntimeSession is a runtime session the invocation gateway has seen: the
// session id a caller sent (or the gateway made up) on one endpoint of one
// runtime, pinned to the version the endpoint served when it started, as
// an AgentCore session keeps the microVM it started on. It ends when idle
// for the runtime's idle timeout, at its maximum lifetime, or by
// StopRuntimeSession; the next invocation with its id starts a new one.
type RuntimeSession struct {
	RuntimeID string
	Endpoint  string
	ID        string
	Version   string
	StartedAt time.Time
	// LastUsedAt is the last invocation (as flushed: the gateway writes
	// sessions behind, about once a second).
	LastUsedAt time.Time
	// ExpiresAt is when the session ends unless used again: the earlier of
	// LastUsedAt plus the idle timeout and StartedAt plus the lifetime.
	ExpiresAt time.Time
}

// RuntimeSessionStore persists runtime sessions, so that every replica
// knows them; deleting a runtime deletes its sessions.
type RuntimeSessionStore interface {
	// SaveRuntimeSessions records, in one transaction, the sessions in
	// started (inserted unless a session with their key exists) and the
	// use of those in used (LastUsedAt and ExpiresAt updated, only where a
	// session with their key and StartedAt exists: a stopped session is
	// not brought back).
	SaveRuntimeSessions(ctx context.Context, started, used []*RuntimeSession) error
	// GetRuntimeSession returns the session, expired or not, or ENOTFOUND.
	GetRuntimeSession(ctx context.Context, runtimeID, endpoint, id string) (*RuntimeSession, error)
	// DeleteRuntimeSession deletes the session and returns it. Returns
	// ENOTFOUND if there is none or it expired before now.
	DeleteRuntimeSession(ctx context.Context, runtimeID, endpoint, id string, now time.Time) (*RuntimeSession, error)
	// DeleteExpiredRuntimeSessions deletes the sessions that expired
	// before t and returns how many.
	DeleteExpiredRuntimeSessions(ctx context.Context, t time.Time) (int, error)
}

// AgentRuntimeEndpointInput is what an admin sets on a named endpoint.
// Version "" means the runtime's latest version.
type AgentRuntimeEndpointInput struct {
	RuntimeID   string
	Name        string
	Version     string
	Description *string // nil keeps the description on update
	Tags        map[string]string
}

// AgentRuntimeVersionService reads runtimes' versions and manages their
// named endpoints (the agentruntime package).
type AgentRuntimeVersionService interface {
	// GetAgentRuntimeVersion returns one version of a runtime (by id or
	// name). Returns EINVALID or ENOTFOUND.
	GetAgentRuntimeVersion(ctx context.Context, id, version string) (*AgentRuntime, error)
	// ListAgentRuntimeVersions returns one page of a runtime's versions,
	// oldest first. Returns EINVALID or ENOTFOUND.
	ListAgentRuntimeVersions(ctx context.Context, id string, page PageRequest) ([]*AgentRuntime, string, error)
	// CreateAgentRuntimeEndpoint returns EINVALID, ENOTFOUND (runtime or
	// version) or ECONFLICT.
	CreateAgentRuntimeEndpoint(ctx context.Context, in AgentRuntimeEndpointInput) (*AgentRuntimeEndpoint, error)
	// GetAgentRuntimeEndpoint returns a named endpoint or the DEFAULT one.
	// Returns EINVALID or ENOTFOUND.
	GetAgentRuntimeEndpoint(ctx context.Context, runtimeID, name string) (*AgentRuntimeEndpoint, error)
	// UpdateAgentRuntimeEndpoint points a named endpoint at a version
	// (Version "": the latest) and sets its description. DEFAULT cannot be
	// changed. Returns EINVALID or ENOTFOUND.
	UpdateAgentRuntimeEndpoint(ctx context.Context, in AgentRuntimeEndpointInput) (*AgentRuntimeEndpoint, error)
	// DeleteAgentRuntimeEndpoint deletes a named endpoint (not DEFAULT).
	// Returns EINVALID or ENOTFOUND.
	DeleteAgentRuntimeEndpoint(ctx context.Context, runtimeID, name string) (*AgentRuntimeEndpoint, error)
	// ListAgentRuntimeEndpoints returns one page of a runtime's endpoints
	// by name, DEFAULT included. Returns EINVALID or ENOTFOUND.
	ListAgentRuntimeEndpoints(ctx context.Context, runtimeID string, page PageRequest) ([]*AgentRuntimeEndpoint, string, error)
}

// DefaultRuntimeEndpoint returns the DEFAULT endpoint of r: it serves the
// latest version and carries no tags of its own.
func DefaultRuntimeEndpoint(r *AgentRuntime) *AgentRuntimeEndpoint {
	return &AgentRuntimeEndpoint{
		RuntimeID: r.ID, Name: DefaultEndpoint, Description: "The default endpoint, serving the latest version.",
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}
