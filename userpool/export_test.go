package userpool

// LockoutKey is lockoutKey, for the tests that read lockout records.
var LockoutKey = lockoutKey
