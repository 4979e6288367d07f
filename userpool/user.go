package userpool

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// Message actions of AdminCreateUser.
const (
	messageSuppress = "SUPPRESS"
	messageResend   = "RESEND"
)

// AdminCreateUser creates a FORCE_CHANGE_PASSWORD user. Behalf sends no
// invitations, so "" and SUPPRESS are alike; a generated temporary
// password is returned instead. In a pool that signs in with email or
// phone number, the username must be one, it becomes that attribute, and
// the user's username is its sub (as in Cognito). RESEND gives an existing
// FORCE_CHANGE_PASSWORD user a new temporary password.
func (s *Service) AdminCreateUser(ctx context.Context, in behalf.AdminCreateUserInput) (*behalf.PoolUser, behalf.Secret, error) {
	pool, err := s.getPool(ctx, in.PoolID)
	if err != nil {
		return nil, "", err
	}
	if in.MessageAction != "" && in.MessageAction != messageSuppress && in.MessageAction != messageResend {
		return nil, "", invalidParameter("MessageAction must be RESEND or SUPPRESS.")
	}
	if err := validateUsername(in.Username); err != nil {
		return nil, "", err
	}
	if err := validateAttributes(in.Attributes); err != nil {
		return nil, "", err
	}
	password, generated, err := temporaryPassword(pool, in.TemporaryPassword)
	if err != nil {
		return nil, "", err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return nil, "", err
	}
	if in.MessageAction == messageResend {
		u, err := s.resend(ctx, pool, in.Username, password, hash)
		return u, generated, err
	}
	u, err := s.newUser(ctx, pool, in.Username, in.Attributes, password, hash, behalf.UserForceChangePassword)
	if err != nil {
		return nil, "", err
	}
	return u, generated, nil
}

// temporaryPassword checks a given temporary password against the policy,
// or generates one; generated is the generated one, or "".
func temporaryPassword(pool *behalf.UserPool, given behalf.Secret) (password, generated behalf.Secret, err error) {
	if given.IsZero() {
		g := generatePassword(pool.PasswordPolicy)
		return g, g, nil
	}
	return given, "", checkPassword(pool.PasswordPolicy, given)
}

