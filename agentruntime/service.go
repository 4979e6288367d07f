package agentruntime

import (
	"context"
	"maps"
	"net"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/internal/safehttp"
)

// Service implements behalf.AgentRuntimeService.
type Service struct {
	Store behalf.AgentRuntimeStore
	// AllowPrivate permits http and loopback/private hosts in containerUri
	// and discoveryUrl (serve --allow-private-endpoints).
	AllowPrivate bool
	// Resolver, when set, looks up the hosts of http URLs allowed by
	// AllowPrivate (nil: the system's resolver).
	Resolver *net.Resolver
	// Now replaces the clock (tests).
	Now func() time.Time
}

var _ behalf.AgentRuntimeService = (*Service)(nil)

// listMax is the largest (and default) ListAgentRuntimes page.
const listMax = 100

// urlPolicy is the SSRF guard's rule for the URLs of runtimes.
func (s *Service) urlPolicy() safehttp.Options {
	return safehttp.Options{AllowPrivate: s.AllowPrivate, Resolver: s.Resolver}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// config is a validated AgentRuntimeInput, in the record's terms.
type config struct {
	containerURI string
	callbackURL  string
	environment  map[string]string
	protocol     string
}

// check validates in (all but the name) and normalizes it.
func (s *Service) check(in behalf.AgentRuntimeInput) (config, error) {
	var c config
	if utf8.RuneCountInString(in.Description) > maxDescription {
		return c, behalf.Invalid("description", "description must be at most %d characters long.", maxDescription)
	}
	uri, err := checkContainerURI(in.ContainerURI, s.urlPolicy())
	if err != nil {
		return c, err
	}
	c.containerURI = uri
	c.protocol = in.Protocol
	if c.protocol == "" {
		c.protocol = behalf.ProtocolHTTP
	}
	if err := validateProtocol(c.protocol, in.ProtocolPath); err != nil {
		return c, err
	}
	if in.RoleARN != "" && (len(in.RoleARN) > 2048 || !roleARNPattern.MatchString(in.RoleARN)) {
		return c, behalf.Invalid("roleArn", "roleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>).")
	}
	if err := validateAuthorizer(in.Authorizer, s.urlPolicy()); err != nil {
		return c, err
	}
	if err := validateHeaders(in.HeaderAllowlist, in.Authorizer != nil); err != nil {
		return c, err
	}
	if err := validateEnvironment(in.Environment); err != nil {
		return c, err
	}
	c.callbackURL = in.CallbackURL
	if v, ok := in.Environment[behalf.CallbackURLEnv]; ok {
		if c.callbackURL != "" && c.callbackURL != v {
			return c, behalf.Invalid("environmentVariables."+behalf.CallbackURLEnv, "The callback URL is given twice, with different values.")
		}
		c.callbackURL = v
	}
	if err := validateCallbackURL(c.callbackURL); err != nil {
		return c, err
	}
	c.environment = maps.Clone(in.Environment)
	delete(c.environment, behalf.CallbackURLEnv)
	if len(c.environment) == 0 {
		c.environment = nil
	}
	if err := validateLifecycle(in.IdleSessionTimeout, in.MaxLifetime); err != nil {
		return c, err
	}
	if err := behalf.ValidateTags(in.Tags); err != nil {
		return c, err
	}
	return c, nil
}

// apply sets r's configuration from in and c.
func apply(r *behalf.AgentRuntime, in behalf.AgentRuntimeInput, c config) {
	r.Description = in.Description
	r.ContainerURI = c.containerURI
	r.Protocol = c.protocol
	r.ProtocolPath = in.ProtocolPath
	r.RoleARN = in.RoleARN
	r.Authorizer = cloneAuthorizer(in.Authorizer)
	r.HeaderAllowlist = slices.Clone(in.HeaderAllowlist)
	if len(r.HeaderAllowlist) == 0 {
		r.HeaderAllowlist = nil
	}
	r.CallbackURL = c.callbackURL
	r.Environment = c.environment
	r.IdleSessionTimeout = in.IdleSessionTimeout
	r.MaxLifetime = in.MaxLifetime
	r.Tags = maps.Clone(in.Tags)
	if len(r.Tags) == 0 {
		r.Tags = nil
	}
}

// CreateAgentRuntime creates a runtime, READY at once, and its workload
// identity, in one transaction. The runtime's id is "<name>-<10 random
// characters>" and its workload identity has the same name, as in AWS, so
// GetWorkloadIdentity(agentRuntimeId) finds it. (Runtimes created before
// this keep the differently named workload identity recorded in
// AgentRuntime.Workload: their users' grants are stored under that name.)
func (s *Service) CreateAgentRuntime(ctx context.Context, in behalf.AgentRuntimeInput) (*behalf.AgentRuntime, error) {
	if err := validateName(in.Name); err != nil {
		return nil, err
	}
	c, err := s.check(in)
	if err != nil {
		return nil, err
	}
	now := s.now()
	id := in.Name + "-" + randid.Alnum(10)
	r := &behalf.AgentRuntime{
		ID:        id,
		Name:      in.Name,
		Workload:  id,
		Status:    behalf.RuntimeReady,
		Version:   "1",
		CreatedAt: now,
		UpdatedAt: now,
	}
	apply(r, in, c)
	w := &behalf.WorkloadIdentity{Name: r.Workload, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateAgentRuntime(ctx, r, w); err != nil {
		return nil, err
	}
	return r, nil
}

// GetAgentRuntime returns a runtime by id (or name).
func (s *Service) GetAgentRuntime(ctx context.Context, id string) (*behalf.AgentRuntime, error) {
	if err := validateID(id); err != nil {
		return nil, err
	}
	return s.Store.GetAgentRuntime(ctx, id)
}

// UpdateAgentRuntime replaces a runtime's configuration (every field of in
// but Name) and bumps its version. The runtime stays READY.
func (s *Service) UpdateAgentRuntime(ctx context.Context, id string, in behalf.AgentRuntimeInput) (*behalf.AgentRuntime, error) {
	if err := validateID(id); err != nil {
		return nil, err
	}
	c, err := s.check(in)
	if err != nil {
		return nil, err
	}
	// The store updates by id; resolve a name first.
	cur, err := s.Store.GetAgentRuntime(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return s.Store.UpdateAgentRuntime(ctx, cur.ID, func(r *behalf.AgentRuntime) error {
		apply(r, in, c)
		n, err := strconv.Atoi(r.Version)
		if err != nil {
			n = 0
		}
		r.Version = strconv.Itoa(n + 1)
		r.Status = behalf.RuntimeReady
		r.UpdatedAt = now
		return nil
	})
}

// DeleteAgentRuntime deletes a runtime and its workload identity.
func (s *Service) DeleteAgentRuntime(ctx context.Context, id string) (*behalf.AgentRuntime, error) {
	if err := validateID(id); err != nil {
		return nil, err
	}
	cur, err := s.Store.GetAgentRuntime(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.Store.DeleteAgentRuntime(ctx, cur.ID)
}

// ListAgentRuntimes returns one page of runtimes, by id.
func (s *Service) ListAgentRuntimes(ctx context.Context, p behalf.PageRequest) ([]*behalf.AgentRuntime, string, error) {
	return behalf.ListPage(p, listMax, func(o behalf.ListOptions) ([]*behalf.AgentRuntime, error) { return s.Store.ListAgentRuntimes(ctx, o) },
		func(r *behalf.AgentRuntime) string { return r.ID })
}

// cloneAuthorizer deep-copies a, normalizing empty lists to nil.
func cloneAuthorizer(a *behalf.JWTAuthorizer) *behalf.JWTAuthorizer {
	if a == nil {
		return nil
	}
	nilIfEmpty := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return slices.Clone(s)
	}
	out := &behalf.JWTAuthorizer{
		DiscoveryURL:    a.DiscoveryURL,
		AllowedClients:  nilIfEmpty(a.AllowedClients),
		AllowedAudience: nilIfEmpty(a.AllowedAudience),
		AllowedScopes:   nilIfEmpty(a.AllowedScopes),
	}
	for _, c := range a.CustomClaims {
		c.Values = nilIfEmpty(c.Values)
		out.CustomClaims = append(out.CustomClaims, c)
	}
	return out
}
