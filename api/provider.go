package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/behalf-dev/behalf"
)

// configMembers are the oauth2ProviderConfigInput union members of the
// AgentCore model.
var configMembers = []string{
	"customOauth2ProviderConfig", "googleOauth2ProviderConfig", "githubOauth2ProviderConfig",
	"slackOauth2ProviderConfig", "salesforceOauth2ProviderConfig", "microsoftOauth2ProviderConfig",
	"atlassianOauth2ProviderConfig", "linkedinOauth2ProviderConfig", "includedOauth2ProviderConfig",
}

type providerIn struct {
	Name   string                     `json:"name"`
	Vendor string                     `json:"credentialProviderVendor"`
	Config map[string]json.RawMessage `json:"oauth2ProviderConfigInput"`
	Tags   map[string]string          `json:"tags"`
}

// providerConfigIn is the union of every member's fields; fields that do not
// belong to the member given are rejected by checkMemberFields.
type providerConfigIn struct {
	ClientID                   string            `json:"clientId"`
	ClientSecret               behalf.Secret     `json:"clientSecret"`
	ClientSecretSource         string            `json:"clientSecretSource"`
	ClientSecretConfig         json.RawMessage   `json:"clientSecretConfig"`
	TenantID                   string            `json:"tenantId"`
	OAuthDiscovery             *discoveryIn      `json:"oauthDiscovery"`
	ClientAuthenticationMethod string            `json:"clientAuthenticationMethod"`
	PrivateEndpoint            json.RawMessage   `json:"privateEndpoint"`
	PrivateEndpointOverrides   json.RawMessage   `json:"privateEndpointOverrides"`
	OnBehalfOf                 *oboDoc           `json:"onBehalfOfTokenExchangeConfig"`
	PrivateKeyJWT              *privateKeyJWTDoc `json:"privateKeyJwtConfig"`
	Issuer                     string            `json:"issuer"`
	AuthorizationEndpoint      string            `json:"authorizationEndpoint"`
	TokenEndpoint              string            `json:"tokenEndpoint"`
}

// oboDoc is onBehalfOfTokenExchangeConfig, in and out.
type oboDoc struct {
	GrantType     string         `json:"grantType"`
	TokenExchange *tokenExchange `json:"tokenExchangeGrantTypeConfig,omitempty"`
	Auth          *oboAuthConfig `json:"onBehalfOfAuthenticationConfig,omitempty"`
}

// privateKeyJWTDoc is privateKeyJwtConfig, in and out (out without
// privateKeySource: Behalf holds the key).
type privateKeyJWTDoc struct {
	SigningAlgorithm        string            `json:"signingAlgorithm,omitempty"`
	AdditionalHeaderClaims  map[string]string `json:"additionalHeaderClaims,omitempty"`
	AdditionalPayloadClaims map[string]string `json:"additionalPayloadClaims,omitempty"`
	PrivateKeySource        *struct {
		KMSKeySource *struct {
			KMSKeyARN string `json:"kmsKeyArn"`
		} `json:"kmsKeySource"`
	} `json:"privateKeySource,omitempty"`
}

type tokenExchange struct {
	ActorTokenContent string   `json:"actorTokenContent"`
	ActorTokenScopes  []string `json:"actorTokenScopes,omitempty"`
}

type oboAuthConfig struct {
	ClientAuthenticationMethod string `json:"clientAuthenticationMethod"`
}

type discoveryIn struct {
	DiscoveryURL string       `json:"discoveryUrl"`
	Metadata     *metadataDoc `json:"authorizationServerMetadata"`
}

type metadataDoc struct {
	Issuer                   string   `json:"issuer"`
	AuthorizationEndpoint    string   `json:"authorizationEndpoint"`
	TokenEndpoint            string   `json:"tokenEndpoint"`
	ResponseTypes            []string `json:"responseTypes,omitempty"`
	TokenEndpointAuthMethods []string `json:"tokenEndpointAuthMethods,omitempty"`
}

