package oauth

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/oauth2/endpoints"

	"github.com/behalf-dev/behalf"
)

// Vendor is a built-in credential provider vendor: the wire union member
// its settings come in, its authorization server endpoints, and the
// parameters Behalf adds to its authorization requests.
type Vendor struct {
	Name         string // behalf.VendorGoogle ...
	ConfigMember string // wire union member, e.g. "googleOauth2ProviderConfig"
	// Metadata holds the built-in endpoints; empty for CustomOauth2. Issuer,
	// JWKSURI and UserinfoEndpoint are set where the vendor publishes them
	// (even if OIDC is false); TokenEndpointAuthMethods lists the methods
	// known to work at its token endpoint.
	Metadata behalf.AuthServerMetadata
	// OIDC is set for vendors to which Behalf sends a nonce and the openid
	// scope.
	OIDC bool
	// AuthParams are vendor defaults added to authorization requests.
	AuthParams map[string]string
	// Tenant is set for vendors whose endpoints are the admin's own
	// tenant's (Okta, Auth0, ...): they come from includedOauth2ProviderConfig
	// (authorizationEndpoint and tokenEndpoint, or the issuer's discovery
	// document); Metadata then holds only the vendor's auth methods.
	Tenant bool
	// revocation derives a tenant's revocation endpoint from its token
	// endpoint: the token path's suffix [0] replaced by [1], as the
	// vendor documents them; empty when the vendor has none.
	revocation [2]string
}

// includedMember is the union member of the vendors without one of their
// own.
const includedMember = "includedOauth2ProviderConfig"

// TenantRevocation returns the revocation endpoint of a tenant vendor's
// tenant from its token endpoint, by the vendor's documented layout (Okta
// .../v1/token → .../v1/revoke), or "" when the vendor has none or the
// token endpoint is not laid out as documented.
func (v Vendor) TenantRevocation(tokenEndpoint string) string {
	from, to := v.revocation[0], v.revocation[1]
	u, err := url.Parse(tokenEndpoint)
	if from == "" || err != nil || u.RawQuery != "" || !strings.HasSuffix(u.Path, from) {
		return ""
	}
	u.Path = strings.TrimSuffix(u.Path, from) + to
	u.RawPath = ""
	return u.String()
}

// DefaultMicrosoftTenant is the Microsoft tenant used when none is given:
// any work, school or personal Microsoft account.
const DefaultMicrosoftTenant = "common"

// TenantIDField is the wire field of the Microsoft tenant, for errors.
const TenantIDField = "oauth2ProviderConfigInput.microsoftOauth2ProviderConfig.tenantId"

// Microsoft identity platform constants.
const (
	microsoftLogin     = "https://login.microsoftonline.com/"
	microsoftConsumers = "9188040d-6c67-4c5b-b112-36a304b66dad" // tenant of personal accounts
	// microsoftAnyTenant is the issuer placeholder Microsoft's own discovery
	// documents use where the tenant is only known from the token's tid.
	microsoftAnyTenant = "{tenantid}"
)

// Token endpoint authentication methods, in discovery-document spelling.
const (
	authBasic = "client_secret_basic"
	authPost  = "client_secret_post"
)

