package identity

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/behalf-dev/behalf"
)

// Behalf's own session binding: a workload that lists
// {public-url}/identities/oauth2/bind among its return URLs has the
// provider's redirect land on Behalf's binding page (package web), which
// signs the browser's user in with the workload's inbound identity
// provider and calls BindInBrowser.

var _ behalf.WorkloadBindingService = (*Service)(nil)

// inboundSecretField is the seal field of a workload's inbound client secret.
const inboundSecretField = "inbound_client_secret"

// inboundSecret opens the client secret of w's inbound identity provider
// ("" for a public client).
func inboundSecret(ctx context.Context, sealer behalf.Sealer, w *behalf.WorkloadIdentity) (behalf.Secret, error) {
	if len(w.Inbound.ClientSecret) == 0 {
		return "", nil
	}
	b, err := sealer.Open(ctx, behalf.WorkloadSeal(w.Name, inboundSecretField), w.Inbound.ClientSecret)
	if err != nil {
		return "", fmt.Errorf("open inbound client secret of %q: %w", w.Name, err)
	}
	return behalf.Secret(b), nil
}

// errNoInbound: the workload has no inbound identity provider.
func errNoInbound(workload string) error {
	return behalf.Errorf(behalf.EINVALID, "The agent %q is not set up for Behalf to finish connecting accounts: its administrator must set its sign-in provider (behalf workload set-binding).", workload)
}

// errNotBehalfBound: the session returns to the app, which completes it.
var errNotBehalfBound = behalf.Errorf(behalf.EINVALID, "Invalid request: this connection is completed by the agent's own app, not by this page.")

// BindTarget describes a session waiting at Behalf's binding page.
func (c *Consent) BindTarget(ctx context.Context, sessionURI string) (*behalf.BindTarget, error) {
	s, w, err := c.bindSession(ctx, sessionURI)
	if err != nil {
		return nil, err
	}
	p, err := c.store.GetOAuth2ProviderByID(ctx, s.ProviderID)
	if err != nil {
		if behalf.ErrorCode(err) == behalf.ENOTFOUND {
			return nil, errInvalidRequest
		}
		return nil, err
	}
	t := &behalf.BindTarget{
		SessionURI: sessionURI, Workload: s.Workload, Provider: p.Name, ProviderVendor: p.Vendor, Scopes: slices.Clone(s.Scopes),
		Completed: s.Status == behalf.SessionCompleted, Inbound: w.Inbound, UserIssuer: s.User.Issuer,
	}
	if t.ClientSecret, err = inboundSecret(ctx, c.sealer, w); err != nil {
		return nil, err
	}
	t.Inbound.ClientSecret = nil
	return t, nil
}

// BindInBrowser completes a session for the user a browser signed in as
// at the workload's inbound provider, if that user started the flow in
// this browser. Concurrent calls for one session (a double submit) share
// one outcome.
func (c *Consent) BindInBrowser(ctx context.Context, sessionURI string, user behalf.User, browserKeys []behalf.Secret) (*behalf.BindResult, error) {
	v, err, _ := c.binds.Do(sessionURI+"\x00"+user.Key(), func() (any, error) { return c.bindInBrowser(ctx, sessionURI, user, browserKeys) })
	if err != nil {
		return nil, err
	}
	r := *v.(*behalf.BindResult)
	return &r, nil
}

