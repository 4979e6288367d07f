package gateway

import (
	"context"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/agentruntime"
	"github.com/behalf-dev/behalf/internal/randid"
)

// Portals implements behalf.ConsentPortalService and
// behalf.ConsentPortalPages: a gateway's consent portal, where its users
// sign in with the portal's credential provider (whose issuer must be the
// gateway authorizer's) and connect its AUTHORIZATION_CODE targets.
//
// Creating or updating a portal sets the gateway's workload identity up
// for Behalf's binding page: its inbound provider becomes the portal's
// (issuer, client, secret; the done page links back to the portal) and
// {public-url}/identities/oauth2/bind joins its return URLs.
type Portals struct {
	Store     behalf.ConsentPortalStore
	Gateways  behalf.GatewayStore
	Providers interface {
		GetOAuth2Provider(ctx context.Context, name string) (*behalf.OAuth2Provider, error)
	}
	Workloads behalf.WorkloadStore
	Bindings  behalf.WorkloadBindingService
	Sealer    behalf.Sealer
	// WATs and DataPlane start users' consents (StartConsent).
	WATs      agentruntime.WATMinter
	DataPlane behalf.DataPlaneService
	// PublicURL is Behalf's external base URL, no trailing slash.
	PublicURL       string
	Region, Account string
	Now             func() time.Time
}

var (
	_ behalf.ConsentPortalService = (*Portals)(nil)
	_ behalf.ConsentPortalPages   = (*Portals)(nil)
)

