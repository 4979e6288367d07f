package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/behalf-dev/behalf"
)

type watOut struct {
	Token string `json:"workloadAccessToken"`
}

func (s *Server) getWAT(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		WorkloadName string `json:"workloadName"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	tok, err := s.DataPlane.WorkloadAccessToken(ctx, in.WorkloadName)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, watOut{tok.Reveal()}, nil
}

// watForJWTIn is GetWorkloadAccessTokenForJWT's request.
type watForJWTIn struct {
	WorkloadName string `json:"workloadName"`
	UserToken    string `json:"userToken"`
}

func (s *Server) getWATForJWT(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in watForJWTIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	tok, err := s.DataPlane.WorkloadAccessTokenForJWT(ctx, in.WorkloadName, behalf.Secret(in.UserToken))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, watOut{tok.Reveal()}, nil
}

func (s *Server) getWATForUserID(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		WorkloadName string `json:"workloadName"`
		UserID       string `json:"userId"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	tok, err := s.DataPlane.WorkloadAccessTokenForUserID(ctx, in.WorkloadName, in.UserID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, watOut{tok.Reveal()}, nil
}

// tokenIn is GetResourceOauth2Token's request.
type tokenIn struct {
	WorkloadIdentityToken string            `json:"workloadIdentityToken"`
	Provider              string            `json:"resourceCredentialProviderName"`
	Scopes                []string          `json:"scopes"`
	Flow                  string            `json:"oauth2Flow"`
	SessionURI            string            `json:"sessionUri"`
	ReturnURL             string            `json:"resourceOauth2ReturnUrl"`
	ForceAuthentication   bool              `json:"forceAuthentication"`
	CustomState           string            `json:"customState"`
	CustomParameters      map[string]string `json:"customParameters"`
	Resources             []string          `json:"resources"`
	Audiences             []string          `json:"audiences"`
}

func (s *Server) getResourceOAuth2Token(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in tokenIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	res, err := s.DataPlane.ResourceOAuth2Token(ctx, behalf.TokenRequest{
		WorkloadToken: behalf.Secret(in.WorkloadIdentityToken), Provider: in.Provider, Scopes: in.Scopes, Flow: in.Flow,
		SessionURI: in.SessionURI, ReturnURL: in.ReturnURL, ForceAuthentication: in.ForceAuthentication,
		CustomState: behalf.Secret(in.CustomState), CustomParameters: in.CustomParameters, Resources: in.Resources, Audiences: in.Audiences,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &tokenOut{res.AccessToken.Reveal(), res.AuthorizationURL, res.SessionURI, res.SessionStatus, res.ProviderError}, nil
}

// Headers that carry a credential provider's refusal on a successful
// GetResourceOauth2Token answer (an authorization URL after the provider
// refused the stored grant's refresh token, or a FAILED session whose
// authorization the provider refused): the answer's body is AgentCore's,
// which has no member for it. Every SDK exposes a response's headers.
const (
	ProviderErrorHeader            = "X-Behalf-Provider-Error"
	ProviderErrorDescriptionHeader = "X-Behalf-Provider-Error-Description"
)

// tokenOut is GetResourceOauth2Token's answer.
type tokenOut struct {
	AccessToken      string                  `json:"accessToken,omitempty"`
	AuthorizationURL string                  `json:"authorizationUrl,omitempty"`
	SessionURI       string                  `json:"sessionUri,omitempty"`
	SessionStatus    string                  `json:"sessionStatus,omitempty"`
	refusal          *behalf.ProviderRefusal // sent as headers
}

// setHeaders sends the provider's refusal, if any.
func (o *tokenOut) setHeaders(h http.Header) {
	if o.refusal == nil {
		return
	}
	h.Set(ProviderErrorHeader, headerText(o.refusal.Code))
	if o.refusal.Description != "" {
		h.Set(ProviderErrorDescriptionHeader, headerText(o.refusal.Description))
	}
}

// headerText keeps a header value to printable ASCII (a provider's text
// may hold anything); others become '?'.
func headerText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

func (s *Server) getResourceAPIKey(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		WorkloadIdentityToken string `json:"workloadIdentityToken"`
		Provider              string `json:"resourceCredentialProviderName"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	key, err := s.DataPlane.ResourceAPIKey(ctx, behalf.Secret(in.WorkloadIdentityToken), in.Provider)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, struct {
		APIKey string `json:"apiKey"`
	}{key.Reveal()}, nil
}

func (s *Server) completeResourceTokenAuth(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		SessionURI     string `json:"sessionUri"`
		UserIdentifier struct {
			UserToken string `json:"userToken"`
			UserID    string `json:"userId"`
		} `json:"userIdentifier"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	err := s.DataPlane.CompleteResourceTokenAuth(ctx, in.SessionURI, behalf.UserIdentifier{
		UserToken: behalf.Secret(in.UserIdentifier.UserToken), UserID: in.UserIdentifier.UserID,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, struct{}{}, nil
}
