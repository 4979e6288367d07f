package api

import (
	"context"
	"net/http"

	"github.com/behalf-dev/behalf"
)

// TagResource, UntagResource and ListTagsForResource
// (bedrock-agentcore-control): the resource's ARN is the path's one label.

func (s *Server) tagService() (behalf.TagService, error) {
	if s.Tags == nil {
		return nil, behalf.Errorf(behalf.EINVALID, "This server does not serve tags.")
	}
	return s.Tags, nil
}

func (s *Server) tagResource(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if in.Tags == nil {
		return 0, nil, behalf.Invalid("tags", "tags is required.")
	}
	tags, err := s.tagService()
	if err != nil {
		return 0, nil, err
	}
	t, err := s.tagTarget(req.PathValue("resourceArn"))
	if err != nil {
		return 0, nil, err
	}
	if err := tags.TagResource(ctx, t, in.Tags); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) untagResource(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	if err := decode(body, &struct{}{}); err != nil {
		return 0, nil, err
	}
	q := req.URL.Query()
	keys, ok := q["tagKeys"]
	if !ok {
		return 0, nil, behalf.Invalid("tagKeys", "tagKeys is required.")
	}
	tags, err := s.tagService()
	if err != nil {
		return 0, nil, err
	}
	t, err := s.tagTarget(req.PathValue("resourceArn"))
	if err != nil {
		return 0, nil, err
	}
	if err := tags.UntagResource(ctx, t, keys); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) listTags(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	if err := decode(body, &struct{}{}); err != nil {
		return 0, nil, err
	}
	tags, err := s.tagService()
	if err != nil {
		return 0, nil, err
	}
	t, err := s.tagTarget(req.PathValue("resourceArn"))
	if err != nil {
		return 0, nil, err
	}
	m, err := tags.ListTags(ctx, t)
	if err != nil {
		return 0, nil, err
	}
	if m == nil {
		m = map[string]string{}
	}
	return http.StatusOK, struct {
		Tags map[string]string `json:"tags"`
	}{m}, nil
}
