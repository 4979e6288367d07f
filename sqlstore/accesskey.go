package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/behalf-dev/behalf"
)

// accessKeyKind names access keys in messages.
const accessKeyKind = "Access key"

// accessKeyColumns are the access_keys columns in scanAccessKey's order.
const accessKeyColumns = "id, secret, principal, workload_id, created_at"

// CreateAccessKey inserts k. It returns ECONFLICT if the id exists, and
// ENOTFOUND if k.WorkloadID is set but no workload identity has that id
// (access_keys.workload_id references workloads ON DELETE CASCADE, so the
// key is deleted with its workload).
func (db *DB) CreateAccessKey(ctx context.Context, k *behalf.AccessKey) error {
	return insertAccessKey(ctx, db.conn(), k)
}

// GetAccessKey returns the access key with the given id, or ENOTFOUND.
func (db *DB) GetAccessKey(ctx context.Context, id string) (*behalf.AccessKey, error) {
	return findAccessKey(ctx, db.conn(), id)
}

// ListAccessKeys returns the keys of principal ("" for every key),
// ordered by id.
func (db *DB) ListAccessKeys(ctx context.Context, principal string) ([]*behalf.AccessKey, error) {
	return listAccessKeys(ctx, db.conn(), principal)
}

// DeleteAccessKey deletes the access key with the given id, or returns
// ENOTFOUND.
func (db *DB) DeleteAccessKey(ctx context.Context, id string) error {
	return deleteAccessKey(ctx, db.conn(), id)
}

// insertAccessKey inserts k, returning ECONFLICT if its id exists and
// ENOTFOUND if its workload id does not.
func insertAccessKey(ctx context.Context, c conn, k *behalf.AccessKey) error {
	_, err := c.exec(ctx, "INSERT INTO access_keys ("+accessKeyColumns+") VALUES (?, ?, ?, ?, ?)",
		k.ID, blob(k.Secret), k.Principal, nullString(k.WorkloadID), micros(k.CreatedAt))
	if err != nil {
		if c.d.isForeignKeyViolation(err) {
			// The workload was deleted (and maybe created again, with
			// another id) since the caller read it.
			name, _ := k.Caller().Workload()
			return notFound(workloadKind, name)
		}
		return c.conflict(err, fmt.Sprintf("insert access key %q", k.ID), accessKeyKind, k.ID)
	}
	return nil
}

// findAccessKey reads the access key with the given id, or returns
// ENOTFOUND.
func findAccessKey(ctx context.Context, c conn, id string) (*behalf.AccessKey, error) {
	row := c.queryRow(ctx, "SELECT "+accessKeyColumns+" FROM access_keys WHERE id = ?"+c.lock(), id)
	k, err := scanAccessKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(accessKeyKind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("select access key %q: %w", id, err)
	}
	return k, nil
}

// listAccessKeys returns principal's keys ("" for all) by id.
func listAccessKeys(ctx context.Context, c conn, principal string) ([]*behalf.AccessKey, error) {
	query := "SELECT " + accessKeyColumns + " FROM access_keys"
	var args []any
	if principal != "" {
		query += " WHERE principal = ?"
		args = append(args, principal)
	}
	ks, err := queryAll(ctx, c, scanAccessKey, query+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	return ks, nil
}

// deleteAccessKey deletes the access key with the given id, or returns
// ENOTFOUND.
func deleteAccessKey(ctx context.Context, c conn, id string) error {
	res, err := c.exec(ctx, "DELETE FROM access_keys WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete access key %q: %w", id, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("delete access key %q: %w", id, err)
	}
	if !ok {
		return notFound(accessKeyKind, id)
	}
	return nil
}

// scanAccessKey reads a row of accessKeyColumns.
func scanAccessKey(s scanner) (*behalf.AccessKey, error) {
	var (
		k          behalf.AccessKey
		secret     []byte
		workloadID sql.NullString
		created    int64
	)
	if err := s.Scan(&k.ID, &secret, &k.Principal, &workloadID, &created); err != nil {
		return nil, err
	}
	k.WorkloadID = workloadID.String
	k.Secret = fromBlob(secret)
	k.CreatedAt = fromMicros(created)
	return &k, nil
}