var (
	portalNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,50}$`)
	portalIDPattern   = regexp.MustCompile(`^[a-zA-Z0-9\-_]{1,50}-[A-Za-z0-9]{10}$`)
)

const maxPortalDescription = 512

func (p *Portals) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// PortalURL is a portal's page.
func (p *Portals) PortalURL(id string) string { return p.PublicURL + behalf.ConsentPortalPath(id) }

// portalIDOf returns the id in a consent-portal ARN, or s.
func portalIDOf(s string) string {
	if _, rest, ok := strings.Cut(s, ":consent-portal/"); ok && strings.HasPrefix(s, "arn:") {
		return rest
	}
	return s
}

func checkPortalID(id string) error {
	if !portalIDPattern.MatchString(id) {
		return behalf.Invalid("consentPortalIdentifier", "consentPortalIdentifier %q is not a consent portal id or ARN.", clip(id, 120))
	}
	return nil
}

// checked is a validated input: the portal's provider and gateway.
type checked struct {
	provider *behalf.OAuth2Provider
	gateway  *behalf.Gateway
}

// check validates the fields Create and Update share, with gw the
// portal's gateway id.
func (p *Portals) check(ctx context.Context, in *behalf.ConsentPortalInput, gw string) (*checked, error) {
	if utf8.RuneCountInString(in.Description) > maxPortalDescription {
		return nil, behalf.Invalid("description", "description must be at most %d characters long.", maxPortalDescription)
	}
	if in.ExecutionRoleARN == "" {
		return nil, behalf.Invalid("executionRoleArn", "executionRoleArn is required.")
	}
	if len(in.ExecutionRoleARN) > 2048 || !roleARNPattern.MatchString(in.ExecutionRoleARN) {
		return nil, behalf.Invalid("executionRoleArn", "executionRoleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>).")
	}
	if in.ProviderARN == "" {
		return nil, behalf.Invalid("idpConfig.credentialProviderArn", "idpConfig.credentialProviderArn is required.")
	}
	names := &Service{Region: p.Region, Account: p.Account}
	name, err := names.providerName(in.ProviderARN, "oauth2credentialprovider", "idpConfig.credentialProviderArn")
	if err != nil {
		return nil, err
	}
	if len(in.Scopes) > maxScopes {
		return nil, behalf.Invalid("idpConfig.scopes", "idpConfig.scopes may hold at most %d scopes.", maxScopes)
	}
	for _, s := range in.Scopes {
		if len(s) > 255 || !scopePattern.MatchString(s) {
			return nil, behalf.Invalid("idpConfig.scopes", "Scope %q is not a valid OAuth scope.", clip(s, 60))
		}
	}
	if len(in.Audience) > 2048 {
		return nil, behalf.Invalid("idpConfig.audience", "idpConfig.audience must be at most 2048 characters long.")
	}
	if err := behalf.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	prov, err := p.Providers.GetOAuth2Provider(ctx, name)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "OAuth2 credential provider %q (idpConfig.credentialProviderArn) does not exist.", name)
	} else if err != nil {
		return nil, err
	}
	g, err := p.Gateways.GetGateway(ctx, gw)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "Gateway %q (sources.identifier) does not exist.", gw)
	} else if err != nil {
		return nil, err
	}
	if g.AuthorizerType != behalf.GatewayAuthorizerJWT || g.Authorizer == nil {
		return nil, behalf.Invalid("sources", "Gateway %s has no CUSTOM_JWT authorizer: a consent portal signs in the users its authorizer trusts.", g.ID)
	}
	if iss := authorizerIssuer(g.Authorizer.DiscoveryURL); prov.Metadata.Issuer == "" || prov.Metadata.Issuer != iss {
		return nil, behalf.Invalid("idpConfig.credentialProviderArn",
			"Credential provider %q must be a client of the issuer the gateway's authorizer trusts (%s); its issuer is %q.", name, iss, prov.Metadata.Issuer)
	}
	return &checked{provider: prov, gateway: g}, nil
}

// authorizerIssuer is the issuer of a discovery URL.
func authorizerIssuer(discovery string) string {
	for _, suffix := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		if s, ok := strings.CutSuffix(discovery, suffix); ok {
			return s
		}
	}
	return discovery
}

// bindGateway sets the gateway's workload up for the binding page with
// the portal's provider as its inbound client.
func (p *Portals) bindGateway(ctx context.Context, portalID string, c *checked) error {
	secret := behalf.Secret("")
	if len(c.provider.ClientSecret) > 0 {
		b, err := p.Sealer.Open(ctx, behalf.SealContext{Kind: "oauth2-provider", Key: c.provider.ID, Field: "client_secret"}, c.provider.ClientSecret)
		if err != nil {
			return err
		}
		secret = behalf.Secret(b)
	}
	if _, err := p.Bindings.SetWorkloadBinding(ctx, behalf.WorkloadBindingInput{
		WorkloadName: c.gateway.Workload, Issuer: c.provider.Metadata.Issuer, ClientID: c.provider.ClientID,
		ClientSecret: secret, RedirectURL: p.PortalURL(portalID),
	}); err != nil {
		return err
	}
	bind := p.PublicURL + behalf.BindPath
	_, err := p.Workloads.UpdateWorkload(ctx, c.gateway.Workload, func(w *behalf.WorkloadIdentity) error {
		if !slices.Contains(w.AllowedReturnURLs, bind) {
			w.AllowedReturnURLs = append(w.AllowedReturnURLs, bind)
		}
		return nil
	})
	return err
}

// CreateConsentPortal creates an ACTIVE portal for one gateway.
func (p *Portals) CreateConsentPortal(ctx context.Context, in behalf.ConsentPortalInput) (*behalf.ConsentPortal, error) {
	if !portalNamePattern.MatchString(in.Name) {
		return nil, behalf.Invalid("name", "name must be 1 to 50 letters, digits, hyphens and underscores.")
	}
	gw := GatewayIDOf(in.GatewayID)
	if err := checkGatewayID(gw); err != nil {
		return nil, behalf.Invalid("sources.identifier", "sources.identifier %q is not a gateway id or ARN.", clip(in.GatewayID, 120))
	}
	c, err := p.check(ctx, &in, gw)
	if err != nil {
		return nil, err
	}
	now := p.now()
	cp := &behalf.ConsentPortal{ID: in.Name + "-" + randid.Alnum(10), Name: in.Name, GatewayID: c.gateway.ID,
		Status: behalf.ConsentPortalActive, CreatedAt: now, UpdatedAt: now}
	applyPortal(cp, in, c)
	cp.Tags = maps.Clone(in.Tags)
	if len(cp.Tags) == 0 {
		cp.Tags = nil
	}
	if err := p.Store.CreateConsentPortal(ctx, cp); err != nil {
		return nil, err
	}
	if err := p.bindGateway(ctx, cp.ID, c); err != nil {
		_ = p.Store.DeleteConsentPortal(context.WithoutCancel(ctx), cp.ID)
		return nil, err
	}
	return cp, nil
}

func applyPortal(cp *behalf.ConsentPortal, in behalf.ConsentPortalInput, c *checked) {
	cp.Description, cp.ExecutionRoleARN, cp.Provider = in.Description, in.ExecutionRoleARN, c.provider.Name
	cp.Scopes, cp.Audience = slices.Clone(in.Scopes), in.Audience
	if len(cp.Scopes) == 0 {
		cp.Scopes = nil
	}
}

// GetConsentPortal returns a portal by id or ARN.
func (p *Portals) GetConsentPortal(ctx context.Context, id string) (*behalf.ConsentPortal, error) {
	id = portalIDOf(id)
	if err := checkPortalID(id); err != nil {
		return nil, err
	}
	return p.Store.GetConsentPortal(ctx, id)
}

// UpdateConsentPortal replaces a portal's description, role and IdP
// config (its name and sources cannot change).
func (p *Portals) UpdateConsentPortal(ctx context.Context, id string, in behalf.ConsentPortalInput) (*behalf.ConsentPortal, error) {
	cur, err := p.GetConsentPortal(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := p.check(ctx, &in, cur.GatewayID)
	if err != nil {
		return nil, err
	}
	if err := p.bindGateway(ctx, cur.ID, c); err != nil {
		return nil, err
	}
	now := p.now()
	return p.Store.UpdateConsentPortal(ctx, cur.ID, func(cp *behalf.ConsentPortal) error {
		applyPortal(cp, in, c)
		cp.Status, cp.UpdatedAt = behalf.ConsentPortalActive, now
		return nil
	})
}

// DeleteConsentPortal deletes a portal. The gateway's workload keeps its
// binding configuration.
func (p *Portals) DeleteConsentPortal(ctx context.Context, id string) error {
	cur, err := p.GetConsentPortal(ctx, id)
	if err != nil {
		return err
	}
	return p.Store.DeleteConsentPortal(ctx, cur.ID)
}

// ListConsentPortals returns one page of portals, by id.
func (p *Portals) ListConsentPortals(ctx context.Context, pr behalf.PageRequest) ([]*behalf.ConsentPortal, string, error) {
	return behalf.ListPage(pr, listMax, func(o behalf.ListOptions) ([]*behalf.ConsentPortal, error) { return p.Store.ListConsentPortals(ctx, o) },
		func(c *behalf.ConsentPortal) string { return c.ID })
}

// ConsentPortalPage returns what a portal's page shows: its sign-in
// client and the gateway's targets that act with users' own tokens.
func (p *Portals) ConsentPortalPage(ctx context.Context, id string) (*behalf.ConsentPortalPage, error) {
	if !portalIDPattern.MatchString(id) {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "Consent portal not found.")
	}
	cp, err := p.Store.GetConsentPortal(ctx, id)
	if err != nil {
		return nil, err
	}
	g, err := p.Gateways.GetGateway(ctx, cp.GatewayID)
	if err != nil {
		return nil, err
	}
	prov, err := p.Providers.GetOAuth2Provider(ctx, cp.Provider)
	if err != nil {
		return nil, err
	}
	page := &behalf.ConsentPortalPage{Portal: cp, GatewayName: g.Name, Workload: g.Workload,
		SignIn: behalf.ConsentPortalSignIn{Issuer: prov.Metadata.Issuer, ClientID: prov.ClientID}}
	for _, s := range cp.Scopes {
		if s != "openid" {
			page.SignIn.Scopes = append(page.SignIn.Scopes, s)
		}
	}
	if len(prov.ClientSecret) > 0 {
		b, err := p.Sealer.Open(ctx, behalf.SealContext{Kind: "oauth2-provider", Key: prov.ID, Field: "client_secret"}, prov.ClientSecret)
		if err != nil {
			return nil, err
		}
		page.SignIn.ClientSecret = behalf.Secret(b)
	}
	after := ""
	for {
		ts, err := p.Gateways.ListGatewayTargets(ctx, g.ID, behalf.ListOptions{After: after, Limit: listMax})
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if c, ok := userCredential(t); ok {
				pt := behalf.ConsentPortalTarget{ID: t.ID, Name: t.Name, Description: t.Description,
					Provider: c.Provider, Scopes: slices.Clone(c.Scopes)}
				if tp, err := p.Providers.GetOAuth2Provider(ctx, c.Provider); err == nil {
					pt.AuthorizationOrigin = origin(tp.Metadata.AuthorizationEndpoint)
				}
				page.Targets = append(page.Targets, pt)
			}
		}
		if len(ts) < listMax {
			return page, nil
		}
		after = ts[len(ts)-1].ID
	}
}

// origin returns the scheme://host[:port] of an http(s) URL, or "".
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(u.Host, " ;,'\"") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// userCredential is a target's OAUTH AUTHORIZATION_CODE credential.
func userCredential(t *behalf.GatewayTarget) (behalf.GatewayCredential, bool) {
	for _, c := range t.Credentials {
		if c.Type == behalf.CredentialOAuth && c.GrantType == behalf.GrantAuthorizationCode {
			return c, true
		}
	}
	return behalf.GatewayCredential{}, false
}

// StartConsent starts user's consent to a target through the data plane,
// as the gateway's workload, with Behalf's binding page as the return
// URL: only the browser that opens the authorization URL, signed in as
// user, can complete it.
func (p *Portals) StartConsent(ctx context.Context, portalID, targetID string, user behalf.User) (string, error) {
	cp, err := p.Store.GetConsentPortal(ctx, portalID)
	if err != nil {
		return "", err
	}
	g, err := p.Gateways.GetGateway(ctx, cp.GatewayID)
	if err != nil {
		return "", err
	}
	t, err := p.Gateways.GetGatewayTarget(ctx, g.ID, targetID)
	if err != nil {
		return "", err
	}
	cred, ok := userCredential(t)
	if !ok {
		return "", behalf.Errorf(behalf.ENOTFOUND, "Target %s does not act with its users' own accounts.", t.Name)
	}
	wat, _, err := p.WATs.MintForRuntime(ctx, g.Workload, user, "", time.Time{}, time.Time{})
	if err != nil {
		return "", err
	}
	dctx := behalf.WithPrincipal(ctx, behalf.Principal{AccessKeyID: "consent-portal/" + cp.ID, Name: behalf.WorkloadPrincipal(g.Workload)})
	res, err := p.DataPlane.ResourceOAuth2Token(dctx, behalf.TokenRequest{WorkloadToken: wat, Provider: cred.Provider,
		Scopes: cred.Scopes, Flow: behalf.FlowUserFederation, ReturnURL: p.PublicURL + behalf.BindPath, CustomParameters: cred.CustomParameters})
	if err != nil {
		return "", err
	}
	if !res.AccessToken.IsZero() {
		return "", nil
	}
	if res.AuthorizationURL == "" {
		return "", behalf.Errorf(behalf.EUNAVAILABLE, "The provider's authorization session %s.", strings.ToLower(res.SessionStatus))
	}
	return res.AuthorizationURL, nil
}