// providerInput turns the wire request into the service input, rejecting
// union misuse and AgentCore features Behalf does not serve.
func providerInput(in providerIn) (behalf.OAuth2ProviderInput, error) {
	out := behalf.OAuth2ProviderInput{Name: in.Name, Vendor: in.Vendor, Tags: in.Tags}
	if len(in.Config) != 1 {
		return out, behalf.Invalid("oauth2ProviderConfigInput", "oauth2ProviderConfigInput must set exactly one member.")
	}
	for member, raw := range in.Config {
		out.Config = member
		if !slices.Contains(configMembers, member) {
			return out, &parseError{msg: "Unknown field \"oauth2ProviderConfigInput." + member + "\"."}
		}
		var c providerConfigIn
		if err := decode(raw, &c); err != nil {
			return out, &parseError{msg: "oauth2ProviderConfigInput." + member + ": " + err.Error()}
		}
		if err := checkMemberFields(member, c); err != nil {
			return out, err
		}
		out.ClientID, out.ClientSecret, out.TenantID = c.ClientID, c.ClientSecret, c.TenantID
		out.Issuer, out.AuthorizationEndpoint, out.TokenEndpoint = c.Issuer, c.AuthorizationEndpoint, c.TokenEndpoint
		out.ClientAuthMethod = c.ClientAuthenticationMethod
		if k := c.PrivateKeyJWT; k != nil {
			out.PrivateKeyJWT = &behalf.PrivateKeyJWTInput{SigningAlgorithm: k.SigningAlgorithm,
				HeaderClaims: k.AdditionalHeaderClaims, PayloadClaims: k.AdditionalPayloadClaims}
			if src := k.PrivateKeySource; src != nil {
				out.PrivateKeyJWT.KMSKeyARN = "(none)"
				if src.KMSKeySource != nil && src.KMSKeySource.KMSKeyARN != "" {
					out.PrivateKeyJWT.KMSKeyARN = src.KMSKeySource.KMSKeyARN
				}
			}
		}
		if o := c.OnBehalfOf; o != nil {
			out.OnBehalfOf = &behalf.OnBehalfOfInput{GrantType: o.GrantType}
			if te := o.TokenExchange; te != nil {
				out.OnBehalfOf.ActorTokenContent, out.OnBehalfOf.ActorTokenScopes = &te.ActorTokenContent, te.ActorTokenScopes
			}
			if a := o.Auth; a != nil {
				out.OnBehalfOf.AuthenticationMethod = &a.ClientAuthenticationMethod
			}
		}
		if d := c.OAuthDiscovery; d != nil {
			out.DiscoveryURL = d.DiscoveryURL
			if m := d.Metadata; m != nil {
				out.Metadata = &behalf.AuthServerMetadata{Issuer: m.Issuer, AuthorizationEndpoint: m.AuthorizationEndpoint,
					TokenEndpoint: m.TokenEndpoint, ResponseTypes: m.ResponseTypes, TokenEndpointAuthMethods: m.TokenEndpointAuthMethods}
			}
		}
	}
	return out, nil
}

