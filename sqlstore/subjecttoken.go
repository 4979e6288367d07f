package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
)

// subjectTokenKind names subject tokens in messages.
const subjectTokenKind = "Subject token"

// PutSubjectToken inserts t, or returns ECONFLICT if its id exists.
func (db *DB) PutSubjectToken(ctx context.Context, t *behalf.SubjectToken) error {
	c := db.conn()
	_, err := c.exec(ctx, "INSERT INTO wat_subject_tokens (id, token, expires_at) VALUES (?, ?, ?)",
		t.ID, blob(t.Token), micros(t.ExpiresAt))
	if err != nil {
		return c.conflict(err, fmt.Sprintf("insert subject token %q", t.ID), subjectTokenKind, t.ID)
	}
	return nil
}

// GetSubjectToken returns the subject token with id, or ENOTFOUND; one
// read of the primary key.
func (db *DB) GetSubjectToken(ctx context.Context, id string) (*behalf.SubjectToken, error) {
	var (
		token   []byte
		expires int64
	)
	err := db.conn().queryRow(ctx, "SELECT token, expires_at FROM wat_subject_tokens WHERE id = ?", id).Scan(&token, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(subjectTokenKind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("select subject token %q: %w", id, err)
	}
	return &behalf.SubjectToken{ID: id, Token: fromBlob(token), ExpiresAt: fromMicros(expires)}, nil
}

// DeleteExpiredSubjectTokens deletes the subject tokens that expired
// before t and reports how many.
func (db *DB) DeleteExpiredSubjectTokens(ctx context.Context, t time.Time) (int64, error) {
	res, err := db.conn().exec(ctx, "DELETE FROM wat_subject_tokens WHERE expires_at < ?", micros(t))
	if err != nil {
		return 0, fmt.Errorf("delete expired subject tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired subject tokens: %w", err)
	}
	return n, nil
}
