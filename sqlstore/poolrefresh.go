package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
)

// poolRefreshColumns are the pool_refresh_tokens columns in
// scanPoolRefreshToken's order.
const poolRefreshColumns = "hash, pool_id, client_id, username, origin_jti, scopes, auth_time, expires_at, revoked, created_at, rotated_at, resources"

// CreatePoolRefreshToken inserts t as passed (Revoked included). It
// returns ECONFLICT if the hash exists, or ENOTFOUND if t.PoolID names no
// user pool. The client and the user are not checked.
func (db *DB) CreatePoolRefreshToken(ctx context.Context, t *behalf.PoolRefreshToken) error {
	return insertPoolRefreshToken(ctx, db.conn(), t)
}

// GetPoolRefreshToken returns the refresh token with the given hash,
// revoked or not, or ENOTFOUND.
func (db *DB) GetPoolRefreshToken(ctx context.Context, hash string) (*behalf.PoolRefreshToken, error) {
	return findPoolRefreshToken(ctx, db.conn(), hash)
}

// RevokePoolRefreshTokens revokes the refresh tokens of the user of pool
// poolID with the given username, issued to clientID ("" for every
// client), in one statement. It returns how many tokens it revoked: tokens
// already revoked are not counted.
func (db *DB) RevokePoolRefreshTokens(ctx context.Context, poolID, username, clientID string) (int, error) {
	return revokeUserRefreshTokens(ctx, db.conn(), poolID, username, clientID)
}

// RevokePoolRefreshToken revokes the refresh token with the given hash;
// revoking a revoked token succeeds. It returns ENOTFOUND if there is no
// such token.
func (db *DB) RevokePoolRefreshToken(ctx context.Context, hash string) error {
	return revokePoolRefreshToken(ctx, db.conn(), hash)
}

// poolRefreshNotFound is the ENOTFOUND error for a refresh token; the
// message does not repeat the hash.
func poolRefreshNotFound() error {
	return behalf.Errorf(behalf.ENOTFOUND, "Refresh token does not exist.")
}

// insertPoolRefreshToken inserts t, returning ECONFLICT if its hash exists
// or ENOTFOUND if its pool does not.
func insertPoolRefreshToken(ctx context.Context, c conn, t *behalf.PoolRefreshToken) error {
	scopes, err := encodeList("scopes", t.Scopes)
	if err != nil {
		return fmt.Errorf("insert refresh token of user pool %q: %w", t.PoolID, err)
	}
	resources, err := encodeList("resources", t.Resources)
	if err != nil {
		return fmt.Errorf("insert refresh token of user pool %q: %w", t.PoolID, err)
	}
	_, err = c.exec(ctx, "INSERT INTO pool_refresh_tokens ("+poolRefreshColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		t.Hash, t.PoolID, t.ClientID, t.Username, t.OriginJTI, scopes, micros(t.AuthTime), micros(t.ExpiresAt),
		t.Revoked, micros(t.CreatedAt), timeOrZeroMicros(t.RotatedAt), resources)
	if err != nil {
		return inPoolWriteError(c, err, fmt.Sprintf("insert refresh token of user pool %q", t.PoolID), t.PoolID,
			"Refresh token already exists.")
	}
	return nil
}

// findPoolRefreshToken reads the refresh token with the given hash, or
// returns ENOTFOUND.
func findPoolRefreshToken(ctx context.Context, c conn, hash string) (*behalf.PoolRefreshToken, error) {
	row := c.queryRow(ctx, "SELECT "+poolRefreshColumns+" FROM pool_refresh_tokens WHERE hash = ?"+c.lock(), hash)
	t, err := scanPoolRefreshToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, poolRefreshNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("select refresh token: %w", err)
	}
	return t, nil
}

// revokeUserRefreshTokens revokes the unrevoked tokens of a user issued to
// clientID ("" for all clients) and returns how many it revoked.
func revokeUserRefreshTokens(ctx context.Context, c conn, poolID, username, clientID string) (int, error) {
	query := "UPDATE pool_refresh_tokens SET revoked = ? WHERE pool_id = ? AND username = ? AND revoked = ?"
	args := []any{true, poolID, username, false}
	if clientID != "" {
		query += " AND client_id = ?"
		args = append(args, clientID)
	}
	res, err := c.exec(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("revoke refresh tokens of user %q of user pool %q: %w", username, poolID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("revoke refresh tokens of user %q of user pool %q: %w", username, poolID, err)
	}
	return int(n), nil
}

// revokeClientRefreshTokens revokes the unrevoked tokens issued to app
// client clientID and returns how many it revoked.
func revokeClientRefreshTokens(ctx context.Context, c conn, clientID string) (int, error) {
	res, err := c.exec(ctx, "UPDATE pool_refresh_tokens SET revoked = ? WHERE client_id = ? AND revoked = ?", true, clientID, false)
	if err != nil {
		return 0, fmt.Errorf("revoke refresh tokens of app client %q: %w", clientID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("revoke refresh tokens of app client %q: %w", clientID, err)
	}
	return int(n), nil
}

// revokePoolRefreshToken revokes the token with the given hash, or returns
// ENOTFOUND. The UPDATE matches a revoked token too, so both dialects
// count it as affected.
func revokePoolRefreshToken(ctx context.Context, c conn, hash string) error {
	res, err := c.exec(ctx, "UPDATE pool_refresh_tokens SET revoked = ? WHERE hash = ?", true, hash)
	if err != nil {
		return fmt.Errorf("revoke refresh token: %w", err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("revoke refresh token: %w", err)
	}
	if !ok {
		return poolRefreshNotFound()
	}
	return nil
}

// RotatePoolRefreshToken sets the RotatedAt of the token with the given
// hash to at, unless it is set already, in one statement, and returns the
// token as stored. It returns ENOTFOUND if there is no such token.
func (db *DB) RotatePoolRefreshToken(ctx context.Context, hash string, at time.Time) (*behalf.PoolRefreshToken, error) {
	row := db.conn().queryRow(ctx, "UPDATE pool_refresh_tokens SET rotated_at = CASE WHEN rotated_at = 0 THEN ? ELSE rotated_at END WHERE hash = ? RETURNING "+poolRefreshColumns,
		timeOrZeroMicros(at), hash)
	t, err := scanPoolRefreshToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, poolRefreshNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("rotate refresh token: %w", err)
	}
	return t, nil
}

// timeOrZeroMicros is micros(t), or 0 for the zero time.
func timeOrZeroMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// scanPoolRefreshToken reads a row of poolRefreshColumns.
func scanPoolRefreshToken(s scanner) (*behalf.PoolRefreshToken, error) {
	var (
		t                         behalf.PoolRefreshToken
		scopesJSON, resourcesJSON string
		authTime, expires, create int64
		rotated                   int64
	)
	err := s.Scan(&t.Hash, &t.PoolID, &t.ClientID, &t.Username, &t.OriginJTI, &scopesJSON, &authTime, &expires,
		&t.Revoked, &create, &rotated, &resourcesJSON)
	if err != nil {
		return nil, err
	}
	if t.Scopes, err = decodeList("scopes", scopesJSON); err != nil {
		return nil, err
	}
	if t.Resources, err = decodeList("resources", resourcesJSON); err != nil {
		return nil, err
	}
	t.AuthTime = fromMicros(authTime)
	t.ExpiresAt = fromMicros(expires)
	t.CreatedAt = fromMicros(create)
	if rotated != 0 {
		t.RotatedAt = fromMicros(rotated)
	}
	return &t, nil
}
