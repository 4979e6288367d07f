package behalf

import (
	"context"
	"time"
)

// Credential provider vendors that Behalf knows (AgentCore's
// CredentialProviderVendorType values that Behalf serves).
const (
	VendorCustom     = "CustomOauth2"
	VendorGoogle     = "GoogleOauth2"
	VendorGithub     = "GithubOauth2"
	VendorMicrosoft  = "MicrosoftOauth2"
	VendorSlack      = "SlackOauth2"
	VendorSalesforce = "SalesforceOauth2"
	VendorAtlassian  = "AtlassianOauth2"
	VendorLinkedin   = "LinkedinOauth2"

	// Vendors configured with includedOauth2ProviderConfig: those whose
	// endpoints are the admin's own tenant's ...
	VendorOkta       = "OktaOauth2"
	VendorOneLogin   = "OneLoginOauth2"
	VendorPingOne    = "PingOneOauth2"
	VendorCognito    = "CognitoOauth2"
	VendorAuth0      = "Auth0Oauth2"
	VendorCyberArk   = "CyberArkOauth2"
	VendorFusionAuth = "FusionAuthOauth2"
	// ... and those with fixed endpoints.
	VendorX        = "XOauth2"
	VendorFacebook = "FacebookOauth2"
	VendorYandex   = "YandexOauth2"
	VendorReddit   = "RedditOauth2"
	VendorZoom     = "ZoomOauth2"
	VendorTwitch   = "TwitchOauth2"
	VendorSpotify  = "SpotifyOauth2"
	VendorDropbox  = "DropboxOauth2"
	VendorNotion   = "NotionOauth2"
	VendorHubspot  = "HubspotOauth2"
)

// Client authentication methods at a token endpoint (AgentCore's
// ClientAuthenticationMethodType values Behalf supports).
const (
	ClientSecretBasic = "CLIENT_SECRET_BASIC"
	ClientSecretPost  = "CLIENT_SECRET_POST"
	// ClientPrivateKeyJWT authenticates with an RFC 7523 client assertion
	// signed by a key Behalf holds for the provider (PrivateKeyJWTConfig).
	ClientPrivateKeyJWT = "PRIVATE_KEY_JWT"
	// ClientAWSIAMIDTokenJWT is AWS's STS-signed client assertion; Behalf
	// refuses it.
	ClientAWSIAMIDTokenJWT = "AWS_IAM_ID_TOKEN_JWT"
)

// PrivateKeyJWTConfig is how a PRIVATE_KEY_JWT provider's client
// assertions are made (AgentCore's privateKeyJwtConfig, without the KMS
// key: Behalf generates the key and keeps it sealed, package signer).
type PrivateKeyJWTConfig struct {
	// SigningAlgorithm is RS256, PS256 or ES256.
	SigningAlgorithm string
	// HeaderClaims are added to the assertion's header (not alg, typ or
	// kid).
	HeaderClaims map[string]string
	// PayloadClaims are added to its claims (not iss, sub, jti, exp, iat or
	// nbf); aud here replaces the default, the token endpoint.
	PayloadClaims map[string]string
}

// PrivateKeyJWTInput is a privateKeyJwtConfig as an admin sent it.
type PrivateKeyJWTInput struct {
	SigningAlgorithm string
	HeaderClaims     map[string]string
	PayloadClaims    map[string]string
	// KMSKeyARN is privateKeySource.kmsKeySource.kmsKeyArn: refused, as
	// Behalf holds the key itself.
	KMSKeyARN string
}

// ClientKeyService publishes the public keys of PRIVATE_KEY_JWT providers'
// client assertions.
type ClientKeyService interface {
	// ProviderJWKS returns the JSON Web Key Set to register at the provider
	// whose id is providerID; ENOTFOUND when there is no such provider or it
	// does not use PRIVATE_KEY_JWT.
	ProviderJWKS(ctx context.Context, providerID string) ([]byte, error)
}

// ProviderJWKSPath is the path of a provider's client-assertion JWKS under
// Behalf's public URL.
func ProviderJWKSPath(providerID string) string {
	return "/identities/oauth2/providers/" + providerID + "/jwks.json"
}

