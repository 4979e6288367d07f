package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/oauth"
)

// Consent runs three-legged OAuth consent: it starts and polls
// authorization sessions, sends the user's browser to the provider and
// takes it back (AuthorizeTarget, Authorize, Callback), and binds the
// token the provider gave to the user who started the flow, in the vault
// (CompleteResourceTokenAuth, or Behalf's own binding page: BindTarget,
// BindInBrowser). A session refused or expired holding a token is ended
// and its token revoked (ExpireSessions sweeps the expired ones).
type Consent struct {
	store  consentStore
	sealer behalf.Sealer
	// users identifies the user completing a session from a JWT.
	users UserVerifier
	// vault takes the grants consent makes.
	vault     behalf.GrantVault
	clients   providerClients
	audit     auditor
	log       *slog.Logger
	clock     clock
	metrics   Metrics
	publicURL string

	binds singleflight.Group // BindInBrowser, per session and user
}

// consentStore is what consent reads and writes: sessions, and the
// workloads and providers they name.
type consentStore interface {
	behalf.SessionStore
	GetWorkload(ctx context.Context, name string) (*behalf.WorkloadIdentity, error)
	GetOAuth2ProviderByID(ctx context.Context, id string) (*behalf.OAuth2Provider, error)
	AppendAudit(ctx context.Context, e *behalf.AuditEvent) error
}

var (
	_ behalf.ConsentService = (*Consent)(nil)
	_ behalf.BindService    = (*Consent)(nil)
)

// SessionLifetime bounds an authorization session, from its start to its
// binding.
const SessionLifetime = 10 * time.Minute

// Wire values of sessionStatus.
const (
	statusInProgress = "IN_PROGRESS"
	statusFailed     = "FAILED"
)

// sha256Hex is how a session's secrets are kept for lookup: the OAuth
// state, the request reference and the browser key, hashed.
func sha256Hex(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// startSession creates an authorization session and returns its URL.
func (c *Consent) startSession(ctx context.Context, wat behalf.WATClaims, p *behalf.OAuth2Provider, r behalf.TokenRequest) (*behalf.TokenResult, error) {
	now := c.clock.now()
	s := &behalf.AuthSession{
		ID: randid.Alnum(32), Workload: wat.Workload, User: wat.User, ProviderID: p.ID,
		Scopes: r.Scopes, ReturnURL: r.ReturnURL, Resources: r.Resources, Audiences: r.Audiences,
		Status: behalf.SessionPending, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime),
	}
	// The authorization URL names the session by a reference of its own,
	// not by the session URI: whoever is sent the link learns nothing that
	// polls or completes the session.
	requestURI := behalf.SessionURIPrefix + randid.Alnum(32)
	s.RequestHash = sha256Hex(requestURI)
	secrets := behalf.SessionSecrets{
		State: behalf.Secret(oauth.NewState()), PKCEVerifier: behalf.Secret(oauth.NewVerifier()), Nonce: oauth.NewNonce(),
		RequestURI: behalf.Secret(requestURI), CustomState: r.CustomState, CustomParameters: r.CustomParameters,
	}
	// Build the provider URL once now, so bad customParameters fail here,
	// where the agent sees them, rather than in the user's browser.
	if _, err := c.providerAuthURL(ctx, p, s, secrets); err != nil {
		return nil, err
	}
	s.StateHash = sha256Hex(secrets.State.Reveal())
	sealed, err := sealSessionSecrets(ctx, c.sealer, s.ID, secrets)
	if err != nil {
		return nil, err
	}
	s.Secrets = sealed
	if err := c.store.CreateSession(ctx, s); err != nil {
		return nil, err
	}
	c.metrics.Session(SessionStarted)
	uri := behalf.SessionURIPrefix + s.ID
	return &behalf.TokenResult{AuthorizationURL: c.authorizationURL(requestURI), SessionURI: uri, SessionStatus: statusInProgress}, nil
}

// authorizationURL is the URL the agent shows its user; requestURI is
// the session's request reference, never its URI.
func (c *Consent) authorizationURL(requestURI string) string {
	return c.publicURL + "/identities/oauth2/authorize?request_uri=" + url.QueryEscape(requestURI)
}

func (c *Consent) providerAuthURL(ctx context.Context, p *behalf.OAuth2Provider, s *behalf.AuthSession, sec behalf.SessionSecrets) (string, error) {
	client, err := c.clients.client(ctx, p)
	if err != nil {
		return "", err
	}
	return client.AuthCodeURL(oauth.AuthRequest{
		Scopes: s.Scopes, State: sec.State.Reveal(), PKCEVerifier: sec.PKCEVerifier.Reveal(), Nonce: sec.Nonce,
		CustomParameters: sec.CustomParameters, Resources: s.Resources, Audiences: s.Audiences,
	})
}

