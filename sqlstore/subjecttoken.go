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

// PutSubjectToken inserts t, or takes its later ExpiresAt if its id exists.
func (db *DB) PutSubjectToken(ctx context.Context, t *behalf.SubjectToken) error {
	_, err := db.conn().exec(ctx, "INSERT INTO wat_subject_tokens (id, token, expires_at) VALUES (?, ?, ?) "+
		"ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE excluded.expires_at > wat_subject_tokens.expires_at",
		t.ID, blob(t.Token), micros(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert subject token %q: %w", t.ID, err)
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
