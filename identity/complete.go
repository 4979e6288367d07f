package identity

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
)

var errInvalidSession = behalf.Errorf(behalf.EFORBIDDEN, "Invalid or expired session")

// CompleteResourceTokenAuth binds a session's pending token to the vault if
// the user completing it is the user who started it. A mismatch stores
// nothing and ends the session: it fails, its token is discarded and
// revoked at the provider, and the refusal is audited with both users.
func (c *Consent) CompleteResourceTokenAuth(ctx context.Context, sessionURI string, who behalf.UserIdentifier) error {
	if len(sessionURI) > 1024 || !sessionURIPattern.MatchString(sessionURI) {
		return behalf.Invalid("sessionUri", "sessionUri is not a valid session URI.")
	}
	user, err := c.identify(ctx, who)
	if err != nil {
		return err
	}
	s, err := c.store.GetSession(ctx, strings.TrimPrefix(sessionURI, behalf.SessionURIPrefix))
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return errInvalidSession
	} else if err != nil {
		return err
	}
	if err := authorizeWorkload(ctx, s.Workload); err != nil {
		return err
	}
	if r := failureRefusal(s.FailureReason); r != nil && s.Status == behalf.SessionFailed && user == s.User {
		return &behalf.Error{Code: behalf.EINVALID, Field: "sessionUri",
			Message: "The credential provider refused this authorization (" + refusalMessage(r) + "); nothing was stored. The user must authorize again."}
	}
	if s.Status != behalf.SessionCallback || !c.clock.now().Before(s.ExpiresAt) {
		return errInvalidSession
	}
	if user != s.User {
		c.refuse(ctx, s, "", "completed by user "+user.Key())
		return errInvalidSession
	}
	return c.bind(ctx, s)
}

// refuse ends a session a binding check refused: the first refusal fails
// it for good (every later poll and completion answers FAILED), its
// pending token is discarded and revoked at the provider where the
// provider can, and binding.refused is audited naming the session's user
// (UserKey) and, in detail, who was refused. A completed session stays
// completed; the refusal is still audited. actor "" audits the caller's
// access key.
func (c *Consent) refuse(ctx context.Context, s *behalf.AuthSession, actor, detail string) {
	c.endSession(ctx, s, "binding_refused", behalf.AuditBindingRefused, actor, detail, true)
}

// expireSession ends a session that expired holding a token nobody bound,
// like a refusal: FAILED, the token discarded and revoked, audited once
// (a poll and the sweepers of several replicas may all find it).
func (c *Consent) expireSession(ctx context.Context, s *behalf.AuthSession) {
	c.endSession(ctx, s, "expired", behalf.AuditSessionExpired, "behalf", "expired before it was completed", false)
}

// ExpireSessions ends the sessions that expired before now holding a token
// nobody bound (see expireSession), at most limit of them, and returns how
// many it ended. The sweeper calls it every minute.
func (c *Consent) ExpireSessions(ctx context.Context, limit int) (int, error) {
	ss, err := c.store.ExpiredPendingSessions(ctx, c.clock.now(), limit)
	if err != nil {
		return 0, err
	}
	for _, s := range ss {
		c.expireSession(ctx, s)
	}
	return len(ss), nil
}

// endSession fails s with reason, then revokes its pending token and
// audits kind: always, or (auditAlways false) only when this call ended the
// session.
func (c *Consent) endSession(ctx context.Context, s *behalf.AuthSession, reason, kind, actor, detail string, auditAlways bool) {
	var pending behalf.Sealed
	_, err := c.store.UpdateSession(ctx, s.ID, func(x *behalf.AuthSession) error {
		if x.Status == behalf.SessionCompleted || x.Status == behalf.SessionFailed {
			return errSessionEnded
		}
		pending = x.Pending
		x.Status, x.FailureReason, x.Pending = behalf.SessionFailed, reason, nil
		return nil
	})
	switch {
	case err == errSessionEnded:
		if !auditAlways {
			return
		}
	case err != nil:
		c.log.ErrorContext(ctx, "fail session", "session", s.ID, "err", err)
	default:
		c.metrics.Session(SessionFailed)
	}
	if len(pending) > 0 {
		detail += "; its token was discarded, revocation at the provider: " + c.revokePending(ctx, s, pending)
	}
	c.audit.record(ctx, &behalf.AuditEvent{Kind: kind, Workload: s.Workload, UserKey: s.User.Key(), ProviderID: s.ProviderID,
		SessionID: s.ID, Actor: actor, Detail: detail})
}

var errSessionEnded = behalf.Errorf(behalf.EINVALID, "the session has ended")

