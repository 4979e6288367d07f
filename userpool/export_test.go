package userpool

// LockoutKey is lockoutKey, for the tests that read lockout records.
var LockoutKey = lockoutKey

// SetMaxGroupsPerPool lowers the groups-a-pool quota until the returned
// function restores it.
func SetMaxGroupsPerPool(n int) (restore func()) {
	old := maxGroupsPerPool
	maxGroupsPerPool = n
	return func() { maxGroupsPerPool = old }
}
