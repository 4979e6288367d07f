package userpool

import "context"

// LockoutKey is lockoutKey, for the tests that read lockout records.
var LockoutKey = lockoutKey

// HoldHashSlot takes one of s's hashing slots until release is called,
// as an argon2id computation in progress would.
func HoldHashSlot(ctx context.Context, s *Service) (release func(), err error) {
	if err := s.acquireHash(ctx); err != nil {
		return nil, err
	}
	return s.releaseHash, nil
}

// SetMaxGroupsPerPool lowers the groups-a-pool quota until the returned
// function restores it.
func SetMaxGroupsPerPool(n int) (restore func()) {
	old := maxGroupsPerPool
	maxGroupsPerPool = n
	return func() { maxGroupsPerPool = old }
}
