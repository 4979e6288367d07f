package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/oauth"
)

// Wire values of sessionStatus.
const (
	statusInProgress = "IN_PROGRESS"
	statusFailed     = "FAILED"
)

func hashState(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// startSession creates an authorization session and returns its URL.
func (d *DataPlane) startSession(ctx context.Context, wat watIdentity, p *behalf.OAuth2Provider, r behalf.TokenRequest) (*behalf.TokenResult, error) {
	now := d.now()
	s := &behalf.AuthSession{
		ID: randid.Alnum(32), Workload: wat.Workload, User: wat.User, ProviderID: p.ID,
		Scopes: r.Scopes, ReturnURL: r.ReturnURL, Resources: r.Resources, Audiences: r.Audiences,
		Status: behalf.SessionPending, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime),
	}
	secrets := behalf.SessionSecrets{
		State: behalf.Secret(oauth.NewState()), PKCEVerifier: behalf.Secret(oauth.NewVerifier()), Nonce: oauth.NewNonce(),
		CustomState: r.CustomState, CustomParameters: r.CustomParameters,
	}
	// Build the provider URL once now, so bad customParameters fail here,
	// where the agent sees them, rather than in the user's browser.
	if _, err := d.providerAuthURL(ctx, p, s, secrets); err != nil {
		return nil, err
	}
	s.StateHash = hashState(secrets.State.Reveal())
	sealed, err := d.sealSessionSecrets(ctx, s.ID, secrets)
	if err != nil {
		return nil, err
	}
	s.Secrets = sealed
	if err := d.Store.CreateSession(ctx, s); err != nil {
		return nil, err
	}
	d.metrics().Session(SessionStarted)
	uri := behalf.SessionURIPrefix + s.ID
	return &behalf.TokenResult{AuthorizationURL: d.authorizationURL(uri), SessionURI: uri, SessionStatus: statusInProgress}, nil
}

func (d *DataPlane) authorizationURL(sessionURI string) string {
	return d.PublicURL + "/identities/oauth2/authorize?request_uri=" + url.QueryEscape(sessionURI)
}

func (d *DataPlane) providerAuthURL(ctx context.Context, p *behalf.OAuth2Provider, s *behalf.AuthSession, sec behalf.SessionSecrets) (string, error) {
	client, err := d.providerClient(ctx, p)
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
func (d *DataPlane) pollSession(ctx context.Context, wat watIdentity, p *behalf.OAuth2Provider, r behalf.TokenRequest) (*behalf.TokenResult, error) {
	s, err := d.Store.GetSession(ctx, strings.TrimPrefix(r.SessionURI, behalf.SessionURIPrefix))
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, behalf.Invalid("sessionUri", "The session is unknown or has expired.")
	} else if err != nil {
		return nil, err
	}
	if s.Workload != wat.Workload || s.User != wat.User || s.ProviderID != p.ID || s.ReturnURL != r.ReturnURL {
		return nil, behalf.Invalid("sessionUri", "The session was started for another workload, user, provider or return URL.")
	}
	failed := &behalf.TokenResult{SessionURI: r.SessionURI, SessionStatus: statusFailed}
	d.sessionExpired(s)
	switch {
	case s.Status == behalf.SessionCompleted:
		res, _, err := d.fromVault(ctx, wat, p, nil)
		if err != nil || res != nil {
			return res, err
		}
		return failed, nil
	case s.Status == behalf.SessionFailed, !d.now().Before(s.ExpiresAt):
		return failed, nil
	}
	return &behalf.TokenResult{AuthorizationURL: d.authorizationURL(r.SessionURI), SessionURI: r.SessionURI, SessionStatus: statusInProgress}, nil
}

// errInvalidRequest is what the browser sees for an unknown, used or
// expired authorization URL or callback.
var errInvalidRequest = behalf.Errorf(behalf.EINVALID, "Invalid request: this link is unknown, was already used, or has expired.")

// Authorize consumes a session's authorization URL (single use) and returns
// the provider's authorization URL.
func (d *DataPlane) Authorize(ctx context.Context, requestURI string) (string, error) {
	id, ok := strings.CutPrefix(requestURI, behalf.SessionURIPrefix)
	if !ok || !sessionURIPattern.MatchString(requestURI) {
		return "", errInvalidRequest
	}
	now := d.now()
	s, err := d.Store.UpdateSession(ctx, id, func(s *behalf.AuthSession) error {
		if s.Status != behalf.SessionPending || !now.Before(s.ExpiresAt) {
			return errInvalidRequest
		}
		s.Status = behalf.SessionAuthorize
		return nil
	})
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return "", errInvalidRequest
	} else if err != nil {
		return "", err
	}
	p, err := d.Store.GetOAuth2ProviderByID(ctx, s.ProviderID)
	if err != nil {
		return "", d.failSession(ctx, s, "provider_deleted", err)
	}
	sec, err := d.openSessionSecrets(ctx, s)
	if err != nil {
		return "", err
	}
	return d.providerAuthURL(ctx, p, s, sec)
}

