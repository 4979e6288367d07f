package api

import (
	"context"
	"net/http"
	"time"

	"github.com/behalf-dev/behalf"
)

type accessKeyOut struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	Workload        string `json:"workloadName,omitempty"`
	CreatedTime     epoch  `json:"createdTime"`
}

func keyOut(k *behalf.AccessKey) accessKeyOut {
	out := accessKeyOut{AccessKeyID: k.ID, CreatedTime: epoch(k.CreatedAt)}
	out.Workload, _ = k.Caller().Workload()
	return out
}

func (s *Server) createAccessKey(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		Workload string `json:"workloadName"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	k, err := s.Admin.CreateAccessKey(ctx, in.Workload)
	if err != nil {
		return 0, nil, err
	}
	out := keyOut(&k.AccessKey)
	out.SecretAccessKey = k.SecretAccessKey.Reveal()
	return http.StatusCreated, out, nil
}

func (s *Server) listAccessKeys(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	if err := decode(body, &struct{}{}); err != nil {
		return 0, nil, err
	}
	keys, err := s.Admin.ListAccessKeys(ctx)
	if err != nil {
		return 0, nil, err
	}
	out := []accessKeyOut{}
	for _, k := range keys {
		out = append(out, keyOut(k))
	}
	return http.StatusOK, map[string]any{"accessKeys": out}, nil
}

func (s *Server) deleteAccessKey(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		ID string `json:"accessKeyId"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.Admin.DeleteAccessKey(ctx, in.ID)
}

type issuerOut struct {
	Issuer       string   `json:"issuer"`
	DiscoveryURL string   `json:"discoveryUrl"`
	JWKSURI      string   `json:"jwksUri"`
	Audiences    []string `json:"audiences,omitempty"`
	CreatedTime  epoch    `json:"createdTime"`
}

func toIssuerOut(i *behalf.TrustedIssuer) issuerOut {
	return issuerOut{i.Issuer, i.DiscoveryURL, i.JWKSURI, i.Audiences, epoch(i.CreatedAt)}
}

func (s *Server) createIssuer(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		DiscoveryURL string   `json:"discoveryUrl"`
		Audiences    []string `json:"audiences"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	i, err := s.Admin.CreateIssuer(ctx, in.DiscoveryURL, in.Audiences)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, toIssuerOut(i), nil
}

func (s *Server) listIssuers(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	if err := decode(body, &struct{}{}); err != nil {
		return 0, nil, err
	}
	list, err := s.Admin.ListIssuers(ctx)
	if err != nil {
		return 0, nil, err
	}
	out := []issuerOut{}
	for _, i := range list {
		out = append(out, toIssuerOut(i))
	}
	return http.StatusOK, map[string]any{"issuers": out}, nil
}

func (s *Server) deleteIssuer(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		Issuer string `json:"issuer"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.Admin.DeleteIssuer(ctx, in.Issuer)
}

func (s *Server) listAudit(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		Kind      string `json:"kind"`
		Principal string `json:"principal"`
		Resource  string `json:"resource"`
		Since     string `json:"since"` // RFC 3339
		Until     string `json:"until"`
		Limit     int    `json:"limit"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	q := behalf.AuditQuery{Kind: in.Kind, Principal: in.Principal, Resource: in.Resource, Limit: in.Limit}
	for _, t := range []struct {
		field, value string
		dst          *time.Time
	}{{"since", in.Since, &q.Since}, {"until", in.Until, &q.Until}} {
		if t.value == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, t.value)
		if err != nil {
			return 0, nil, behalf.Invalid(t.field, "%s must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z.", t.field)
		}
		*t.dst = v
	}
	events, err := s.Admin.QueryAudit(ctx, q)
	if err != nil {
		return 0, nil, err
	}
	type eventOut struct {
		Time       time.Time `json:"time"`
		Kind       string    `json:"kind"`
		Resource   string    `json:"resource,omitempty"`
		Workload   string    `json:"workloadName,omitempty"`
		UserKey    string    `json:"user,omitempty"`
		ProviderID string    `json:"providerId,omitempty"`
		SessionID  string    `json:"sessionId,omitempty"`
		Actor      string    `json:"actor,omitempty"`
		Detail     string    `json:"detail,omitempty"`
	}
	out := []eventOut{}
	for _, e := range events {
		out = append(out, eventOut{e.Time, e.Kind, e.Resource, e.Workload, e.UserKey, e.ProviderID, e.SessionID, e.Actor, e.Detail})
	}
	return http.StatusOK, map[string]any{"events": out}, nil
}
