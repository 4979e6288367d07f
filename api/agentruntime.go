package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/behalf-dev/behalf"
)

// The agent-runtime control plane (bedrock-agentcore-control): restJson1
// with the runtime id in the path, list paging in the query, and iso8601
// (date-time) timestamps, unlike the identity operations' epoch seconds.

// isoTime is a timestamp in date-time (RFC 3339) format.
type isoTime time.Time

// MarshalJSON writes UTC with millisecond precision, as AgentCore does.
func (t isoTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

func isoPtr(t time.Time) *isoTime { v := isoTime(t); return &v }

// AgentCore's lifecycle defaults, reported when a runtime sets none.
const (
	defaultIdleTimeout = 900
	defaultMaxLifetime = 28800
)

// Wire shapes.

type runtimeArtifact struct {
	ContainerConfiguration *struct {
		ContainerURI string `json:"containerUri"`
	} `json:"containerConfiguration,omitempty"`
	CodeConfiguration json.RawMessage `json:"codeConfiguration,omitempty"`
}

type claimMatchValue struct {
	MatchValueString     *string  `json:"matchValueString,omitempty"`
	MatchValueStringList []string `json:"matchValueStringList,omitempty"`
}

type customClaim struct {
	InboundTokenClaimName      string `json:"inboundTokenClaimName"`
	InboundTokenClaimValueType string `json:"inboundTokenClaimValueType"`
	AuthorizingClaimMatchValue struct {
		ClaimMatchOperator string          `json:"claimMatchOperator"`
		ClaimMatchValue    claimMatchValue `json:"claimMatchValue"`
	} `json:"authorizingClaimMatchValue"`
}

type customJWTAuthorizer struct {
	DiscoveryURL    string        `json:"discoveryUrl"`
	AllowedAudience []string      `json:"allowedAudience,omitempty"`
	AllowedClients  []string      `json:"allowedClients,omitempty"`
	AllowedScopes   []string      `json:"allowedScopes,omitempty"`
	CustomClaims    []customClaim `json:"customClaims,omitempty"`

	// Accepted by the model, refused by Behalf.
	AdvertisedScopeMapping       json.RawMessage `json:"advertisedScopeMapping,omitempty"`
	AllowedWorkloadConfiguration json.RawMessage `json:"allowedWorkloadConfiguration,omitempty"`
	PrivateEndpoint              json.RawMessage `json:"privateEndpoint,omitempty"`
	PrivateEndpointOverrides     json.RawMessage `json:"privateEndpointOverrides,omitempty"`
}

type authorizerConfiguration struct {
	CustomJWTAuthorizer *customJWTAuthorizer `json:"customJWTAuthorizer,omitempty"`
}

type requestHeaderConfiguration struct {
	RequestHeaderAllowlist []string `json:"requestHeaderAllowlist"`
}

type networkConfiguration struct {
	NetworkMode       string          `json:"networkMode"`
	NetworkModeConfig json.RawMessage `json:"networkModeConfig,omitempty"`
}

type protocolConfiguration struct {
	ServerProtocol string `json:"serverProtocol"`
	Path           string `json:"path,omitempty"`
	Port           *int   `json:"port,omitempty"`
}

type lifecycleConfiguration struct {
	IdleRuntimeSessionTimeout *int `json:"idleRuntimeSessionTimeout,omitempty"`
	MaxLifetime               *int `json:"maxLifetime,omitempty"`
}

// runtimeIn is the body of CreateAgentRuntime and UpdateAgentRuntime.
type runtimeIn struct {
	AgentRuntimeName           string                      `json:"agentRuntimeName"` // create only
	AgentRuntimeArtifact       *runtimeArtifact            `json:"agentRuntimeArtifact"`
	RoleARN                    string                      `json:"roleArn"`
	Description                *string                     `json:"description"`
	AuthorizerConfiguration    *authorizerConfiguration    `json:"authorizerConfiguration"`
	RequestHeaderConfiguration *requestHeaderConfiguration `json:"requestHeaderConfiguration"`
	NetworkConfiguration       *networkConfiguration       `json:"networkConfiguration"`
	ProtocolConfiguration      *protocolConfiguration      `json:"protocolConfiguration"`
	LifecycleConfiguration     *lifecycleConfiguration     `json:"lifecycleConfiguration"`
	EnvironmentVariables       map[string]string           `json:"environmentVariables"`
	Tags                       map[string]string           `json:"tags"` // create only
	ClientToken                string                      `json:"clientToken"`
	PlatformVersion            string                      `json:"platformVersion"`

	// Accepted and ignored: there is no microVM whose metadata service it
	// could configure.
	MetadataConfiguration json.RawMessage `json:"metadataConfiguration"`

	// Accepted by the model, refused by Behalf (it runs no compute).
	AllowedPorts                  json.RawMessage `json:"allowedPorts"`
	CapacityProviderConfiguration json.RawMessage `json:"capacityProviderConfiguration"`
	FilesystemConfigurations      json.RawMessage `json:"filesystemConfigurations"`
	HooksConfiguration            json.RawMessage `json:"hooksConfiguration"`
	ResourceConfigurations        json.RawMessage `json:"resourceConfigurations"`
}

// unsupported returns the first field of in that Behalf refuses.
func (in *runtimeIn) unsupported() error {
	refuse := map[string]json.RawMessage{
		"allowedPorts":                  in.AllowedPorts,
		"capacityProviderConfiguration": in.CapacityProviderConfiguration,
		"filesystemConfigurations":      in.FilesystemConfigurations,
		"hooksConfiguration":            in.HooksConfiguration,
		"resourceConfigurations":        in.ResourceConfigurations,
	}
	if a := in.AuthorizerConfiguration; a != nil && a.CustomJWTAuthorizer != nil {
		j := a.CustomJWTAuthorizer
		refuse["authorizerConfiguration.customJWTAuthorizer.advertisedScopeMapping"] = j.AdvertisedScopeMapping
		refuse["authorizerConfiguration.customJWTAuthorizer.allowedWorkloadConfiguration"] = j.AllowedWorkloadConfiguration
		refuse["authorizerConfiguration.customJWTAuthorizer.privateEndpoint"] = j.PrivateEndpoint
		refuse["authorizerConfiguration.customJWTAuthorizer.privateEndpointOverrides"] = j.PrivateEndpointOverrides
	}
	if n := in.NetworkConfiguration; n != nil {
		refuse["networkConfiguration.networkModeConfig"] = n.NetworkModeConfig
	}
	for _, f := range []string{
		"allowedPorts", "capacityProviderConfiguration", "filesystemConfigurations", "hooksConfiguration",
		"resourceConfigurations",
		"authorizerConfiguration.customJWTAuthorizer.advertisedScopeMapping",
		"authorizerConfiguration.customJWTAuthorizer.allowedWorkloadConfiguration",
		"authorizerConfiguration.customJWTAuthorizer.privateEndpoint",
		"authorizerConfiguration.customJWTAuthorizer.privateEndpointOverrides",
		"networkConfiguration.networkModeConfig",
	} {
		if v := refuse[f]; len(v) > 0 && string(v) != "null" {
			return behalf.Invalid(f, "Behalf does not support %s: it runs no compute of its own and fronts an agent that is already running.", f)
		}
	}
	return nil
}

// input converts the wire request to a service input.
func (in *runtimeIn) input() (behalf.AgentRuntimeInput, error) {
	if err := in.unsupported(); err != nil {
		return behalf.AgentRuntimeInput{}, err
	}
	out := behalf.AgentRuntimeInput{
		Name:        in.AgentRuntimeName,
		RoleARN:     in.RoleARN,
		Environment: in.EnvironmentVariables,
		Tags:        in.Tags,
	}
	if in.Description != nil {
		out.Description = *in.Description
	}
	switch a := in.AgentRuntimeArtifact; {
	case a == nil:
		return out, behalf.Invalid("agentRuntimeArtifact", "agentRuntimeArtifact.containerConfiguration.containerUri is required: the http(s) URL of the running agent.")
	case len(a.CodeConfiguration) > 0 && string(a.CodeConfiguration) != "null":
		return out, behalf.Invalid("agentRuntimeArtifact.codeConfiguration", "Behalf runs no code: give agentRuntimeArtifact.containerConfiguration.containerUri, the http(s) URL of an agent that is already running.")
	case a.ContainerConfiguration == nil:
		return out, behalf.Invalid("agentRuntimeArtifact", "agentRuntimeArtifact.containerConfiguration.containerUri is required: the http(s) URL of the running agent.")
	default:
		out.ContainerURI = a.ContainerConfiguration.ContainerURI
	}
	if n := in.NetworkConfiguration; n != nil && n.NetworkMode != "PUBLIC" {
		return out, behalf.Invalid("networkConfiguration.networkMode", "Behalf supports only networkMode PUBLIC: it reaches the agent at its containerUri.")
	}
	if p := in.ProtocolConfiguration; p != nil {
		if p.ServerProtocol == "" {
			return out, behalf.Invalid("protocolConfiguration.serverProtocol", "protocolConfiguration.serverProtocol is required.")
		}
		out.Protocol, out.ProtocolPath = p.ServerProtocol, p.Path
		// port is ignored: the agent's port is part of its containerUri.
	}
	if l := in.LifecycleConfiguration; l != nil {
		if l.IdleRuntimeSessionTimeout != nil {
			out.IdleSessionTimeout = *l.IdleRuntimeSessionTimeout
			if out.IdleSessionTimeout == 0 {
				out.IdleSessionTimeout = -1 // refused: 0 is not a timeout
			}
		}
		if l.MaxLifetime != nil {
			out.MaxLifetime = *l.MaxLifetime
			if out.MaxLifetime == 0 {
				out.MaxLifetime = -1
			}
		}
	}
	if h := in.RequestHeaderConfiguration; h != nil {
		out.HeaderAllowlist = h.RequestHeaderAllowlist
	}
	if a := in.AuthorizerConfiguration; a != nil {
		j := a.CustomJWTAuthorizer
		if j == nil {
			return out, behalf.Invalid("authorizerConfiguration", "authorizerConfiguration must hold customJWTAuthorizer (omit it for SigV4).")
		}
		authz, err := jwtAuthorizerIn(j)
		if err != nil {
			return out, err
		}
		out.Authorizer = authz
	}
	return out, nil
}

type workloadIdentityDetails struct {
	WorkloadIdentityARN string `json:"workloadIdentityArn"`
}

// runtimeOut is GetAgentRuntime's response; Create, Update and Delete
// send subsets of it.
type runtimeOut struct {
	AgentRuntimeARN            string                      `json:"agentRuntimeArn,omitempty"`
	AgentRuntimeID             string                      `json:"agentRuntimeId"`
	AgentRuntimeName           string                      `json:"agentRuntimeName,omitempty"`
	AgentRuntimeVersion        string                      `json:"agentRuntimeVersion"`
	Description                *string                     `json:"description,omitempty"`
	CreatedAt                  *isoTime                    `json:"createdAt,omitempty"`
	LastUpdatedAt              *isoTime                    `json:"lastUpdatedAt,omitempty"`
	Status                     string                      `json:"status"`
	RoleARN                    string                      `json:"roleArn,omitempty"`
	AgentRuntimeArtifact       *runtimeArtifact            `json:"agentRuntimeArtifact,omitempty"`
	AuthorizerConfiguration    *authorizerConfiguration    `json:"authorizerConfiguration,omitempty"`
	RequestHeaderConfiguration *requestHeaderConfiguration `json:"requestHeaderConfiguration,omitempty"`
	NetworkConfiguration       *networkConfiguration       `json:"networkConfiguration,omitempty"`
	ProtocolConfiguration      *protocolConfiguration      `json:"protocolConfiguration,omitempty"`
	LifecycleConfiguration     *lifecycleConfiguration     `json:"lifecycleConfiguration,omitempty"`
	EnvironmentVariables       map[string]string           `json:"environmentVariables,omitempty"`
	WorkloadIdentityDetails    *workloadIdentityDetails    `json:"workloadIdentityDetails,omitempty"`
}

func (s *Server) runtimeARN(id string) string {
	return behalf.AgentRuntimeARN(s.Region, s.Account, id)
}

func (s *Server) runtimeEndpointARN(id, endpoint string) string {
	return s.runtimeARN(id) + "/runtime-endpoint/" + endpoint
}

// summaryOut is what Create and Update return.
func (s *Server) summaryOut(r *behalf.AgentRuntime) runtimeOut {
	return runtimeOut{
		AgentRuntimeARN:         s.runtimeARN(r.ID),
		AgentRuntimeID:          r.ID,
		AgentRuntimeVersion:     r.Version,
		CreatedAt:               isoPtr(r.CreatedAt),
		Status:                  r.Status,
		WorkloadIdentityDetails: &workloadIdentityDetails{s.workloadARN(r.Workload)},
	}
}

// fullOut is GetAgentRuntime's response.
func (s *Server) fullOut(r *behalf.AgentRuntime) runtimeOut {
	out := s.summaryOut(r)
	out.AgentRuntimeName = r.Name
	if r.Description != "" {
		out.Description = &r.Description
	}
	out.LastUpdatedAt = isoPtr(r.UpdatedAt)
	out.RoleARN = r.RoleARN
	art := &runtimeArtifact{ContainerConfiguration: &struct {
		ContainerURI string `json:"containerUri"`
	}{r.ContainerURI}}
	out.AgentRuntimeArtifact = art
	out.AuthorizerConfiguration = jwtAuthorizerOut(r.Authorizer)
	if len(r.HeaderAllowlist) > 0 {
		out.RequestHeaderConfiguration = &requestHeaderConfiguration{RequestHeaderAllowlist: r.HeaderAllowlist}
	}
	out.NetworkConfiguration = &networkConfiguration{NetworkMode: "PUBLIC"}
	out.ProtocolConfiguration = &protocolConfiguration{ServerProtocol: r.Protocol, Path: r.ProtocolPath}
	idle, maxLife := r.IdleSessionTimeout, r.MaxLifetime
	if idle == 0 {
		idle = defaultIdleTimeout
	}
	if maxLife == 0 {
		maxLife = defaultMaxLifetime
	}
	out.LifecycleConfiguration = &lifecycleConfiguration{IdleRuntimeSessionTimeout: &idle, MaxLifetime: &maxLife}
	if len(r.Environment) > 0 || r.CallbackURL != "" {
		out.EnvironmentVariables = map[string]string{}
		for k, v := range r.Environment {
			out.EnvironmentVariables[k] = v
		}
		if r.CallbackURL != "" {
			out.EnvironmentVariables[behalf.CallbackURLEnv] = r.CallbackURL
		}
	}
	return out
}

// runtimeFor loads the runtime the path names, at the version the query
// parameter names (the latest when none).
func (s *Server) runtimeFor(ctx context.Context, r *http.Request) (*behalf.AgentRuntime, error) {
	if v := r.URL.Query().Get("version"); v != "" {
		return s.Runtimes.GetAgentRuntimeVersion(ctx, r.PathValue("agentRuntimeId"), v)
	}
	return s.Runtimes.GetAgentRuntime(ctx, r.PathValue("agentRuntimeId"))
}

func (s *Server) createRuntime(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in runtimeIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	input, err := in.input()
	if err != nil {
		return 0, nil, err
	}
	rt, err := s.Runtimes.CreateAgentRuntime(ctx, input)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.summaryOut(rt), nil
}

func (s *Server) getRuntime(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	rt, err := s.runtimeFor(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.fullOut(rt), nil
}

func (s *Server) updateRuntime(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in runtimeIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if in.AgentRuntimeName != "" {
		return 0, nil, &parseError{msg: "Unknown field \"agentRuntimeName\"."}
	}
	if in.Tags != nil {
		return 0, nil, &parseError{msg: "Unknown field \"tags\"."}
	}
	input, err := in.input()
	if err != nil {
		return 0, nil, err
	}
	cur, err := s.Runtimes.GetAgentRuntime(ctx, req.PathValue("agentRuntimeId"))
	if err != nil {
		return 0, nil, err
	}
	input.Tags = cur.Tags // tags are not part of UpdateAgentRuntime
	rt, err := s.Runtimes.UpdateAgentRuntime(ctx, cur.ID, input)
	if err != nil {
		return 0, nil, err
	}
	out := s.summaryOut(rt)
	out.LastUpdatedAt = isoPtr(rt.UpdatedAt)
	return http.StatusAccepted, out, nil
}

func (s *Server) deleteRuntime(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	cur, err := s.Runtimes.GetAgentRuntime(ctx, req.PathValue("agentRuntimeId"))
	if err != nil {
		return 0, nil, err
	}
	if v := req.URL.Query().Get("version"); v != "" && v != cur.Version {
		// Behalf deletes whole runtimes; an older version goes with it.
		return 0, nil, behalf.Invalid("agentRuntimeVersion", "Behalf deletes a runtime with all its versions: give no version, or the latest (%s).", cur.Version)
	}
	rt, err := s.Runtimes.DeleteAgentRuntime(ctx, cur.ID)
	if err != nil {
		return 0, nil, err
	}
	// The runtime and its workload identity are gone already; DELETING is
	// what AgentCore answers.
	return http.StatusAccepted, runtimeOut{AgentRuntimeID: rt.ID, AgentRuntimeVersion: rt.Version, Status: behalf.RuntimeDeleting}, nil
}

// pageQuery reads maxResults and nextToken from the query string.
func pageQuery(r *http.Request) (behalf.PageRequest, error) {
	q := r.URL.Query()
	p := behalf.PageRequest{NextToken: q.Get("nextToken")}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, behalf.Invalid("maxResults", "maxResults must be a number.")
		}
		if n == 0 {
			n = -1 // 0 is out of range, not "the default"
		}
		p.MaxResults = n
	}
	return p, nil
}

