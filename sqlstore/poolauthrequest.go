package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
)

// poolAuthRequestKind names pool auth requests in messages.
const poolAuthRequestKind = "Auth request"

// poolAuthRequestColumns are the pool_auth_requests columns in
// scanPoolAuthRequest's order.
const poolAuthRequestColumns = "id, pool_id, code_hash, client_ip, data, expires_at, created_at"

// CreatePoolAuthRequest inserts r. An empty CodeHash is stored as NULL, so
// any number of requests may be without a code. It returns ECONFLICT if the
// id or the (non-empty) code hash exists, or ENOTFOUND if r.PoolID names
// no user pool.
func (db *DB) CreatePoolAuthRequest(ctx context.Context, r *behalf.PoolAuthRequest) error {
	return insertPoolAuthRequest(ctx, db.conn(), r)
}

// GetPoolAuthRequest returns the auth request with the given id, or
// ENOTFOUND.
func (db *DB) GetPoolAuthRequest(ctx context.Context, id string) (*behalf.PoolAuthRequest, error) {
	return findPoolAuthRequest(ctx, db.conn(), "id", id)
}

// GetPoolAuthRequestByCode returns the auth request whose CodeHash is
// codeHash, or ENOTFOUND (always for an empty codeHash).
func (db *DB) GetPoolAuthRequestByCode(ctx context.Context, codeHash string) (*behalf.PoolAuthRequest, error) {
	return findPoolAuthRequest(ctx, db.conn(), "code_hash", codeHash)
}

// UpdatePoolAuthRequest applies fn to the auth request with the given id
// in one transaction and stores the result; ID, PoolID, ClientIP and
// CreatedAt keep their stored values. It returns ENOTFOUND, ECONFLICT if fn gave the
// request another request's code hash, or fn's error unchanged.
func (db *DB) UpdatePoolAuthRequest(ctx context.Context, id string, fn func(*behalf.PoolAuthRequest) error) (*behalf.PoolAuthRequest, error) {
	load := func(c conn) (*behalf.PoolAuthRequest, error) { return findPoolAuthRequest(ctx, c, "id", id) }
	save := func(c conn, r *behalf.PoolAuthRequest) error { return updatePoolAuthRequest(ctx, c, r) }
	return modify(ctx, db, load, fn, keepPoolAuthRequest, save)
}

// DeletePoolAuthRequest deletes the auth request with the given id, or
// returns ENOTFOUND.
func (db *DB) DeletePoolAuthRequest(ctx context.Context, id string) error {
	return deletePoolAuthRequest(ctx, db.conn(), id)
}

// DeleteExpiredPoolAuthRequests deletes the auth requests whose ExpiresAt
// is before t, in every pool, and returns how many it deleted.
func (db *DB) DeleteExpiredPoolAuthRequests(ctx context.Context, t time.Time) (int, error) {
	return deleteExpiredPoolAuthRequests(ctx, db.conn(), t)
}

// CountPoolAuthRequests counts the auth requests whose ExpiresAt is after
// after, those of clientIP or with "" all, stopping at limit if positive.
// Both counts are range scans of an index (client_ip, expires_at or
// expires_at: migration 0025), of at most limit entries.
func (db *DB) CountPoolAuthRequests(ctx context.Context, clientIP string, after time.Time, limit int) (int, error) {
	return countPoolAuthRequests(ctx, db.conn(), clientIP, after, limit)
}

// poolAuthRequestConflict is the message of a write that would duplicate
// an auth request's id or code hash.
func poolAuthRequestConflict(id string) string {
	return fmt.Sprintf("%s %q or its code already exists.", poolAuthRequestKind, id)
}

// insertPoolAuthRequest inserts r, returning ECONFLICT if its id or code
// hash exists or ENOTFOUND if its pool does not.
func insertPoolAuthRequest(ctx context.Context, c conn, r *behalf.PoolAuthRequest) error {
	_, err := c.exec(ctx, "INSERT INTO pool_auth_requests ("+poolAuthRequestColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		r.ID, r.PoolID, nullString(r.CodeHash), r.ClientIP, blob(r.Data), micros(r.ExpiresAt), micros(r.CreatedAt))
	if err != nil {
		return inPoolWriteError(c, err, fmt.Sprintf("insert auth request %q", r.ID), r.PoolID, poolAuthRequestConflict(r.ID))
	}
	return nil
}