// vendors is the catalogue: every value is a constant, from
// golang.org/x/oauth2/endpoints where it has the vendor, else from the
// vendor's published documentation.
var vendors = map[string]Vendor{
	behalf.VendorCustom: {
		Name:         behalf.VendorCustom,
		ConfigMember: "customOauth2ProviderConfig",
	},
	behalf.VendorGoogle: {
		Name:         behalf.VendorGoogle,
		ConfigMember: "googleOauth2ProviderConfig",
		OIDC:         true,
		Metadata: behalf.AuthServerMetadata{
			Issuer:                   "https://accounts.google.com",
			AuthorizationEndpoint:    endpoints.Google.AuthURL,
			TokenEndpoint:            endpoints.Google.TokenURL,
			RevocationEndpoint:       "https://oauth2.googleapis.com/revoke",
			UserinfoEndpoint:         "https://openidconnect.googleapis.com/v1/userinfo",
			JWKSURI:                  "https://www.googleapis.com/oauth2/v3/certs",
			TokenEndpointAuthMethods: []string{authBasic, authPost},
		},
		AuthParams: map[string]string{"access_type": "offline", "prompt": "consent"},
	},
	behalf.VendorGithub: {
		Name:         behalf.VendorGithub,
		ConfigMember: "githubOauth2ProviderConfig",
		Metadata: behalf.AuthServerMetadata{
			AuthorizationEndpoint:    endpoints.GitHub.AuthURL,
			TokenEndpoint:            endpoints.GitHub.TokenURL,
			TokenEndpointAuthMethods: []string{authPost},
		},
	},
	behalf.VendorMicrosoft: {
		Name:         behalf.VendorMicrosoft,
		ConfigMember: "microsoftOauth2ProviderConfig",
		OIDC:         true,
		Metadata:     microsoftMetadata(DefaultMicrosoftTenant),
	},
	behalf.VendorSlack: {
		Name:         behalf.VendorSlack,
		ConfigMember: "slackOauth2ProviderConfig",
		Metadata: behalf.AuthServerMetadata{
			AuthorizationEndpoint:    endpoints.Slack.AuthURL,
			TokenEndpoint:            endpoints.Slack.TokenURL,
			RevocationEndpoint:       "https://slack.com/api/auth.revoke",
			TokenEndpointAuthMethods: []string{authPost},
		},
	},
	behalf.VendorSalesforce: {
		Name:         behalf.VendorSalesforce,
		ConfigMember: "salesforceOauth2ProviderConfig",
		Metadata: behalf.AuthServerMetadata{
			Issuer:                   "https://login.salesforce.com",
			AuthorizationEndpoint:    "https://login.salesforce.com/services/oauth2/authorize",
			TokenEndpoint:            "https://login.salesforce.com/services/oauth2/token",
			RevocationEndpoint:       "https://login.salesforce.com/services/oauth2/revoke",
			UserinfoEndpoint:         "https://login.salesforce.com/services/oauth2/userinfo",
			JWKSURI:                  "https://login.salesforce.com/id/keys",
			TokenEndpointAuthMethods: []string{authPost},
		},
	},
	behalf.VendorAtlassian: {
		Name:         behalf.VendorAtlassian,
		ConfigMember: "atlassianOauth2ProviderConfig",
		Metadata: behalf.AuthServerMetadata{
			AuthorizationEndpoint:    "https://auth.atlassian.com/authorize",
			TokenEndpoint:            "https://auth.atlassian.com/oauth/token",
			TokenEndpointAuthMethods: []string{authPost},
		},
		AuthParams: map[string]string{"audience": "api.atlassian.com", "prompt": "consent"},
	},
	// Tenant vendors: endpoints from includedOauth2ProviderConfig; the
	// revocation layout from each vendor's documentation.
	behalf.VendorOkta: { // developer.okta.com/docs/reference/api/oidc: /oauth2/{as}/v1/token, /v1/revoke
		Name: behalf.VendorOkta, ConfigMember: includedMember, Tenant: true, OIDC: true,
		Metadata:   behalf.AuthServerMetadata{TokenEndpointAuthMethods: []string{authBasic, authPost}},
		revocation: [2]string{"/v1/token", "/v1/revoke"},
	},
	behalf.VendorOneLogin: { // developers.onelogin.com OIDC API: /oidc/2/token, /oidc/2/token/revocation; AgentCore: auth method POST
		Name: behalf.VendorOneLogin, ConfigMember: includedMember, Tenant: true, OIDC: true,
		Metadata:   behalf.AuthServerMetadata{TokenEndpointAuthMethods: []string{authPost}},
		revocation: [2]string{"/oidc/2/token", "/oidc/2/token/revocation"},
	},
	behalf.VendorPingOne: { // apidocs.pingidentity.com PingOne platform: /{envId}/as/token, /as/revoke
		Name: behalf.VendorPingOne, ConfigMember: includedMember, Tenant: true, OIDC: true,
		Metadata:   behalf.AuthServerMetadata{TokenEndpointAuthMethods: []string{authBasic, authPost}},
		revocation: [2]string{"/as/token", "/as/revoke"},
	},
	behalf.VendorCognito: { // docs.aws.amazon.com/cognito user pool endpoints: /oauth2/token, /oauth2/revoke
		Name: behalf.VendorCognito, ConfigMember: includedMember, Tenant: true, OIDC: true,
		Metadata:   behalf.AuthServerMetadata{TokenEndpointAuthMethods: []string{authBasic, authPost}},
		revocation: [2]string{"/oauth2/token", "/oauth2/revoke"},
	},
	behalf.VendorAuth0: { // auth0.com/docs/api/authentication: /oauth/token, /oauth/revoke
		Name: behalf.VendorAuth0, ConfigMember: includedMember, Tenant: true, OIDC: true,
		Metadata:   behalf.AuthServerMetadata{TokenEndpointAuthMethods: []string{authPost, authBasic}},
		revocation: [2]string{"/oauth/token", "/oauth/revoke"},
	},
	behalf.VendorCyberArk: { // no revocation endpoint documented for its OIDC apps
		Name: behalf.VendorCyberArk, ConfigMember: includedMember, Tenant: true, OIDC: true,
		Metadata: behalf.AuthServerMetadata{TokenEndpointAuthMethods: []string{authBasic, authPost}},
	},
	behalf.VendorFusionAuth: { // revocation only through its own API, not RFC 7009
		Name: behalf.VendorFusionAuth, ConfigMember: includedMember, Tenant: true, OIDC: true,
		Metadata: behalf.AuthServerMetadata{TokenEndpointAuthMethods: []string{authBasic, authPost}},
	},
	// Vendors with fixed endpoints, configured with includedOauth2ProviderConfig.
	behalf.VendorX: { // docs.x.com OAuth 2.0 user access token (PKCE; confidential clients use Basic); /2/oauth2/revoke
		Name: behalf.VendorX, ConfigMember: includedMember,
		Metadata: behalf.AuthServerMetadata{
			AuthorizationEndpoint: endpoints.X.AuthURL, TokenEndpoint: endpoints.X.TokenURL,
			RevocationEndpoint:       "https://api.x.com/2/oauth2/revoke",
			TokenEndpointAuthMethods: []string{authBasic},
		},
	},
	behalf.VendorFacebook: { // Graph API login; revocation is DELETE /me/permissions, not RFC 7009
		Name: behalf.VendorFacebook, ConfigMember: includedMember,
		Metadata: behalf.AuthServerMetadata{
			AuthorizationEndpoint: endpoints.Facebook.AuthURL, TokenEndpoint: endpoints.Facebook.TokenURL,
			TokenEndpointAuthMethods: []string{authPost},
		},
	},
	behalf.VendorYandex: { // yandex.com/dev/id: revoke_token takes access_token, not RFC 7009
		Name: behalf.VendorYandex, ConfigMember: includedMember,
		Metadata: behalf.AuthServerMetadata{
			AuthorizationEndpoint: endpoints.Yandex.AuthURL, TokenEndpoint: endpoints.Yandex.TokenURL,
			TokenEndpointAuthMethods: []string{authBasic, authPost},
		},
	},
	behalf.VendorReddit: { // github.com/reddit-archive/reddit/wiki/OAuth2: Basic auth, duration=permanent for refresh tokens, revoke_token
		Name: behalf.VendorReddit, ConfigMember: includedMember,
		Metadata: behalf.AuthServerMetadata{
			AuthorizationEndpoint:    "https://www.reddit.com/api/v1/authorize",
			TokenEndpoint:            "https://www.reddit.com/api/v1/access_token",
			RevocationEndpoint:       "https://www.reddit.com/api/v1/revoke_token",
			TokenEndpointAuthMethods: []string{authBasic},
		},
		AuthParams: map[string]string{"duration": "permanent"},
	},
	behalf.VendorZoom: { // developers.zoom.us OAuth: Basic auth; /oauth/revoke
		Name: behalf.VendorZoom, ConfigMember: includedMember,
		Metadata: behalf.AuthServerMetadata{
			AuthorizationEndpoint: endpoints.Zoom.AuthURL, TokenEndpoint: endpoints.Zoom.TokenURL,
			RevocationEndpoint:       "https://zoom.us/oauth/revoke",
			TokenEndpointAuthMethods: []string{authBasic},
		},
	},
	behalf.VendorTwitch: { // dev.twitch.tv authentication: secret in the form; /oauth2/revoke; OIDC discovery at id.twitch.tv/oauth2
		Name: behalf.VendorTwitch, ConfigMember: includedMember,
		Metadata: behalf.AuthServerMetadata{
			Issuer:                "https://id.twitch.tv/oauth2",
			AuthorizationEndpoint: endpoints.Twitch.AuthURL, TokenEndpoint: endpoints.Twitch.TokenURL,
			RevocationEndpoint:       "https://id.twitch.tv/oauth2/revoke",
			UserinfoEndpoint:         "https://id.twitch.tv/oauth2/userinfo",
			JWKSURI:                  "https://id.twitch.tv/oauth2/keys",
			TokenEndpointAuthMethods: []string{authPost},
		},
	},
	behalf.VendorSpotify: { // developer.spotify.com authorization code flow; no revocation endpoint
		Name: behalf.VendorSpotify, ConfigMember: includedMember,
		Metadata: behalf.AuthServerMetadata{
			AuthorizationEndpoint: endpoints.Spotify.AuthURL, TokenEndpoint: endpoints.Spotify.TokenURL,
			TokenEndpointAuthMethods: []string{authBasic, authPost},
		},
	},
	behalf.VendorDropbox: { // dropbox.com/developers OAuth guide: token_access_type=offline for refresh tokens; revocation is the bearer-authenticated /2/auth/token/revoke, not RFC 7009
		Name: behalf.VendorDropbox, ConfigMember: includedMember,
		Metadata: behalf.AuthServerMetadata{
			AuthorizationEndpoint: endpoints.Dropbox.AuthURL, TokenEndpoint: endpoints.Dropbox.TokenURL,
			TokenEndpointAuthMethods: []string{authBasic, authPost},
		},
		AuthParams: map[string]string{"token_access_type": "offline"},
	},
	behalf.VendorNotion: { // developers.notion.com authorization: owner=user, Basic auth; no revocation endpoint
		Name: behalf.VendorNotion, ConfigMember: includedMember,
		Metadata: behalf.AuthServerMetadata{
			AuthorizationEndpoint:    "https://api.notion.com/v1/oauth/authorize",
			TokenEndpoint:            "https://api.notion.com/v1/oauth/token",
			TokenEndpointAuthMethods: []string{authBasic},
		},
		AuthParams: map[string]string{"owner": "user"},
	},
	behalf.VendorHubspot: { // developers.hubspot.com OAuth: secret in the form; revocation is DELETE /oauth/v1/refresh-tokens/{token}, not RFC 7009
		Name: behalf.VendorHubspot, ConfigMember: includedMember,
		Metadata: behalf.AuthServerMetadata{
			AuthorizationEndpoint:    "https://app.hubspot.com/oauth/authorize",
			TokenEndpoint:            "https://api.hubapi.com/oauth/v1/token",
			TokenEndpointAuthMethods: []string{authPost},
		},
	},
	behalf.VendorLinkedin: {
		Name:         behalf.VendorLinkedin,
		ConfigMember: "linkedinOauth2ProviderConfig",
		Metadata: behalf.AuthServerMetadata{
			Issuer:                   "https://www.linkedin.com/oauth",
			AuthorizationEndpoint:    endpoints.LinkedIn.AuthURL,
			TokenEndpoint:            endpoints.LinkedIn.TokenURL,
			UserinfoEndpoint:         "https://api.linkedin.com/v2/userinfo",
			JWKSURI:                  "https://www.linkedin.com/oauth/openid/jwks",
			TokenEndpointAuthMethods: []string{authPost},
		},
	},
}