// pollSession answers an agent polling with a session URI: the token once
// the session is bound, else its status.
func (c *Consent) pollSession(ctx context.Context, wat behalf.WATClaims, p *behalf.OAuth2Provider, r behalf.TokenRequest) (*behalf.TokenResult, error) {
	s, err := c.store.GetSession(ctx, strings.TrimPrefix(r.SessionURI, behalf.SessionURIPrefix))
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, behalf.Invalid("sessionUri", "The session is unknown or has expired.")
	} else if err != nil {
		return nil, err
	}
	if s.Workload != wat.Workload || s.User != wat.User || s.ProviderID != p.ID || s.ReturnURL != r.ReturnURL {
		return nil, behalf.Invalid("sessionUri", "The session was started for another workload, user, provider or return URL.")
	}
	failed := &behalf.TokenResult{SessionURI: r.SessionURI, SessionStatus: statusFailed, ProviderError: failureRefusal(s.FailureReason)}
	c.sessionExpired(s)
	switch {
	case s.Status == behalf.SessionCompleted:
		tok, _, err := c.vault.Token(ctx, wat.Workload, wat.User, p, nil)
		if err != nil {
			return nil, err
		}
		if tok != "" {
			return &behalf.TokenResult{AccessToken: tok}, nil
		}
		return failed, nil
	case s.Status == behalf.SessionCallback && !c.clock.now().Before(s.ExpiresAt):
		c.expireSession(ctx, s)
		return failed, nil
	case s.Status == behalf.SessionFailed, !c.clock.now().Before(s.ExpiresAt):
		return failed, nil
	}
	sec, err := openSessionSecrets(ctx, c.sealer, s)
	if err != nil {
		return nil, err
	}
	return &behalf.TokenResult{AuthorizationURL: c.authorizationURL(sec.RequestURI.Reveal()), SessionURI: r.SessionURI, SessionStatus: statusInProgress}, nil
}

// errOtherBrowser is what a browser that did not open the authorization
// URL sees at the callback.
var errOtherBrowser = behalf.Errorf(behalf.EFORBIDDEN, "This approval was finished in a different browser than the one that opened the agent's link, so nothing was connected and the request was cancelled. Open the agent's link yourself, in one browser.")

// errInvalidRequest is what the browser sees for an unknown, used or
// expired authorization URL or callback.
var errInvalidRequest = behalf.Errorf(behalf.EINVALID, "Invalid request: this link is unknown, was already used, or has expired.")

// requestSession returns the session an authorization URL's request_uri
// names, if that URL is unspent and unexpired.
func (c *Consent) requestSession(ctx context.Context, requestURI string) (*behalf.AuthSession, error) {
	if len(requestURI) > 1024 || !sessionURIPattern.MatchString(requestURI) {
		return nil, errInvalidRequest
	}
	s, err := c.store.GetSessionByRequest(ctx, sha256Hex(requestURI))
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, errInvalidRequest
	} else if err != nil {
		return nil, err
	}
	if s.Status != behalf.SessionPending || !c.clock.now().Before(s.ExpiresAt) {
		return nil, errInvalidRequest
	}
	return s, nil
}

// AuthorizeTarget describes the session behind an authorization URL
// without spending it. A session whose user the workload's sign-in
// provider can never confirm fails here (see inboundFor).
func (c *Consent) AuthorizeTarget(ctx context.Context, requestURI string) (*behalf.AuthorizeTarget, error) {
	s, err := c.requestSession(ctx, requestURI)
	if err != nil {
		return nil, err
	}
	w, err := c.inboundFor(ctx, s)
	if err != nil || w == nil {
		return &behalf.AuthorizeTarget{Workload: s.Workload}, err
	}
	secret, err := inboundSecret(ctx, c.sealer, w)
	if err != nil {
		return nil, err
	}
	return &behalf.AuthorizeTarget{Workload: s.Workload, SignIn: &behalf.SignInProvider{
		Issuer: w.Inbound.Issuer, ClientID: w.Inbound.ClientID, ClientSecret: secret,
	}}, nil
}

// errUnprovable: the workload's sign-in provider cannot identify the
// session's user, who came from another issuer.
var errUnprovable = behalf.Errorf(behalf.EFORBIDDEN, "This request cannot be approved: the agent's sign-in provider cannot confirm who started it. Nothing was sent to the provider; ask the agent's administrator.")

