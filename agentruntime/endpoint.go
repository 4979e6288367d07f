package agentruntime

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

// Versions and named endpoints. Every update of a runtime records a new
// version; the store keeps them all. The DEFAULT endpoint is not stored: it
// serves the latest version and cannot be changed or deleted. Named
// endpoints point at one version each until updated.

var _ behalf.AgentRuntimeVersionService = (*Service)(nil)

var versionPattern = regexp.MustCompile(`^[1-9][0-9]{0,4}$`)

// maxEndpointDescription is AgentCore's AgentEndpointDescription bound.
const maxEndpointDescription = 256

// errNoVersions is returned when the store keeps no versions.
var errNoVersions = errors.New("agentruntime: the store keeps no runtime versions or endpoints")

func (s *Service) versionStore() (behalf.AgentRuntimeVersionStore, behalf.AgentRuntimeEndpointStore, error) {
	v, ok1 := s.Store.(behalf.AgentRuntimeVersionStore)
	e, ok2 := s.Store.(behalf.AgentRuntimeEndpointStore)
	if !ok1 || !ok2 {
		return nil, nil, errNoVersions
	}
	return v, e, nil
}

// validateVersion checks a version number.
func validateVersion(v string) error {
	if !versionPattern.MatchString(v) {
		return behalf.Invalid("agentRuntimeVersion", "agentRuntimeVersion %q must be a version number (1 to 99999).", truncate(v, 20))
	}
	return nil
}

// validateEndpointName checks an endpoint name; field names it on the wire.
func validateEndpointName(field, name string) error {
	if !runtimeNamePattern.MatchString(name) {
		return behalf.Invalid(field, "%s must be 1 to 48 characters: a letter, then letters, digits or underscores ([a-zA-Z][a-zA-Z0-9_]{0,47}).", field)
	}
	return nil
}

// GetAgentRuntimeVersion returns one version of a runtime.
func (s *Service) GetAgentRuntimeVersion(ctx context.Context, id, version string) (*behalf.AgentRuntime, error) {
	if err := validateID(id); err != nil {
		return nil, err
	}
	if err := validateVersion(version); err != nil {
		return nil, err
	}
	vs, _, err := s.versionStore()
	if err != nil {
		return nil, err
	}
	cur, err := s.Store.GetAgentRuntime(ctx, id)
	if err != nil {
		return nil, err
	}
	if cur.Version == version {
		return cur, nil
	}
	return vs.GetAgentRuntimeVersion(ctx, cur.ID, version)
}

// ListAgentRuntimeVersions returns one page of a runtime's versions,
// oldest first.
func (s *Service) ListAgentRuntimeVersions(ctx context.Context, id string, p behalf.PageRequest) ([]*behalf.AgentRuntime, string, error) {
	if err := validateID(id); err != nil {
		return nil, "", err
	}
	opts, limit, err := p.Options(listMax)
	if err != nil {
		return nil, "", behalf.InvalidPage(err, listMax)
	}
	if opts.After != "" && !versionPattern.MatchString(opts.After) {
		return nil, "", behalf.Invalid("nextToken", "The pagination token is invalid.")
	}
	vs, _, err := s.versionStore()
	if err != nil {
		return nil, "", err
	}
	cur, err := s.Store.GetAgentRuntime(ctx, id)
	if err != nil {
		return nil, "", err
	}
	items, err := vs.ListAgentRuntimeVersions(ctx, cur.ID, opts)
	if err != nil {
		return nil, "", err
	}
	items, next := behalf.NextPage(items, limit, func(r *behalf.AgentRuntime) string { return r.Version })
	return items, next, nil
}

// checkEndpoint validates in's description and tags.
func checkEndpoint(in behalf.AgentRuntimeEndpointInput) error {
	if in.Description != nil && utf8.RuneCountInString(*in.Description) > maxEndpointDescription {
		return behalf.Invalid("description", "description must be at most %d characters long.", maxEndpointDescription)
	}
	if in.Version != "" {
		if err := validateVersion(in.Version); err != nil {
			return err
		}
	}
	return behalf.ValidateTags(in.Tags)
}

