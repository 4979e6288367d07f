package oauth

import (
	"context"
	"errors"
	"maps"
	"net/url"
	"slices"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/behalf-dev/behalf"
)

// Grant types and token types of on-behalf-of exchanges.
const (
	// GrantTypeTokenExchange is RFC 8693's grant type.
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// GrantTypeJWTBearer is RFC 7523's JWT authorization grant.
	GrantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

	// TokenTypeJWT, TokenTypeAccessToken, TokenTypeIDToken and
	// TokenTypeRefreshToken are RFC 8693 token type identifiers.
	TokenTypeJWT          = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeAccessToken  = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeIDToken      = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
)

// ExchangeRequest is one on-behalf-of token request.
type ExchangeRequest struct {
	// GrantType is GrantTypeTokenExchange or GrantTypeJWTBearer.
	GrantType string
	// SubjectToken is the user's JWT: subject_token (token exchange) or
	// assertion (JWT bearer).
	SubjectToken behalf.Secret
	// ActorToken, when set, is sent as actor_token with actor_token_type
	// TokenTypeAccessToken (token exchange only).
	ActorToken behalf.Secret
	// Scopes are sent space-joined as scope.
	Scopes []string
	// Audiences and Resources are sent as one audience or resource
	// parameter per entry.
	Audiences, Resources []string
	// CustomParameters are added to the request. They may replace the
	// defaults subject_token_type (TokenTypeJWT) and requested_token_type
	// (TokenTypeAccessToken) of a token exchange, and add any parameter
	// Behalf does not set itself (ExchangeReservedParams).
	CustomParameters map[string]string
	// NoClientAuth sends no client authentication at all: no client_id,
	// no secret (AgentCore's onBehalfOfAuthenticationConfig NO_CLIENT).
	NoClientAuth bool
}

// ExchangeReservedParams are the token request parameters an exchange's
// CustomParameters may not set.
var ExchangeReservedParams = []string{
	"grant_type", "subject_token", "assertion", "actor_token", "actor_token_type", "scope",
	"client_id", "client_secret", "client_assertion", "client_assertion_type",
}

// CheckExchangeParameters refuses custom parameters an exchange may not
// send, as behalf.Invalid(CustomParametersField, ...).
func CheckExchangeParameters(custom map[string]string, audiences, resources []string) error {
	for _, k := range slices.Sorted(maps.Keys(custom)) {
		switch {
		case k == "":
			return behalf.Invalid(CustomParametersField, "Custom parameter names must not be empty.")
		case slices.Contains(ExchangeReservedParams, k):
			return behalf.Invalid(CustomParametersField, "Custom parameter %s is set by Behalf and cannot be overridden.", k)
		case k == "resource" && len(resources) > 0, k == "audience" && len(audiences) > 0:
			return behalf.Invalid(CustomParametersField, "Custom parameter %s conflicts with the %ss given separately.", k, k)
		}
	}
	return nil
}

// OnBehalfOf trades a user's token at the token endpoint for a token of
// this provider: RFC 8693 token exchange (grant_type token-exchange,
// subject_token, subject_token_type, requested_token_type, and the actor
// token when given) or the RFC 7523 JWT authorization grant (grant_type
// jwt-bearer, assertion). The request and its answer go through
// golang.org/x/oauth2 (its client-credentials flow, whose grant_type may
// be replaced for exactly this), with the provider's client
// authentication unless r.NoClientAuth. A refusal is a *TokenError with
// the subject and actor tokens redacted.
func (c *Client) OnBehalfOf(ctx context.Context, r ExchangeRequest) (behalf.TokenSet, error) {
	if r.SubjectToken.IsZero() {
		return behalf.TokenSet{}, errors.New("oauth: exchange: no subject token")
	}
	if err := CheckExchangeParameters(r.CustomParameters, r.Audiences, r.Resources); err != nil {
		return behalf.TokenSet{}, err
	}
	params := url.Values{}
	switch r.GrantType {
	case GrantTypeTokenExchange:
		params.Set("subject_token", r.SubjectToken.Reveal())
		params.Set("subject_token_type", TokenTypeJWT)
		params.Set("requested_token_type", TokenTypeAccessToken)
		if !r.ActorToken.IsZero() {
			params.Set("actor_token", r.ActorToken.Reveal())
			params.Set("actor_token_type", TokenTypeAccessToken)
		}
	case GrantTypeJWTBearer:
		if !r.ActorToken.IsZero() {
			return behalf.TokenSet{}, errors.New("oauth: exchange: the JWT authorization grant takes no actor token")
		}
		params.Set("assertion", r.SubjectToken.Reveal())
	default:
		return behalf.TokenSet{}, errors.New("oauth: exchange: unknown grant type " + r.GrantType)
	}
	params.Set("grant_type", r.GrantType)
	for k, v := range r.CustomParameters {
		params.Set(k, v)
	}
	if len(r.Audiences) > 0 {
		params["audience"] = r.Audiences
	}
	if len(r.Resources) > 0 {
		params["resource"] = r.Resources
	}
	cfg, err := c.tokenConfig()
	if err != nil {
		return behalf.TokenSet{}, err
	}
	assertion := ""
	if !r.NoClientAuth {
		var auth url.Values
		if auth, assertion, err = c.clientAssertion(ctx); err != nil {
			return behalf.TokenSet{}, err
		}
		for k, v := range auth {
			params[k] = v
		}
	}
	cc := &clientcredentials.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: cfg.Endpoint.TokenURL,
		Scopes: r.Scopes, EndpointParams: params, AuthStyle: cfg.Endpoint.AuthStyle,
	}
	if r.NoClientAuth {
		cc.ClientID, cc.ClientSecret, cc.AuthStyle = "", "", oauth2.AuthStyleInParams
	}
	op := "token exchange"
	if r.GrantType == GrantTypeJWTBearer {
		op = "jwt authorization grant"
	}
	tok, err := cc.Token(c.tokenContext(ctx, nil))
	if err != nil {
		return behalf.TokenSet{}, tokenError(op, err, c.redactor(r.SubjectToken.Reveal(), r.ActorToken.Reveal(), assertion))
	}
	return c.tokenSet(tok), nil
}
