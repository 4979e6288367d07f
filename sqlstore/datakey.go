package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/behalf-dev/behalf"
)

// dataKeyKind names data keys in messages.
const dataKeyKind = "Data key"

// dataKeyColumns are the data_keys columns in scanDataKey's order.
const dataKeyColumns = "id, wrapped, kek_version, active, created_at"

// CreateDataKey inserts k. If k.Active, every other key becomes inactive in
// the same transaction. It returns ECONFLICT if the id exists.
func (db *DB) CreateDataKey(ctx context.Context, k *behalf.DataKey) error {
	return db.inTx(ctx, func(c conn) error {
		if k.Active {
			if err := deactivateDataKeys(ctx, c); err != nil {
				return err
			}
		}
		return insertDataKey(ctx, c, k)
	})
}

// GetDataKey returns the data key with the given id, or ENOTFOUND.
func (db *DB) GetDataKey(ctx context.Context, id string) (*behalf.DataKey, error) {
	return findDataKey(ctx, db.conn(), id)
}

// ActiveDataKey returns the active data key, or ENOTFOUND if there is none.
func (db *DB) ActiveDataKey(ctx context.Context) (*behalf.DataKey, error) {
	return findActiveDataKey(ctx, db.conn())
}

// ListDataKeys returns every data key, oldest first (ties by id).
func (db *DB) ListDataKeys(ctx context.Context) ([]*behalf.DataKey, error) {
	return listDataKeys(ctx, db.conn())
}

// UpdateDataKey replaces the Wrapped and KEKVersion of key k.ID; its other
// fields are ignored. It returns ENOTFOUND if there is no such key.
func (db *DB) UpdateDataKey(ctx context.Context, k *behalf.DataKey) error {
	return rewrapDataKey(ctx, db.conn(), k)
}

// deactivateDataKeys marks every data key inactive.
func deactivateDataKeys(ctx context.Context, c conn) error {
	if _, err := c.exec(ctx, "UPDATE data_keys SET active = ? WHERE active = ?", false, true); err != nil {
		return fmt.Errorf("deactivate data keys: %w", err)
	}
	return nil
}

// insertDataKey inserts k, returning ECONFLICT if its id exists.
func insertDataKey(ctx context.Context, c conn, k *behalf.DataKey) error {
	_, err := c.exec(ctx, "INSERT INTO data_keys ("+dataKeyColumns+") VALUES (?, ?, ?, ?, ?)",
		k.ID, blob(k.Wrapped), k.KEKVersion, k.Active, micros(k.CreatedAt))
	if err != nil {
		return c.conflict(err, fmt.Sprintf("insert data key %q", k.ID), dataKeyKind, k.ID)
	}
	return nil
}

// findDataKey reads the data key with the given id, or returns ENOTFOUND.
func findDataKey(ctx context.Context, c conn, id string) (*behalf.DataKey, error) {
	row := c.queryRow(ctx, "SELECT "+dataKeyColumns+" FROM data_keys WHERE id = ?"+c.lock(), id)
	k, err := scanDataKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(dataKeyKind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("select data key %q: %w", id, err)
	}
	return k, nil
}

// findActiveDataKey reads the active data key, or returns ENOTFOUND.
func findActiveDataKey(ctx context.Context, c conn) (*behalf.DataKey, error) {
	row := c.queryRow(ctx, "SELECT "+dataKeyColumns+" FROM data_keys WHERE active = ?"+c.lock(), true)
	k, err := scanDataKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "No active data key found.")
	}
	if err != nil {
		return nil, fmt.Errorf("select active data key: %w", err)
	}
	return k, nil
}

// listDataKeys returns every data key by creation time, then id.
func listDataKeys(ctx context.Context, c conn) ([]*behalf.DataKey, error) {
	ks, err := queryAll(ctx, c, scanDataKey, "SELECT "+dataKeyColumns+" FROM data_keys ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("list data keys: %w", err)
	}
	return ks, nil
}

// rewrapDataKey writes k's Wrapped and KEKVersion, or returns ENOTFOUND.
func rewrapDataKey(ctx context.Context, c conn, k *behalf.DataKey) error {
	res, err := c.exec(ctx, "UPDATE data_keys SET wrapped = ?, kek_version = ? WHERE id = ?",
		blob(k.Wrapped), k.KEKVersion, k.ID)
	if err != nil {
		return fmt.Errorf("update data key %q: %w", k.ID, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("update data key %q: %w", k.ID, err)
	}
	if !ok {
		return notFound(dataKeyKind, k.ID)
	}
	return nil
}

// scanDataKey reads a row of dataKeyColumns.
func scanDataKey(s scanner) (*behalf.DataKey, error) {
	var (
		k       behalf.DataKey
		wrapped []byte
		created int64
	)
	if err := s.Scan(&k.ID, &wrapped, &k.KEKVersion, &k.Active, &created); err != nil {
		return nil, err
	}
	k.Wrapped = fromBlob(wrapped)
	k.CreatedAt = fromMicros(created)
	return &k, nil
}
