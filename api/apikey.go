package api

import (
	"context"
	"net/http"

	"github.com/behalf-dev/behalf"
)

type apiKeyIn struct {
	Name         string            `json:"name"`
	APIKey       string            `json:"apiKey"`
	SecretSource string            `json:"apiKeySecretSource"`
	SecretConfig map[string]any    `json:"apiKeySecretConfig"`
	Tags         map[string]string `json:"tags"`
}

func (in apiKeyIn) check() error {
	if (in.SecretSource != "" && in.SecretSource != "MANAGED") || in.SecretConfig != nil {
		return &behalf.Error{Code: behalf.ENOTIMPLEMENTED, Field: "apiKeySecretSource",
			Message: "Behalf keeps API keys itself (MANAGED); external secrets are not supported."}
	}
	return nil
}

type apiKeyOut struct {
	Name            string    `json:"name"`
	ARN             string    `json:"credentialProviderArn"`
	SecretArn       secretRef `json:"apiKeySecretArn"`
	SecretSource    string    `json:"apiKeySecretSource"`
	CreatedTime     *epoch    `json:"createdTime,omitempty"`
	LastUpdatedTime *epoch    `json:"lastUpdatedTime,omitempty"`
}

func (s *Server) apiKeyOut(p *behalf.APIKeyProvider, times bool) apiKeyOut {
	out := apiKeyOut{Name: p.Name, ARN: s.apiKeyProviderARN(p.Name), SecretArn: s.secretARN("apikey", p.Name), SecretSource: "MANAGED"}
	if times {
		c, u := epoch(p.CreatedAt), epoch(p.UpdatedAt)
		out.CreatedTime, out.LastUpdatedTime = &c, &u
	}
	return out
}

func (s *Server) createAPIKeyProvider(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in apiKeyIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if err := in.check(); err != nil {
		return 0, nil, err
	}
	p, err := s.APIKeyProviders.CreateAPIKeyProvider(ctx, in.Name, behalf.Secret(in.APIKey), in.Tags)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, s.apiKeyOut(p, false), nil
}

func (s *Server) getAPIKeyProvider(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in nameIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	p, err := s.APIKeyProviders.GetAPIKeyProvider(ctx, in.Name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.apiKeyOut(p, true), nil
}

func (s *Server) updateAPIKeyProvider(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in apiKeyIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if err := in.check(); err != nil {
		return 0, nil, err
	}
	if in.Tags != nil {
		return 0, nil, &parseError{msg: "Unknown field \"tags\"."}
	}
	p, err := s.APIKeyProviders.UpdateAPIKeyProvider(ctx, in.Name, behalf.Secret(in.APIKey))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.apiKeyOut(p, true), nil
}

func (s *Server) deleteAPIKeyProvider(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in nameIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.APIKeyProviders.DeleteAPIKeyProvider(ctx, in.Name)
}

func (s *Server) listAPIKeyProviders(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in listIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	items, next, err := s.APIKeyProviders.ListAPIKeyProviders(ctx, behalf.PageRequest{NextToken: in.NextToken, MaxResults: in.MaxResults})
	if err != nil {
		return 0, nil, err
	}
	type item struct {
		Name            string `json:"name"`
		ARN             string `json:"credentialProviderArn"`
		CreatedTime     epoch  `json:"createdTime"`
		LastUpdatedTime epoch  `json:"lastUpdatedTime"`
	}
	out := struct {
		Items     []item `json:"credentialProviders"`
		NextToken string `json:"nextToken,omitempty"`
	}{Items: []item{}, NextToken: next}
	for _, p := range items {
		out.Items = append(out.Items, item{p.Name, s.apiKeyProviderARN(p.Name), epoch(p.CreatedAt), epoch(p.UpdatedAt)})
	}
	return http.StatusOK, out, nil
}
