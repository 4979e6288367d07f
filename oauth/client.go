package oauth

import (
	"context"
	"time"

	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf"
)

// CustomParametersField names the custom authorization parameters in
// AuthCodeURL's errors.
const CustomParametersField = "customParameters"

// Client talks to one provider's authorization server: it builds
// authorization URLs and calls the token endpoint through
// golang.org/x/oauth2.
type Client struct {
	// Provider gives the client ID, the endpoints (Metadata) and the
	// client authentication method.
	Provider *behalf.OAuth2Provider
	// Vendor gives the vendor's defaults: OIDC (nonce and openid scope) and
	// AuthParams.
	Vendor Vendor
	// ClientSecret is the provider's unsealed client secret; empty for a
	// public client, which then sends only its client_id.
	ClientSecret behalf.Secret
	// Now, when set, is the clock expires_in counts from (tests inject it).
	Now func() time.Time
	// RedirectURL is Behalf's callback URL registered at the provider.
	RedirectURL string
	// ClientAssertion signs a fresh RFC 7523 client assertion for one
	// request to the token (or revocation) endpoint, for a provider whose
	// ClientAuthMethod is behalf.ClientPrivateKeyJWT; it is sent as
	// client_assertion with the client_id, and no secret is.
	ClientAssertion func(ctx context.Context) (string, error)
	// HTTP makes the token requests; it should come from
	// safehttp.NewClient. Nil means a shared safehttp client with default
	// options (public endpoints only).
	HTTP *http.Client
}

// AuthRequest is one authorization request.
type AuthRequest struct {
	// Scopes are requested space-joined; for an OIDC vendor "openid" is
	// added if missing.
	Scopes []string
	// State is required (see NewState).
	State string
	// PKCEVerifier is required (see NewVerifier); its S256 challenge is sent.
	PKCEVerifier string
	// Nonce is required for an OIDC vendor (see NewNonce) and sent only to
	// one.
	Nonce string
	// CustomParameters are added last. They replace vendor defaults of the
	// same name but may not set a parameter Behalf sets itself:
	// response_type, client_id, redirect_uri, scope, state, code_challenge,
	// code_challenge_method, nonce, request_uri or request (a request
	// object would replace all of them).
	CustomParameters map[string]string
	// Resources are sent as repeated resource parameters (RFC 8707).
	Resources []string
	// Audiences are sent as repeated audience parameters.
	Audiences []string
}

// reservedParams are the authorization request parameters Behalf sets
// itself; AuthRequest.CustomParameters may not name them.
var reservedParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state",
	"code_challenge", "code_challenge_method", "nonce", "request_uri", "request",
}

// AuthCodeURL returns the URL of the provider's authorization endpoint for
// r: response_type=code, client_id, redirect_uri, scope, state, the PKCE
// S256 challenge of r.PKCEVerifier, the nonce for an OIDC vendor, the
// vendor's AuthParams (each unless CustomParameters or, for audience and
// resource, r.Audiences or r.Resources set it), CustomParameters, then
// resource and audience once per entry.
//
// A custom parameter naming a parameter Behalf sets, or resource or
// audience while r.Resources or r.Audiences is set, is refused with a
// behalf.Invalid(CustomParametersField, ...) error. Missing state,
// verifier, nonce (OIDC) or endpoint are programming errors and return
// plain errors.
func (c *Client) AuthCodeURL(r AuthRequest) (string, error) {
	if err := c.checkAuthRequest(r); err != nil {
		return "", err
	}
	params, err := c.authParams(r)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(r.PKCEVerifier)}
	for k, v := range params {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	cfg := c.config(c.authScopes(r.Scopes), oauth2.AuthStyleInParams)
	u := cfg.AuthCodeURL(r.State, opts...)
	if repeated := repeatedParams(r); len(repeated) > 0 {
		u += "&" + repeated.Encode() // AuthCodeURL always writes a query
	}
	return u, nil
}

// checkAuthRequest reports what AuthCodeURL cannot do without.
func (c *Client) checkAuthRequest(r AuthRequest) error {
	switch {
	case c.Provider == nil || c.Provider.Metadata.AuthorizationEndpoint == "":
		return errors.New("oauth: the provider has no authorization endpoint")
	case c.RedirectURL == "":
		return errors.New("oauth: Client.RedirectURL is empty")
	case r.State == "":
		return errors.New("oauth: AuthRequest.State is empty")
	case !validVerifier(r.PKCEVerifier):
		return errors.New("oauth: AuthRequest.PKCEVerifier is not an RFC 7636 code verifier")
	case c.Vendor.OIDC && r.Nonce == "":
		return errors.New("oauth: AuthRequest.Nonce is required for an OpenID Connect vendor")
	}
	return nil
}

// validVerifier reports whether v is an RFC 7636 code verifier: 43 to 128
// characters from A-Z a-z 0-9 - . _ ~.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	return strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") == ""
}

// authScopes returns scopes with "openid" first for an OIDC vendor.
func (c *Client) authScopes(scopes []string) []string {
	if c.Vendor.OIDC && !slices.Contains(scopes, "openid") {
		return append([]string{"openid"}, scopes...)
	}
	return scopes
}

// authParams returns the single-valued parameters AuthCodeURL adds beyond
// x/oauth2's own: nonce, vendor defaults, custom parameters.
func (c *Client) authParams(r AuthRequest) (map[string]string, error) {
	if err := checkCustom(r); err != nil {
		return nil, err
	}
	params := map[string]string{}
	for k, v := range c.Vendor.AuthParams {
		if !slices.Contains(reservedParams, k) {
			params[k] = v
		}
	}
	if len(r.Resources) > 0 {
		delete(params, "resource")
	}
	if len(r.Audiences) > 0 {
		delete(params, "audience")
	}
	for k, v := range r.CustomParameters {
		params[k] = v
	}
	if c.Vendor.OIDC {
		params["nonce"] = r.Nonce
	}
	return params, nil
}

// checkCustom refuses custom parameters that would replace a standard one
// or clash with r.Resources or r.Audiences, naming the first such key.
func checkCustom(r AuthRequest) error {
	keys := slices.Sorted(maps.Keys(r.CustomParameters))
	for _, k := range keys {
		switch {
		case k == "":
			return behalf.Invalid(CustomParametersField, "Custom parameter names must not be empty.")
		case slices.Contains(reservedParams, k):
			return behalf.Invalid(CustomParametersField,
				"Custom parameter %s is set by Behalf and cannot be overridden.", k)
		case k == "resource" && len(r.Resources) > 0, k == "audience" && len(r.Audiences) > 0:
			return behalf.Invalid(CustomParametersField,
				"Custom parameter %s conflicts with the %ss given separately.", k, k)
		}
	}
	return nil
}

// repeatedParams returns the resource and audience parameters, one per
// entry, which x/oauth2's single-valued options cannot express.
func repeatedParams(r AuthRequest) url.Values {
	v := url.Values{}
	if len(r.Resources) > 0 {
		v["resource"] = r.Resources
	}
	if len(r.Audiences) > 0 {
		v["audience"] = r.Audiences
	}
	return v
}
