package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
)

// Codes of sign-up and password recovery, and the local outbox
// (behalf.PoolCodeStore; migration 0036). Both reference pool_users, so
// they go with their user and pool.

const poolCodeColumns = `pool_id, username, purpose, hash, attribute, attempts, expires_at, sends, send_window, created_at`

// userNotFound is the ENOTFOUND of a record written for a user that does
// not exist.
func userNotFound() error {
	return behalf.Errorf(behalf.ENOTFOUND, "User does not exist.")
}

// codeNotFound is the ENOTFOUND of a missing code.
var codeNotFound = behalf.Errorf(behalf.ENOTFOUND, "No such code.")

// PutPoolCode stores c, replacing the user's code for the same purpose, in
// one statement. It returns ENOTFOUND if the user does not exist.
func (db *DB) PutPoolCode(ctx context.Context, c *behalf.PoolCode) error {
	cn := db.conn()
	_, err := cn.exec(ctx, "INSERT INTO pool_codes ("+poolCodeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (pool_id, username, purpose) DO UPDATE SET hash = excluded.hash, attribute = excluded.attribute,
		attempts = excluded.attempts, expires_at = excluded.expires_at, sends = excluded.sends,
		send_window = excluded.send_window, created_at = excluded.created_at`,
		c.PoolID, c.Username, c.Purpose, c.Hash, c.Attribute, c.Attempts, micros(c.ExpiresAt),
		c.Sends, micros(c.SendWindow), micros(c.CreatedAt))
	if err != nil {
		if cn.d.isForeignKeyViolation(err) {
			return userNotFound()
		}
		return fmt.Errorf("store code of user pool %q: %w", c.PoolID, err)
	}
	return nil
}

// GetPoolCode returns a user's code for purpose, or ENOTFOUND.
func (db *DB) GetPoolCode(ctx context.Context, poolID, username, purpose string) (*behalf.PoolCode, error) {
	row := db.conn().queryRow(ctx, "SELECT "+poolCodeColumns+" FROM pool_codes WHERE pool_id = ? AND username = ? AND purpose = ?",
		poolID, username, purpose)
	var (
		c                          behalf.PoolCode
		expires, window, createdAt int64
	)
	err := row.Scan(&c.PoolID, &c.Username, &c.Purpose, &c.Hash, &c.Attribute, &c.Attempts, &expires, &c.Sends, &window, &createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, codeNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("select code of user pool %q: %w", poolID, err)
	}
	c.ExpiresAt, c.SendWindow, c.CreatedAt = fromMicros(expires), fromMicros(window), fromMicros(createdAt)
	return &c, nil
}

// FailPoolCode counts a wrong attempt on the code whose hash is hash, in
// one statement (concurrent failures all count), and returns the new
// count, or ENOTFOUND if that code is no longer stored.
func (db *DB) FailPoolCode(ctx context.Context, poolID, username, purpose, hash string) (int, error) {
	var n int
	err := db.conn().queryRow(ctx, `UPDATE pool_codes SET attempts = attempts + 1
		WHERE pool_id = ? AND username = ? AND purpose = ? AND hash = ? RETURNING attempts`,
		poolID, username, purpose, hash).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, codeNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("count a wrong code in user pool %q: %w", poolID, err)
	}
	return n, nil
}

// UsePoolCode deletes the code whose hash is hash; ENOTFOUND if it is no
// longer stored, so that of concurrent uses exactly one succeeds.
func (db *DB) UsePoolCode(ctx context.Context, poolID, username, purpose, hash string) error {
	res, err := db.conn().exec(ctx, "DELETE FROM pool_codes WHERE pool_id = ? AND username = ? AND purpose = ? AND hash = ?",
		poolID, username, purpose, hash)
	if err != nil {
		return fmt.Errorf("use code of user pool %q: %w", poolID, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("use code of user pool %q: %w", poolID, err)
	}
	if !ok {
		return codeNotFound
	}
	return nil
}

// DeletePoolCode deletes a user's code for purpose, if any.
func (db *DB) DeletePoolCode(ctx context.Context, poolID, username, purpose string) error {
	_, err := db.conn().exec(ctx, "DELETE FROM pool_codes WHERE pool_id = ? AND username = ? AND purpose = ?", poolID, username, purpose)
	if err != nil {
		return fmt.Errorf("delete code of user pool %q: %w", poolID, err)
	}
	return nil
}

// DeleteExpiredPoolCodes deletes the codes that expired before t.
func (db *DB) DeleteExpiredPoolCodes(ctx context.Context, t time.Time) (int, error) {
	return deleteBefore(ctx, db, "pool_codes", t)
}

// deleteBefore deletes the rows of table whose expires_at is before t.
func deleteBefore(ctx context.Context, db *DB, table string, t time.Time) (int, error) {
	res, err := db.conn().exec(ctx, "DELETE FROM "+table+" WHERE expires_at < ?", micros(t))
	if err != nil {
		return 0, fmt.Errorf("delete expired %s: %w", table, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired %s: %w", table, err)
	}
	return int(n), nil
}

const poolMessageColumns = `id, pool_id, username, purpose, medium, destination, sealed, expires_at, created_at`

// AddPoolMessage stores an outbox message; ENOTFOUND if its user does not
// exist, ECONFLICT if its id does.
func (db *DB) AddPoolMessage(ctx context.Context, m *behalf.PoolMessage) error {
	c := db.conn()
	_, err := c.exec(ctx, "INSERT INTO pool_messages ("+poolMessageColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		m.ID, m.PoolID, m.Username, m.Purpose, m.Medium, m.Destination, blob(m.Sealed), micros(m.ExpiresAt), micros(m.CreatedAt))
	switch {
	case err == nil:
		return nil
	case c.d.isForeignKeyViolation(err):
		return userNotFound()
	case c.d.isUniqueViolation(err):
		return behalf.Errorf(behalf.ECONFLICT, "Message %s exists.", m.ID)
	}
	return fmt.Errorf("store message of user pool %q: %w", m.PoolID, err)
}

// ListPoolMessages returns a user's outbox messages, newest first.
func (db *DB) ListPoolMessages(ctx context.Context, poolID, username string) ([]*behalf.PoolMessage, error) {
	ms, err := queryAll(ctx, db.conn(), scanPoolMessage, "SELECT "+poolMessageColumns+
		" FROM pool_messages WHERE pool_id = ? AND username = ? ORDER BY created_at DESC, id DESC", poolID, username)
	if err != nil {
		return nil, fmt.Errorf("list messages of user pool %q: %w", poolID, err)
	}
	return ms, nil
}

// DeleteExpiredPoolMessages deletes the outbox messages that expired
// before t.
func (db *DB) DeleteExpiredPoolMessages(ctx context.Context, t time.Time) (int, error) {
	return deleteBefore(ctx, db, "pool_messages", t)
}

// scanPoolMessage reads a row of poolMessageColumns.
func scanPoolMessage(s scanner) (*behalf.PoolMessage, error) {
	var (
		m                behalf.PoolMessage
		sealed           []byte
		expires, created int64
	)
	if err := s.Scan(&m.ID, &m.PoolID, &m.Username, &m.Purpose, &m.Medium, &m.Destination, &sealed, &expires, &created); err != nil {
		return nil, err
	}
	m.Sealed, m.ExpiresAt, m.CreatedAt = behalf.Sealed(sealed), fromMicros(expires), fromMicros(created)
	return &m, nil
}
