package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/behalf-dev/behalf"
)

// The gateway control plane (bedrock-agentcore-control): restJson1 with
// the gateway and target ids in the path, list paging in the query and
// date-time timestamps, as the agent-runtime operations. A gateway's MCP
// endpoint is {PublicURL}/gateways/{gatewayId}/mcp (package gateway).

// refuseSet returns EINVALID naming the first field of fields that is
// set: members of the model Behalf does not serve.
func refuseSet(fields [][2]any) error {
	for _, f := range fields {
		name, v := f[0].(string), f[1].(json.RawMessage)
		if len(v) > 0 && string(v) != "null" {
			return behalf.Invalid(name, "Behalf's gateways do not support %s.", name)
		}
	}
	return nil
}

type mcpGatewayConfiguration struct {
	SupportedVersions             []string        `json:"supportedVersions,omitempty"`
	Instructions                  string          `json:"instructions,omitempty"`
	SearchType                    json.RawMessage `json:"searchType,omitempty"`
	SessionConfiguration          json.RawMessage `json:"sessionConfiguration,omitempty"`
	StreamingConfiguration        json.RawMessage `json:"streamingConfiguration,omitempty"`
	DisableMcpListToolsPagination *bool           `json:"disableMcpListToolsPagination,omitempty"`
}

type gatewayProtocolConfiguration struct {
	MCP *mcpGatewayConfiguration `json:"mcp,omitempty"`
}

// gatewayIn is the body of CreateGateway and UpdateGateway.
type gatewayIn struct {
	Name                      string                        `json:"name"`
	Description               *string                       `json:"description"`
	ClientToken               string                        `json:"clientToken"` // create only
	RoleARN                   string                        `json:"roleArn"`
	ProtocolType              string                        `json:"protocolType"`
	ProtocolConfiguration     *gatewayProtocolConfiguration `json:"protocolConfiguration"`
	AuthorizerType            string                        `json:"authorizerType"`
	AuthorizerConfiguration   *authorizerConfiguration      `json:"authorizerConfiguration"`
	ExceptionLevel            string                        `json:"exceptionLevel"`
	Tags                      map[string]string             `json:"tags"` // create only
	KmsKeyArn                 json.RawMessage               `json:"kmsKeyArn"`
	InterceptorConfigurations json.RawMessage               `json:"interceptorConfigurations"`
	PolicyEngineConfiguration json.RawMessage               `json:"policyEngineConfiguration"`
	DomainOverride            json.RawMessage               `json:"domainOverride"`
	CustomTransform           json.RawMessage               `json:"customTransformConfiguration"`
	WafConfiguration          json.RawMessage               `json:"wafConfiguration"`
}

func (in *gatewayIn) input() (behalf.GatewayInput, error) {
	out := behalf.GatewayInput{Name: in.Name, RoleARN: in.RoleARN, ProtocolType: in.ProtocolType,
		AuthorizerType: in.AuthorizerType, ExceptionLevel: in.ExceptionLevel, Tags: in.Tags}
	refuse := [][2]any{
		{"kmsKeyArn", in.KmsKeyArn}, {"interceptorConfigurations", in.InterceptorConfigurations},
		{"policyEngineConfiguration", in.PolicyEngineConfiguration}, {"domainOverride", in.DomainOverride},
		{"customTransformConfiguration", in.CustomTransform}, {"wafConfiguration", in.WafConfiguration},
	}
	if p := in.ProtocolConfiguration; p != nil && p.MCP != nil {
		out.Instructions = p.MCP.Instructions
		refuse = append(refuse, [2]any{"protocolConfiguration.mcp.searchType", p.MCP.SearchType},
			[2]any{"protocolConfiguration.mcp.sessionConfiguration", p.MCP.SessionConfiguration},
			[2]any{"protocolConfiguration.mcp.streamingConfiguration", p.MCP.StreamingConfiguration})
	}
	if err := refuseSet(refuse); err != nil {
		return out, err
	}
	if in.Description != nil {
		out.Description = *in.Description
	}
	if a := in.AuthorizerConfiguration; a != nil {
		if a.CustomJWTAuthorizer == nil {
			return out, behalf.Invalid("authorizerConfiguration", "authorizerConfiguration must hold customJWTAuthorizer.")
		}
		j, base := a.CustomJWTAuthorizer, "authorizerConfiguration.customJWTAuthorizer."
		if err := refuseSet([][2]any{{base + "advertisedScopeMapping", j.AdvertisedScopeMapping},
			{base + "allowedWorkloadConfiguration", j.AllowedWorkloadConfiguration},
			{base + "privateEndpoint", j.PrivateEndpoint}, {base + "privateEndpointOverrides", j.PrivateEndpointOverrides}}); err != nil {
			return out, err
		}
		authz, err := jwtAuthorizerIn(a.CustomJWTAuthorizer)
		if err != nil {
			return out, err
		}
		out.Authorizer = authz
	}
	return out, nil
}