// On-behalf-of token exchange (AgentCore's onBehalfOfTokenExchangeConfig):
// the grant types and the actor tokens Behalf can send.
const (
	// OBOTokenExchange is RFC 8693 token exchange.
	OBOTokenExchange = "TOKEN_EXCHANGE"
	// OBOJWTAuthorizationGrant is the RFC 7523 JWT authorization grant
	// (jwt-bearer), the user's JWT as the assertion.
	OBOJWTAuthorizationGrant = "JWT_AUTHORIZATION_GRANT"

	// ActorNone sends no actor token: the provider knows the actor from the
	// client authentication alone.
	ActorNone = "NONE"
	// ActorM2M sends, as the actor token, a client-credentials token of the
	// same provider (the workload's own M2M token).
	ActorM2M = "M2M"
	// ActorAWSIAMIDToken is AWS's STS-signed actor token; Behalf refuses it.
	ActorAWSIAMIDToken = "AWS_IAM_ID_TOKEN_JWT"
)

// OnBehalfOfConfig is a provider's on-behalf-of token exchange: how
// GetResourceOauth2Token with ON_BEHALF_OF_TOKEN_EXCHANGE trades the
// user's JWT (the one behind the workload access token) for a token of
// this provider.
type OnBehalfOfConfig struct {
	// GrantType is OBOTokenExchange or OBOJWTAuthorizationGrant.
	GrantType string
	// ActorTokenContent is ActorNone or ActorM2M (TOKEN_EXCHANGE only);
	// empty when the admin gave no tokenExchangeGrantTypeConfig, which
	// means ActorNone.
	ActorTokenContent string
	// ActorTokenScopes are the scopes of the M2M actor token.
	ActorTokenScopes []string
	// NoClientAuth (onBehalfOfAuthenticationConfig NO_CLIENT) sends the
	// exchange without client authentication: no client_id, no secret.
	NoClientAuth bool
}

// AuthServerMetadata is the part of RFC 8414 / OIDC discovery metadata Behalf
// uses to talk to an authorization server.
type AuthServerMetadata struct {
	Issuer                   string   `json:"issuer"`
	AuthorizationEndpoint    string   `json:"authorization_endpoint"`
	TokenEndpoint            string   `json:"token_endpoint"`
	RevocationEndpoint       string   `json:"revocation_endpoint,omitempty"`
	UserinfoEndpoint         string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI                  string   `json:"jwks_uri,omitempty"`
	ResponseTypes            []string `json:"response_types_supported,omitempty"`
	TokenEndpointAuthMethods []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	ScopesSupported          []string `json:"scopes_supported,omitempty"`
	CodeChallengeMethods     []string `json:"code_challenge_methods_supported,omitempty"`
}