// inboundFor returns the session's workload when a browser must sign in
// with its inbound identity provider, as the session's user, before
// consenting: for a session started from a user's JWT, of a workload with
// an inbound provider. It returns nil for a session started for a bare
// user id, or of a workload without an inbound provider (no sign-in can
// prove a user id). A JWT from another issuer than the inbound provider's
// can never be proved there: the session fails.
func (c *Consent) inboundFor(ctx context.Context, s *behalf.AuthSession) (*behalf.WorkloadIdentity, error) {
	if s.User.Issuer == "" {
		return nil, nil
	}
	w, err := c.store.GetWorkload(ctx, s.Workload)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, errInvalidRequest
	} else if err != nil {
		return nil, err
	}
	if w.Inbound.Issuer == "" {
		return nil, nil
	}
	if w.Inbound.Issuer != s.User.Issuer {
		c.refuse(ctx, s, "browser", "the session's user is from issuer "+s.User.Issuer+", which the workload's sign-in provider "+w.Inbound.Issuer+" cannot confirm")
		return nil, errUnprovable
	}
	return w, nil
}

// Authorize spends a session's authorization URL (single use) for a
// browser signed in as user and returns the provider's authorization URL
// with the key that marks this browser. When the workload signs its users
// in, a browser signed in as anyone but the session's user fails the
// session and nothing reaches the provider.
func (c *Consent) Authorize(ctx context.Context, requestURI string, user behalf.User) (*behalf.Authorization, error) {
	s, err := c.requestSession(ctx, requestURI)
	if err != nil {
		return nil, err
	}
	w, err := c.inboundFor(ctx, s)
	if err != nil {
		return nil, err
	}
	if w != nil {
		if user.IsZero() || user.Issuer != w.Inbound.Issuer {
			return nil, behalf.Errorf(behalf.EFORBIDDEN, "Sign in with the agent's sign-in provider first.")
		}
		if user != s.User {
			c.refuse(ctx, s, "browser", "authorization URL opened by user "+user.Key())
			return nil, behalf.ErrBindWrongUser
		}
	}
	key := behalf.Secret(oauth.NewState())
	now, requestHash := c.clock.now(), sha256Hex(requestURI)
	s, err = c.store.UpdateSession(ctx, s.ID, func(x *behalf.AuthSession) error {
		if x.Status != behalf.SessionPending || x.RequestHash != requestHash || !now.Before(x.ExpiresAt) {
			return errInvalidRequest
		}
		x.Status, x.BrowserHash = behalf.SessionAuthorize, sha256Hex(key.Reveal())
		return nil
	})
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, errInvalidRequest
	} else if err != nil {
		return nil, err
	}
	p, err := c.store.GetOAuth2ProviderByID(ctx, s.ProviderID)
	if err != nil {
		return nil, c.failSession(ctx, s, "provider_deleted", err)
	}
	sec, err := openSessionSecrets(ctx, c.sealer, s)
	if err != nil {
		return nil, err
	}
	target, err := c.providerAuthURL(ctx, p, s, sec)
	if err != nil {
		return nil, err
	}
	return &behalf.Authorization{RedirectURL: target, BrowserKey: key}, nil
}

// sameBrowser reports whether one of keys is the key given to the browser
// that opened the session's authorization URL.
func sameBrowser(s *behalf.AuthSession, keys []behalf.Secret) bool {
	if s.BrowserHash == "" {
		return false
	}
	match := 0
	for _, k := range keys {
		match |= subtle.ConstantTimeCompare([]byte(sha256Hex(k.Reveal())), []byte(s.BrowserHash))
	}
	return match == 1
}

// failSession marks a session failed and returns err.
func (c *Consent) failSession(ctx context.Context, s *behalf.AuthSession, reason string, err error) error {
	_, uerr := c.store.UpdateSession(ctx, s.ID, func(x *behalf.AuthSession) error {
		if x.Status == behalf.SessionCompleted {
			return nil
		}
		x.Status, x.FailureReason, x.Pending = behalf.SessionFailed, reason, nil
		return nil
	})
	if uerr != nil {
		c.log.ErrorContext(ctx, "mark session failed", "session", s.ID, "err", uerr)
	}
	c.metrics.Session(SessionFailed)
	return err
}

