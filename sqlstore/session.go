package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
)

// sessionKind names authorization sessions in messages.
const sessionKind = "Authorization session"

// sessionColumns are the auth_sessions columns in scanSession's order.
const sessionColumns = "id, workload, user_issuer, user_subject, provider_id, scopes, return_url, state_hash, secrets, pending, resources, audiences, status, failure_reason, grant_id, version, created_at, expires_at, request_hash, browser_hash, account"

// CreateSession inserts s as passed (Version included). It returns
// ECONFLICT if the id or the state hash exists.
func (db *DB) CreateSession(ctx context.Context, s *behalf.AuthSession) error {
	return insertSession(ctx, db.conn(), s)
}

// GetSession returns the session with the given id, or ENOTFOUND.
func (db *DB) GetSession(ctx context.Context, id string) (*behalf.AuthSession, error) {
	return findSession(ctx, db.conn(), "id", id)
}

// GetSessionByState returns the session whose StateHash is stateHash, or
// ENOTFOUND.
func (db *DB) GetSessionByState(ctx context.Context, stateHash string) (*behalf.AuthSession, error) {
	return findSession(ctx, db.conn(), "state_hash", stateHash)
}

// GetSessionByRequest returns the session whose RequestHash is
// requestHash, or ENOTFOUND. An empty hash finds nothing.
func (db *DB) GetSessionByRequest(ctx context.Context, requestHash string) (*behalf.AuthSession, error) {
	if requestHash == "" {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "No authorization session found for this reference.")
	}
	return findSession(ctx, db.conn(), "request_hash", requestHash)
}

// ExpiredPendingSessions returns up to limit sessions that expired before t
// still holding a token that was never bound (status CALLBACK), oldest first.
func (db *DB) ExpiredPendingSessions(ctx context.Context, t time.Time, limit int) ([]*behalf.AuthSession, error) {
	rows, err := db.conn().query(ctx, "SELECT "+sessionColumns+" FROM auth_sessions WHERE status = ? AND expires_at < ? ORDER BY expires_at LIMIT ?",
		behalf.SessionCallback, micros(t), limit)
	if err != nil {
		return nil, fmt.Errorf("select expired pending sessions: %w", err)
	}
	defer rows.Close()
	var out []*behalf.AuthSession
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("scan expired pending session: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select expired pending sessions: %w", err)
	}
	return out, nil
}

// UpdateSession applies fn to the session with the given id in one
// transaction and stores the result with Version incremented; ID,
// Workload, User, ProviderID and CreatedAt keep their stored values, and a
// Version set by fn is ignored. It returns ENOTFOUND, ECONFLICT if fn gave
// the session another session's state hash, or fn's error unchanged.
func (db *DB) UpdateSession(ctx context.Context, id string, fn func(*behalf.AuthSession) error) (*behalf.AuthSession, error) {
	load := func(c conn) (*behalf.AuthSession, error) { return findSession(ctx, c, "id", id) }
	save := func(c conn, s *behalf.AuthSession) error { return updateSession(ctx, c, s) }
	return modify(ctx, db, load, fn, keepSession, save)
}

// DeleteExpiredSessions deletes the sessions whose ExpiresAt is before t
// and returns how many it deleted.
func (db *DB) DeleteExpiredSessions(ctx context.Context, t time.Time) (int, error) {
	return deleteExpiredSessions(ctx, db.conn(), t)
}

// insertSession inserts s, returning ECONFLICT if its id or state hash
// exists.
func insertSession(ctx context.Context, c conn, s *behalf.AuthSession) error {
	scopes, resources, audiences, err := encodeSession(s)
	if err != nil {
		return fmt.Errorf("insert authorization session %q: %w", s.ID, err)
	}
	_, err = c.exec(ctx, "INSERT INTO auth_sessions ("+sessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		s.ID, s.Workload, s.User.Issuer, s.User.Subject, s.ProviderID, scopes, s.ReturnURL, s.StateHash,
		blob(s.Secrets), blob(s.Pending), resources, audiences, s.Status, s.FailureReason, s.GrantID,
		s.Version, micros(s.CreatedAt), micros(s.ExpiresAt), s.RequestHash, s.BrowserHash, s.Account)
	if err != nil {
		return sessionConflict(c, err, fmt.Sprintf("insert authorization session %q", s.ID), s.ID)
	}
	return nil
}

