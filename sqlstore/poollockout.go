package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/behalf-dev/behalf"
)

// GetPoolLockout returns the lockout record of nameHash in pool poolID, or
// ENOTFOUND.
func (db *DB) GetPoolLockout(ctx context.Context, poolID, nameHash string) (*behalf.PoolLockout, error) {
	l := &behalf.PoolLockout{PoolID: poolID, NameHash: nameHash}
	var lockedUntil int64
	err := db.conn().queryRow(ctx, "SELECT failures, locked_until FROM pool_lockouts WHERE pool_id = ? AND name_hash = ?",
		poolID, nameHash).Scan(&l.Failures, &lockedUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "No lockout record.")
	}
	if err != nil {
		return nil, fmt.Errorf("select lockout of user pool %q: %w", poolID, err)
	}
	l.LockedUntil = fromMicros(lockedUntil)
	return l, nil
}

// lockoutNext is the failure count after one more failure, in the DO
// UPDATE of failPoolLockoutSQL: 1 if the record is stale (its lock ended
// at or before the one parameter, now − Reset), else one more.
const lockoutNext = `(CASE WHEN pool_lockouts.locked_until <= ? THEN 1 ELSE pool_lockouts.failures + 1 END)`

// failPoolLockoutSQL inserts a first failure, or counts one more on the
// existing record, in one statement. PostgreSQL evaluates the DO UPDATE on
// the latest version of the row, with the row locked, and SQLite runs one
// writer at a time, so concurrent failures all count. The lock is
// LockoutPolicy.LockAfter of the new count: none below the threshold, the
// maximum from threshold + doublings on, else Base << (n − threshold).
const failPoolLockoutSQL = `INSERT INTO pool_lockouts (pool_id, name_hash, failures, locked_until) VALUES (?, ?, 1, ?)
	ON CONFLICT (pool_id, name_hash) DO UPDATE SET
	failures = ` + lockoutNext + `,
	locked_until = CAST(? AS BIGINT) + CASE
		WHEN ` + lockoutNext + ` < ? THEN 0
		WHEN ` + lockoutNext + ` >= ? THEN CAST(? AS BIGINT)
		ELSE CAST(? AS BIGINT) << CAST(` + lockoutNext + ` - ? AS INTEGER) END
	RETURNING failures, locked_until`

// FailPoolLockout counts a failed sign-in of nameHash in pool poolID at
// now, under p, in one statement (behalf.UserPoolStore), and returns the
// record written. It returns ENOTFOUND if the pool does not exist.
func (db *DB) FailPoolLockout(ctx context.Context, poolID, nameHash string, now time.Time, p behalf.LockoutPolicy) (*behalf.PoolLockout, error) {
	if p.Threshold < 1 || p.Base <= 0 || p.Max < p.Base {
		return nil, behalf.Invalid("policy", "A lockout policy needs a threshold of at least 1 and 0 < Base <= Max.")
	}
	// doublings is the least d with Base << d >= Max: from there on, the
	// lock is Max (and the shift never overflows).
	doublings := 0
	for d := p.Base; d < p.Max; d *= 2 {
		doublings++
	}
	stale := micros(now.Add(-p.Reset))
	threshold := int64(p.Threshold)
	var (
		l           = &behalf.PoolLockout{PoolID: poolID, NameHash: nameHash}
		lockedUntil int64
	)
	err := db.conn().queryRow(ctx, failPoolLockoutSQL,
		poolID, nameHash, micros(now.Add(p.LockAfter(1))),
		stale,
		micros(now),
		stale, threshold,
		stale, threshold+int64(doublings), durationMicros(p.Max),
		durationMicros(p.Base), stale, threshold,
	).Scan(&l.Failures, &lockedUntil)
	if err != nil {
		if db.d.isForeignKeyViolation(err) {
			return nil, userPoolNotFound(poolID)
		}
		return nil, fmt.Errorf("count a failed sign-in in user pool %q: %w", poolID, err)
	}
	l.LockedUntil = fromMicros(lockedUntil)
	return l, nil
}

// DeletePoolLockout deletes the lockout record of nameHash in pool poolID,
// if there is one.
func (db *DB) DeletePoolLockout(ctx context.Context, poolID, nameHash string) error {
	_, err := db.conn().exec(ctx, "DELETE FROM pool_lockouts WHERE pool_id = ? AND name_hash = ?", poolID, nameHash)
	if err != nil {
		return fmt.Errorf("delete lockout of user pool %q: %w", poolID, err)
	}
	return nil
}

// DeleteStalePoolLockouts deletes the lockout records whose LockedUntil is
// before t, in every pool, and returns how many it deleted.
func (db *DB) DeleteStalePoolLockouts(ctx context.Context, t time.Time) (int, error) {
	res, err := db.conn().exec(ctx, "DELETE FROM pool_lockouts WHERE locked_until < ?", micros(t))
	if err != nil {
		return 0, fmt.Errorf("delete stale lockouts: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete stale lockouts: %w", err)
	}
	return int(n), nil
}