// microsoftMetadata returns the Microsoft identity platform (v2.0)
// endpoints of a tenant. Microsoft has no standard revocation endpoint.
func microsoftMetadata(tenant string) behalf.AuthServerMetadata {
	ep := endpoints.AzureAD(tenant)
	return behalf.AuthServerMetadata{
		Issuer:                   microsoftIssuer(tenant),
		AuthorizationEndpoint:    ep.AuthURL,
		TokenEndpoint:            ep.TokenURL,
		UserinfoEndpoint:         "https://graph.microsoft.com/oidc/userinfo",
		JWKSURI:                  microsoftLogin + tenant + "/discovery/v2.0/keys",
		TokenEndpointAuthMethods: []string{authBasic, authPost},
	}
}

// guidRE matches a tenant ID in GUID form.
var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// microsoftIssuer returns the issuer of ID tokens for tenant. Tokens carry
// the tenant's GUID, so for a tenant given by GUID the issuer is exact; for
// the consumers alias it is the consumer tenant; otherwise (common,
// organizations, domain names) it keeps Microsoft's "{tenantid}"
// placeholder, to be filled from the token's tid claim.
func microsoftIssuer(tenant string) string {
	switch {
	case guidRE.MatchString(tenant):
		return microsoftLogin + strings.ToLower(tenant) + "/v2.0"
	case strings.EqualFold(tenant, "consumers"):
		return microsoftLogin + microsoftConsumers + "/v2.0"
	}
	return microsoftLogin + microsoftAnyTenant + "/v2.0"
}