func checkMemberFields(member string, c providerConfigIn) error {
	f := func(name string) string { return "oauth2ProviderConfigInput." + member + "." + name }
	unsupported := func(name string) error {
		return &behalf.Error{Code: behalf.ENOTIMPLEMENTED, Field: f(name), Message: name + " is not supported by Behalf."}
	}
	switch {
	case c.ClientSecretSource != "" && c.ClientSecretSource != "MANAGED":
		return unsupported("clientSecretSource " + c.ClientSecretSource + ": Behalf keeps client secrets itself (MANAGED);")
	case c.ClientSecretConfig != nil:
		return unsupported("clientSecretConfig")
	case c.PrivateEndpoint != nil, c.PrivateEndpointOverrides != nil:
		return unsupported("privateEndpoint")
	case c.OnBehalfOf != nil && member != "customOauth2ProviderConfig":
		return behalf.Invalid(f("onBehalfOfTokenExchangeConfig"), "onBehalfOfTokenExchangeConfig applies to customOauth2ProviderConfig only.")
	case c.PrivateKeyJWT != nil && member != "customOauth2ProviderConfig":
		return behalf.Invalid(f("privateKeyJwtConfig"), "privateKeyJwtConfig applies to customOauth2ProviderConfig only.")
	case c.TenantID != "" && member != "microsoftOauth2ProviderConfig":
		return behalf.Invalid(f("tenantId"), "tenantId applies to microsoftOauth2ProviderConfig only.")
	case (c.Issuer != "" || c.AuthorizationEndpoint != "" || c.TokenEndpoint != "") && member != "includedOauth2ProviderConfig":
		return behalf.Invalid(f("issuer"), "issuer, authorizationEndpoint and tokenEndpoint apply to includedOauth2ProviderConfig only.")
	case c.OAuthDiscovery != nil && member != "customOauth2ProviderConfig":
		return behalf.Invalid(f("oauthDiscovery"), "oauthDiscovery applies to customOauth2ProviderConfig only.")
	}
	return nil
}

type providerOut struct {
	Name            string         `json:"name"`
	ARN             string         `json:"credentialProviderArn"`
	Vendor          string         `json:"credentialProviderVendor,omitempty"`
	CallbackURL     string         `json:"callbackUrl"`
	ClientSecretArn secretRef      `json:"clientSecretArn"`
	ClientSecretSrc string         `json:"clientSecretSource"`
	Config          map[string]any `json:"oauth2ProviderConfigOutput"`
	Status          string         `json:"status"`
	CreatedTime     *epoch         `json:"createdTime,omitempty"`
	LastUpdatedTime *epoch         `json:"lastUpdatedTime,omitempty"`
}

type providerConfigOut struct {
	OAuthDiscovery             discoveryOut      `json:"oauthDiscovery"`
	ClientID                   string            `json:"clientId,omitempty"`
	ClientAuthenticationMethod string            `json:"clientAuthenticationMethod,omitempty"`
	OnBehalfOf                 *oboDoc           `json:"onBehalfOfTokenExchangeConfig,omitempty"`
	PrivateKeyJWT              *privateKeyJWTDoc `json:"privateKeyJwtConfig,omitempty"`
}

type discoveryOut struct {
	DiscoveryURL string       `json:"discoveryUrl,omitempty"`
	Metadata     *metadataDoc `json:"authorizationServerMetadata,omitempty"`
}

func (s *Server) providerOut(p *behalf.OAuth2Provider, times bool) providerOut {
	cfg := providerConfigOut{ClientID: p.ClientID}
	if p.Vendor == behalf.VendorCustom {
		cfg.ClientAuthenticationMethod = p.ClientAuthMethod
	}
	if k := p.PrivateKeyJWT; k != nil {
		cfg.PrivateKeyJWT = &privateKeyJWTDoc{SigningAlgorithm: k.SigningAlgorithm,
			AdditionalHeaderClaims: k.HeaderClaims, AdditionalPayloadClaims: k.PayloadClaims}
	}
	if o := p.OnBehalfOf; o != nil {
		cfg.OnBehalfOf = &oboDoc{GrantType: o.GrantType}
		if o.ActorTokenContent != "" {
			cfg.OnBehalfOf.TokenExchange = &tokenExchange{ActorTokenContent: o.ActorTokenContent, ActorTokenScopes: o.ActorTokenScopes}
		}
		if o.NoClientAuth {
			cfg.OnBehalfOf.Auth = &oboAuthConfig{ClientAuthenticationMethod: behalf.OBONoClient}
		}
	}
	if p.DiscoveryURL != "" {
		cfg.OAuthDiscovery.DiscoveryURL = p.DiscoveryURL
	} else {
		md := p.Metadata
		cfg.OAuthDiscovery.Metadata = &metadataDoc{Issuer: md.Issuer, AuthorizationEndpoint: md.AuthorizationEndpoint,
			TokenEndpoint: md.TokenEndpoint, ResponseTypes: md.ResponseTypes, TokenEndpointAuthMethods: wireAuthMethods(md.TokenEndpointAuthMethods)}
	}
	out := providerOut{
		Name: p.Name, ARN: s.oauth2ProviderARN(p.Name), Vendor: p.Vendor,
		CallbackURL: s.OAuth2Providers.CallbackURL(p), ClientSecretArn: s.secretARN("oauth2", p.Name),
		ClientSecretSrc: "MANAGED", Config: map[string]any{memberFor(p.Vendor): cfg}, Status: "READY",
	}
	if times {
		c, u := epoch(p.CreatedAt), epoch(p.UpdatedAt)
		out.CreatedTime, out.LastUpdatedTime = &c, &u
	}
	return out
}

