package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/behalf-dev/behalf"
)

// Consent portals (bedrock-agentcore-control): restJson1 POSTs under
// /identities/ with epoch-seconds timestamps, as the identity operations.
// A portal's page is {PublicURL}/consent-portals/{consentPortalId}
// (web.Portal), reported as portalUrl.

type consentPortalIdpConfig struct {
	CredentialProviderARN string   `json:"credentialProviderArn"`
	Scopes                []string `json:"scopes"`
	Audience              string   `json:"audience,omitempty"`
}

type consentPortalSource struct {
	Identifier string `json:"identifier"`
	Type       string `json:"type"`
}

// consentPortalIn is the body of Create and Update.
type consentPortalIn struct {
	ConsentPortalIdentifier string                  `json:"consentPortalIdentifier"` // update
	Name                    string                  `json:"name"`                    // create
	Description             *string                 `json:"description"`
	ExecutionRoleARN        string                  `json:"executionRoleArn"`
	IdpConfig               *consentPortalIdpConfig `json:"idpConfig"`
	Sources                 []consentPortalSource   `json:"sources"` // create
	Tags                    map[string]string       `json:"tags"`    // create
	ClientToken             json.RawMessage         `json:"clientToken"`
}

func (in *consentPortalIn) input(create bool) (behalf.ConsentPortalInput, error) {
	out := behalf.ConsentPortalInput{Name: in.Name, ExecutionRoleARN: in.ExecutionRoleARN, Tags: in.Tags}
	if in.Description != nil {
		out.Description = *in.Description
	}
	if in.IdpConfig == nil {
		return out, behalf.Invalid("idpConfig", "idpConfig is required.")
	}
	out.ProviderARN, out.Scopes, out.Audience = in.IdpConfig.CredentialProviderARN, in.IdpConfig.Scopes, in.IdpConfig.Audience
	if in.IdpConfig.Scopes == nil {
		return out, behalf.Invalid("idpConfig.scopes", "idpConfig.scopes is required.")
	}
	if !create {
		return out, nil
	}
	if len(in.Sources) != 1 {
		return out, behalf.Invalid("sources", "sources must hold exactly one gateway.")
	}
	if in.Sources[0].Type != behalf.ConsentPortalSourceGateway {
		return out, behalf.Invalid("sources.type", "sources.type must be %s.", behalf.ConsentPortalSourceGateway)
	}
	if in.Sources[0].Identifier == "" {
		return out, behalf.Invalid("sources.identifier", "sources.identifier is required.")
	}
	out.GatewayID = in.Sources[0].Identifier
	return out, nil
}

// consentPortalOut is a portal on the wire (Create, Get, Update; List
// without executionRoleArn and idpConfig).
type consentPortalOut struct {
	ConsentPortalARN string                  `json:"consentPortalArn"`
	ConsentPortalID  string                  `json:"consentPortalId"`
	Name             string                  `json:"name"`
	Description      string                  `json:"description,omitempty"`
	ExecutionRoleARN string                  `json:"executionRoleArn,omitempty"`
	IdpConfig        *consentPortalIdpConfig `json:"idpConfig,omitempty"`
	Sources          []consentPortalSource   `json:"sources"`
	PortalURL        string                  `json:"portalUrl"`
	Status           string                  `json:"status"`
	CreatedAt        epoch                   `json:"createdAt"`
	UpdatedAt        epoch                   `json:"updatedAt"`
}

func (s *Server) consentPortalOut(p *behalf.ConsentPortal, full bool) consentPortalOut {
	out := consentPortalOut{
		ConsentPortalARN: behalf.ConsentPortalARN(s.Region, s.Account, p.ID), ConsentPortalID: p.ID, Name: p.Name,
		Description: p.Description, PortalURL: strings.TrimSuffix(s.PublicURL, "/") + behalf.ConsentPortalPath(p.ID), Status: p.Status,
		Sources:   []consentPortalSource{{Identifier: s.gatewayARN(p.GatewayID), Type: behalf.ConsentPortalSourceGateway}},
		CreatedAt: epoch(p.CreatedAt), UpdatedAt: epoch(p.UpdatedAt),
	}
	if full {
		out.ExecutionRoleARN = p.ExecutionRoleARN
		scopes := p.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		out.IdpConfig = &consentPortalIdpConfig{CredentialProviderARN: s.oauth2ProviderARN(p.Provider), Scopes: scopes, Audience: p.Audience}
	}
	return out
}

func (s *Server) createConsentPortal(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in consentPortalIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	input, err := in.input(true)
	if err != nil {
		return 0, nil, err
	}
	p, err := s.ConsentPortals.CreateConsentPortal(ctx, input)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.consentPortalOut(p, true), nil
}

type consentPortalIDIn struct {
	ConsentPortalIdentifier string `json:"consentPortalIdentifier"`
}

func (s *Server) getConsentPortal(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in consentPortalIDIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	p, err := s.ConsentPortals.GetConsentPortal(ctx, in.ConsentPortalIdentifier)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.consentPortalOut(p, true), nil
}

func (s *Server) updateConsentPortal(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in consentPortalIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if in.Name != "" || in.Sources != nil {
		return 0, nil, behalf.Invalid("name", "A consent portal's name and sources cannot change.")
	}
	cur, err := s.ConsentPortals.GetConsentPortal(ctx, in.ConsentPortalIdentifier)
	if err != nil {
		return 0, nil, err
	}
	// Members left out keep their values, as in AWS.
	if in.ExecutionRoleARN == "" {
		in.ExecutionRoleARN = cur.ExecutionRoleARN
	}
	if in.Description == nil {
		in.Description = &cur.Description
	}
	if in.IdpConfig == nil {
		in.IdpConfig = &consentPortalIdpConfig{CredentialProviderARN: s.oauth2ProviderARN(cur.Provider), Scopes: cur.Scopes, Audience: cur.Audience}
		if in.IdpConfig.Scopes == nil {
			in.IdpConfig.Scopes = []string{}
		}
	}
	input, err := in.input(false)
	if err != nil {
		return 0, nil, err
	}
	p, err := s.ConsentPortals.UpdateConsentPortal(ctx, cur.ID, input)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.consentPortalOut(p, true), nil
}

func (s *Server) deleteConsentPortal(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in consentPortalIDIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if err := s.ConsentPortals.DeleteConsentPortal(ctx, in.ConsentPortalIdentifier); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) listConsentPortals(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in listIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	items, next, err := s.ConsentPortals.ListConsentPortals(ctx, behalf.PageRequest{NextToken: in.NextToken, MaxResults: in.MaxResults})
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		ConsentPortals []consentPortalOut `json:"consentPortals"`
		NextToken      string             `json:"nextToken,omitempty"`
	}{ConsentPortals: []consentPortalOut{}, NextToken: next}
	for _, p := range items {
		out.ConsentPortals = append(out.ConsentPortals, s.consentPortalOut(p, false))
	}
	return http.StatusOK, out, nil
}