// gatewayOut is a gateway on the wire (Create, Get, Update).
type gatewayOut struct {
	GatewayARN              string                        `json:"gatewayArn"`
	GatewayID               string                        `json:"gatewayId"`
	GatewayURL              string                        `json:"gatewayUrl"`
	Name                    string                        `json:"name"`
	Description             string                        `json:"description,omitempty"`
	RoleARN                 string                        `json:"roleArn,omitempty"`
	ProtocolType            string                        `json:"protocolType"`
	ProtocolConfiguration   *gatewayProtocolConfiguration `json:"protocolConfiguration,omitempty"`
	AuthorizerType          string                        `json:"authorizerType"`
	AuthorizerConfiguration *authorizerConfiguration      `json:"authorizerConfiguration,omitempty"`
	ExceptionLevel          string                        `json:"exceptionLevel,omitempty"`
	Status                  string                        `json:"status"`
	CreatedAt               isoTime                       `json:"createdAt"`
	UpdatedAt               isoTime                       `json:"updatedAt"`
	WorkloadIdentityDetails *workloadIdentityDetails      `json:"workloadIdentityDetails,omitempty"`
}

func (s *Server) gatewayARN(id string) string { return behalf.GatewayARN(s.Region, s.Account, id) }

// GatewayURL is a gateway's MCP endpoint.
func (s *Server) gatewayURL(id string) string {
	return strings.TrimSuffix(s.PublicURL, "/") + behalf.GatewayPath(id)
}

func (s *Server) gatewayOut(g *behalf.Gateway) gatewayOut {
	out := gatewayOut{
		GatewayARN: s.gatewayARN(g.ID), GatewayID: g.ID, GatewayURL: s.gatewayURL(g.ID), Name: g.Name,
		Description: g.Description, RoleARN: g.RoleARN, ProtocolType: g.ProtocolType, AuthorizerType: g.AuthorizerType,
		AuthorizerConfiguration: jwtAuthorizerOut(g.Authorizer), ExceptionLevel: g.ExceptionLevel, Status: g.Status,
		CreatedAt: isoTime(g.CreatedAt), UpdatedAt: isoTime(g.UpdatedAt),
		WorkloadIdentityDetails: &workloadIdentityDetails{s.workloadARN(g.Workload)},
	}
	mcp := &mcpGatewayConfiguration{SupportedVersions: []string{"2025-03-26", "2025-06-18", "2025-11-25"}, Instructions: g.Instructions}
	out.ProtocolConfiguration = &gatewayProtocolConfiguration{MCP: mcp}
	return out
}

func (s *Server) createGateway(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in gatewayIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	input, err := in.input()
	if err != nil {
		return 0, nil, err
	}
	g, err := s.Gateways.CreateGateway(ctx, input)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.gatewayOut(g), nil
}

