package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/behalf-dev/behalf"
)

// The messages of the user pool records are Cognito's, as the API shows
// them: a user pool, an app client or a user "does not exist".

// userPoolColumns are the user_pools columns in scanUserPool's order.
const userPoolColumns = `id, name, password_minimum_length, password_require_uppercase, password_require_lowercase,
	password_require_numbers, password_require_symbols, temporary_password_validity_days,
	username_attributes, domain, tags, created_at, updated_at,
	auto_verified_attributes, allow_admin_create_user_only, verification_message, mfa_configuration, software_token_mfa`

// CreateUserPool inserts p. It returns ECONFLICT if the id exists.
func (db *DB) CreateUserPool(ctx context.Context, p *behalf.UserPool) error {
	return insertUserPool(ctx, db.conn(), p)
}

// GetUserPool returns the user pool with the given id, or ENOTFOUND.
func (db *DB) GetUserPool(ctx context.Context, id string) (*behalf.UserPool, error) {
	return findUserPool(ctx, db.conn(), id)
}

// UpdateUserPool applies fn to the user pool with the given id in one
// transaction and stores the result; ID and CreatedAt keep their stored
// values. It returns ENOTFOUND, or fn's error unchanged.
func (db *DB) UpdateUserPool(ctx context.Context, id string, fn func(*behalf.UserPool) error) (*behalf.UserPool, error) {
	load := func(c conn) (*behalf.UserPool, error) { return findUserPool(ctx, c, id) }
	save := func(c conn, p *behalf.UserPool) error { return updateUserPool(ctx, c, p) }
	return modify(ctx, db, load, fn, keepUserPool, save)
}

// DeleteUserPool deletes the user pool with the given id and, in the same
// statement, its app clients, users, refresh tokens and auth requests
// (their pool_id columns reference user_pools ON DELETE CASCADE). It
// returns ENOTFOUND if there is no such pool.
func (db *DB) DeleteUserPool(ctx context.Context, id string) error {
	return deleteUserPool(ctx, db.conn(), id)
}

// ListUserPools returns one page of user pools ordered by id.
func (db *DB) ListUserPools(ctx context.Context, opt behalf.ListOptions) ([]*behalf.UserPool, error) {
	return listUserPools(ctx, db.conn(), opt)
}

// userPoolNotFound is the ENOTFOUND error for user pool id, also returned
// when a record is created in a pool that does not exist.
func userPoolNotFound(id string) error {
	return behalf.Errorf(behalf.ENOTFOUND, "User pool %s does not exist.", id)
}

