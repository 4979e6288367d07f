package gateway

import (
	"context"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/agentruntime"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/internal/safehttp"
)

// Providers reads the credential providers targets refer to.
type Providers interface {
	GetOAuth2Provider(ctx context.Context, name string) (*behalf.OAuth2Provider, error)
	GetAPIKeyProvider(ctx context.Context, name string) (*behalf.APIKeyProvider, error)
}

// Service implements behalf.GatewayService.
type Service struct {
	Store     behalf.GatewayStore
	Providers Providers
	// AllowPrivate permits http and loopback/private hosts in discovery
	// URLs, OpenAPI servers and MCP server endpoints
	// (serve --allow-private-endpoints).
	AllowPrivate bool
	// Resolver, when set, looks up the hosts of http URLs allowed by
	// AllowPrivate.
	Resolver *net.Resolver
	// BindURL is Behalf's binding page ({public-url}/identities/oauth2/bind):
	// a new gateway's workload may return there, and an AUTHORIZATION_CODE
	// target without defaultReturnUrl sends its users' consents there, so
	// that only the user's own signed-in browser can complete them.
	BindURL string
	// Region and Account, when set, must be those of provider ARNs.
	Region, Account string
	// Syncer, when set, lists MCP-server targets' tools at create, update
	// and SynchronizeGatewayTargets (the gateway's MCP Handler); without
	// it such targets are READY unlisted.
	Syncer Syncer
	// Changed, when set, is told the id of a gateway whose configuration
	// or targets this service just changed (the MCP Handler's Forget), so
	// that this replica serves the change at once.
	Changed func(gatewayID string)
	// Now replaces the clock (tests).
	Now func() time.Time
}

// Syncer lists an MCP-server target's tools.
type Syncer interface {
	// SyncTarget lists t's tools with its outbound credential (as the
	// user t.AuthUserID for an AUTHORIZATION_CODE one) and caches them for
	// t's version. It returns the URL where an admin must consent for
	// t.AuthUserID when the listing needs it, or why the listing failed.
	SyncTarget(ctx context.Context, g *behalf.Gateway, t *behalf.GatewayTarget) (authorizationURL string, err error)
}

var _ behalf.GatewayService = (*Service)(nil)

// listMax is the largest (and default) page of ListGateways and
// ListGatewayTargets.
const listMax = 1000

// Limits (AgentCore's where it documents them).
const (
	maxDescription   = 200
	maxInstructions  = 2048
	maxCustomParams  = 10
	maxScopes        = 100
	maxParamNameLen  = 64
	maxPrefixLen     = 64
	maxReturnURLLen  = 2048
	maxEndpointLen   = 2048
	maxCredentialCfg = 1
)

var (
	// namePattern is AgentCore's GatewayName and TargetName.
	namePattern      = regexp.MustCompile(`^([0-9a-zA-Z][-]?){1,100}$`)
	gatewayIDPattern = regexp.MustCompile(`^([0-9a-z][-]?){1,100}-[0-9a-z]{10}$`)
	targetIDPattern  = regexp.MustCompile(`^[0-9a-zA-Z]{10}$`)
	roleARNPattern   = regexp.MustCompile(`^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$`)
	tokenPattern     = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	scopePattern     = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)
)

// restrictedKeyHeaders may not carry an API key.
var restrictedKeyHeaders = map[string]bool{
	"host": true, "content-length": true, "content-type": true, "transfer-encoding": true,
	"connection": true, "cookie": true, "te": true, "upgrade": true, "expect": true, "keep-alive": true,
	"proxy-authorization": true,
}