// newUser stores a new user of the given status with the password's hash
// and SRP verifier.
func (s *Service) newUser(ctx context.Context, pool *behalf.UserPool, name string, attrs map[string]string, password behalf.Secret, hash, status string) (*behalf.PoolUser, error) {
	now := s.now()
	u := &behalf.PoolUser{
		PoolID: pool.ID, Username: name, Sub: newUUID(), Attributes: maps.Clone(attrs),
		PasswordHash: hash, Status: status, Enabled: true,
		PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
	if err := s.applyAlias(ctx, pool, u, name); err != nil {
		return nil, err
	}
	u.Attributes["sub"] = u.Sub
	srp, err := s.newSRPVerifier(ctx, pool.ID, u.Username, password, hash)
	if err != nil {
		return nil, err
	}
	u.SRPVerifier = srp
	err = s.Store.CreatePoolUser(ctx, u)
	if isConflict(err) {
		return nil, cognito(behalf.CognitoUsernameExists, msgUserExists)
	}
	if err != nil {
		return nil, internal("create user", err)
	}
	return publicUser(u), nil
}

// applyAlias makes a user of a pool that signs in with email or phone
// number: name must be one, it becomes that attribute (unique in the
// pool), and the username becomes the sub.
func (s *Service) applyAlias(ctx context.Context, pool *behalf.UserPool, u *behalf.PoolUser, name string) error {
	if len(pool.UsernameAttributes) == 0 {
		return nil
	}
	attr := aliasAttribute(pool, name)
	if attr == "" {
		return invalidParameter("Username should be an email or a phone number, as the pool's UsernameAttributes say.")
	}
	if v, ok := u.Attributes[attr]; ok && v != name {
		return invalidParameter("The %s attribute must equal the username.", attr)
	}
	if err := validateAttributeValue(attr, name); err != nil {
		return err
	}
	_, err := s.Store.FindPoolUserByAttribute(ctx, pool.ID, attr, name)
	if err == nil {
		return cognito(behalf.CognitoUsernameExists, "An account with the given %s already exists.", attr)
	}
	if !isNotFound(err) {
		return internal("find user", err)
	}
	u.Attributes[attr] = name
	u.Username = u.Sub
	return nil
}

// resend gives a FORCE_CHANGE_PASSWORD user a new temporary password.
func (s *Service) resend(ctx context.Context, pool *behalf.UserPool, name string, password behalf.Secret, hash string) (*behalf.PoolUser, error) {
	_, cur, err := s.adminUser(ctx, pool.ID, name)
	if err != nil {
		return nil, err
	}
	srp, err := s.newSRPVerifier(ctx, pool.ID, cur.Username, password, hash)
	if err != nil {
		return nil, err
	}
	u, err := s.updateUser(ctx, pool.ID, cur.Username, func(u *behalf.PoolUser) error {
		if u.Status != behalf.UserForceChangePassword {
			return cognito(behalf.CognitoUnsupportedUserState, "User status is %s; only FORCE_CHANGE_PASSWORD users can be re-invited.", u.Status)
		}
		u.PasswordHash, u.SRPVerifier = hash, srp
		u.PasswordChangedAt = s.now()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return publicUser(u), nil
}

// AdminSetUserPassword sets a permanent (CONFIRMED) or temporary
// (FORCE_CHANGE_PASSWORD) password, under the pool's policy; it clears
// any lockout.
func (s *Service) AdminSetUserPassword(ctx context.Context, poolID, username string, password behalf.Secret, permanent bool) error {
	pool, u, err := s.adminUser(ctx, poolID, username)
	if err != nil {
		return err
	}
	if err := checkPassword(pool.PasswordPolicy, password); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	srp, err := s.newSRPVerifier(ctx, pool.ID, u.Username, password, hash)
	if err != nil {
		return err
	}
	status := behalf.UserForceChangePassword
	if permanent {
		status = behalf.UserConfirmed
	}
	_, err = s.updateUser(ctx, poolID, u.Username, func(u *behalf.PoolUser) error {
		setPassword(u, hash, status, s.now())
		u.SRPVerifier = srp
		return nil
	})
	if err != nil {
		return err
	}
	return s.resetLockout(ctx, poolID, u.Username)
}

// setPassword records a new password hash and status. Callers set the
// password's SRP verifier (newSRPVerifier) beside it; one they do not set
// is ignored (srp.go), as it was made for another hash. Callers clear the
// user's lockout (resetLockout) once it is stored.
func setPassword(u *behalf.PoolUser, hash, status string, now time.Time) {
	u.PasswordHash = hash
	u.Status = status
	u.PasswordChangedAt = now
}

// AdminGetUser returns a user found by username or sign-in alias.
func (s *Service) AdminGetUser(ctx context.Context, poolID, username string) (*behalf.PoolUser, error) {
	_, u, err := s.adminUser(ctx, poolID, username)
	if err != nil {
		return nil, err
	}
	return publicUser(u), nil
}

// AdminDeleteUser revokes a user's refresh tokens and deletes the user;
// its access tokens fail verification from then on.
func (s *Service) AdminDeleteUser(ctx context.Context, poolID, username string) error {
	_, u, err := s.adminUser(ctx, poolID, username)
	if err != nil {
		return err
	}
	if _, err := s.Store.RevokePoolRefreshTokens(ctx, poolID, u.Username, ""); err != nil {
		return internal("revoke refresh tokens", err)
	}
	err = s.Store.DeletePoolUser(ctx, poolID, u.Username)
	if isNotFound(err) {
		return userNotFound()
	}
	if err != nil {
		return internal("delete user", err)
	}
	return nil
}

// AdminDisableUser disables a user and, as Cognito does, revokes its
// tokens.
func (s *Service) AdminDisableUser(ctx context.Context, poolID, username string) error {
	_, u, err := s.adminUser(ctx, poolID, username)
	if err != nil {
		return err
	}
	return s.signOut(ctx, poolID, u.Username, func(u *behalf.PoolUser) { u.Enabled = false })
}

// AdminEnableUser enables a user.
func (s *Service) AdminEnableUser(ctx context.Context, poolID, username string) error {
	_, u, err := s.adminUser(ctx, poolID, username)
	if err != nil {
		return err
	}
	_, err = s.updateUser(ctx, poolID, u.Username, func(u *behalf.PoolUser) error {
		u.Enabled = true
		return nil
	})
	return err
}

// AdminUserGlobalSignOut revokes every token of a user.
func (s *Service) AdminUserGlobalSignOut(ctx context.Context, poolID, username string) error {
	_, u, err := s.adminUser(ctx, poolID, username)
	if err != nil {
		return err
	}
	return s.signOut(ctx, poolID, u.Username, nil)
}

// signOut sets a user's TokensValidAfter to now, so access tokens issued
// before are refused, applies also (if any), and revokes every refresh
// token of the user.
func (s *Service) signOut(ctx context.Context, poolID, username string, also func(*behalf.PoolUser)) error {
	_, err := s.updateUser(ctx, poolID, username, func(u *behalf.PoolUser) error {
		u.TokensValidAfter = s.now()
		if also != nil {
			also(u)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := s.Store.RevokePoolRefreshTokens(ctx, poolID, username, ""); err != nil {
		return internal("revoke refresh tokens", err)
	}
	return nil
}

// ListUsers returns one page of users: by username, or with a filter
// (parseFilter) the users it selects, ordered by the attribute (as Cognito
// documents) and then username. A blank filter lists every user.
func (s *Service) ListUsers(ctx context.Context, poolID string, req behalf.PageRequest, filter string) ([]*behalf.PoolUser, string, error) {
	pool, err := s.getPool(ctx, poolID)
	if err != nil {
		return nil, "", err
	}
	opt, limit, err := listOptions(req)
	if err != nil {
		return nil, "", err
	}
	if strings.TrimSpace(filter) != "" {
		return s.searchUsers(ctx, pool, filter, opt, limit)
	}
	users, err := s.Store.ListPoolUsers(ctx, poolID, opt)
	if err != nil {
		return nil, "", internal("list users", err)
	}
	users, next := behalf.NextPage(users, limit, func(u *behalf.PoolUser) string { return u.Username })
	for i, u := range users {
		users[i] = publicUser(u)
	}
	return users, next, nil
}

// searchUsers runs a ListUsers filter: one page of the users it selects.
// The page token holds the last user's sort key and username.
func (s *Service) searchUsers(ctx context.Context, pool *behalf.UserPool, filter string, opt behalf.ListOptions, limit int) ([]*behalf.PoolUser, string, error) {
	attr, value, prefix, err := parseFilter(filter)
	if err != nil {
		return nil, "", err
	}
	q := behalf.PoolUserQuery{Attribute: attr, Value: value, Prefix: prefix, Limit: opt.Limit}
	if opt.After != "" {
		c, ok := behalf.ParsePoolUserCursor(opt.After)
		if !ok {
			return nil, "", invalidParameter("The pagination token is invalid.")
		}
		q.After = &c
	}
	users, err := s.Store.SearchPoolUsers(ctx, pool.ID, q)
	if err != nil {
		return nil, "", internal("filter users", err)
	}
	users, next := behalf.NextPage(users, limit, func(u *behalf.PoolUser) string {
		return behalf.PoolUserCursor{Key: behalf.PoolUserSortKey(attr, u), Username: u.Username}.String()
	})
	for i, u := range users {
		users[i] = publicUser(u)
	}
	return users, next, nil
}