// targetVersion returns the version in asks for on rt: the latest when
// none; ENOTFOUND if rt has no such version.
func (s *Service) targetVersion(ctx context.Context, vs behalf.AgentRuntimeVersionStore, rt *behalf.AgentRuntime, version string) (string, error) {
	if version == "" || version == rt.Version {
		return rt.Version, nil
	}
	if _, err := vs.GetAgentRuntimeVersion(ctx, rt.ID, version); err != nil {
		if behalf.ErrorCode(err) == behalf.ENOTFOUND {
			return "", behalf.Errorf(behalf.ENOTFOUND, "Agent runtime %s has no version %s.", rt.ID, version)
		}
		return "", err
	}
	return version, nil
}

// CreateAgentRuntimeEndpoint creates a named endpoint, READY at once.
func (s *Service) CreateAgentRuntimeEndpoint(ctx context.Context, in behalf.AgentRuntimeEndpointInput) (*behalf.AgentRuntimeEndpoint, error) {
	if err := checkEndpoint(in); err != nil {
		return nil, err
	}
	rt, vs, es, err := s.endpointRuntime(ctx, in.RuntimeID, "name", in.Name)
	if err != nil {
		return nil, err
	}
	if in.Name == behalf.DefaultEndpoint {
		return nil, behalf.Errorf(behalf.ECONFLICT, "Agent runtime %s already has the endpoint %s.", rt.ID, behalf.DefaultEndpoint)
	}
	version, err := s.targetVersion(ctx, vs, rt, in.Version)
	if err != nil {
		return nil, err
	}
	now := s.now()
	e := &behalf.AgentRuntimeEndpoint{RuntimeID: rt.ID, Name: in.Name, Version: version, Tags: maps.Clone(in.Tags), CreatedAt: now, UpdatedAt: now}
	if len(e.Tags) == 0 {
		e.Tags = nil
	}
	if in.Description != nil {
		e.Description = *in.Description
	}
	if err := es.CreateAgentRuntimeEndpoint(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// GetAgentRuntimeEndpoint returns a named endpoint or DEFAULT.
func (s *Service) GetAgentRuntimeEndpoint(ctx context.Context, runtimeID, name string) (*behalf.AgentRuntimeEndpoint, error) {
	rt, _, es, err := s.endpointRuntime(ctx, runtimeID, "endpointName", name)
	if err != nil {
		return nil, err
	}
	if name == behalf.DefaultEndpoint {
		return behalf.DefaultRuntimeEndpoint(rt), nil
	}
	e, err := es.GetAgentRuntimeEndpoint(ctx, rt.ID, name)
	return e, noEndpoint(rt, name, err)
}

// UpdateAgentRuntimeEndpoint points a named endpoint at a version.
func (s *Service) UpdateAgentRuntimeEndpoint(ctx context.Context, in behalf.AgentRuntimeEndpointInput) (*behalf.AgentRuntimeEndpoint, error) {
	if err := checkEndpoint(in); err != nil {
		return nil, err
	}
	if in.Name == behalf.DefaultEndpoint {
		return nil, behalf.Invalid("endpointName", "The %s endpoint always serves the latest version and cannot be updated; create a named endpoint to pin a version.", behalf.DefaultEndpoint)
	}
	rt, vs, es, err := s.endpointRuntime(ctx, in.RuntimeID, "endpointName", in.Name)
	if err != nil {
		return nil, err
	}
	version, err := s.targetVersion(ctx, vs, rt, in.Version)
	if err != nil {
		return nil, err
	}
	now := s.now()
	e, err := es.UpdateAgentRuntimeEndpoint(ctx, rt.ID, in.Name, func(e *behalf.AgentRuntimeEndpoint) error {
		e.Version = version
		if in.Description != nil {
			e.Description = *in.Description
		}
		e.UpdatedAt = now
		return nil
	})
	return e, noEndpoint(rt, in.Name, err)
}

// DeleteAgentRuntimeEndpoint deletes a named endpoint.
func (s *Service) DeleteAgentRuntimeEndpoint(ctx context.Context, runtimeID, name string) (*behalf.AgentRuntimeEndpoint, error) {
	if name == behalf.DefaultEndpoint {
		return nil, behalf.Invalid("endpointName", "The %s endpoint cannot be deleted: it goes with the runtime.", behalf.DefaultEndpoint)
	}
	rt, _, es, err := s.endpointRuntime(ctx, runtimeID, "endpointName", name)
	if err != nil {
		return nil, err
	}
	e, err := es.DeleteAgentRuntimeEndpoint(ctx, rt.ID, name)
	return e, noEndpoint(rt, name, err)
}

// endpointRuntime checks a runtime id and an endpoint name (field is the
// name's member) and returns the runtime and the stores of its versions
// and endpoints.
func (s *Service) endpointRuntime(ctx context.Context, runtimeID, field, name string) (*behalf.AgentRuntime, behalf.AgentRuntimeVersionStore, behalf.AgentRuntimeEndpointStore, error) {
	if err := validateID(runtimeID); err != nil {
		return nil, nil, nil, err
	}
	if err := validateEndpointName(field, name); err != nil {
		return nil, nil, nil, err
	}
	vs, es, err := s.versionStore()
	if err != nil {
		return nil, nil, nil, err
	}
	rt, err := s.Store.GetAgentRuntime(ctx, runtimeID)
	if err != nil {
		return nil, nil, nil, err
	}
	return rt, vs, es, nil
}

// noEndpoint names the missing endpoint in the store's ENOTFOUND; other
// errors (and nil) are returned as they are.
func noEndpoint(rt *behalf.AgentRuntime, name string, err error) error {
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return behalf.Errorf(behalf.ENOTFOUND, "Agent runtime %s has no endpoint %q.", rt.ID, name)
	}
	return err
}

// ListAgentRuntimeEndpoints returns one page of a runtime's endpoints by
// name (byte order), DEFAULT in its place among them.
func (s *Service) ListAgentRuntimeEndpoints(ctx context.Context, runtimeID string, p behalf.PageRequest) ([]*behalf.AgentRuntimeEndpoint, string, error) {
	if err := validateID(runtimeID); err != nil {
		return nil, "", err
	}
	opts, limit, err := p.Options(listMax)
	if err != nil {
		return nil, "", behalf.InvalidPage(err, listMax)
	}
	_, es, err := s.versionStore()
	if err != nil {
		return nil, "", err
	}
	rt, err := s.Store.GetAgentRuntime(ctx, runtimeID)
	if err != nil {
		return nil, "", err
	}
	items, err := es.ListAgentRuntimeEndpoints(ctx, rt.ID, opts)
	if err != nil {
		return nil, "", err
	}
	// DEFAULT belongs on this page if it sorts after the token and before
	// the store's last item (or the store ran out).
	if behalf.DefaultEndpoint > opts.After && (len(items) < opts.Limit || behalf.DefaultEndpoint < items[len(items)-1].Name) {
		i := 0
		for i < len(items) && items[i].Name < behalf.DefaultEndpoint {
			i++
		}
		items = append(items[:i], append([]*behalf.AgentRuntimeEndpoint{behalf.DefaultRuntimeEndpoint(rt)}, items[i:]...)...)
		if len(items) > opts.Limit {
			items = items[:opts.Limit]
		}
	}
	items, next := behalf.NextPage(items, limit, func(e *behalf.AgentRuntimeEndpoint) string { return e.Name })
	return items, next, nil
}