func (s *Server) listRuntimes(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	if err := decode(body, &struct{}{}); err != nil {
		return 0, nil, err
	}
	p, err := pageQuery(req)
	if err != nil {
		return 0, nil, err
	}
	items, next, err := s.Runtimes.ListAgentRuntimes(ctx, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.runtimeList(items, next), nil
}

// runtimeItem is AgentCore's AgentRuntime, an item of ListAgentRuntimes
// and ListAgentRuntimeVersions.
type runtimeItem struct {
	ARN           string  `json:"agentRuntimeArn"`
	ID            string  `json:"agentRuntimeId"`
	Name          string  `json:"agentRuntimeName"`
	Version       string  `json:"agentRuntimeVersion"`
	Description   string  `json:"description"`
	LastUpdatedAt isoTime `json:"lastUpdatedAt"`
	Status        string  `json:"status"`
}

type runtimeListOut struct {
	Items     []runtimeItem `json:"agentRuntimes"`
	NextToken string        `json:"nextToken,omitempty"`
}

func (s *Server) runtimeList(items []*behalf.AgentRuntime, next string) runtimeListOut {
	out := runtimeListOut{Items: []runtimeItem{}, NextToken: next}
	for _, rt := range items {
		out.Items = append(out.Items, runtimeItem{s.runtimeARN(rt.ID), rt.ID, rt.Name, rt.Version, rt.Description, isoTime(rt.UpdatedAt), rt.Status})
	}
	return out
}

func (s *Server) listRuntimeVersions(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	if err := decode(body, &struct{}{}); err != nil {
		return 0, nil, err
	}
	p, err := pageQuery(req)
	if err != nil {
		return 0, nil, err
	}
	items, next, err := s.Runtimes.ListAgentRuntimeVersions(ctx, req.PathValue("agentRuntimeId"), p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.runtimeList(items, next), nil
}

// endpointOut is AgentCore's AgentRuntimeEndpoint (GetAgentRuntimeEndpoint,
// an item of ListAgentRuntimeEndpoints). Behalf switches versions at once:
// liveVersion and targetVersion are the same.
type endpointOut struct {
	AgentRuntimeARN         string  `json:"agentRuntimeArn"`
	AgentRuntimeEndpointARN string  `json:"agentRuntimeEndpointArn"`
	CreatedAt               isoTime `json:"createdAt"`
	ID                      string  `json:"id"`
	LastUpdatedAt           isoTime `json:"lastUpdatedAt"`
	Name                    string  `json:"name"`
	Status                  string  `json:"status"`
	Description             string  `json:"description,omitempty"`
	LiveVersion             string  `json:"liveVersion,omitempty"`
	TargetVersion           string  `json:"targetVersion,omitempty"`
}

func (s *Server) endpointOut(e *behalf.AgentRuntimeEndpoint) endpointOut {
	return endpointOut{
		AgentRuntimeARN:         s.runtimeARN(e.RuntimeID),
		AgentRuntimeEndpointARN: s.runtimeEndpointARN(e.RuntimeID, e.Name),
		CreatedAt:               isoTime(e.CreatedAt),
		ID:                      e.Name,
		LastUpdatedAt:           isoTime(e.UpdatedAt),
		Name:                    e.Name,
		Status:                  behalf.RuntimeReady,
		Description:             e.Description,
		LiveVersion:             e.Version,
		TargetVersion:           e.Version,
	}
}

// endpointIn is the body of CreateAgentRuntimeEndpoint (name, tags) and
// UpdateAgentRuntimeEndpoint.
type endpointIn struct {
	Name                string            `json:"name"`
	AgentRuntimeVersion string            `json:"agentRuntimeVersion"`
	Description         *string           `json:"description"`
	ClientToken         string            `json:"clientToken"`
	Tags                map[string]string `json:"tags"`
}

func (s *Server) createRuntimeEndpoint(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in endpointIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	e, err := s.Runtimes.CreateAgentRuntimeEndpoint(ctx, behalf.AgentRuntimeEndpointInput{
		RuntimeID: req.PathValue("agentRuntimeId"), Name: in.Name, Version: in.AgentRuntimeVersion,
		Description: in.Description, Tags: in.Tags,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, struct {
		TargetVersion           string  `json:"targetVersion"`
		AgentRuntimeEndpointARN string  `json:"agentRuntimeEndpointArn"`
		AgentRuntimeARN         string  `json:"agentRuntimeArn"`
		AgentRuntimeID          string  `json:"agentRuntimeId"`
		EndpointName            string  `json:"endpointName"`
		Status                  string  `json:"status"`
		CreatedAt               isoTime `json:"createdAt"`
	}{e.Version, s.runtimeEndpointARN(e.RuntimeID, e.Name), s.runtimeARN(e.RuntimeID), e.RuntimeID, e.Name, behalf.RuntimeReady, isoTime(e.CreatedAt)}, nil
}

func (s *Server) getRuntimeEndpoint(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	e, err := s.Runtimes.GetAgentRuntimeEndpoint(ctx, req.PathValue("agentRuntimeId"), req.PathValue("endpointName"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.endpointOut(e), nil
}

func (s *Server) updateRuntimeEndpoint(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in endpointIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if in.Name != "" {
		return 0, nil, &parseError{msg: "Unknown field \"name\"."}
	}
	if in.Tags != nil {
		return 0, nil, &parseError{msg: "Unknown field \"tags\"."}
	}
	e, err := s.Runtimes.UpdateAgentRuntimeEndpoint(ctx, behalf.AgentRuntimeEndpointInput{
		RuntimeID: req.PathValue("agentRuntimeId"), Name: req.PathValue("endpointName"),
		Version: in.AgentRuntimeVersion, Description: in.Description,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, struct {
		LiveVersion             string  `json:"liveVersion"`
		TargetVersion           string  `json:"targetVersion"`
		AgentRuntimeEndpointARN string  `json:"agentRuntimeEndpointArn"`
		AgentRuntimeARN         string  `json:"agentRuntimeArn"`
		Status                  string  `json:"status"`
		CreatedAt               isoTime `json:"createdAt"`
		LastUpdatedAt           isoTime `json:"lastUpdatedAt"`
	}{e.Version, e.Version, s.runtimeEndpointARN(e.RuntimeID, e.Name), s.runtimeARN(e.RuntimeID), behalf.RuntimeReady, isoTime(e.CreatedAt), isoTime(e.UpdatedAt)}, nil
}

func (s *Server) deleteRuntimeEndpoint(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	e, err := s.Runtimes.DeleteAgentRuntimeEndpoint(ctx, req.PathValue("agentRuntimeId"), req.PathValue("endpointName"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, struct {
		Status         string `json:"status"`
		AgentRuntimeID string `json:"agentRuntimeId"`
		EndpointName   string `json:"endpointName"`
	}{behalf.RuntimeDeleting, e.RuntimeID, e.Name}, nil
}

func (s *Server) listRuntimeEndpoints(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	if err := decode(body, &struct{}{}); err != nil {
		return 0, nil, err
	}
	p, err := pageQuery(req)
	if err != nil {
		return 0, nil, err
	}
	items, next, err := s.Runtimes.ListAgentRuntimeEndpoints(ctx, req.PathValue("agentRuntimeId"), p)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Items     []endpointOut `json:"runtimeEndpoints"`
		NextToken string        `json:"nextToken,omitempty"`
	}{Items: []endpointOut{}, NextToken: next}
	for _, e := range items {
		out.Items = append(out.Items, s.endpointOut(e))
	}
	return http.StatusOK, out, nil
}