// revokePending asks the provider to revoke a discarded pending token and
// returns the outcome. It finishes even if the caller goes away.
func (c *Consent) revokePending(ctx context.Context, s *behalf.AuthSession, pending behalf.Sealed) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	ts, err := openTokenSet(ctx, c.sealer, behalf.SessionSeal(s.ID, "pending"), pending)
	if err != nil {
		c.log.ErrorContext(ctx, "open a discarded pending token", "session", s.ID, "err", err)
		return behalf.RevocationFailed
	}
	p, err := c.store.GetOAuth2ProviderByID(ctx, s.ProviderID)
	if err != nil {
		return behalf.RevocationFailed
	}
	outcome, _ := c.vault.RevokeToken(ctx, p, ts)
	return outcome
}

// identify resolves the user completing a session.
func (c *Consent) identify(ctx context.Context, who behalf.UserIdentifier) (behalf.User, error) {
	switch {
	case !who.UserToken.IsZero() && who.UserID != "":
		return behalf.User{}, behalf.Invalid("userIdentifier", "userIdentifier takes exactly one of userToken or userId.")
	case !who.UserToken.IsZero():
		if len(who.UserToken.Reveal()) > 131072 {
			return behalf.User{}, behalf.Invalid("userIdentifier.userToken", "userToken is too long.")
		}
		u, _, err := c.users.VerifyUser(ctx, who.UserToken.Reveal())
		if err != nil {
			return behalf.User{}, errInvalidSession
		}
		return u, nil
	case who.UserID != "":
		if utf8.RuneCountInString(who.UserID) > 128 {
			return behalf.User{}, behalf.Invalid("userIdentifier.userId", "userId must be 1 to 128 characters long.")
		}
		return behalf.User{Subject: who.UserID}, nil
	}
	return behalf.User{}, behalf.Invalid("userIdentifier", "userIdentifier takes exactly one of userToken or userId.")
}

// bind moves the session's pending token into the vault. The grant is
// written first and the session completed second, so a crash between the two
// leaves a completable session and never a completed one without its grant.
func (c *Consent) bind(ctx context.Context, s *behalf.AuthSession) error {
	ts, err := openTokenSet(ctx, c.sealer, behalf.SessionSeal(s.ID, "pending"), s.Pending)
	if err != nil {
		return err
	}
	userKey := s.User.Key()
	now := c.clock.now()
	g := &behalf.Grant{
		ID: randid.Hex(16), Workload: s.Workload, UserKey: userKey, ProviderID: s.ProviderID,
		Scopes: ts.Scopes, Account: s.Account, ExpiresAt: ts.Expiry, HasRefresh: !ts.RefreshToken.IsZero(),
		CreatedAt: now, UpdatedAt: now,
	}
	prev, err := c.vault.StoreGrant(ctx, g, ts)
	if err != nil {
		return err
	}
	_, err = c.store.UpdateSession(ctx, s.ID, func(x *behalf.AuthSession) error {
		if x.Status != behalf.SessionCallback {
			return errInvalidSession
		}
		x.Status, x.Pending, x.GrantID = behalf.SessionCompleted, nil, g.ID
		return nil
	})
	if err != nil {
		c.undoBind(ctx, s.ID, g.ID)
		return err
	}
	if prev != nil {
		c.audit.record(ctx, &behalf.AuditEvent{Kind: behalf.AuditGrantReplaced, Workload: s.Workload, UserKey: userKey, ProviderID: s.ProviderID,
			SessionID: s.ID, Detail: "the user's fresh consent replaced the grant for " + accountLabel(prev.Account) + " with one for " + accountLabel(g.Account)})
	}
	detail := ""
	if g.Account != "" {
		detail = "account " + g.Account
	}
	c.audit.record(ctx, &behalf.AuditEvent{Kind: behalf.AuditGrantBound, Workload: s.Workload, UserKey: userKey, ProviderID: s.ProviderID, SessionID: s.ID, Detail: detail})
	c.metrics.Session(SessionCompleted)
	return nil
}

// undoBind deletes the grant a binding wrote when the session turned out
// to have been refused meanwhile (a refusal racing the binding): a failed
// session leaves no grant behind. A session completed by a concurrent
// binding keeps the grant.
func (c *Consent) undoBind(ctx context.Context, sessionID, grantID string) {
	s, err := c.store.GetSession(ctx, sessionID)
	if err != nil || s.Status != behalf.SessionFailed {
		return
	}
	if err := c.vault.DeleteGrant(ctx, grantID); err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND {
		c.log.ErrorContext(ctx, "delete the grant of a refused session", "session", sessionID, "err", err)
	}
}

// accountLabel names a provider account in audit details.
func accountLabel(account string) string {
	if account == "" {
		return "an unnamed account"
	}
	return "account " + account
}