// findPoolAuthRequest reads the auth request whose column key ("id" or
// "code_hash") equals value, locking it inside a writing transaction. It
// returns ENOTFOUND if there is none.
func findPoolAuthRequest(ctx context.Context, c conn, key, value string) (*behalf.PoolAuthRequest, error) {
	row := c.queryRow(ctx, "SELECT "+poolAuthRequestColumns+" FROM pool_auth_requests WHERE "+key+" = ?"+c.lock(), value)
	r, err := scanPoolAuthRequest(row)
	if errors.Is(err, sql.ErrNoRows) && key == "code_hash" {
		// The code hash is a secret's digest, not a name.
		return nil, behalf.Errorf(behalf.ENOTFOUND, "No auth request found for this code.")
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(poolAuthRequestKind, value)
	}
	if err != nil {
		return nil, fmt.Errorf("select auth request by %s: %w", key, err)
	}
	return r, nil
}

// updatePoolAuthRequest writes every mutable field of r.
func updatePoolAuthRequest(ctx context.Context, c conn, r *behalf.PoolAuthRequest) error {
	_, err := c.exec(ctx, "UPDATE pool_auth_requests SET code_hash = ?, data = ?, expires_at = ? WHERE id = ?",
		nullString(r.CodeHash), blob(r.Data), micros(r.ExpiresAt), r.ID)
	if err != nil {
		return inPoolWriteError(c, err, fmt.Sprintf("update auth request %q", r.ID), r.PoolID, poolAuthRequestConflict(r.ID))
	}
	return nil
}

// deletePoolAuthRequest deletes the auth request with the given id, or
// returns ENOTFOUND.
func deletePoolAuthRequest(ctx context.Context, c conn, id string) error {
	res, err := c.exec(ctx, "DELETE FROM pool_auth_requests WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete auth request %q: %w", id, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("delete auth request %q: %w", id, err)
	}
	if !ok {
		return notFound(poolAuthRequestKind, id)
	}
	return nil
}

// deleteExpiredPoolAuthRequests deletes the auth requests that expired
// before t and returns how many it deleted.
func deleteExpiredPoolAuthRequests(ctx context.Context, c conn, t time.Time) (int, error) {
	res, err := c.exec(ctx, "DELETE FROM pool_auth_requests WHERE expires_at < ?", micros(t))
	if err != nil {
		return 0, fmt.Errorf("delete expired auth requests: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired auth requests: %w", err)
	}
	return int(n), nil
}

// countPoolAuthRequests counts as CountPoolAuthRequests does.
func countPoolAuthRequests(ctx context.Context, c conn, clientIP string, after time.Time, limit int) (int, error) {
	args := []any{micros(after)}
	if clientIP != "" {
		args = []any{clientIP, micros(after)}
	}
	if limit > 0 {
		args = append(args, limit)
	}
	var n int
	if err := c.queryRow(ctx, countPoolAuthRequestsQuery(clientIP != "", limit > 0), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count auth requests: %w", err)
	}
	return n, nil
}

// countPoolAuthRequestsQuery is the count of the unexpired requests (after
// ?), of one client_ip (?) first if byClient, stopping at a limit (?) last
// if limited.
func countPoolAuthRequestsQuery(byClient, limited bool) string {
	q := "SELECT 1 FROM pool_auth_requests WHERE expires_at > ?"
	if byClient {
		q = "SELECT 1 FROM pool_auth_requests WHERE client_ip = ? AND expires_at > ?"
	}
	if limited {
		q += " LIMIT ?"
	}
	return "SELECT COUNT(*) FROM (" + q + ") AS pending"
}

// keepPoolAuthRequest restores the fields an update may not change.
func keepPoolAuthRequest(edited, orig *behalf.PoolAuthRequest) {
	edited.ID = orig.ID
	edited.PoolID = orig.PoolID
	edited.ClientIP = orig.ClientIP
	edited.CreatedAt = orig.CreatedAt
}

// scanPoolAuthRequest reads a row of poolAuthRequestColumns.
func scanPoolAuthRequest(s scanner) (*behalf.PoolAuthRequest, error) {
	var (
		r                behalf.PoolAuthRequest
		codeHash         sql.NullString
		data             []byte
		expires, created int64
	)
	if err := s.Scan(&r.ID, &r.PoolID, &codeHash, &r.ClientIP, &data, &expires, &created); err != nil {
		return nil, err
	}
	r.CodeHash = codeHash.String
	r.Data = fromBlob(data)
	r.ExpiresAt = fromMicros(expires)
	r.CreatedAt = fromMicros(created)
	return &r, nil
}