// Callback handles the provider's redirect: it checks state against the
// session and the provider, exchanges the code at once, holds the token
// sealed with the session, and returns the app's return URL with
// session_id (and state = customState).
func (c *Consent) Callback(ctx context.Context, providerID string, query map[string][]string, browserKeys []behalf.Secret) (string, error) {
	q := url.Values(query)
	state := q.Get("state")
	if state == "" || len(q["state"]) != 1 {
		return "", errInvalidRequest
	}
	s, err := c.store.GetSessionByState(ctx, sha256Hex(state))
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return "", errInvalidRequest
	} else if err != nil {
		return "", err
	}
	if s.ProviderID != providerID {
		return "", errInvalidRequest
	}
	now := c.clock.now()
	started := s
	s, err = c.store.UpdateSession(ctx, s.ID, func(x *behalf.AuthSession) error {
		if x.Status != behalf.SessionAuthorize || !now.Before(x.ExpiresAt) {
			return errInvalidRequest
		}
		if !sameBrowser(x, browserKeys) {
			return behalf.ErrBindOtherBrowser
		}
		x.Status = behalf.SessionExchange
		return nil
	})
	if err == behalf.ErrBindOtherBrowser {
		// The provider's page was opened in another browser than the one
		// Behalf sent there: a forwarded consent link. No code is exchanged.
		c.refuse(ctx, started, "browser", "the provider's redirect arrived in a browser that did not open the authorization URL")
		return "", errOtherBrowser
	} else if err != nil {
		return "", err
	}
	sec, err := openSessionSecrets(ctx, c.sealer, s)
	if err != nil {
		return "", err
	}
	back := returnTo(s, sec)
	if e := q.Get("error"); e != "" {
		c.failSession(ctx, s, providerFailure(&behalf.ProviderRefusal{Code: truncate(e, 64)}), nil)
		return back("error", e), nil
	}
	if err := c.exchange(ctx, s, sec, q.Get("code")); err != nil {
		c.log.WarnContext(ctx, "code exchange failed", "session", s.ID, "err", err)
		if r := refusalOf(err); r != nil {
			// The provider refused the code: the app hears why, as the
			// agent's poll and CompleteResourceTokenAuth will.
			c.failSession(ctx, s, providerFailure(r), nil)
			if r.Description == "" {
				return back("error", r.Code), nil
			}
			return back("error", r.Code, "error_description", r.Description), nil
		}
		c.failSession(ctx, s, "exchange_failed", nil)
		return back("error", "server_error"), nil
	}
	return back(), nil
}

// exchange trades the code for tokens and holds them, sealed, with the session.
func (c *Consent) exchange(ctx context.Context, s *behalf.AuthSession, sec behalf.SessionSecrets, code string) error {
	if code == "" {
		return behalf.Errorf(behalf.EINVALID, "no code")
	}
	p, err := c.store.GetOAuth2ProviderByID(ctx, s.ProviderID)
	if err != nil {
		return err
	}
	client, err := c.clients.client(ctx, p)
	if err != nil {
		return err
	}
	start := time.Now()
	ts, err := client.Exchange(ctx, code, sec.PKCEVerifier.Reveal(), s.Resources)
	c.metrics.ProviderCall(ctx, p.Name, CallExchange, start, time.Now(), err)
	if err != nil {
		return err
	}
	if len(ts.Scopes) == 0 {
		ts.Scopes = s.Scopes
	}
	sealed, err := sealTokenSet(ctx, c.sealer, behalf.SessionSeal(s.ID, "pending"), ts)
	if err != nil {
		return err
	}
	account := c.accountOf(ctx, p, client, ts)
	_, err = c.store.UpdateSession(ctx, s.ID, func(x *behalf.AuthSession) error {
		if x.Status != behalf.SessionExchange {
			return errInvalidRequest
		}
		x.Status, x.Pending, x.Account = behalf.SessionCallback, sealed, account
		return nil
	})
	return err
}

// accountOf names the provider account ts belongs to, from the provider's
// userinfo endpoint; "" when it has none or does not answer.
func (c *Consent) accountOf(ctx context.Context, p *behalf.OAuth2Provider, client *oauth.Client, ts behalf.TokenSet) string {
	name, err := client.Account(ctx, ts.AccessToken)
	if err != nil && !errors.Is(err, oauth.ErrNoUserinfo) {
		c.log.InfoContext(ctx, "provider account unknown", "provider", p.Name, "err", err)
	}
	return name
}

// returnTo builds the app return URL with session_id, the app's own state,
// and optionally an error, keeping the URL's own query.
func returnTo(s *behalf.AuthSession, sec behalf.SessionSecrets) func(kv ...string) string {
	return func(kv ...string) string {
		q := url.Values{"session_id": {behalf.SessionURIPrefix + s.ID}}
		if !sec.CustomState.IsZero() {
			q.Set("state", sec.CustomState.Reveal())
		}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		sep := "?"
		if strings.Contains(s.ReturnURL, "?") {
			sep = "&"
		}
		return s.ReturnURL + sep + q.Encode()
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
