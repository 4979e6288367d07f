package identity

import (
	"context"
	"maps"

	"github.com/behalf-dev/behalf"
)

// TagStore is what Tags reads and changes: every store of a taggable
// resource.
type TagStore interface {
	behalf.WorkloadStore
	behalf.OAuth2ProviderStore
	behalf.APIKeyProviderStore
	behalf.AgentRuntimeStore
	behalf.AgentRuntimeEndpointStore
}

// Tags implements behalf.TagService over the resources' own records: a
// tag change is one read-modify-write of the resource (its other fields
// and its update time stay as they are).
type Tags struct {
	Store TagStore
}

var _ behalf.TagService = (*Tags)(nil)

// ListTags returns the resource's tags.
func (s *Tags) ListTags(ctx context.Context, t behalf.TagTarget) (map[string]string, error) {
	switch t.Kind {
	case behalf.TagAgentRuntime:
		r, err := s.Store.GetAgentRuntime(ctx, t.Name)
		if err != nil {
			return nil, err
		}
		return r.Tags, nil
	case behalf.TagAgentRuntimeEndpoint:
		if t.Endpoint == behalf.DefaultEndpoint {
			// DEFAULT has no record of its own, and no tags.
			_, err := s.Store.GetAgentRuntime(ctx, t.Name)
			return nil, err
		}
		e, err := s.Store.GetAgentRuntimeEndpoint(ctx, t.Name, t.Endpoint)
		if err != nil {
			return nil, err
		}
		return e.Tags, nil
	case behalf.TagWorkload:
		w, err := s.Store.GetWorkload(ctx, t.Name)
		if err != nil {
			return nil, err
		}
		return w.Tags, nil
	case behalf.TagOAuth2Provider:
		p, err := s.Store.GetOAuth2Provider(ctx, t.Name)
		if err != nil {
			return nil, err
		}
		return p.Tags, nil
	case behalf.TagAPIKeyProvider:
		p, err := s.Store.GetAPIKeyProvider(ctx, t.Name)
		if err != nil {
			return nil, err
		}
		return p.Tags, nil
	}
	return nil, behalf.Invalid("resourceArn", "Behalf cannot tag a resource of kind %q.", t.Kind)
}

// TagResource adds tags to the resource.
func (s *Tags) TagResource(ctx context.Context, t behalf.TagTarget, tags map[string]string) error {
	if err := behalf.ValidateTags(tags); err != nil {
		return err
	}
	return s.change(ctx, t, func(cur map[string]string) (map[string]string, error) {
		return behalf.MergeTags(cur, tags, nil)
	})
}

// UntagResource removes tag keys from the resource.
func (s *Tags) UntagResource(ctx context.Context, t behalf.TagTarget, keys []string) error {
	if err := behalf.ValidateTagKeys(keys); err != nil {
		return err
	}
	return s.change(ctx, t, func(cur map[string]string) (map[string]string, error) {
		return behalf.MergeTags(cur, nil, keys)
	})
}

// change replaces the resource's tags with edit's result, in one
// transaction of the resource's store.
func (s *Tags) change(ctx context.Context, t behalf.TagTarget, edit func(map[string]string) (map[string]string, error)) error {
	apply := func(tags *map[string]string) error {
		next, err := edit(maps.Clone(*tags))
		if err != nil {
			return err
		}
		*tags = next
		return nil
	}
	var err error
	switch t.Kind {
	case behalf.TagAgentRuntime:
		var r *behalf.AgentRuntime
		if r, err = s.Store.GetAgentRuntime(ctx, t.Name); err == nil {
			_, err = s.Store.UpdateAgentRuntime(ctx, r.ID, func(r *behalf.AgentRuntime) error { return apply(&r.Tags) })
		}
	case behalf.TagAgentRuntimeEndpoint:
		if t.Endpoint == behalf.DefaultEndpoint {
			return behalf.Invalid("resourceArn", "The %s endpoint has no tags of its own: tag the runtime, or a named endpoint.", behalf.DefaultEndpoint)
		}
		_, err = s.Store.UpdateAgentRuntimeEndpoint(ctx, t.Name, t.Endpoint, func(e *behalf.AgentRuntimeEndpoint) error { return apply(&e.Tags) })
	case behalf.TagWorkload:
		_, err = s.Store.UpdateWorkload(ctx, t.Name, func(w *behalf.WorkloadIdentity) error { return apply(&w.Tags) })
	case behalf.TagOAuth2Provider:
		_, err = s.Store.UpdateOAuth2Provider(ctx, t.Name, func(p *behalf.OAuth2Provider) error { return apply(&p.Tags) })
	case behalf.TagAPIKeyProvider:
		_, err = s.Store.UpdateAPIKeyProvider(ctx, t.Name, func(p *behalf.APIKeyProvider) error { return apply(&p.Tags) })
	default:
		return behalf.Invalid("resourceArn", "Behalf cannot tag a resource of kind %q.", t.Kind)
	}
	return err
}
