package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/behalf-dev/behalf"
)

// vaultKind names token vaults in messages.
const vaultKind = "Token vault"

// vaultColumns are the token_vaults columns in scanTokenVault's order.
const vaultColumns = "id, key_type, kms_key_arn, updated_at"

// GetTokenVault returns the vault with the given id, or ENOTFOUND.
func (db *DB) GetTokenVault(ctx context.Context, id string) (*behalf.TokenVault, error) {
	return findTokenVault(ctx, db.conn(), id)
}

// PutTokenVault inserts or replaces the settings of vault v.ID.
func (db *DB) PutTokenVault(ctx context.Context, v *behalf.TokenVault) error {
	return upsertTokenVault(ctx, db.conn(), v)
}

// findTokenVault reads the vault with the given id, or returns ENOTFOUND.
func findTokenVault(ctx context.Context, c conn, id string) (*behalf.TokenVault, error) {
	row := c.queryRow(ctx, "SELECT "+vaultColumns+" FROM token_vaults WHERE id = ?"+c.lock(), id)
	v, err := scanTokenVault(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(vaultKind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("select token vault %q: %w", id, err)
	}
	return v, nil
}

// upsertTokenVault inserts v or replaces the row with its id. SQLite
// (3.24+) and PostgreSQL share the ON CONFLICT … DO UPDATE syntax.
func upsertTokenVault(ctx context.Context, c conn, v *behalf.TokenVault) error {
	_, err := c.exec(ctx, "INSERT INTO token_vaults ("+vaultColumns+") VALUES (?, ?, ?, ?)"+
		" ON CONFLICT (id) DO UPDATE SET key_type = excluded.key_type, kms_key_arn = excluded.kms_key_arn, updated_at = excluded.updated_at",
		v.ID, v.KeyType, v.KMSKeyARN, micros(v.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put token vault %q: %w", v.ID, err)
	}
	return nil
}

// scanTokenVault reads a row of vaultColumns.
func scanTokenVault(s scanner) (*behalf.TokenVault, error) {
	var (
		v       behalf.TokenVault
		updated int64
	)
	if err := s.Scan(&v.ID, &v.KeyType, &v.KMSKeyARN, &updated); err != nil {
		return nil, err
	}
	v.UpdatedAt = fromMicros(updated)
	return &v, nil
}

// ResetTokenVault deletes every grant and fails every session holding, or
// exchanging a code for, a provider's token, and stores v, in one
// transaction.
func (db *DB) ResetTokenVault(ctx context.Context, v *behalf.TokenVault) (grants, sessions int, err error) {
	err = db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, "DELETE FROM grants")
		if err != nil {
			return fmt.Errorf("reset token vault: delete grants: %w", err)
		}
		n, _ := res.RowsAffected()
		grants = int(n)
		res, err = c.exec(ctx, "UPDATE auth_sessions SET status = ?, failure_reason = ?, pending = ?, version = version + 1 WHERE status IN (?, ?)",
			behalf.SessionFailed, behalf.SessionFailureVaultReset, blob(nil), behalf.SessionCallback, behalf.SessionExchange)
		if err != nil {
			return fmt.Errorf("reset token vault: end sessions: %w", err)
		}
		n, _ = res.RowsAffected()
		sessions = int(n)
		return upsertTokenVault(ctx, c, v)
	})
	if err != nil {
		return 0, 0, err
	}
	return grants, sessions, nil
}
