package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/oauth"
)

const providerSealKind = "oauth2-provider"

// CreateOAuth2Provider validates the input, resolves the provider's
// endpoints (vendor catalogue, explicit metadata, or a discovery fetch),
// seals the client secret and stores the provider.
func (s *Service) CreateOAuth2Provider(ctx context.Context, in behalf.OAuth2ProviderInput) (*behalf.OAuth2Provider, error) {
	if err := validateProviderName(in.Name); err != nil {
		return nil, err
	}
	if err := behalf.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	p := &behalf.OAuth2Provider{ID: newProviderID(), Name: in.Name, Tags: in.Tags}
	if err := s.configureProvider(ctx, p, in, true); err != nil {
		return nil, err
	}
	p.CreatedAt = s.now()
	p.UpdatedAt = p.CreatedAt
	if err := s.Store.CreateOAuth2Provider(ctx, p); err != nil {
		return nil, err
	}
	if err := s.ensureClientKey(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// GetOAuth2Provider returns a provider by name.
func (s *Service) GetOAuth2Provider(ctx context.Context, name string) (*behalf.OAuth2Provider, error) {
	if err := validateProviderName(name); err != nil {
		return nil, err
	}
	return s.Store.GetOAuth2Provider(ctx, name)
}

// UpdateOAuth2Provider replaces a provider's configuration. Its id and
// callback URL stay. A missing client secret keeps the stored one.
func (s *Service) UpdateOAuth2Provider(ctx context.Context, in behalf.OAuth2ProviderInput) (*behalf.OAuth2Provider, error) {
	if err := validateProviderName(in.Name); err != nil {
		return nil, err
	}
	existing, err := s.Store.GetOAuth2Provider(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	// Resolve (and possibly fetch discovery) outside the transaction.
	next := *existing
	if err := s.configureProvider(ctx, &next, in, false); err != nil {
		return nil, err
	}
	now := s.now()
	p, err := s.Store.UpdateOAuth2Provider(ctx, in.Name, func(p *behalf.OAuth2Provider) error {
		if p.ID != existing.ID {
			return behalf.Errorf(behalf.ECONFLICT, "Credential provider %q changed during the update; try again.", in.Name)
		}
		tags := p.Tags
		*p = next
		p.Tags = tags
		p.UpdatedAt = now
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.ensureClientKey(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// retireClientKeys withdraws a deleted provider's client-assertion keys at
// once: nothing signs with them any more, and their JWKS is gone.
func (s *Service) retireClientKeys(ctx context.Context, p *behalf.OAuth2Provider) error {
	keys, err := s.Store.ListSigningKeys(ctx, ClientKeyUse(p.ID))
	if err != nil {
		return fmt.Errorf("list the client-assertion keys of %s: %w", p.Name, err)
	}
	now := s.now()
	for _, k := range keys {
		if !k.RetireAt.IsZero() && !k.RetireAt.After(now) {
			continue
		}
		if err := s.Store.RetireSigningKey(ctx, k.ID, now); err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND {
			return fmt.Errorf("retire client-assertion key %s: %w", k.ID, err)
		}
	}
	return nil
}

// ensureClientKey creates the client-assertion key of a PRIVATE_KEY_JWT
// provider that has none, so that its JWKS can be registered at once.
func (s *Service) ensureClientKey(ctx context.Context, p *behalf.OAuth2Provider) error {
	if s.ClientKeys == nil || p.ClientAuthMethod != behalf.ClientPrivateKeyJWT {
		return nil
	}
	return s.ClientKeys.Ensure(ctx, p)
}

// ProviderJWKSURL is where provider p's client-assertion keys are
// published (PRIVATE_KEY_JWT).
func (s *Service) ProviderJWKSURL(p *behalf.OAuth2Provider) string {
	return s.PublicURL + behalf.ProviderJWKSPath(p.ID)
}

// DeleteOAuth2Provider deletes a provider.
// Its users' grants are deleted too: nothing can reach them any more, and
// sealed tokens should not outlive the provider they belong to.
func (s *Service) DeleteOAuth2Provider(ctx context.Context, name string) error {
	if err := validateProviderName(name); err != nil {
		return err
	}
	p, err := s.Store.GetOAuth2Provider(ctx, name)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteOAuth2Provider(ctx, name); err != nil {
		return err
	}
	if err := s.retireClientKeys(ctx, p); err != nil {
		return err
	}
	return s.deleteGrants(ctx, func(g *behalf.Grant) bool { return g.ProviderID == p.ID })
}

// deleteGrants deletes every grant match selects. Admin deletions are rare,
// so a scan of the vault is acceptable here (never on a token path).
func (s *Service) deleteGrants(ctx context.Context, match func(*behalf.Grant) bool) error {
	grants, err := s.Store.ListGrants(ctx, "")
	if err != nil {
		return fmt.Errorf("list grants: %w", err)
	}
	for _, g := range grants {
		if !match(g) {
			continue
		}
		if err := s.Store.DeleteGrant(ctx, g.ID); err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND {
			return fmt.Errorf("delete grant %s: %w", g.ID, err)
		}
	}
	return nil
}

// ListOAuth2Providers returns one page of providers, by name.
func (s *Service) ListOAuth2Providers(ctx context.Context, p behalf.PageRequest) ([]*behalf.OAuth2Provider, string, error) {
	opt, limit, err := listOptions(p, 20)
	if err != nil {
		return nil, "", err
	}
	items, err := s.Store.ListOAuth2Providers(ctx, opt)
	if err != nil {
		return nil, "", err
	}
	items, next := behalf.NextPage(items, limit, func(p *behalf.OAuth2Provider) string { return p.Name })
	return items, next, nil
}

// CallbackURL returns the URL to register at the provider as its redirect URI.
func (s *Service) CallbackURL(p *behalf.OAuth2Provider) string {
	return s.PublicURL + "/identities/oauth2/callback/" + p.ID
}

// configureProvider fills p's vendor, client and endpoint settings from in.
// On create the client secret is required for built-in vendors; on update a
// missing secret keeps p's sealed one.
func (s *Service) configureProvider(ctx context.Context, p *behalf.OAuth2Provider, in behalf.OAuth2ProviderInput, create bool) error {
	vendor, ok := oauth.VendorFor(in.Vendor, in.TenantID)
	if !ok {
		if _, known := oauth.LookupVendor(in.Vendor); known {
			return behalf.Invalid(field(in.Config, "tenantId"), "tenantId %q is not a valid Microsoft Entra tenant.", in.TenantID)
		}
		return behalf.Invalid("credentialProviderVendor", "Credential provider vendor %q is not supported by Behalf.", in.Vendor)
	}
	if in.Config != vendor.ConfigMember {
		return behalf.Invalid("oauth2ProviderConfigInput", "Vendor %s takes oauth2ProviderConfigInput.%s.", vendor.Name, vendor.ConfigMember)
	}
	custom := vendor.Name == behalf.VendorCustom
	if err := validateClient(in, custom, create || p.ClientSecret == nil); err != nil {
		return err
	}
	md, err := s.resolveMetadata(ctx, vendor, in)
	if err != nil {
		return err
	}
	method, err := oauth.ChooseAuthMethod(in.ClientAuthMethod, md.TokenEndpointAuthMethods)
	if err != nil {
		return err
	}
	obo, err := onBehalfOfConfig(in, custom)
	if err != nil {
		return err
	}
	pkj, err := privateKeyJWTConfig(in, method)
	if err != nil {
		return err
	}
	p.OnBehalfOf, p.PrivateKeyJWT = obo, pkj
	if pkj != nil {
		p.ClientSecret = nil // a secret kept from before is never sent again
	}
	p.Vendor, p.ClientID, p.TenantID = vendor.Name, in.ClientID, in.TenantID
	p.DiscoveryURL, p.Metadata, p.ClientAuthMethod = in.DiscoveryURL, md, method
	if !in.ClientSecret.IsZero() {
		sealed, err := s.Sealer.Seal(ctx, behalf.SealContext{Kind: providerSealKind, Key: p.ID, Field: "client_secret"}, []byte(in.ClientSecret.Reveal()))
		if err != nil {
			return fmt.Errorf("seal client secret: %w", err)
		}
		p.ClientSecret = sealed
	}
	return nil
}

// Claims a privateKeyJwtConfig may not set: the assertion's own.
var (
	reservedAssertionHeaders = []string{"alg", "typ", "kid"}
	reservedAssertionClaims  = []string{"iss", "sub", "jti", "exp", "iat", "nbf"}
)

// privateKeyJWTConfig validates a privateKeyJwtConfig (with
// clientAuthenticationMethod PRIVATE_KEY_JWT only) and returns what is
// stored: for PRIVATE_KEY_JWT always a configuration (RS256 by default).
func privateKeyJWTConfig(in behalf.OAuth2ProviderInput, method string) (*behalf.PrivateKeyJWTConfig, error) {
	f := field(in.Config, "privateKeyJwtConfig")
	k := in.PrivateKeyJWT
	if method != behalf.ClientPrivateKeyJWT {
		if k != nil {
			return nil, behalf.Invalid(f, "privateKeyJwtConfig applies to clientAuthenticationMethod %s only.", behalf.ClientPrivateKeyJWT)
		}
		return nil, nil
	}
	if !in.ClientSecret.IsZero() {
		return nil, behalf.Invalid(field(in.Config, "clientSecret"), "A %s provider has no client secret: Behalf signs client assertions instead.", behalf.ClientPrivateKeyJWT)
	}
	out := &behalf.PrivateKeyJWTConfig{SigningAlgorithm: DefaultAssertionAlgorithm}
	if k == nil {
		return out, nil
	}
	if k.KMSKeyARN != "" {
		return nil, behalf.Invalid(f+".privateKeySource",
			"Behalf generates and keeps the signing key itself (sealed like its token-signing keys) and publishes its public keys at %s; omit privateKeySource.",
			behalf.ProviderJWKSPath("{providerId}"))
	}
	switch k.SigningAlgorithm {
	case "":
	case "RS256", "PS256", "ES256":
		out.SigningAlgorithm = k.SigningAlgorithm
	default:
		return nil, behalf.Invalid(f+".signingAlgorithm", "signingAlgorithm must be RS256, PS256 or ES256.")
	}
	if err := checkAssertionClaims(f+".additionalHeaderClaims", k.HeaderClaims, reservedAssertionHeaders); err != nil {
		return nil, err
	}
	if err := checkAssertionClaims(f+".additionalPayloadClaims", k.PayloadClaims, reservedAssertionClaims); err != nil {
		return nil, err
	}
	out.HeaderClaims, out.PayloadClaims = k.HeaderClaims, k.PayloadClaims
	return out, nil
}

func checkAssertionClaims(f string, claims map[string]string, reserved []string) error {
	if len(claims) > 10 {
		return behalf.Invalid(f, "At most 10 claims.")
	}
	for name, v := range claims {
		if slices.Contains(reserved, name) {
			return behalf.Invalid(f, "%s is set by Behalf and cannot be given (%s are).", name, strings.Join(reserved, ", "))
		}
		if n := utf8.RuneCountInString(name); n < 1 || n > 256 || len(v) > 2048 {
			return behalf.Invalid(f, "Claim names must be 1 to 256 characters and values at most 2048.")
		}
	}
	return nil
}

// onBehalfOfConfig validates an onBehalfOfTokenExchangeConfig (custom
// providers only) and returns what is stored; nil when none was given.
func onBehalfOfConfig(in behalf.OAuth2ProviderInput, custom bool) (*behalf.OnBehalfOfConfig, error) {
	o := in.OnBehalfOf
	if o == nil {
		return nil, nil
	}
	f := field(in.Config, "onBehalfOfTokenExchangeConfig")
	if !custom {
		return nil, behalf.Invalid(f, "onBehalfOfTokenExchangeConfig applies to CustomOauth2 providers only.")
	}
	out := &behalf.OnBehalfOfConfig{GrantType: o.GrantType}
	switch o.GrantType {
	case behalf.OBOTokenExchange, behalf.OBOJWTAuthorizationGrant:
	case "":
		return nil, behalf.Invalid(f+".grantType", "grantType is required: %s or %s.", behalf.OBOTokenExchange, behalf.OBOJWTAuthorizationGrant)
	default:
		return nil, behalf.Invalid(f+".grantType", "grantType must be %s or %s.", behalf.OBOTokenExchange, behalf.OBOJWTAuthorizationGrant)
	}
	if c := o.ActorTokenContent; c != nil {
		tf := f + ".tokenExchangeGrantTypeConfig"
		if o.GrantType != behalf.OBOTokenExchange {
			return nil, behalf.Invalid(tf, "tokenExchangeGrantTypeConfig applies to grantType %s only.", behalf.OBOTokenExchange)
		}
		switch *c {
		case behalf.ActorNone, behalf.ActorM2M:
		case behalf.ActorAWSIAMIDToken:
			return nil, behalf.Invalid(tf+".actorTokenContent",
				"actorTokenContent AWS_IAM_ID_TOKEN_JWT needs a JWT that AWS STS (GetWebIdentityToken) signs for the agent's IAM role; "+
					"Behalf has no AWS identity to obtain one. Use M2M (the workload's own client-credentials token of this provider as the actor) or NONE.")
		case "":
			return nil, behalf.Invalid(tf+".actorTokenContent", "actorTokenContent is required: NONE or M2M.")
		default:
			return nil, behalf.Invalid(tf+".actorTokenContent", "actorTokenContent must be NONE or M2M.")
		}
		if len(o.ActorTokenScopes) > 0 && *c != behalf.ActorM2M {
			return nil, behalf.Invalid(tf+".actorTokenScopes", "actorTokenScopes apply to actorTokenContent M2M only.")
		}
		if len(o.ActorTokenScopes) > 100 {
			return nil, behalf.Invalid(tf+".actorTokenScopes", "actorTokenScopes takes at most 100 scopes.")
		}
		for _, s := range o.ActorTokenScopes {
			if n := utf8.RuneCountInString(s); n < 1 || n > 128 || strings.ContainsAny(s, " \t\r\n\"\\") {
				return nil, behalf.Invalid(tf+".actorTokenScopes", "Each actor token scope must be 1 to 128 characters without spaces, quotes or backslashes.")
			}
		}
		out.ActorTokenContent, out.ActorTokenScopes = *c, o.ActorTokenScopes
	}
	if m := o.AuthenticationMethod; m != nil {
		if *m != behalf.OBONoClient {
			return nil, behalf.Invalid(f+".onBehalfOfAuthenticationConfig.clientAuthenticationMethod",
				"clientAuthenticationMethod must be %s.", behalf.OBONoClient)
		}
		out.NoClientAuth = true
	}
	return out, nil
}

func validateClient(in behalf.OAuth2ProviderInput, custom, needSecret bool) error {
	if n := len(in.ClientID); n < 1 || n > 256 {
		return behalf.Invalid(field(in.Config, "clientId"), "clientId must be 1 to 256 characters long.")
	}
	minSecret := 1
	if custom || !needSecret {
		minSecret = 0 // custom providers may be public clients
	}
	if err := validateSecret(field(in.Config, "clientSecret"), in.ClientSecret, minSecret, 2048); err != nil {
		return err
	}
	if !custom && in.ClientAuthMethod != "" {
		return behalf.Invalid(field(in.Config, "clientAuthenticationMethod"), "clientAuthenticationMethod applies to CustomOauth2 providers only.")
	}
	return nil
}

// resolveMetadata returns the endpoints for a provider: built-in vendors
// carry theirs; custom ones give metadata or a discovery URL, fetched now.
func (s *Service) resolveMetadata(ctx context.Context, v oauth.Vendor, in behalf.OAuth2ProviderInput) (behalf.AuthServerMetadata, error) {
	disc := field(in.Config, "oauthDiscovery")
	if v.Name != behalf.VendorCustom {
		if in.DiscoveryURL != "" || in.Metadata != nil {
			return behalf.AuthServerMetadata{}, behalf.Invalid(disc, "Vendor %s has built-in endpoints; oauthDiscovery applies to CustomOauth2 only.", v.Name)
		}
		if v.Tenant {
			return s.tenantMetadata(ctx, v, in)
		}
		if in.Issuer != "" || in.AuthorizationEndpoint != "" || in.TokenEndpoint != "" {
			return behalf.AuthServerMetadata{}, behalf.Invalid(field(in.Config, "issuer"),
				"Vendor %s has built-in endpoints; issuer, authorizationEndpoint and tokenEndpoint are for the vendors of your own tenant (Okta, OneLogin, PingOne, Cognito, Auth0, CyberArk, FusionAuth).", v.Name)
		}
		return v.Metadata, nil
	}
	switch {
	case (in.DiscoveryURL == "") == (in.Metadata == nil):
		return behalf.AuthServerMetadata{}, behalf.Invalid(disc, "oauthDiscovery needs exactly one of discoveryUrl or authorizationServerMetadata.")
	case in.DiscoveryURL != "":
		return oauth.Discover(ctx, s.HTTPClient, in.DiscoveryURL)
	}
	return s.checkExplicitMetadata(*in.Metadata, disc+".authorizationServerMetadata")
}

// tenantMetadata returns the endpoints of a tenant vendor's tenant: the
// authorizationEndpoint and tokenEndpoint given (with the issuer, if
// given, and the revocation endpoint the vendor's layout implies), or,
// given only the issuer, its OpenID discovery document.
func (s *Service) tenantMetadata(ctx context.Context, v oauth.Vendor, in behalf.OAuth2ProviderInput) (behalf.AuthServerMetadata, error) {
	prefix := "oauth2ProviderConfigInput." + in.Config
	switch {
	case in.AuthorizationEndpoint == "" && in.TokenEndpoint == "" && in.Issuer != "":
		issuer := strings.TrimSuffix(in.Issuer, "/")
		if _, err := safehttp.CheckURL(issuer, s.AllowPrivate); err != nil {
			return behalf.AuthServerMetadata{}, behalf.Invalid(prefix+".issuer", "issuer: %s", err.Error())
		}
		md, err := oauth.Discover(ctx, s.HTTPClient, issuer+"/.well-known/openid-configuration")
		if err != nil {
			if behalf.ErrorCode(err) == behalf.EINVALID {
				return md, behalf.Invalid(prefix+".issuer", "%s's discovery document: %s", in.Issuer, behalf.ErrorMessage(err))
			}
			return md, err
		}
		md.TokenEndpointAuthMethods = v.Metadata.TokenEndpointAuthMethods
		return md, nil
	case in.AuthorizationEndpoint == "" || in.TokenEndpoint == "":
		return behalf.AuthServerMetadata{}, behalf.Invalid(prefix+".tokenEndpoint",
			"Vendor %s needs your tenant's endpoints: authorizationEndpoint and tokenEndpoint (and issuer), or the issuer alone to read its discovery document.", v.Name)
	}
	md := behalf.AuthServerMetadata{Issuer: in.Issuer, AuthorizationEndpoint: in.AuthorizationEndpoint, TokenEndpoint: in.TokenEndpoint}
	for _, f := range []struct{ name, value string }{{"authorizationEndpoint", md.AuthorizationEndpoint}, {"tokenEndpoint", md.TokenEndpoint}} {
		if _, err := safehttp.CheckURL(f.value, s.AllowPrivate); err != nil {
			return md, behalf.Invalid(prefix+"."+f.name, "%s: %s", f.name, err.Error())
		}
	}
	md.RevocationEndpoint = v.TenantRevocation(md.TokenEndpoint)
	md.TokenEndpointAuthMethods = v.Metadata.TokenEndpointAuthMethods
	return md, nil
}

func (s *Service) checkExplicitMetadata(md behalf.AuthServerMetadata, prefix string) (behalf.AuthServerMetadata, error) {
	for _, f := range []struct{ name, value string }{
		{"issuer", md.Issuer}, {"authorizationEndpoint", md.AuthorizationEndpoint}, {"tokenEndpoint", md.TokenEndpoint},
	} {
		if f.value == "" {
			return md, behalf.Invalid(prefix+"."+f.name, "%s is required.", f.name)
		}
		if f.name == "issuer" {
			continue
		}
		if _, err := safehttp.CheckURL(f.value, s.AllowPrivate); err != nil {
			return md, behalf.Invalid(prefix+"."+f.name, "%s: %s", f.name, err.Error())
		}
	}
	if n := len(md.TokenEndpointAuthMethods); n > 2 {
		return md, behalf.Invalid(prefix+".tokenEndpointAuthMethods", "tokenEndpointAuthMethods takes 1 or 2 items.")
	}
	for _, m := range md.TokenEndpointAuthMethods {
		if m != "client_secret_basic" && m != "client_secret_post" {
			return md, behalf.Invalid(prefix+".tokenEndpointAuthMethods", "tokenEndpointAuthMethods items must be client_secret_basic or client_secret_post.")
		}
	}
	return md, nil
}

func field(member, name string) string {
	if member == "" {
		return "oauth2ProviderConfigInput." + name
	}
	return "oauth2ProviderConfigInput." + member + "." + name
}

// newProviderID returns a random UUID (version 4), the shape AgentCore uses
// in callback URLs.
func newProviderID() string {
	h := []byte(randid.Hex(16))
	h[12] = '4'
	h[16] = "89ab"[h[16]%4]
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}
