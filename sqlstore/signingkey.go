package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
)

// signingKeyKind names signing keys in messages.
const signingKeyKind = "Signing key"

// signingKeyColumns are the signing_keys columns in scanSigningKey's order.
const signingKeyColumns = "id, key_use, algorithm, private, public_jwk, active, created_at, retire_at"

// CreateSigningKey inserts k. If k.Active, every other key of the same Use
// becomes inactive in the same transaction; keys of other uses are
// untouched. It returns ECONFLICT if the id exists.
func (db *DB) CreateSigningKey(ctx context.Context, k *behalf.SigningKey) error {
	return db.inTx(ctx, func(c conn) error {
		if k.Active {
			if err := deactivateSigningKeys(ctx, c, k.Use); err != nil {
				return err
			}
		}
		return insertSigningKey(ctx, c, k)
	})
}

// CreateFirstSigningKey inserts k, which must be Active, unless the store
// holds an active key of k.Use and k.Algorithm that is not retired at
// k.CreatedAt; the other active keys of k.Use (of another algorithm, or
// retired) become inactive in the same transaction. It reports whether k
// was stored.
//
// Concurrent callers (replicas starting together on an empty database)
// store at most one key: signing_keys_one_active allows one active key per
// use, so of two transactions that both found none, the second's insert
// fails on the index (in PostgreSQL it waits for the first to commit) and
// this returns false with nothing written. Unlike CreateSigningKey it never
// deactivates a live key of k's algorithm, so a loser cannot displace the
// winner's key after the winner has started signing with it.
func (db *DB) CreateFirstSigningKey(ctx context.Context, k *behalf.SigningKey) (bool, error) {
	if !k.Active {
		return false, fmt.Errorf("create first signing key %q: the key must be active", k.ID)
	}
	now := micros(k.CreatedAt)
	zero := micros(time.Time{})
	err := db.inTx(ctx, func(c conn) error {
		var n int
		err := c.queryRow(ctx, `SELECT count(*) FROM signing_keys WHERE key_use = ? AND active = ? AND algorithm = ?
			AND (retire_at = ? OR retire_at > ?)`, k.Use, true, k.Algorithm, zero, now).Scan(&n)
		if err != nil {
			return fmt.Errorf("find the active signing key of use %q: %w", k.Use, err)
		}
		if n > 0 {
			return errKeyExists
		}
		_, err = c.exec(ctx, `UPDATE signing_keys SET active = ? WHERE key_use = ? AND active = ?
			AND (algorithm <> ? OR (retire_at <> ? AND retire_at <= ?))`, false, k.Use, true, k.Algorithm, zero, now)
		if err != nil {
			return fmt.Errorf("deactivate signing keys of use %q: %w", k.Use, err)
		}
		return insertSigningKey(ctx, c, k)
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errKeyExists), behalf.ErrorCode(err) == behalf.ECONFLICT:
		// Another key is active (perhaps inserted by a concurrent caller
		// whose transaction committed first): nothing was written.
		return false, nil
	}
	return false, err
}

// errKeyExists ends CreateFirstSigningKey's transaction when the use
// already has a live active key of the algorithm.
var errKeyExists = errors.New("an active signing key exists")

// ListSigningKeys returns the keys of one use, oldest first (ties by id).
func (db *DB) ListSigningKeys(ctx context.Context, use string) ([]*behalf.SigningKey, error) {
	return listSigningKeys(ctx, db.conn(), use)
}

// RetireSigningKey sets key id's RetireAt to t. It returns ENOTFOUND if
// there is no such key.
func (db *DB) RetireSigningKey(ctx context.Context, id string, t time.Time) error {
	res, err := db.conn().exec(ctx, "UPDATE signing_keys SET retire_at = ? WHERE id = ?", micros(t), id)
	if err != nil {
		return fmt.Errorf("retire signing key %q: %w", id, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("retire signing key %q: %w", id, err)
	}
	if !ok {
		return notFound(signingKeyKind, id)
	}
	return nil
}

// deactivateSigningKeys marks every key of use inactive.
func deactivateSigningKeys(ctx context.Context, c conn, use string) error {
	if _, err := c.exec(ctx, "UPDATE signing_keys SET active = ? WHERE key_use = ? AND active = ?", false, use, true); err != nil {
		return fmt.Errorf("deactivate signing keys of use %q: %w", use, err)
	}
	return nil
}

// insertSigningKey inserts k, returning ECONFLICT if its id exists.
func insertSigningKey(ctx context.Context, c conn, k *behalf.SigningKey) error {
	_, err := c.exec(ctx, "INSERT INTO signing_keys ("+signingKeyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		k.ID, k.Use, k.Algorithm, blob(k.Private), blob(k.PublicJWK), k.Active, micros(k.CreatedAt), micros(k.RetireAt))
	if err != nil {
		return c.conflict(err, fmt.Sprintf("insert signing key %q", k.ID), signingKeyKind, k.ID)
	}
	return nil
}

// listSigningKeys returns the keys of use by creation time, then id.
func listSigningKeys(ctx context.Context, c conn, use string) ([]*behalf.SigningKey, error) {
	ks, err := queryAll(ctx, c, scanSigningKey,
		"SELECT "+signingKeyColumns+" FROM signing_keys WHERE key_use = ? ORDER BY created_at, id", use)
	if err != nil {
		return nil, fmt.Errorf("list signing keys of use %q: %w", use, err)
	}
	return ks, nil
}

// scanSigningKey reads a row of signingKeyColumns.
func scanSigningKey(s scanner) (*behalf.SigningKey, error) {
	var (
		k               behalf.SigningKey
		private, public []byte
		created, retire int64
	)
	if err := s.Scan(&k.ID, &k.Use, &k.Algorithm, &private, &public, &k.Active, &created, &retire); err != nil {
		return nil, err
	}
	k.Private = fromBlob(private)
	k.PublicJWK = fromBlob(public)
	k.CreatedAt = fromMicros(created)
	k.RetireAt = fromMicros(retire)
	return &k, nil
}