// sessionConflict classifies a write error of session id: a unique
// violation (of the id or the state hash) becomes ECONFLICT.
func sessionConflict(c conn, err error, doing, id string) error {
	if c.d.isUniqueViolation(err) {
		return behalf.Errorf(behalf.ECONFLICT, "%s %q or its state already exists.", sessionKind, id)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// findSession reads the session whose column key ("id" or "state_hash")
// equals value, locking it inside a writing transaction. It returns
// ENOTFOUND if there is none.
func findSession(ctx context.Context, c conn, key, value string) (*behalf.AuthSession, error) {
	row := c.queryRow(ctx, "SELECT "+sessionColumns+" FROM auth_sessions WHERE "+key+" = ?"+c.lock(), value)
	s, err := scanSession(row)
	if errors.Is(err, sql.ErrNoRows) && key != "id" {
		// The state and request hashes are not secret, but they are not names either.
		return nil, behalf.Errorf(behalf.ENOTFOUND, "No authorization session found for this reference.")
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(sessionKind, value)
	}
	if err != nil {
		return nil, fmt.Errorf("select authorization session %s %q: %w", key, value, err)
	}
	return s, nil
}

// updateSession writes every mutable field of s.
func updateSession(ctx context.Context, c conn, s *behalf.AuthSession) error {
	scopes, resources, audiences, err := encodeSession(s)
	if err != nil {
		return fmt.Errorf("update authorization session %q: %w", s.ID, err)
	}
	_, err = c.exec(ctx, `UPDATE auth_sessions SET scopes = ?, return_url = ?, state_hash = ?, secrets = ?, pending = ?,
		resources = ?, audiences = ?, status = ?, failure_reason = ?, grant_id = ?, version = ?, expires_at = ?,
		request_hash = ?, browser_hash = ?, account = ?
		WHERE id = ?`,
		scopes, s.ReturnURL, s.StateHash, blob(s.Secrets), blob(s.Pending), resources, audiences,
		s.Status, s.FailureReason, s.GrantID, s.Version, micros(s.ExpiresAt), s.RequestHash, s.BrowserHash, s.Account, s.ID)
	if err != nil {
		return sessionConflict(c, err, fmt.Sprintf("update authorization session %q", s.ID), s.ID)
	}
	return nil
}

// deleteExpiredSessions deletes the sessions that expired before t.
func deleteExpiredSessions(ctx context.Context, c conn, t time.Time) (int, error) {
	res, err := c.exec(ctx, "DELETE FROM auth_sessions WHERE expires_at < ?", micros(t))
	if err != nil {
		return 0, fmt.Errorf("delete expired authorization sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired authorization sessions: %w", err)
	}
	return int(n), nil
}

// keepSession restores the fields an update may not change and increments
// the version.
func keepSession(edited, orig *behalf.AuthSession) {
	edited.ID = orig.ID
	edited.Workload = orig.Workload
	edited.User = orig.User
	edited.ProviderID = orig.ProviderID
	edited.CreatedAt = orig.CreatedAt
	edited.Version = orig.Version + 1
}

// encodeSession returns s's JSON columns.
func encodeSession(s *behalf.AuthSession) (scopes, resources, audiences string, err error) {
	if scopes, err = encodeList("scopes", s.Scopes); err != nil {
		return "", "", "", err
	}
	if resources, err = encodeList("resources", s.Resources); err != nil {
		return "", "", "", err
	}
	if audiences, err = encodeList("audiences", s.Audiences); err != nil {
		return "", "", "", err
	}
	return scopes, resources, audiences, nil
}

// scanSession reads a row of sessionColumns.
func scanSession(sc scanner) (*behalf.AuthSession, error) {
	var (
		s                                        behalf.AuthSession
		scopesJSON, resourcesJSON, audiencesJSON string
		secrets, pending                         []byte
		created, expires                         int64
	)
	err := sc.Scan(&s.ID, &s.Workload, &s.User.Issuer, &s.User.Subject, &s.ProviderID, &scopesJSON, &s.ReturnURL,
		&s.StateHash, &secrets, &pending, &resourcesJSON, &audiencesJSON, &s.Status, &s.FailureReason, &s.GrantID,
		&s.Version, &created, &expires, &s.RequestHash, &s.BrowserHash, &s.Account)
	if err != nil {
		return nil, err
	}
	if s.Scopes, err = decodeList("scopes", scopesJSON); err != nil {
		return nil, err
	}
	if s.Resources, err = decodeList("resources", resourcesJSON); err != nil {
		return nil, err
	}
	if s.Audiences, err = decodeList("audiences", audiencesJSON); err != nil {
		return nil, err
	}
	s.Secrets = fromBlob(secrets)
	s.Pending = fromBlob(pending)
	s.CreatedAt = fromMicros(created)
	s.ExpiresAt = fromMicros(expires)
	return &s, nil
}
