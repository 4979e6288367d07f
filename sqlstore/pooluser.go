package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
)

// poolUserColumns are the pool_users columns in scanPoolUser's order. The
// email and phone_number columns are written from Attributes and never
// read back. failed_attempts and locked_until (migration 0014) are no
// longer used: lockout is in pool_lockouts (migration 0024). New users get
// 0 and the zero time there, for the previous release's replicas during an
// upgrade. group_names is no longer read either: memberships are in
// pool_group_members (migration 0029); new users get '[]'.
const poolUserColumns = `pool_id, username, sub, attributes, group_names, password_hash, status, enabled,
	password_changed_at, tokens_valid_after, created_at, updated_at, srp_verifier,
	totp_secret, totp_pending, totp_enabled, mfa_preferred, totp_last_step`

// poolUserLookupColumns are the attributes FindPoolUserByAttribute can
// look users up by, each copied into the pool_users column of its name.
var poolUserLookupColumns = map[string]bool{"email": true, "phone_number": true}

// CreatePoolUser inserts u. Usernames are compared exactly (case-sensitive).
// It returns ECONFLICT if the pool has a user with the same username or
// the same sub, or ENOTFOUND if u.PoolID names no user pool.
func (db *DB) CreatePoolUser(ctx context.Context, u *behalf.PoolUser) error {
	return insertPoolUser(ctx, db.conn(), u)
}

// GetPoolUser returns the user of pool poolID with exactly the given
// username, or ENOTFOUND.
func (db *DB) GetPoolUser(ctx context.Context, poolID, username string) (*behalf.PoolUser, error) {
	return findPoolUser(ctx, db.conn(), poolID, "username", username)
}

// GetPoolUserBySub returns the user of pool poolID with the given sub, or
// ENOTFOUND.
func (db *DB) GetPoolUserBySub(ctx context.Context, poolID, sub string) (*behalf.PoolUser, error) {
	return findPoolUser(ctx, db.conn(), poolID, "sub", sub)
}

// FindPoolUserByAttribute returns the user of pool poolID whose attribute
// name is exactly value (no case folding or normalisation). Only "email"
// and "phone_number" are supported: any other name is EINVALID. It returns
// ENOTFOUND if no user matches (an empty value matches none). The store
// does not make these attributes unique: if several users match, it
// returns the oldest (by CreatedAt, then username), so that a later
// duplicate never shadows an existing user.
func (db *DB) FindPoolUserByAttribute(ctx context.Context, poolID, name, value string) (*behalf.PoolUser, error) {
	return findPoolUserByAttribute(ctx, db.conn(), poolID, name, value)
}

// UpdatePoolUser applies fn to the user of pool poolID with the given
// username in one transaction and stores the result; PoolID, Username,
// Sub and CreatedAt keep their stored values. It returns ENOTFOUND, or
// fn's error unchanged.
func (db *DB) UpdatePoolUser(ctx context.Context, poolID, username string, fn func(*behalf.PoolUser) error) (*behalf.PoolUser, error) {
	load := func(c conn) (*behalf.PoolUser, error) { return findPoolUser(ctx, c, poolID, "username", username) }
	save := func(c conn, u *behalf.PoolUser) error { return updatePoolUser(ctx, c, u) }
	return modify(ctx, db, load, fn, keepPoolUser, save)
}

// DeletePoolUser deletes the user of pool poolID with the given username
// and, in the same transaction, revokes the user's refresh tokens, so that
// a user re-created with that username cannot use them. It returns
// ENOTFOUND if there is no such user.
func (db *DB) DeletePoolUser(ctx context.Context, poolID, username string) error {
	return db.inTx(ctx, func(c conn) error {
		if err := deletePoolUser(ctx, c, poolID, username); err != nil {
			return err
		}
		_, err := revokeUserRefreshTokens(ctx, c, poolID, username, "")
		return err
	})
}

// ListPoolUsers returns one page of the users of pool poolID, ordered by
// username (bytewise). A pool that does not exist has no users.
func (db *DB) ListPoolUsers(ctx context.Context, poolID string, opt behalf.ListOptions) ([]*behalf.PoolUser, error) {
	return listPoolUsers(ctx, db.conn(), poolID, opt)
}

// poolUserNotFound is the ENOTFOUND error for a pool user, in Cognito's
// words: the message names neither the user nor the pool.
func poolUserNotFound() error {
	return behalf.Errorf(behalf.ENOTFOUND, "User does not exist.")
}

// insertPoolUser inserts u, returning ECONFLICT if its username or sub is
// taken in its pool, or ENOTFOUND if its pool does not exist.
func insertPoolUser(ctx context.Context, c conn, u *behalf.PoolUser) error {
	attrs, groups, err := encodePoolUser(u)
	if err != nil {
		return fmt.Errorf("insert user %q of user pool %q: %w", u.Username, u.PoolID, err)
	}
	_, err = c.exec(ctx, "INSERT INTO pool_users ("+poolUserColumns+", email, phone_number, failed_attempts, locked_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
		u.PoolID, u.Username, u.Sub, attrs, groups, u.PasswordHash, u.Status, u.Enabled,
		micros(u.PasswordChangedAt), micros(u.TokensValidAfter), micros(u.CreatedAt), micros(u.UpdatedAt),
		blob(u.SRPVerifier), blob(u.SoftwareToken), blob(u.PendingSoftwareToken), u.SoftwareTokenMFAEnabled,
		u.PreferredMFA, u.TOTPLastStep, nullString(u.Attributes["email"]), nullString(u.Attributes["phone_number"]), micros(time.Time{}))
	if err != nil {
		return inPoolWriteError(c, err, fmt.Sprintf("insert user %q of user pool %q", u.Username, u.PoolID), u.PoolID,
			"User account already exists.")
	}
	return nil
}