// tenantRE matches a tenant ID: a GUID, an alias such as "common", or a
// domain name; letters, digits and hyphens in dot-separated labels.
var tenantRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// CheckTenantID returns a behalf.Invalid error (field TenantIDField) if id
// is not a usable Microsoft tenant: a GUID, "common", "organizations",
// "consumers" or a domain name. The empty string is allowed and means
// DefaultMicrosoftTenant.
func CheckTenantID(id string) error {
	if id == "" || (len(id) <= 253 && tenantRE.MatchString(id)) {
		return nil
	}
	return behalf.Invalid(TenantIDField,
		"Tenant ID %q is not valid; use a tenant GUID, a domain name, common, organizations or consumers.", id)
}

// LookupVendor returns the built-in vendor name (a behalf.Vendor*
// constant), with Microsoft's endpoints for DefaultMicrosoftTenant.
func LookupVendor(name string) (Vendor, bool) {
	v, ok := vendors[name]
	if !ok {
		return Vendor{}, false
	}
	return v.clone(), true
}

// VendorFor is LookupVendor with the Microsoft tenant substituted into the
// endpoints (DefaultMicrosoftTenant if tenantID is empty). It reports false
// for an unknown vendor or an invalid tenant (see CheckTenantID). Other
// vendors ignore tenantID.
func VendorFor(name, tenantID string) (Vendor, bool) {
	v, ok := LookupVendor(name)
	if !ok || name != behalf.VendorMicrosoft {
		return v, ok
	}
	if tenantID == "" {
		tenantID = DefaultMicrosoftTenant
	}
	if CheckTenantID(tenantID) != nil {
		return Vendor{}, false
	}
	v.Metadata = microsoftMetadata(tenantID)
	return v, true
}

// clone returns a copy of v that shares no maps or slices with the table.
func (v Vendor) clone() Vendor {
	v.AuthParams = maps.Clone(v.AuthParams)
	m := &v.Metadata
	m.ResponseTypes = slices.Clone(m.ResponseTypes)
	m.TokenEndpointAuthMethods = slices.Clone(m.TokenEndpointAuthMethods)
	m.ScopesSupported = slices.Clone(m.ScopesSupported)
	m.CodeChallengeMethods = slices.Clone(m.CodeChallengeMethods)
	return v
}