func (s *Server) getGateway(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	g, err := s.Gateways.GetGateway(ctx, req.PathValue("gatewayIdentifier"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.gatewayOut(g), nil
}

func (s *Server) updateGateway(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in gatewayIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if in.Tags != nil {
		return 0, nil, &parseError{msg: "Unknown field \"tags\"."}
	}
	if in.ClientToken != "" {
		return 0, nil, &parseError{msg: "Unknown field \"clientToken\"."}
	}
	input, err := in.input()
	if err != nil {
		return 0, nil, err
	}
	g, err := s.Gateways.UpdateGateway(ctx, req.PathValue("gatewayIdentifier"), input)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.gatewayOut(g), nil
}

func (s *Server) deleteGateway(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	g, err := s.Gateways.DeleteGateway(ctx, req.PathValue("gatewayIdentifier"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, struct {
		GatewayID string `json:"gatewayId"`
		Status    string `json:"status"`
	}{g.ID, behalf.GatewayDeleting}, nil
}

func (s *Server) listGateways(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	p, err := pageQuery(req)
	if err != nil {
		return 0, nil, err
	}
	items, next, err := s.Gateways.ListGateways(ctx, p)
	if err != nil {
		return 0, nil, err
	}
	type item struct {
		GatewayID      string  `json:"gatewayId"`
		Name           string  `json:"name"`
		Status         string  `json:"status"`
		Description    string  `json:"description,omitempty"`
		CreatedAt      isoTime `json:"createdAt"`
		UpdatedAt      isoTime `json:"updatedAt"`
		AuthorizerType string  `json:"authorizerType"`
		ProtocolType   string  `json:"protocolType"`
	}
	out := struct {
		Items     []item `json:"items"`
		NextToken string `json:"nextToken,omitempty"`
	}{Items: []item{}, NextToken: next}
	for _, g := range items {
		out.Items = append(out.Items, item{g.ID, g.Name, g.Status, g.Description, isoTime(g.CreatedAt), isoTime(g.UpdatedAt), g.AuthorizerType, g.ProtocolType})
	}
	return http.StatusOK, out, nil
}

// Targets.

type apiSchemaConfiguration struct {
	InlinePayload *string         `json:"inlinePayload,omitempty"`
	S3            json.RawMessage `json:"s3,omitempty"`
}

type mcpServerTarget struct {
	Endpoint         string          `json:"endpoint"`
	McpToolSchema    json.RawMessage `json:"mcpToolSchema,omitempty"`
	ListingMode      json.RawMessage `json:"listingMode,omitempty"`
	ResourcePriority json.RawMessage `json:"resourcePriority,omitempty"`
}

type mcpTargetConfiguration struct {
	OpenAPISchema *apiSchemaConfiguration `json:"openApiSchema,omitempty"`
	MCPServer     *mcpServerTarget        `json:"mcpServer,omitempty"`
	SmithyModel   json.RawMessage         `json:"smithyModel,omitempty"`
	Lambda        json.RawMessage         `json:"lambda,omitempty"`
	APIGateway    json.RawMessage         `json:"apiGateway,omitempty"`
	Connector     json.RawMessage         `json:"connector,omitempty"`
}

type targetConfiguration struct {
	MCP       *mcpTargetConfiguration `json:"mcp,omitempty"`
	HTTP      json.RawMessage         `json:"http,omitempty"`
	Inference json.RawMessage         `json:"inference,omitempty"`
}

type apiKeyCredentialProvider struct {
	ProviderARN             string `json:"providerArn"`
	CredentialLocation      string `json:"credentialLocation,omitempty"`
	CredentialParameterName string `json:"credentialParameterName,omitempty"`
	CredentialPrefix        string `json:"credentialPrefix,omitempty"`
}

type oauthCredentialProvider struct {
	ProviderARN      string            `json:"providerArn"`
	Scopes           []string          `json:"scopes"`
	CustomParameters map[string]string `json:"customParameters,omitempty"`
	GrantType        string            `json:"grantType,omitempty"`
	DefaultReturnURL string            `json:"defaultReturnUrl,omitempty"`
}

type credentialProvider struct {
	OAuth  *oauthCredentialProvider  `json:"oauthCredentialProvider,omitempty"`
	APIKey *apiKeyCredentialProvider `json:"apiKeyCredentialProvider,omitempty"`
	IAM    json.RawMessage           `json:"iamCredentialProvider,omitempty"`
}

type credentialProviderConfiguration struct {
	CredentialProviderType string              `json:"credentialProviderType"`
	CredentialProvider     *credentialProvider `json:"credentialProvider,omitempty"`
}

// targetIn is the body of CreateGatewayTarget and UpdateGatewayTarget.
type targetIn struct {
	Name                             string                            `json:"name"`
	Description                      *string                           `json:"description"`
	ClientToken                      string                            `json:"clientToken"`
	TargetConfiguration              *targetConfiguration              `json:"targetConfiguration"`
	CredentialProviderConfigurations []credentialProviderConfiguration `json:"credentialProviderConfigurations"`
	MetadataConfiguration            json.RawMessage                   `json:"metadataConfiguration"`
	PrivateEndpoint                  json.RawMessage                   `json:"privateEndpoint"`
	CertificateConfigurations        json.RawMessage                   `json:"certificateConfigurations"`
}

func (in *targetIn) input() (behalf.GatewayTargetInput, error) {
	out := behalf.GatewayTargetInput{Name: in.Name}
	if in.Description != nil {
		out.Description = *in.Description
	}
	refuse := [][2]any{{"metadataConfiguration", in.MetadataConfiguration}, {"privateEndpoint", in.PrivateEndpoint},
		{"certificateConfigurations", in.CertificateConfigurations}}
	tc := in.TargetConfiguration
	if tc == nil {
		return out, behalf.Invalid("targetConfiguration", "targetConfiguration is required.")
	}
	refuse = append(refuse, [2]any{"targetConfiguration.http", tc.HTTP}, [2]any{"targetConfiguration.inference", tc.Inference})
	if m := tc.MCP; m != nil {
		refuse = append(refuse, [2]any{"targetConfiguration.mcp.smithyModel", m.SmithyModel}, [2]any{"targetConfiguration.mcp.lambda", m.Lambda},
			[2]any{"targetConfiguration.mcp.apiGateway", m.APIGateway}, [2]any{"targetConfiguration.mcp.connector", m.Connector})
		if o := m.OpenAPISchema; o != nil {
			refuse = append(refuse, [2]any{"targetConfiguration.mcp.openApiSchema.s3", o.S3})
			out.Kind = behalf.TargetOpenAPI
			if o.InlinePayload != nil {
				out.OpenAPI = *o.InlinePayload
			}
		}
		if ms := m.MCPServer; ms != nil {
			if out.Kind != "" {
				return out, behalf.Invalid("targetConfiguration.mcp", "targetConfiguration.mcp must hold exactly one member.")
			}
			refuse = append(refuse, [2]any{"targetConfiguration.mcp.mcpServer.mcpToolSchema", ms.McpToolSchema},
				[2]any{"targetConfiguration.mcp.mcpServer.listingMode", ms.ListingMode},
				[2]any{"targetConfiguration.mcp.mcpServer.resourcePriority", ms.ResourcePriority})
			out.Kind, out.Endpoint = behalf.TargetMCPServer, ms.Endpoint
		}
	}
	if err := refuseSet(refuse); err != nil {
		return out, err
	}
	for _, c := range in.CredentialProviderConfigurations {
		cred := behalf.GatewayCredential{Type: c.CredentialProviderType}
		p := c.CredentialProvider
		if p != nil {
			if err := refuseSet([][2]any{{"credentialProviderConfigurations.credentialProvider.iamCredentialProvider", p.IAM}}); err != nil {
				return out, err
			}
		}
		switch c.CredentialProviderType {
		case behalf.CredentialAPIKey:
			if p == nil || p.APIKey == nil || p.OAuth != nil {
				return out, behalf.Invalid("credentialProviderConfigurations.credentialProvider", "An API_KEY configuration needs credentialProvider.apiKeyCredentialProvider.")
			}
			k := p.APIKey
			cred.Provider, cred.Location, cred.ParameterName, cred.Prefix = k.ProviderARN, k.CredentialLocation, k.CredentialParameterName, k.CredentialPrefix
		case behalf.CredentialOAuth:
			if p == nil || p.OAuth == nil || p.APIKey != nil {
				return out, behalf.Invalid("credentialProviderConfigurations.credentialProvider", "An OAUTH configuration needs credentialProvider.oauthCredentialProvider.")
			}
			o := p.OAuth
			cred.Provider, cred.Scopes, cred.CustomParameters, cred.GrantType, cred.DefaultReturnURL = o.ProviderARN, o.Scopes, o.CustomParameters, o.GrantType, o.DefaultReturnURL
		}
		out.Credentials = append(out.Credentials, cred)
	}
	return out, nil
}

type targetOut struct {
	GatewayARN                       string                            `json:"gatewayArn"`
	TargetID                         string                            `json:"targetId"`
	Name                             string                            `json:"name"`
	Description                      string                            `json:"description,omitempty"`
	Status                           string                            `json:"status"`
	CreatedAt                        isoTime                           `json:"createdAt"`
	UpdatedAt                        isoTime                           `json:"updatedAt"`
	TargetConfiguration              targetConfiguration               `json:"targetConfiguration"`
	CredentialProviderConfigurations []credentialProviderConfiguration `json:"credentialProviderConfigurations"`
	ProtocolType                     string                            `json:"protocolType,omitempty"`
	StatusReasons                    []string                          `json:"statusReasons,omitempty"`
	LastSynchronizedAt               *isoTime                          `json:"lastSynchronizedAt,omitempty"`
	AuthorizationData                *authorizationData                `json:"authorizationData,omitempty"`
}

// authorizationData is where an admin consents for an MCP-server target
// waiting in *_PENDING_AUTH, and the user id to complete the session as.
type authorizationData struct {
	OAuth2 struct {
		AuthorizationURL string `json:"authorizationUrl"`
		UserID           string `json:"userId,omitempty"`
	} `json:"oauth2"`
}

func authorizationOf(t *behalf.GatewayTarget) *authorizationData {
	if t.AuthorizationURL == "" {
		return nil
	}
	a := &authorizationData{}
	a.OAuth2.AuthorizationURL, a.OAuth2.UserID = t.AuthorizationURL, t.AuthUserID
	return a
}

func syncedAt(t *behalf.GatewayTarget) *isoTime {
	if t.SyncedAt.IsZero() {
		return nil
	}
	at := isoTime(t.SyncedAt)
	return &at
}

func (s *Server) targetOut(t *behalf.GatewayTarget) targetOut {
	out := targetOut{GatewayARN: s.gatewayARN(t.GatewayID), TargetID: t.ID, Name: t.Name, Description: t.Description,
		Status: t.Status, CreatedAt: isoTime(t.CreatedAt), UpdatedAt: isoTime(t.UpdatedAt), ProtocolType: behalf.ProtocolMCP,
		CredentialProviderConfigurations: []credentialProviderConfiguration{},
		StatusReasons:                    t.StatusReasons, LastSynchronizedAt: syncedAt(t), AuthorizationData: authorizationOf(t)}
	m := &mcpTargetConfiguration{}
	switch t.Kind {
	case behalf.TargetOpenAPI:
		payload := t.OpenAPI
		m.OpenAPISchema = &apiSchemaConfiguration{InlinePayload: &payload}
	case behalf.TargetMCPServer:
		m.MCPServer = &mcpServerTarget{Endpoint: t.Endpoint}
	}
	out.TargetConfiguration.MCP = m
	for _, c := range t.Credentials {
		w := credentialProviderConfiguration{CredentialProviderType: c.Type, CredentialProvider: &credentialProvider{}}
		switch c.Type {
		case behalf.CredentialAPIKey:
			w.CredentialProvider.APIKey = &apiKeyCredentialProvider{ProviderARN: s.apiKeyProviderARN(c.Provider),
				CredentialLocation: c.Location, CredentialParameterName: c.ParameterName, CredentialPrefix: c.Prefix}
		case behalf.CredentialOAuth:
			scopes := c.Scopes
			if scopes == nil {
				scopes = []string{}
			}
			w.CredentialProvider.OAuth = &oauthCredentialProvider{ProviderARN: s.oauth2ProviderARN(c.Provider), Scopes: scopes,
				CustomParameters: c.CustomParameters, GrantType: c.GrantType, DefaultReturnURL: c.DefaultReturnURL}
		}
		out.CredentialProviderConfigurations = append(out.CredentialProviderConfigurations, w)
	}
	return out
}

func (s *Server) createTarget(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in targetIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	input, err := in.input()
	if err != nil {
		return 0, nil, err
	}
	t, err := s.Gateways.CreateGatewayTarget(ctx, req.PathValue("gatewayIdentifier"), input)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.targetOut(t), nil
}

func (s *Server) getTarget(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	t, err := s.Gateways.GetGatewayTarget(ctx, req.PathValue("gatewayIdentifier"), req.PathValue("targetId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.targetOut(t), nil
}

func (s *Server) updateTarget(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in targetIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if in.ClientToken != "" {
		return 0, nil, &parseError{msg: "Unknown field \"clientToken\"."}
	}
	input, err := in.input()
	if err != nil {
		return 0, nil, err
	}
	t, err := s.Gateways.UpdateGatewayTarget(ctx, req.PathValue("gatewayIdentifier"), req.PathValue("targetId"), input)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.targetOut(t), nil
}

func (s *Server) deleteTarget(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	t, err := s.Gateways.DeleteGatewayTarget(ctx, req.PathValue("gatewayIdentifier"), req.PathValue("targetId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, struct {
		GatewayARN string `json:"gatewayArn"`
		TargetID   string `json:"targetId"`
		Status     string `json:"status"`
	}{s.gatewayARN(t.GatewayID), t.ID, behalf.GatewayDeleting}, nil
}

func (s *Server) listTargets(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	p, err := pageQuery(req)
	if err != nil {
		return 0, nil, err
	}
	items, next, err := s.Gateways.ListGatewayTargets(ctx, req.PathValue("gatewayIdentifier"), p)
	if err != nil {
		return 0, nil, err
	}
	type item struct {
		TargetID    string  `json:"targetId"`
		Name        string  `json:"name"`
		Status      string  `json:"status"`
		Description string  `json:"description,omitempty"`
		CreatedAt   isoTime `json:"createdAt"`
		UpdatedAt   isoTime `json:"updatedAt"`
		TargetType  string  `json:"targetType"`
		// AgentCore's TargetSummary.
		LastSynchronizedAt *isoTime           `json:"lastSynchronizedAt,omitempty"`
		AuthorizationData  *authorizationData `json:"authorizationData,omitempty"`
	}
	out := struct {
		Items     []item `json:"items"`
		NextToken string `json:"nextToken,omitempty"`
	}{Items: []item{}, NextToken: next}
	for _, t := range items {
		out.Items = append(out.Items, item{t.ID, t.Name, t.Status, t.Description, isoTime(t.CreatedAt), isoTime(t.UpdatedAt), t.Kind,
			syncedAt(t), authorizationOf(t)})
	}
	return http.StatusOK, out, nil
}

func (s *Server) synchronizeTargets(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		TargetIDList []string `json:"targetIdList"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	ts, err := s.Gateways.SynchronizeGatewayTargets(ctx, req.PathValue("gatewayIdentifier"), in.TargetIDList)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Targets []targetOut `json:"targets"`
	}{Targets: []targetOut{}}
	for _, t := range ts {
		out.Targets = append(out.Targets, s.targetOut(t))
	}
	return http.StatusAccepted, out, nil
}