func (c *Consent) bindInBrowser(ctx context.Context, sessionURI string, user behalf.User, browserKeys []behalf.Secret) (*behalf.BindResult, error) {
	s, w, err := c.bindSession(ctx, sessionURI)
	if err != nil {
		return nil, err
	}
	if user.IsZero() || user.Issuer != w.Inbound.Issuer {
		return nil, behalf.Errorf(behalf.EFORBIDDEN, "You are not signed in with the agent's sign-in provider.")
	}
	if user != s.User {
		c.refuse(ctx, s, "browser", "binding page signed in as user "+user.Key())
		return nil, behalf.ErrBindWrongUser
	}
	p, err := c.store.GetOAuth2ProviderByID(ctx, s.ProviderID)
	if err != nil {
		if behalf.ErrorCode(err) == behalf.ENOTFOUND {
			return nil, errInvalidRequest
		}
		return nil, err
	}
	res := &behalf.BindResult{Workload: s.Workload, Provider: p.Name, ProviderVendor: p.Vendor, Scopes: slices.Clone(s.Scopes), Account: s.Account, RedirectURL: w.Inbound.BindRedirectURL}
	if s.Status == behalf.SessionCompleted {
		res.AlreadyBound = true
		if g, err := c.vault.Grant(ctx, s.Workload, s.User, s.ProviderID); err == nil {
			res.Account = g.Account
		}
		return res, nil
	}
	if !sameBrowser(s, browserKeys) {
		c.refuse(ctx, s, "browser", "binding page opened, as the session's user, in a browser that did not open the authorization URL")
		return nil, behalf.ErrBindOtherBrowser
	}
	ts, err := openTokenSet(ctx, c.sealer, behalf.SessionSeal(s.ID, "pending"), s.Pending)
	if err != nil {
		return nil, err
	}
	if len(ts.Scopes) > 0 {
		res.Scopes = ts.Scopes
	}
	if err := c.bind(ctx, s); err != nil {
		if err == errInvalidSession { // completed or refused meanwhile (another replica)
			return nil, errInvalidRequest
		}
		return nil, err
	}
	return res, nil
}

// bindSession loads a session that Behalf's binding page may complete: one
// waiting for binding (or already completed) and unexpired, whose return
// URL is the binding endpoint, of a workload with an inbound provider.
func (c *Consent) bindSession(ctx context.Context, sessionURI string) (*behalf.AuthSession, *behalf.WorkloadIdentity, error) {
	if len(sessionURI) > 1024 || !sessionURIPattern.MatchString(sessionURI) {
		return nil, nil, errInvalidRequest
	}
	s, err := c.store.GetSession(ctx, strings.TrimPrefix(sessionURI, behalf.SessionURIPrefix))
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, nil, errInvalidRequest
	} else if err != nil {
		return nil, nil, err
	}
	switch {
	case s.Status == behalf.SessionCompleted:
	case s.Status != behalf.SessionCallback, !c.clock.now().Before(s.ExpiresAt):
		return nil, nil, errInvalidRequest
	}
	if !c.isBindURL(s.ReturnURL) {
		return nil, nil, errNotBehalfBound
	}
	w, err := c.store.GetWorkload(ctx, s.Workload)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, nil, errInvalidRequest
	} else if err != nil {
		return nil, nil, err
	}
	if w.Inbound.Issuer == "" || w.Inbound.ClientID == "" {
		return nil, nil, errNoInbound(w.Name)
	}
	return s, w, nil
}

// isBindURL reports whether a return URL is Behalf's binding endpoint.
func (c *Consent) isBindURL(u string) bool {
	rest, ok := strings.CutPrefix(u, c.publicURL+behalf.BindPath)
	return ok && c.publicURL != "" && (rest == "" || rest[0] == '?')
}

// SetWorkloadBinding sets (or, with an empty issuer, removes) the
// workload's inbound identity provider. The issuer must be one of Behalf's
// user pools, whose app client must exist, allow the code flow and the
// openid scope, and list {public-url}/identities/oauth2/signin/callback,
// or a registered trusted issuer (whose client Behalf cannot check).
func (s *Service) SetWorkloadBinding(ctx context.Context, in behalf.WorkloadBindingInput) (*behalf.WorkloadIdentity, error) {
	if err := validateWorkloadName(in.WorkloadName); err != nil {
		return nil, err
	}
	var inbound behalf.WorkloadInbound
	if in.Issuer != "" {
		if err := s.checkInbound(ctx, in); err != nil {
			return nil, err
		}
		inbound = behalf.WorkloadInbound{Issuer: in.Issuer, ClientID: in.ClientID, BindRedirectURL: in.RedirectURL}
		if !in.ClientSecret.IsZero() {
			sealed, err := s.Sealer.Seal(ctx, behalf.WorkloadSeal(in.WorkloadName, inboundSecretField), []byte(in.ClientSecret.Reveal()))
			if err != nil {
				return nil, fmt.Errorf("seal inbound client secret: %w", err)
			}
			inbound.ClientSecret = sealed
		}
	} else if in.ClientID != "" || !in.ClientSecret.IsZero() || in.RedirectURL != "" {
		return nil, behalf.Invalid("issuer", "issuer is required with clientId, clientSecret or redirectUrl.")
	}
	now := s.now()
	return s.Store.UpdateWorkload(ctx, in.WorkloadName, func(w *behalf.WorkloadIdentity) error {
		w.Inbound, w.UpdatedAt = inbound, now
		return nil
	})
}

