package userpool

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/behalf-dev/behalf"
)

// Lockout, as Cognito does it: after lockoutThreshold consecutive failed
// sign-ins the user is locked for 2^(n-5) seconds, at most maxLockout;
// attempts while locked are refused without checking the password and do
// not count; a success, or lockoutReset without attempts after the last
// failure's lock ends, starts over.
//
// Names that are no user are locked out alike, so that a lockout does not
// tell which names exist. The state of every name, user or not, is a
// store record (behalf.PoolLockout) under lockoutKey, so it survives
// restarts and every replica sees the same: one read before the password
// is checked, one atomic write (FailPoolLockout) per failure, and a delete
// on success when there is a record. A real user's wrong password and an
// unknown name cost the same: that read, one argon2id hash, that write.
const (
	lockoutThreshold = 5
	maxLockout       = 15 * time.Minute
	// lockoutReset is how long after a lock ends a name's failures are
	// forgotten. A record whose lock ended longer ago than that is stale:
	// the sweeper may delete it.
	lockoutReset = 15 * time.Minute
)

// lockoutPolicy is the lockout above, as the store applies it.
var lockoutPolicy = behalf.LockoutPolicy{
	Threshold: lockoutThreshold, Base: time.Second, Max: maxLockout, Reset: lockoutReset,
}

// lockoutKey is the store key of a name's lockout record: the hex SHA-256
// of a label, the pool id and the name, so that the store holds no names
// (users mistype passwords into the name field) and a pool's keys say
// nothing about another's. It is a plain hash, not a keyed one: Behalf has
// no server-wide secret to key it with (the key-encryption key may be a
// KMS key that only wraps and unwraps). Whoever reads the database can
// therefore test a guessed name, but not list the names tried; the users'
// names are in pool_users anyway. The name is a user's username when it
// names a user (by username or by sign-in alias), so the lockout is per
// user, else the name as given (names compare exactly).
func lockoutKey(poolID, name string) string {
	h := sha256.New()
	h.Write([]byte("behalf userpool lockout\x00"))
	h.Write([]byte(poolID))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return hex.EncodeToString(h.Sum(nil))
}

// lockout returns a name's lockout record, or nil if it has none.
func (s *Service) lockout(ctx context.Context, poolID, key string) (*behalf.PoolLockout, error) {
	l, err := s.Store.GetPoolLockout(ctx, poolID, key)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, internal("get lockout", err)
	}
	return l, nil
}

// locked reports whether a record refuses sign-ins at now.
func locked(l *behalf.PoolLockout, now time.Time) bool {
	return l != nil && now.Before(l.LockedUntil)
}

// recordFailure counts a failed attempt on a name. A pool deleted
// meanwhile (ENOTFOUND) has nothing to count.
func (s *Service) recordFailure(ctx context.Context, poolID, key string, now time.Time) error {
	_, err := s.Store.FailPoolLockout(ctx, poolID, key, now, lockoutPolicy)
	if err != nil && !isNotFound(err) {
		return internal("count a failed sign-in", err)
	}
	return nil
}

// resetLockout deletes a user's lockout record, if any.
func (s *Service) resetLockout(ctx context.Context, poolID, username string) error {
	if err := s.Store.DeletePoolLockout(ctx, poolID, lockoutKey(poolID, username)); err != nil {
		return internal("reset lockout", err)
	}
	return nil
}

// DeleteStaleLockouts deletes the lockout records, in every pool, whose
// lock ended more than lockoutReset + grace ago, and returns how many. A
// stale record counts for nothing, so this only bounds the table; grace
// allows for replicas' clocks that differ.
func (s *Service) DeleteStaleLockouts(ctx context.Context, grace time.Duration) (int, error) {
	n, err := s.Store.DeleteStalePoolLockouts(ctx, s.now().Add(-lockoutReset-grace))
	if err != nil {
		return 0, internal("delete stale lockouts", err)
	}
	return n, nil
}