// failSession marks a session failed and returns err.
func (d *DataPlane) failSession(ctx context.Context, s *behalf.AuthSession, reason string, err error) error {
	_, uerr := d.Store.UpdateSession(ctx, s.ID, func(x *behalf.AuthSession) error {
		if x.Status == behalf.SessionCompleted {
			return nil
		}
		x.Status, x.FailureReason, x.Pending = behalf.SessionFailed, reason, nil
		return nil
	})
	if uerr != nil {
		d.Log.ErrorContext(ctx, "mark session failed", "session", s.ID, "err", uerr)
	}
	d.metrics().Session(SessionFailed)
	return err
}

// Callback handles the provider's redirect: it checks state against the
// session and the provider, exchanges the code at once, holds the token
// sealed with the session, and returns the app's return URL with
// session_id (and state = customState).
func (d *DataPlane) Callback(ctx context.Context, providerID string, query map[string][]string) (string, error) {
	q := url.Values(query)
	state := q.Get("state")
	if state == "" || len(q["state"]) != 1 {
		return "", errInvalidRequest
	}
	s, err := d.Store.GetSessionByState(ctx, hashState(state))
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return "", errInvalidRequest
	} else if err != nil {
		return "", err
	}
	if s.ProviderID != providerID {
		return "", errInvalidRequest
	}
	now := d.now()
	s, err = d.Store.UpdateSession(ctx, s.ID, func(x *behalf.AuthSession) error {
		if x.Status != behalf.SessionAuthorize || !now.Before(x.ExpiresAt) {
			return errInvalidRequest
		}
		x.Status = behalf.SessionExchange
		return nil
	})
	if err != nil {
		return "", err
	}
	sec, err := d.openSessionSecrets(ctx, s)
	if err != nil {
		return "", err
	}
	back := returnTo(s, sec)
	if e := q.Get("error"); e != "" {
		d.failSession(ctx, s, "provider: "+truncate(e, 64), nil)
		return back("error", e), nil
	}
	if err := d.exchange(ctx, s, sec, q.Get("code")); err != nil {
		d.Log.WarnContext(ctx, "code exchange failed", "session", s.ID, "err", err)
		d.failSession(ctx, s, "exchange_failed", nil)
		return back("error", "server_error"), nil
	}
	return back("", ""), nil
}

// exchange trades the code for tokens and holds them, sealed, with the session.
func (d *DataPlane) exchange(ctx context.Context, s *behalf.AuthSession, sec behalf.SessionSecrets, code string) error {
	if code == "" {
		return behalf.Errorf(behalf.EINVALID, "no code")
	}
	p, err := d.Store.GetOAuth2ProviderByID(ctx, s.ProviderID)
	if err != nil {
		return err
	}
	client, err := d.providerClient(ctx, p)
	if err != nil {
		return err
	}
	start := time.Now()
	ts, err := client.Exchange(ctx, code, sec.PKCEVerifier.Reveal(), s.Resources)
	d.metrics().ProviderCall(ctx, p.Name, CallExchange, start, err)
	if err != nil {
		return err
	}
	if len(ts.Scopes) == 0 {
		ts.Scopes = s.Scopes
	}
	sealed, err := d.sealTokenSet(ctx, behalf.SessionSeal(s.ID, "pending"), ts)
	if err != nil {
		return err
	}
	_, err = d.Store.UpdateSession(ctx, s.ID, func(x *behalf.AuthSession) error {
		if x.Status != behalf.SessionExchange {
			return errInvalidRequest
		}
		x.Status, x.Pending = behalf.SessionCallback, sealed
		return nil
	})
	return err
}

// returnTo builds the app return URL with session_id, the app's own state,
// and optionally an error, keeping the URL's own query.
func returnTo(s *behalf.AuthSession, sec behalf.SessionSecrets) func(k, v string) string {
	return func(k, v string) string {
		q := url.Values{"session_id": {behalf.SessionURIPrefix + s.ID}}
		if !sec.CustomState.IsZero() {
			q.Set("state", sec.CustomState.Reveal())
		}
		if k != "" {
			q.Set(k, v)
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