// inPoolWriteError classifies an error writing a record of pool poolID: a
// unique violation becomes ECONFLICT with the message exists, a foreign key
// violation (the pool does not exist) ENOTFOUND; anything else is wrapped
// with what was being done.
func inPoolWriteError(c conn, err error, doing, poolID, exists string) error {
	switch {
	case c.d.isUniqueViolation(err):
		return behalf.Errorf(behalf.ECONFLICT, "%s", exists)
	case c.d.isForeignKeyViolation(err):
		return userPoolNotFound(poolID)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// insertUserPool inserts p, returning ECONFLICT if its id exists.
func insertUserPool(ctx context.Context, c conn, p *behalf.UserPool) error {
	e, err := encodeUserPool(p)
	if err != nil {
		return fmt.Errorf("insert user pool %q: %w", p.ID, err)
	}
	pp := p.PasswordPolicy
	_, err = c.exec(ctx, "INSERT INTO user_pools ("+userPoolColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		p.ID, p.Name, pp.MinimumLength, pp.RequireUppercase, pp.RequireLowercase, pp.RequireNumbers,
		pp.RequireSymbols, pp.TemporaryPasswordValidityDays, e.usernameAttrs, p.Domain, e.tags,
		micros(p.CreatedAt), micros(p.UpdatedAt), e.autoVerified, p.AllowAdminCreateUserOnly, e.message, p.MFAConfiguration, p.SoftwareTokenMFA)
	if err != nil {
		return inPoolWriteError(c, err, fmt.Sprintf("insert user pool %q", p.ID), p.ID,
			fmt.Sprintf("User pool %s already exists.", p.ID))
	}
	return nil
}

// findUserPool reads the user pool with the given id, locking it inside a
// writing transaction. It returns ENOTFOUND if there is none.
func findUserPool(ctx context.Context, c conn, id string) (*behalf.UserPool, error) {
	row := c.queryRow(ctx, "SELECT "+userPoolColumns+" FROM user_pools WHERE id = ?"+c.lock(), id)
	p, err := scanUserPool(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userPoolNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("select user pool %q: %w", id, err)
	}
	return p, nil
}

// updateUserPool writes every mutable field of p.
func updateUserPool(ctx context.Context, c conn, p *behalf.UserPool) error {
	e, err := encodeUserPool(p)
	if err != nil {
		return fmt.Errorf("update user pool %q: %w", p.ID, err)
	}
	pp := p.PasswordPolicy
	_, err = c.exec(ctx, `UPDATE user_pools SET name = ?, password_minimum_length = ?, password_require_uppercase = ?,
		password_require_lowercase = ?, password_require_numbers = ?, password_require_symbols = ?,
		temporary_password_validity_days = ?, username_attributes = ?, domain = ?, tags = ?, updated_at = ?,
		auto_verified_attributes = ?, allow_admin_create_user_only = ?, verification_message = ?,
		mfa_configuration = ?, software_token_mfa = ?
		WHERE id = ?`,
		p.Name, pp.MinimumLength, pp.RequireUppercase, pp.RequireLowercase, pp.RequireNumbers, pp.RequireSymbols,
		pp.TemporaryPasswordValidityDays, e.usernameAttrs, p.Domain, e.tags, micros(p.UpdatedAt),
		e.autoVerified, p.AllowAdminCreateUserOnly, e.message, p.MFAConfiguration, p.SoftwareTokenMFA, p.ID)
	if err != nil {
		return fmt.Errorf("update user pool %q: %w", p.ID, err)
	}
	return nil
}

// deleteUserPool deletes the user pool with the given id and, by cascade,
// everything in it, or returns ENOTFOUND.
func deleteUserPool(ctx context.Context, c conn, id string) error {
	res, err := c.exec(ctx, "DELETE FROM user_pools WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete user pool %q: %w", id, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("delete user pool %q: %w", id, err)
	}
	if !ok {
		return userPoolNotFound(id)
	}
	return nil
}

// listUserPools returns opt's page of user pools by id.
func listUserPools(ctx context.Context, c conn, opt behalf.ListOptions) ([]*behalf.UserPool, error) {
	page, args := pageClause("id", opt)
	ps, err := queryAll(ctx, c, scanUserPool, "SELECT "+userPoolColumns+" FROM user_pools"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list user pools: %w", err)
	}
	return ps, nil
}

// keepUserPool restores the fields an update may not change.
func keepUserPool(edited, orig *behalf.UserPool) {
	edited.ID = orig.ID
	edited.CreatedAt = orig.CreatedAt
}

// userPoolJSON are the JSON columns of a user pool.
type userPoolJSON struct {
	usernameAttrs, tags, autoVerified, message string
}

// encodeUserPool returns p's JSON columns.
func encodeUserPool(p *behalf.UserPool) (e userPoolJSON, err error) {
	if e.usernameAttrs, err = encodeList("username_attributes", p.UsernameAttributes); err != nil {
		return e, err
	}
	if e.tags, err = encodeTags(p.Tags); err != nil {
		return e, err
	}
	if e.autoVerified, err = encodeList("auto_verified_attributes", p.AutoVerifiedAttributes); err != nil {
		return e, err
	}
	b, err := json.Marshal(p.VerificationMessage)
	if err != nil {
		return e, fmt.Errorf("encode verification_message: %w", err)
	}
	e.message = string(b)
	return e, nil
}

// scanUserPool reads a row of userPoolColumns.
func scanUserPool(s scanner) (*behalf.UserPool, error) {
	var (
		p                   behalf.UserPool
		attrsJSON, tagsJSON string
		created, updated    int64
		autoVerified, msg   string
	)
	pp := &p.PasswordPolicy
	err := s.Scan(&p.ID, &p.Name, &pp.MinimumLength, &pp.RequireUppercase, &pp.RequireLowercase, &pp.RequireNumbers,
		&pp.RequireSymbols, &pp.TemporaryPasswordValidityDays, &attrsJSON, &p.Domain, &tagsJSON, &created, &updated,
		&autoVerified, &p.AllowAdminCreateUserOnly, &msg, &p.MFAConfiguration, &p.SoftwareTokenMFA)
	if err != nil {
		return nil, err
	}
	if p.AutoVerifiedAttributes, err = decodeList("auto_verified_attributes", autoVerified); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(msg), &p.VerificationMessage); err != nil {
		return nil, fmt.Errorf("decode verification_message: %w", err)
	}
	if p.UsernameAttributes, err = decodeList("username_attributes", attrsJSON); err != nil {
		return nil, err
	}
	if p.Tags, err = decodeTags(tagsJSON); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMicros(created)
	p.UpdatedAt = fromMicros(updated)
	return &p, nil
}