// OAuth2Provider is a credential provider: how Behalf reaches one third
// party's authorization server on behalf of users.
type OAuth2Provider struct {
	ID     string // stable and unguessable; names the callback URL
	Name   string
	Vendor string

	ClientID     string
	ClientSecret Sealed // sealed under SealContext{"oauth2-provider", ID, "client_secret"}
	TenantID     string // MicrosoftOauth2 only

	// DiscoveryURL is the discovery document an admin gave (custom only).
	DiscoveryURL string
	// Metadata holds the endpoints in use: from the vendor catalogue, the
	// admin's explicit metadata, or the discovery document.
	Metadata AuthServerMetadata
	// ClientAuthMethod is the method used at the token endpoint.
	ClientAuthMethod string
	// OnBehalfOf, when set, lets agents exchange users' JWTs for this
	// provider's tokens (custom providers only).
	OnBehalfOf *OnBehalfOfConfig
	// PrivateKeyJWT is set when ClientAuthMethod is ClientPrivateKeyJWT.
	PrivateKeyJWT *PrivateKeyJWTConfig

	Tags      map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OAuth2ProviderStore persists OAuth 2.0 credential providers.
type OAuth2ProviderStore interface {
	// CreateOAuth2Provider returns ECONFLICT if the name or id exists.
	CreateOAuth2Provider(ctx context.Context, p *OAuth2Provider) error
	// GetOAuth2Provider returns ENOTFOUND.
	GetOAuth2Provider(ctx context.Context, name string) (*OAuth2Provider, error)
	// GetOAuth2ProviderByID returns ENOTFOUND.
	GetOAuth2ProviderByID(ctx context.Context, id string) (*OAuth2Provider, error)
	// UpdateOAuth2Provider applies fn in one transaction; ID, Name and
	// CreatedAt cannot change. Returns ENOTFOUND or fn's error.
	UpdateOAuth2Provider(ctx context.Context, name string, fn func(*OAuth2Provider) error) (*OAuth2Provider, error)
	// DeleteOAuth2Provider returns ENOTFOUND.
	DeleteOAuth2Provider(ctx context.Context, name string) error
	// ListOAuth2Providers returns providers ordered by name.
	ListOAuth2Providers(ctx context.Context, opt ListOptions) ([]*OAuth2Provider, error)
}

// OAuth2ProviderInput is what an admin sets on an OAuth 2.0 provider. Config
// names the wire union member the settings came in (for example
// "googleOauth2ProviderConfig"); it must match the vendor.
type OAuth2ProviderInput struct {
	Name         string
	Vendor       string
	Config       string
	ClientID     string
	ClientSecret Secret
	TenantID     string

	// Custom and tenant-specific vendors.
	DiscoveryURL     string
	Metadata         *AuthServerMetadata
	ClientAuthMethod string
	// Issuer, AuthorizationEndpoint and TokenEndpoint are
	// includedOauth2ProviderConfig's: a tenant vendor's endpoints (Okta,
	// Auth0, ...).
	Issuer, AuthorizationEndpoint, TokenEndpoint string
	// OnBehalfOf is the onBehalfOfTokenExchangeConfig given, nil if none.
	OnBehalfOf *OnBehalfOfInput
	// PrivateKeyJWT is the privateKeyJwtConfig given, nil if none.
	PrivateKeyJWT *PrivateKeyJWTInput

	Tags map[string]string
}

// OnBehalfOfInput is an onBehalfOfTokenExchangeConfig as an admin sent it,
// before validation.
type OnBehalfOfInput struct {
	GrantType string
	// ActorTokenContent is tokenExchangeGrantTypeConfig.actorTokenContent;
	// nil when no tokenExchangeGrantTypeConfig was given.
	ActorTokenContent *string
	ActorTokenScopes  []string
	// AuthenticationMethod is
	// onBehalfOfAuthenticationConfig.clientAuthenticationMethod; nil when
	// no onBehalfOfAuthenticationConfig was given.
	AuthenticationMethod *string
}

// OBONoClient is the one onBehalfOfAuthenticationConfig method: the
// exchange is sent without client authentication.
const OBONoClient = "NO_CLIENT"

// OAuth2ProviderService manages OAuth 2.0 credential providers.
type OAuth2ProviderService interface {
	// CreateOAuth2Provider returns EINVALID or ECONFLICT.
	CreateOAuth2Provider(ctx context.Context, in OAuth2ProviderInput) (*OAuth2Provider, error)
	// GetOAuth2Provider returns EINVALID or ENOTFOUND.
	GetOAuth2Provider(ctx context.Context, name string) (*OAuth2Provider, error)
	// UpdateOAuth2Provider replaces the configuration. Returns EINVALID or ENOTFOUND.
	UpdateOAuth2Provider(ctx context.Context, in OAuth2ProviderInput) (*OAuth2Provider, error)
	// DeleteOAuth2Provider returns EINVALID or ENOTFOUND.
	DeleteOAuth2Provider(ctx context.Context, name string) error
	// ListOAuth2Providers returns one page.
	ListOAuth2Providers(ctx context.Context, page PageRequest) ([]*OAuth2Provider, string, error)
	// CallbackURL returns the URL to register at the provider.
	CallbackURL(p *OAuth2Provider) string
}
