package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/behalf-dev/behalf"
)

// kekVersionKind names key-encryption key versions in messages.
const kekVersionKind = "Key-encryption key version"

// kekVersionColumns are the kek_versions columns in scanKEKVersion's order.
const kekVersionColumns = "version, keeper, check_value, state, created_at, retired_at"

// CreateKEKVersion records v. If v.State is active, the active version
// becomes previous in the same transaction. It returns ECONFLICT if the
// version is recorded.
func (db *DB) CreateKEKVersion(ctx context.Context, v *behalf.KEKVersion) error {
	return db.inTx(ctx, func(c conn) error {
		if v.State == behalf.KEKActive {
			if _, err := c.exec(ctx, "UPDATE kek_versions SET state = ? WHERE state = ?", behalf.KEKPrevious, behalf.KEKActive); err != nil {
				return fmt.Errorf("demote active key-encryption key version: %w", err)
			}
		}
		_, err := c.exec(ctx, "INSERT INTO kek_versions ("+kekVersionColumns+") VALUES (?, ?, ?, ?, ?, ?)",
			v.Version, v.Keeper, blob(v.Check), v.State, micros(v.CreatedAt), micros(v.RetiredAt))
		if err != nil {
			return c.conflict(err, fmt.Sprintf("insert key-encryption key version %d", v.Version), kekVersionKind, strconv.Itoa(v.Version))
		}
		return nil
	})
}

// ListKEKVersions returns every recorded version, lowest first.
func (db *DB) ListKEKVersions(ctx context.Context) ([]*behalf.KEKVersion, error) {
	vs, err := queryAll(ctx, db.conn(), scanKEKVersion, "SELECT "+kekVersionColumns+" FROM kek_versions ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("list key-encryption key versions: %w", err)
	}
	return vs, nil
}

// RetireKEKVersion marks version retired at t, in one transaction with the
// checks that it is not active and that no data key is wrapped by it
// (ECONFLICT otherwise). It returns ENOTFOUND if the version is not
// recorded; a retired version is left as it is.
func (db *DB) RetireKEKVersion(ctx context.Context, version int, t time.Time) error {
	return db.inTx(ctx, func(c conn) error {
		var state string
		err := c.queryRow(ctx, "SELECT state FROM kek_versions WHERE version = ?"+c.lock(), version).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(kekVersionKind, strconv.Itoa(version))
		}
		if err != nil {
			return fmt.Errorf("select key-encryption key version %d: %w", version, err)
		}
		switch state {
		case behalf.KEKRetired:
			return nil
		case behalf.KEKActive:
			return behalf.Errorf(behalf.ECONFLICT, "Key-encryption key version %d is active; rotate to a new version first.", version)
		}
		var n int
		if err := c.queryRow(ctx, "SELECT COUNT(*) FROM data_keys WHERE kek_version = ?", version).Scan(&n); err != nil {
			return fmt.Errorf("count data keys of key-encryption key version %d: %w", version, err)
		}
		if n > 0 {
			return behalf.Errorf(behalf.ECONFLICT, "Key-encryption key version %d still wraps %d data key(s); finish the rotation first.", version, n)
		}
		if _, err := c.exec(ctx, "UPDATE kek_versions SET state = ?, retired_at = ? WHERE version = ?", behalf.KEKRetired, micros(t), version); err != nil {
			return fmt.Errorf("retire key-encryption key version %d: %w", version, err)
		}
		return nil
	})
}

// scanKEKVersion reads a row of kekVersionColumns.
func scanKEKVersion(s scanner) (*behalf.KEKVersion, error) {
	var (
		v                behalf.KEKVersion
		check            []byte
		created, retired int64
	)
	if err := s.Scan(&v.Version, &v.Keeper, &check, &v.State, &created, &retired); err != nil {
		return nil, err
	}
	v.Check = fromBlob(check)
	v.CreatedAt = fromMicros(created)
	v.RetiredAt = fromMicros(retired)
	return &v, nil
}
