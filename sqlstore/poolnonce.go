package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
)

// UsePoolNonce records nonce as used in pool poolID until expiresAt
// (migration 0028). A nonce recorded before is ECONFLICT, even once it has
// expired and until it is swept: nonces are random and never legitimately
// reused. It returns ENOTFOUND if the pool does not exist.
func (db *DB) UsePoolNonce(ctx context.Context, poolID, nonce string, expiresAt time.Time) error {
	c := db.conn()
	_, err := c.exec(ctx, "INSERT INTO pool_nonces (pool_id, nonce, expires_at) VALUES (?, ?, ?)", poolID, nonce, micros(expiresAt))
	if err != nil {
		return inPoolWriteError(c, err, fmt.Sprintf("use a nonce of user pool %q", poolID), poolID, "The nonce was used already.")
	}
	return nil
}

// DeleteExpiredPoolNonces deletes the nonces, in every pool, whose
// expiresAt is before t, and returns how many it deleted.
func (db *DB) DeleteExpiredPoolNonces(ctx context.Context, t time.Time) (int, error) {
	res, err := db.conn().exec(ctx, "DELETE FROM pool_nonces WHERE expires_at < ?", micros(t))
	if err != nil {
		return 0, fmt.Errorf("delete expired nonces: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired nonces: %w", err)
	}
	return int(n), nil
}

// EnsurePoolSecret returns the sealed secret name of pool poolID, storing
// sealed first if the pool has none (INSERT … ON CONFLICT DO NOTHING, then
// a read), so that concurrent callers on any replica all get the first one
// stored. It returns ENOTFOUND if the pool does not exist.
func (db *DB) EnsurePoolSecret(ctx context.Context, poolID, name string, sealed behalf.Sealed) (behalf.Sealed, error) {
	c := db.conn()
	_, err := c.exec(ctx, "INSERT INTO pool_secrets (pool_id, name, sealed) VALUES (?, ?, ?) ON CONFLICT (pool_id, name) DO NOTHING",
		poolID, name, blob(sealed))
	if err != nil {
		return nil, inPoolWriteError(c, err, fmt.Sprintf("store secret %q of user pool %q", name, poolID), poolID, "")
	}
	var out []byte
	err = c.queryRow(ctx, "SELECT sealed FROM pool_secrets WHERE pool_id = ? AND name = ?", poolID, name).Scan(&out)
	if errors.Is(err, sql.ErrNoRows) {
		// The pool was deleted meanwhile, and the secret with it.
		return nil, userPoolNotFound(poolID)
	}
	if err != nil {
		return nil, fmt.Errorf("select secret %q of user pool %q: %w", name, poolID, err)
	}
	return behalf.Sealed(out), nil
}