func (s *Service) policy() safehttp.Options {
	return safehttp.Options{AllowPrivate: s.AllowPrivate, Resolver: s.Resolver}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// checkGateway validates in (but its name) and normalizes it.
func (s *Service) checkGateway(in *behalf.GatewayInput) error {
	if utf8.RuneCountInString(in.Description) > maxDescription {
		return behalf.Invalid("description", "description must be at most %d characters long.", maxDescription)
	}
	if in.RoleARN == "" {
		return behalf.Invalid("roleArn", "roleArn is required.")
	}
	if len(in.RoleARN) > 2048 || !roleARNPattern.MatchString(in.RoleARN) {
		return behalf.Invalid("roleArn", "roleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>).")
	}
	switch in.ProtocolType {
	case "":
		in.ProtocolType = behalf.ProtocolMCP
	case behalf.ProtocolMCP:
	default:
		return behalf.Invalid("protocolType", "protocolType must be MCP: Behalf's gateways serve MCP.")
	}
	switch in.AuthorizerType {
	case behalf.GatewayAuthorizerJWT:
		if in.Authorizer == nil {
			return behalf.Invalid("authorizerConfiguration", "authorizerType CUSTOM_JWT needs authorizerConfiguration.customJWTAuthorizer.")
		}
		if err := agentruntime.ValidateAuthorizer(in.Authorizer, s.policy()); err != nil {
			return err
		}
		a := in.Authorizer
		if len(a.AllowedAudience) == 0 && len(a.AllowedClients) == 0 && len(a.AllowedScopes) == 0 && len(a.CustomClaims) == 0 {
			return behalf.Invalid("authorizerConfiguration.customJWTAuthorizer",
				"customJWTAuthorizer must set at least one of allowedAudience, allowedClients, allowedScopes and customClaims.")
		}
		in.Authorizer = agentruntime.CloneAuthorizer(a)
	case behalf.GatewayAuthorizerNone:
		if in.Authorizer != nil {
			return behalf.Invalid("authorizerConfiguration", "authorizerType NONE takes no authorizerConfiguration.")
		}
	case "":
		return behalf.Invalid("authorizerType", "authorizerType is required: CUSTOM_JWT or NONE.")
	default:
		return behalf.Invalid("authorizerType", "authorizerType %q is not supported: Behalf's gateways take CUSTOM_JWT or NONE.", clip(in.AuthorizerType, 40))
	}
	if utf8.RuneCountInString(in.Instructions) > maxInstructions {
		return behalf.Invalid("protocolConfiguration.mcp.instructions", "instructions must be at most %d characters long.", maxInstructions)
	}
	if in.ExceptionLevel != "" && in.ExceptionLevel != "DEBUG" {
		return behalf.Invalid("exceptionLevel", "exceptionLevel must be DEBUG or omitted.")
	}
	return behalf.ValidateTags(in.Tags)
}

// CreateGateway creates a READY gateway and its workload identity, named
// after the gateway's id, in one transaction.
func (s *Service) CreateGateway(ctx context.Context, in behalf.GatewayInput) (*behalf.Gateway, error) {
	if !namePattern.MatchString(in.Name) {
		return nil, behalf.Invalid("name", "name must be 1 to 100 letters and digits, single hyphens between them (([0-9a-zA-Z][-]?){1,100}).")
	}
	if err := s.checkGateway(&in); err != nil {
		return nil, err
	}
	now := s.now()
	id := strings.ToLower(strings.TrimSuffix(in.Name, "-")) + "-" + strings.ToLower(randid.Alnum(10))
	g := &behalf.Gateway{ID: id, Name: in.Name, Workload: id, Status: behalf.GatewayReady, CreatedAt: now, UpdatedAt: now}
	applyGateway(g, in)
	w := &behalf.WorkloadIdentity{Name: g.Workload, CreatedAt: now, UpdatedAt: now}
	if s.BindURL != "" {
		w.AllowedReturnURLs = []string{s.BindURL}
	}
	if err := s.Store.CreateGateway(ctx, g, w); err != nil {
		return nil, err
	}
	s.changed(g.ID)
	return g, nil
}

func applyGateway(g *behalf.Gateway, in behalf.GatewayInput) {
	g.Description, g.RoleARN, g.ProtocolType = in.Description, in.RoleARN, in.ProtocolType
	g.AuthorizerType, g.Authorizer = in.AuthorizerType, in.Authorizer
	g.Instructions, g.ExceptionLevel = in.Instructions, in.ExceptionLevel
	g.Tags = maps.Clone(in.Tags)
	if len(g.Tags) == 0 {
		g.Tags = nil
	}
}

func checkGatewayID(id string) error {
	if !gatewayIDPattern.MatchString(id) && !namePattern.MatchString(id) {
		return behalf.Invalid("gatewayIdentifier", "gatewayIdentifier %q is not a valid gateway id.", clip(id, 120))
	}
	return nil
}

// GatewayIDOf returns the gateway id in an ARN GatewayARN made, or s.
func GatewayIDOf(s string) string {
	if _, rest, ok := strings.Cut(s, ":gateway/"); ok && strings.HasPrefix(s, "arn:") {
		return rest
	}
	return s
}

// GetGateway returns a gateway by id, ARN or name.
func (s *Service) GetGateway(ctx context.Context, id string) (*behalf.Gateway, error) {
	id = GatewayIDOf(id)
	if err := checkGatewayID(id); err != nil {
		return nil, err
	}
	return s.Store.GetGateway(ctx, id)
}

// UpdateGateway replaces a gateway's configuration; its name cannot change.
func (s *Service) UpdateGateway(ctx context.Context, id string, in behalf.GatewayInput) (*behalf.Gateway, error) {
	cur, err := s.GetGateway(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.Name != cur.Name {
		return nil, behalf.Invalid("name", "name must be the gateway's own (%s): a gateway cannot be renamed.", cur.Name)
	}
	if err := s.checkGateway(&in); err != nil {
		return nil, err
	}
	in.Tags = cur.Tags
	now := s.now()
	defer s.changed(cur.ID)
	return s.Store.UpdateGateway(ctx, cur.ID, func(g *behalf.Gateway) error {
		applyGateway(g, in)
		g.Status, g.UpdatedAt = behalf.GatewayReady, now
		return nil
	})
}

// DeleteGateway deletes a gateway without targets and its workload identity.
func (s *Service) DeleteGateway(ctx context.Context, id string) (*behalf.Gateway, error) {
	cur, err := s.GetGateway(ctx, id)
	if err != nil {
		return nil, err
	}
	defer s.changed(cur.ID)
	return s.Store.DeleteGateway(ctx, cur.ID)
}

// ListGateways returns one page of gateways, by id.
func (s *Service) ListGateways(ctx context.Context, p behalf.PageRequest) ([]*behalf.Gateway, string, error) {
	return behalf.ListPage(p, listMax, func(o behalf.ListOptions) ([]*behalf.Gateway, error) { return s.Store.ListGateways(ctx, o) },
		func(g *behalf.Gateway) string { return g.ID })
}

// checkTarget validates a target's configuration and normalizes it.
func (s *Service) checkTarget(ctx context.Context, in *behalf.GatewayTargetInput) error {
	if !namePattern.MatchString(in.Name) {
		return behalf.Invalid("name", "name must be 1 to 100 letters and digits, single hyphens between them (([0-9a-zA-Z][-]?){1,100}).")
	}
	if utf8.RuneCountInString(in.Description) > maxDescription {
		return behalf.Invalid("description", "description must be at most %d characters long.", maxDescription)
	}
	switch in.Kind {
	case behalf.TargetOpenAPI:
		const field = "targetConfiguration.mcp.openApiSchema.inlinePayload"
		tools, err := ParseOpenAPI(ctx, in.OpenAPI, s.policy(), field)
		if err != nil {
			return err
		}
		for _, t := range tools {
			if n := len(in.Name) + len(ToolSeparator) + len(t.Name); n > 128 {
				return behalf.Invalid(field, "Tool %s%s%s would be %d characters long; MCP allows 128.", in.Name, ToolSeparator, t.Name, n)
			}
		}
		in.Endpoint = ""
	case behalf.TargetMCPServer:
		const field = "targetConfiguration.mcp.mcpServer.endpoint"
		if in.Endpoint == "" {
			return behalf.Invalid(field, "%s is required: the MCP server's URL.", field)
		}
		if len(in.Endpoint) > maxEndpointLen {
			return behalf.Invalid(field, "%s must be at most %d characters long.", field, maxEndpointLen)
		}
		u, err := s.policy().CheckURL(in.Endpoint)
		if err != nil {
			return behalf.Invalid(field, "%s %q is refused: %v.", field, clip(in.Endpoint, 200), err)
		}
		if u.User != nil || u.Fragment != "" || strings.Contains(in.Endpoint, "#") {
			return behalf.Invalid(field, "%s must have no user information or fragment.", field)
		}
		in.OpenAPI = ""
	default:
		return behalf.Invalid("targetConfiguration", "targetConfiguration must hold mcp.openApiSchema (inlinePayload) or mcp.mcpServer.")
	}
	if len(in.Credentials) > maxCredentialCfg {
		return behalf.Invalid("credentialProviderConfigurations", "credentialProviderConfigurations may hold at most %d entry.", maxCredentialCfg)
	}
	out := make([]behalf.GatewayCredential, 0, len(in.Credentials))
	for _, c := range in.Credentials {
		c, err := s.checkCredential(ctx, c)
		if err != nil {
			return err
		}
		out = append(out, c)
	}
	in.Credentials = out
	if len(in.Credentials) == 0 {
		in.Credentials = nil
	}
	return nil
}

// ProviderName returns the provider name in a credential provider ARN
// of kind ("oauth2credentialprovider" or "apikeycredentialprovider").
func (s *Service) providerName(arn, kind, field string) (string, error) {
	prefix := "arn:aws:bedrock-agentcore:"
	rest, ok := strings.CutPrefix(arn, prefix)
	parts := strings.SplitN(rest, ":", 3)
	if !ok || len(parts) != 3 {
		return "", behalf.Invalid(field, "providerArn %q is not a credential provider ARN.", clip(arn, 200))
	}
	if (s.Region != "" && parts[0] != s.Region) || (s.Account != "" && parts[1] != s.Account) {
		return "", behalf.Invalid(field, "providerArn %q is not in this region and account.", clip(arn, 200))
	}
	name, ok := strings.CutPrefix(parts[2], "token-vault/default/"+kind+"/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", behalf.Invalid(field, "providerArn %q must name a %s (arn:aws:bedrock-agentcore:<region>:<account>:token-vault/default/%s/<name>).", clip(arn, 200), kind, kind)
	}
	return name, nil
}

// checkCredential validates one outbound credential configuration. c's
// Provider holds the provider's ARN on input and its name on output.
func (s *Service) checkCredential(ctx context.Context, c behalf.GatewayCredential) (behalf.GatewayCredential, error) {
	const base = "credentialProviderConfigurations"
	switch c.Type {
	case behalf.CredentialAPIKey:
		const field = base + ".credentialProvider.apiKeyCredentialProvider"
		name, err := s.providerName(c.Provider, "apikeycredentialprovider", field+".providerArn")
		if err != nil {
			return c, err
		}
		if _, err := s.Providers.GetAPIKeyProvider(ctx, name); err != nil {
			if behalf.ErrorCode(err) == behalf.ENOTFOUND {
				return c, behalf.Invalid(field+".providerArn", "API key credential provider %q does not exist.", name)
			}
			return c, err
		}
		c.Provider = name
		if c.Location == "" {
			c.Location = behalf.APIKeyInHeader
		}
		if c.Location != behalf.APIKeyInHeader && c.Location != behalf.APIKeyInQuery {
			return c, behalf.Invalid(field+".credentialLocation", "credentialLocation must be HEADER or QUERY_PARAMETER.")
		}
		if c.ParameterName == "" {
			c.ParameterName = "Authorization"
			if c.Prefix == "" {
				c.Prefix = "Bearer"
			}
		}
		if len(c.ParameterName) > maxParamNameLen || !tokenPattern.MatchString(c.ParameterName) {
			return c, behalf.Invalid(field+".credentialParameterName", "credentialParameterName must be 1 to %d characters a header or parameter name may hold.", maxParamNameLen)
		}
		if c.Location == behalf.APIKeyInHeader && restrictedKeyHeaders[strings.ToLower(c.ParameterName)] {
			return c, behalf.Invalid(field+".credentialParameterName", "The API key cannot go in the %s header.", c.ParameterName)
		}
		if len(c.Prefix) > maxPrefixLen || strings.ContainsAny(c.Prefix, "\r\n\x00") {
			return c, behalf.Invalid(field+".credentialPrefix", "credentialPrefix must be at most %d characters, on one line.", maxPrefixLen)
		}
		c.Scopes, c.GrantType, c.DefaultReturnURL, c.CustomParameters = nil, "", "", nil
	case behalf.CredentialOAuth:
		const field = base + ".credentialProvider.oauthCredentialProvider"
		name, err := s.providerName(c.Provider, "oauth2credentialprovider", field+".providerArn")
		if err != nil {
			return c, err
		}
		if _, err := s.Providers.GetOAuth2Provider(ctx, name); err != nil {
			if behalf.ErrorCode(err) == behalf.ENOTFOUND {
				return c, behalf.Invalid(field+".providerArn", "OAuth2 credential provider %q does not exist.", name)
			}
			return c, err
		}
		c.Provider = name
		if len(c.Scopes) > maxScopes {
			return c, behalf.Invalid(field+".scopes", "scopes may list at most %d values.", maxScopes)
		}
		for _, sc := range c.Scopes {
			if len(sc) > 255 || !scopePattern.MatchString(sc) {
				return c, behalf.Invalid(field+".scopes", "Scope %q is not a valid OAuth scope.", clip(sc, 80))
			}
		}
		switch c.GrantType {
		case "":
			c.GrantType = behalf.GrantClientCredentials
		case behalf.GrantClientCredentials, behalf.GrantAuthorizationCode:
		case "TOKEN_EXCHANGE":
			return c, behalf.Invalid(field+".grantType", "grantType TOKEN_EXCHANGE is not supported by Behalf's gateways yet; use CLIENT_CREDENTIALS or AUTHORIZATION_CODE.")
		default:
			return c, behalf.Invalid(field+".grantType", "grantType must be CLIENT_CREDENTIALS or AUTHORIZATION_CODE.")
		}
		if c.GrantType == behalf.GrantAuthorizationCode {
			u, err := url.Parse(c.DefaultReturnURL)
			if c.DefaultReturnURL == "" {
				// Behalf's binding page (Handler.credential).
			} else if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
				u.Fragment != "" || strings.Contains(c.DefaultReturnURL, "#") || len(c.DefaultReturnURL) > maxReturnURLLen {
				return c, behalf.Invalid(field+".defaultReturnUrl", "defaultReturnUrl must be an absolute http(s) URL of at most %d characters, without user information or fragment.", maxReturnURLLen)
			}
		} else if c.DefaultReturnURL != "" {
			return c, behalf.Invalid(field+".defaultReturnUrl", "defaultReturnUrl applies only to grantType AUTHORIZATION_CODE.")
		}
		if len(c.CustomParameters) > maxCustomParams {
			return c, behalf.Invalid(field+".customParameters", "customParameters may hold at most %d entries.", maxCustomParams)
		}
		for k, v := range c.CustomParameters {
			if len(k) > 256 || !tokenPattern.MatchString(k) || len(v) > 2048 {
				return c, behalf.Invalid(field+".customParameters", "customParameters key %q or its value is not valid.", clip(k, 60))
			}
		}
		c.Scopes = slices.Clone(c.Scopes)
		c.CustomParameters = maps.Clone(c.CustomParameters)
		if len(c.CustomParameters) == 0 {
			c.CustomParameters = nil
		}
		c.Location, c.ParameterName, c.Prefix = "", "", ""
	case "":
		return c, behalf.Invalid(base+".credentialProviderType", "credentialProviderType is required: API_KEY or OAUTH.")
	default:
		return c, behalf.Invalid(base+".credentialProviderType", "credentialProviderType %q is not supported: Behalf's gateway targets take API_KEY or OAUTH.", clip(c.Type, 40))
	}
	return c, nil
}

// gatewayOf resolves a gateway identifier to its id.
func (s *Service) gatewayOf(ctx context.Context, gatewayID string) (*behalf.Gateway, error) {
	return s.GetGateway(ctx, gatewayID)
}

func checkTargetID(id string) error {
	if !targetIDPattern.MatchString(id) {
		return behalf.Invalid("targetId", "targetId %q is not a valid target id.", clip(id, 60))
	}
	return nil
}

// CreateGatewayTarget adds a READY target to a gateway.
func (s *Service) CreateGatewayTarget(ctx context.Context, gatewayID string, in behalf.GatewayTargetInput) (*behalf.GatewayTarget, error) {
	g, err := s.gatewayOf(ctx, gatewayID)
	if err != nil {
		return nil, err
	}
	if err := s.checkTarget(ctx, &in); err != nil {
		return nil, err
	}
	now := s.now()
	t := &behalf.GatewayTarget{GatewayID: g.ID, ID: randid.Upper(10), Status: behalf.GatewayReady, CreatedAt: now, UpdatedAt: now}
	applyTarget(t, in)
	s.sync(ctx, g, t, syncCreate)
	if err := s.Store.CreateGatewayTarget(ctx, t); err != nil {
		return nil, err
	}
	s.changed(t.GatewayID)
	return t, nil
}

func applyTarget(t *behalf.GatewayTarget, in behalf.GatewayTargetInput) {
	t.Name, t.Description, t.Kind, t.OpenAPI, t.Endpoint, t.Credentials = in.Name, in.Description, in.Kind, in.OpenAPI, in.Endpoint, in.Credentials
}

// GetGatewayTarget returns a target of a gateway.
func (s *Service) GetGatewayTarget(ctx context.Context, gatewayID, id string) (*behalf.GatewayTarget, error) {
	g, err := s.gatewayOf(ctx, gatewayID)
	if err != nil {
		return nil, err
	}
	if err := checkTargetID(id); err != nil {
		return nil, err
	}
	return s.Store.GetGatewayTarget(ctx, g.ID, id)
}

// UpdateGatewayTarget replaces a target's configuration (a name "" keeps
// the target's).
func (s *Service) UpdateGatewayTarget(ctx context.Context, gatewayID, id string, in behalf.GatewayTargetInput) (*behalf.GatewayTarget, error) {
	cur, err := s.GetGatewayTarget(ctx, gatewayID, id)
	if err != nil {
		return nil, err
	}
	if in.Name == "" {
		in.Name = cur.Name
	}
	if err := s.checkTarget(ctx, &in); err != nil {
		return nil, err
	}
	g, err := s.gatewayOf(ctx, gatewayID)
	if err != nil {
		return nil, err
	}
	next := *cur
	applyTarget(&next, in)
	next.Status, next.UpdatedAt = behalf.GatewayReady, s.now()
	s.sync(ctx, g, &next, syncUpdate)
	defer s.changed(cur.GatewayID)
	return s.Store.UpdateGatewayTarget(ctx, cur.GatewayID, cur.ID, func(t *behalf.GatewayTarget) error {
		applyTarget(t, in)
		t.Status, t.StatusReasons, t.UpdatedAt = next.Status, next.StatusReasons, next.UpdatedAt
		t.AuthUserID, t.AuthorizationURL, t.SyncedAt = next.AuthUserID, next.AuthorizationURL, next.SyncedAt
		return nil
	})
}

// maxSyncTargets bounds SynchronizeGatewayTargets' targetIdList.
const maxSyncTargets = 100

// SynchronizeGatewayTargets lists the tools of MCP-server targets again
// (a target waiting for consent among them: once an admin has consented
// it becomes READY).
func (s *Service) SynchronizeGatewayTargets(ctx context.Context, gatewayID string, ids []string) ([]*behalf.GatewayTarget, error) {
	g, err := s.gatewayOf(ctx, gatewayID)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 || len(ids) > maxSyncTargets {
		return nil, behalf.Invalid("targetIdList", "targetIdList must list 1 to %d target ids.", maxSyncTargets)
	}
	var targets []*behalf.GatewayTarget
	for _, id := range ids {
		if err := checkTargetID(id); err != nil {
			return nil, behalf.Invalid("targetIdList", "targetIdList: %q is not a valid target id.", clip(id, 60))
		}
		t, err := s.Store.GetGatewayTarget(ctx, g.ID, id)
		if err != nil {
			return nil, err
		}
		if t.Kind != behalf.TargetMCPServer {
			return nil, behalf.Invalid("targetIdList", "Target %s is not an mcpServer target: only MCP servers' tools are synchronized.", id)
		}
		targets = append(targets, t)
	}
	out := make([]*behalf.GatewayTarget, 0, len(targets))
	defer s.changed(g.ID)
	for _, cur := range targets {
		next := *cur
		s.sync(ctx, g, &next, syncSynchronize)
		t, err := s.Store.UpdateGatewayTarget(ctx, g.ID, cur.ID, func(t *behalf.GatewayTarget) error {
			if !t.UpdatedAt.Equal(cur.UpdatedAt) {
				return behalf.Errorf(behalf.ECONFLICT, "Target %s changed while it was synchronized; synchronize it again.", t.ID)
			}
			t.Status, t.StatusReasons = next.Status, next.StatusReasons
			t.AuthUserID, t.AuthorizationURL, t.SyncedAt = next.AuthUserID, next.AuthorizationURL, next.SyncedAt
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// The operations that list an MCP-server target's tools.
const (
	syncCreate = iota
	syncUpdate
	syncSynchronize
)

// sync lists MCP-server target t's tools with s.Syncer and sets its
// status: READY, *_PENDING_AUTH with the URL where an admin consents, or
// FAILED / *_UNSUCCESSFUL with the reason.
func (s *Service) sync(ctx context.Context, g *behalf.Gateway, t *behalf.GatewayTarget, op int) {
	t.StatusReasons, t.AuthorizationURL = nil, ""
	if t.Kind != behalf.TargetMCPServer {
		t.Status, t.AuthUserID, t.SyncedAt = behalf.GatewayReady, "", time.Time{}
		return
	}
	if !perUser(t) {
		t.AuthUserID = ""
	} else if t.AuthUserID == "" {
		// AgentCore's "{gatewayId}{targetId}{uuid}", within the data
		// plane's 128 characters.
		gid := t.GatewayID
		if len(gid) > 86 {
			gid = gid[len(gid)-86:]
		}
		t.AuthUserID = gid + t.ID + randid.Hex(16)
	}
	if s.Syncer == nil {
		t.Status = behalf.GatewayReady
		return
	}
	prev := t.SyncedAt
	// The tools are cached per synchronization: a new one is a new time.
	now := s.now()
	if !now.After(prev) {
		now = prev.Add(time.Microsecond)
	}
	t.SyncedAt = now
	authURL, err := s.Syncer.SyncTarget(ctx, g, t)
	switch {
	case err == nil && authURL == "":
		t.Status = behalf.GatewayReady
		return
	case err == nil:
		t.Status = [...]string{behalf.TargetCreatePendingAuth, behalf.TargetUpdatePendingAuth, behalf.TargetSynchronizePendingAuth}[op]
		t.AuthorizationURL = authURL
		t.StatusReasons = []string{"Listing this MCP server's tools needs consent for user " + t.AuthUserID +
			": open authorizationData.oauth2.authorizationUrl, complete the session for that userId, then synchronize the target."}
	default:
		t.Status = [...]string{behalf.GatewayFailed, behalf.TargetUpdateUnsuccessful, behalf.TargetSynchronizeUnsuccessful}[op]
		t.StatusReasons = []string{clip(behalf.ErrorMessage(err), 1000)}
	}
	t.SyncedAt = prev
}

// DeleteGatewayTarget deletes a target.
func (s *Service) DeleteGatewayTarget(ctx context.Context, gatewayID, id string) (*behalf.GatewayTarget, error) {
	cur, err := s.GetGatewayTarget(ctx, gatewayID, id)
	if err != nil {
		return nil, err
	}
	defer s.changed(cur.GatewayID)
	return s.Store.DeleteGatewayTarget(ctx, cur.GatewayID, cur.ID)
}

// ListGatewayTargets returns one page of a gateway's targets, by id.
func (s *Service) ListGatewayTargets(ctx context.Context, gatewayID string, p behalf.PageRequest) ([]*behalf.GatewayTarget, string, error) {
	g, err := s.gatewayOf(ctx, gatewayID)
	if err != nil {
		return nil, "", err
	}
	return behalf.ListPage(p, listMax, func(o behalf.ListOptions) ([]*behalf.GatewayTarget, error) {
		return s.Store.ListGatewayTargets(ctx, g.ID, o)
	},
		func(t *behalf.GatewayTarget) string { return t.ID })
}

// changed tells Changed that gateway id changed.
func (s *Service) changed(id string) {
	if s.Changed != nil {
		s.Changed(id)
	}
}