// checkInbound validates an inbound identity provider configuration.
func (s *Service) checkInbound(ctx context.Context, in behalf.WorkloadBindingInput) error {
	if len(in.Issuer) > 2048 || len(in.ClientID) < 1 || len(in.ClientID) > 256 {
		return behalf.Invalid("clientId", "clientId must be 1 to 256 characters long and issuer at most 2048.")
	}
	if err := validateSecret("clientSecret", in.ClientSecret, 0, 1024); err != nil {
		return err
	}
	if in.RedirectURL != "" {
		if err := checkRedirectURL(in.RedirectURL); err != nil {
			return err
		}
	}
	if poolID, ok := strings.CutPrefix(in.Issuer, s.PublicURL+"/"); ok && s.PublicURL != "" && !strings.ContainsAny(poolID, "/?#") {
		return s.checkPoolClient(ctx, poolID, in)
	}
	if _, err := s.Store.GetIssuer(ctx, in.Issuer); behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return behalf.Invalid("issuer", "Issuer %q is neither a user pool of this Behalf nor a registered trusted issuer.", in.Issuer)
	} else if err != nil {
		return err
	}
	return nil
}

// checkPoolClient checks the pool's app client can sign users in for the binding page.
func (s *Service) checkPoolClient(ctx context.Context, poolID string, in behalf.WorkloadBindingInput) error {
	if _, err := s.Store.GetUserPool(ctx, poolID); behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return behalf.Invalid("issuer", "Issuer %q names no user pool of this Behalf.", in.Issuer)
	} else if err != nil {
		return err
	}
	c, err := s.Store.GetAppClient(ctx, in.ClientID)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND || (err == nil && c.PoolID != poolID) {
		return behalf.Invalid("clientId", "clientId is not an app client of user pool %s.", poolID)
	} else if err != nil {
		return err
	}
	callback := s.PublicURL + behalf.SignInCallbackPath
	switch {
	case !slices.Contains(c.AllowedOAuthFlows, "code") || !c.AllowedOAuthFlowsUserPoolClient:
		return behalf.Invalid("clientId", "The app client must allow the OAuth code flow.")
	case !slices.Contains(c.AllowedOAuthScopes, "openid"):
		return behalf.Invalid("clientId", "The app client must allow the openid scope.")
	case !slices.Contains(c.CallbackURLs, callback):
		return behalf.Invalid("clientId", "The app client must list %s among its callback URLs.", callback)
	case len(c.Secret) > 0 && in.ClientSecret.IsZero():
		return behalf.Invalid("clientSecret", "The app client has a secret: clientSecret is required.")
	}
	return nil
}

// checkRedirectURL checks the app URL the done page links back to.
func checkRedirectURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || len(raw) > 2048 || u.Host == "" || u.User != nil || strings.Contains(raw, "#") {
		return behalf.Invalid("redirectUrl", "redirectUrl must be an absolute URL without user information or fragment.")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if h := u.Hostname(); h != "localhost" && !isLoopback(h) {
			return behalf.Invalid("redirectUrl", "redirectUrl must use https (http only for loopback hosts).")
		}
	default:
		return behalf.Invalid("redirectUrl", "redirectUrl must use https (http only for loopback hosts).")
	}
	return nil
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