// wireAuthMethods keeps the methods the model's output shape allows.
func wireAuthMethods(ms []string) []string {
	var out []string
	for _, m := range ms {
		if m == "client_secret_basic" || m == "client_secret_post" {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	if len(out) > 2 {
		out = out[:2]
	}
	return out
}

// memberFor names the output union member for a vendor, e.g.
// GoogleOauth2 → googleOauth2ProviderConfig; the vendors without a member
// of their own (Okta, X, ...) → includedOauth2ProviderConfig.
func memberFor(vendor string) string {
	if vendor == "" {
		return "customOauth2ProviderConfig"
	}
	m := strings.ToLower(vendor[:1]) + vendor[1:] + "ProviderConfig"
	if !slices.Contains(configMembers, m) {
		return "includedOauth2ProviderConfig"
	}
	return m
}

func (s *Server) createOAuth2Provider(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in providerIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	pin, err := providerInput(in)
	if err != nil {
		return 0, nil, err
	}
	p, err := s.OAuth2Providers.CreateOAuth2Provider(ctx, pin)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, s.providerOut(p, false), nil
}

func (s *Server) getOAuth2Provider(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in nameIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	p, err := s.OAuth2Providers.GetOAuth2Provider(ctx, in.Name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.providerOut(p, true), nil
}

func (s *Server) updateOAuth2Provider(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in providerIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if in.Tags != nil {
		return 0, nil, &parseError{msg: "Unknown field \"tags\"."}
	}
	pin, err := providerInput(in)
	if err != nil {
		return 0, nil, err
	}
	p, err := s.OAuth2Providers.UpdateOAuth2Provider(ctx, pin)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.providerOut(p, true), nil
}

func (s *Server) deleteOAuth2Provider(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in nameIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.OAuth2Providers.DeleteOAuth2Provider(ctx, in.Name)
}

func (s *Server) listOAuth2Providers(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in listIn
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	items, next, err := s.OAuth2Providers.ListOAuth2Providers(ctx, behalf.PageRequest{NextToken: in.NextToken, MaxResults: in.MaxResults})
	if err != nil {
		return 0, nil, err
	}
	type item struct {
		Name            string `json:"name"`
		Vendor          string `json:"credentialProviderVendor"`
		ARN             string `json:"credentialProviderArn"`
		CreatedTime     epoch  `json:"createdTime"`
		LastUpdatedTime epoch  `json:"lastUpdatedTime"`
	}
	out := struct {
		Items     []item `json:"credentialProviders"`
		NextToken string `json:"nextToken,omitempty"`
	}{Items: []item{}, NextToken: next}
	for _, p := range items {
		out.Items = append(out.Items, item{p.Name, p.Vendor, s.oauth2ProviderARN(p.Name), epoch(p.CreatedAt), epoch(p.UpdatedAt)})
	}
	return http.StatusOK, out, nil
}
