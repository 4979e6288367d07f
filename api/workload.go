package api

import (
	"context"
	"net/http"

	"github.com/behalf-dev/behalf"
)

type workloadIn struct {
	Name              string            `json:"name"`
	AllowedReturnURLs []string          `json:"allowedResourceOauth2ReturnUrls"`
	Tags              map[string]string `json:"tags"`
}

type workloadOut struct {
	Name              string   `json:"name"`
	ARN               string   `json:"workloadIdentityArn"`
	AllowedReturnURLs []string `json:"allowedResourceOauth2ReturnUrls,omitempty"`
	CreatedTime       *epoch   `json:"createdTime,omitempty"`
	LastUpdatedTime   *epoch   `json:"lastUpdatedTime,omitempty"`
}

type nameIn struct {
	Name string `json:"name"`
}

type listIn struct {
	NextToken  string `json:"nextToken"`
	MaxResults int    `json:"maxResults"`
}

func (s *Server) workloadOut(w *behalf.WorkloadIdentity, times bool) workloadOut {
	out := workloadOut{Name: w.Name, ARN: s.workloadARN(w.Name), AllowedReturnURLs: w.AllowedReturnURLs}
	if times {
		c, u := epoch(w.CreatedAt), epoch(w.UpdatedAt)
		out.CreatedTime, out.LastUpdatedTime = &c, &u
	}
	return out
}

func (s *Server) createWorkload(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in workloadIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	w, err := s.Workloads.CreateWorkload(ctx, behalf.WorkloadInput{Name: in.Name, AllowedReturnURLs: in.AllowedReturnURLs, Tags: in.Tags})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, s.workloadOut(w, false), nil
}

func (s *Server) getWorkload(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in nameIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	w, err := s.Workloads.GetWorkload(ctx, in.Name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.workloadOut(w, true), nil
}

func (s *Server) updateWorkload(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		Name              string   `json:"name"`
		AllowedReturnURLs []string `json:"allowedResourceOauth2ReturnUrls"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	w, err := s.Workloads.UpdateWorkload(ctx, in.Name, in.AllowedReturnURLs)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.workloadOut(w, true), nil
}

func (s *Server) deleteWorkload(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in nameIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.Workloads.DeleteWorkload(ctx, in.Name)
}

func (s *Server) listWorkloads(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in listIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	items, next, err := s.Workloads.ListWorkloads(ctx, behalf.PageRequest{NextToken: in.NextToken, MaxResults: in.MaxResults})
	if err != nil {
		return 0, nil, err
	}
	type item struct {
		Name string `json:"name"`
		ARN  string `json:"workloadIdentityArn"`
	}
	out := struct {
		Items     []item `json:"workloadIdentities"`
		NextToken string `json:"nextToken,omitempty"`
	}{Items: []item{}, NextToken: next}
	for _, w := range items {
		out.Items = append(out.Items, item{w.Name, s.workloadARN(w.Name)})
	}
	return http.StatusOK, out, nil
}
