package identity

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
)

var errInvalidSession = behalf.Errorf(behalf.EFORBIDDEN, "Invalid or expired session")

// CompleteResourceTokenAuth binds a session's pending token to the vault if
// the user completing it is the user who started it. A mismatch stores
// nothing, is audited, and leaves the session completable by its own user.
func (d *DataPlane) CompleteResourceTokenAuth(ctx context.Context, sessionURI string, who behalf.UserIdentifier) error {
	if len(sessionURI) > 1024 || !sessionURIPattern.MatchString(sessionURI) {
		return behalf.Invalid("sessionUri", "sessionUri is not a valid session URI.")
	}
	user, err := d.identify(ctx, who)
	if err != nil {
		return err
	}
	s, err := d.Store.GetSession(ctx, strings.TrimPrefix(sessionURI, behalf.SessionURIPrefix))
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return errInvalidSession
	} else if err != nil {
		return err
	}
	if err := authorizeWorkload(ctx, s.Workload); err != nil {
		return err
	}
	if s.Status != behalf.SessionCallback || !d.now().Before(s.ExpiresAt) {
		return errInvalidSession
	}
	if user != s.User {
		d.audit(ctx, &behalf.AuditEvent{Kind: behalf.AuditBindingRefused, Workload: s.Workload, UserKey: s.User.Key(),
			ProviderID: s.ProviderID, SessionID: s.ID, Detail: "completed by user " + user.Key()})
		return errInvalidSession
	}
	return d.bind(ctx, s)
}

// identify resolves the user completing a session.
func (d *DataPlane) identify(ctx context.Context, who behalf.UserIdentifier) (behalf.User, error) {
	switch {
	case !who.UserToken.IsZero() && who.UserID != "":
		return behalf.User{}, behalf.Invalid("userIdentifier", "userIdentifier takes exactly one of userToken or userId.")
	case !who.UserToken.IsZero():
		if len(who.UserToken.Reveal()) > 131072 {
			return behalf.User{}, behalf.Invalid("userIdentifier.userToken", "userToken is too long.")
		}
		u, _, err := d.Users.VerifyUser(ctx, who.UserToken.Reveal())
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
func (d *DataPlane) bind(ctx context.Context, s *behalf.AuthSession) error {
	ts, err := d.openTokenSet(ctx, behalf.SessionSeal(s.ID, "pending"), s.Pending)
	if err != nil {
		return err
	}
	userKey := s.User.Key()
	sealed, err := d.sealTokenSet(ctx, behalf.GrantSeal(s.Workload, userKey, s.ProviderID), ts)
	if err != nil {
		return err
	}
	now := d.now()
	g := &behalf.Grant{
		ID: randid.Hex(16), Workload: s.Workload, UserKey: userKey, ProviderID: s.ProviderID,
		Scopes: ts.Scopes, Token: sealed, ExpiresAt: ts.Expiry, HasRefresh: !ts.RefreshToken.IsZero(),
		CreatedAt: now, UpdatedAt: now,
	}
	if err := d.Store.PutGrant(ctx, g); err != nil {
		return err
	}
	_, err = d.Store.UpdateSession(ctx, s.ID, func(x *behalf.AuthSession) error {
		if x.Status != behalf.SessionCallback {
			return errInvalidSession
		}
		x.Status, x.Pending, x.GrantID = behalf.SessionCompleted, nil, g.ID
		return nil
	})
	if err != nil {
		return err
	}
	d.audit(ctx, &behalf.AuditEvent{Kind: behalf.AuditGrantBound, Workload: s.Workload, UserKey: userKey, ProviderID: s.ProviderID, SessionID: s.ID})
	d.metrics().Session(SessionCompleted)
	return nil
}