// findPoolUser reads the user of pool poolID whose column key ("username"
// or "sub") equals value, locking it inside a writing transaction. It
// returns ENOTFOUND if there is none.
func findPoolUser(ctx context.Context, c conn, poolID, key, value string) (*behalf.PoolUser, error) {
	row := c.queryRow(ctx, "SELECT "+poolUserColumns+" FROM pool_users WHERE pool_id = ? AND "+key+" = ?"+c.lock(), poolID, value)
	u, err := scanPoolUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, poolUserNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("select user %s %q of user pool %q: %w", key, value, poolID, err)
	}
	return u, nil
}

// findPoolUserByAttribute reads the oldest user of pool poolID whose
// attribute name ("email" or "phone_number") is value.
func findPoolUserByAttribute(ctx context.Context, c conn, poolID, name, value string) (*behalf.PoolUser, error) {
	if !poolUserLookupColumns[name] {
		return nil, behalf.Invalid("name", "Looking up users by attribute %q is unsupported: only email and phone_number are.", name)
	}
	row := c.queryRow(ctx, "SELECT "+poolUserColumns+" FROM pool_users WHERE pool_id = ? AND "+name+" = ? ORDER BY created_at, username LIMIT 1",
		poolID, value)
	u, err := scanPoolUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, poolUserNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("select user of user pool %q by %s: %w", poolID, name, err)
	}
	return u, nil
}

// updatePoolUser writes every mutable field of u, and the lookup columns
// copied from its attributes.
func updatePoolUser(ctx context.Context, c conn, u *behalf.PoolUser) error {
	attrs, groups, err := encodePoolUser(u)
	if err != nil {
		return fmt.Errorf("update user %q of user pool %q: %w", u.Username, u.PoolID, err)
	}
	_, err = c.exec(ctx, `UPDATE pool_users SET attributes = ?, email = ?, phone_number = ?, group_names = ?,
		password_hash = ?, status = ?, enabled = ?, password_changed_at = ?, tokens_valid_after = ?,
		updated_at = ?, srp_verifier = ?, totp_secret = ?, totp_pending = ?, totp_enabled = ?,
		mfa_preferred = ?, totp_last_step = ?
		WHERE pool_id = ? AND username = ?`,
		attrs, nullString(u.Attributes["email"]), nullString(u.Attributes["phone_number"]), groups,
		u.PasswordHash, u.Status, u.Enabled, micros(u.PasswordChangedAt), micros(u.TokensValidAfter),
		micros(u.UpdatedAt), blob(u.SRPVerifier), blob(u.SoftwareToken), blob(u.PendingSoftwareToken),
		u.SoftwareTokenMFAEnabled, u.PreferredMFA, u.TOTPLastStep, u.PoolID, u.Username)
	if err != nil {
		return fmt.Errorf("update user %q of user pool %q: %w", u.Username, u.PoolID, err)
	}
	return nil
}

// deletePoolUser deletes the user of pool poolID with the given username,
// or returns ENOTFOUND.
func deletePoolUser(ctx context.Context, c conn, poolID, username string) error {
	res, err := c.exec(ctx, "DELETE FROM pool_users WHERE pool_id = ? AND username = ?", poolID, username)
	if err != nil {
		return fmt.Errorf("delete user %q of user pool %q: %w", username, poolID, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("delete user %q of user pool %q: %w", username, poolID, err)
	}
	if !ok {
		return poolUserNotFound()
	}
	return nil
}

// listPoolUsers returns opt's page of pool poolID's users by username.
func listPoolUsers(ctx context.Context, c conn, poolID string, opt behalf.ListOptions) ([]*behalf.PoolUser, error) {
	page, args := scopedPageClause("pool_id", poolID, "username", opt)
	us, err := queryAll(ctx, c, scanPoolUser, "SELECT "+poolUserColumns+" FROM pool_users"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list users of user pool %q: %w", poolID, err)
	}
	return us, nil
}

// keepPoolUser restores the fields an update may not change.
func keepPoolUser(edited, orig *behalf.PoolUser) {
	edited.PoolID = orig.PoolID
	edited.Username = orig.Username
	edited.Sub = orig.Sub
	edited.CreatedAt = orig.CreatedAt
}

// encodePoolUser returns u's JSON columns; group_names is always empty.
func encodePoolUser(u *behalf.PoolUser) (attrs, groups string, err error) {
	if attrs, err = encodeMap("attributes", u.Attributes); err != nil {
		return "", "", err
	}
	return attrs, "[]", nil
}

// scanPoolUser reads a row of poolUserColumns.
func scanPoolUser(s scanner) (*behalf.PoolUser, error) {
	var (
		u                                             behalf.PoolUser
		attrsJSON, unusedGroups                       string
		passwordChanged, validAfter, created, updated int64
		srp, totp, pending                            []byte
	)
	err := s.Scan(&u.PoolID, &u.Username, &u.Sub, &attrsJSON, &unusedGroups, &u.PasswordHash, &u.Status, &u.Enabled,
		&passwordChanged, &validAfter, &created, &updated, &srp,
		&totp, &pending, &u.SoftwareTokenMFAEnabled, &u.PreferredMFA, &u.TOTPLastStep)
	if err != nil {
		return nil, err
	}
	if u.Attributes, err = decodeMap("attributes", attrsJSON); err != nil {
		return nil, err
	}
	u.SRPVerifier = fromBlob(srp)
	u.SoftwareToken, u.PendingSoftwareToken = fromBlob(totp), fromBlob(pending)
	u.PasswordChangedAt = fromMicros(passwordChanged)
	u.TokensValidAfter = fromMicros(validAfter)
	u.CreatedAt = fromMicros(created)
	u.UpdatedAt = fromMicros(updated)
	return &u, nil
}
