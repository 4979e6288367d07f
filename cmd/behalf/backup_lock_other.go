//go:build !unix

package main

// lockDatabase does nothing where flock(2) is missing: stop the server
// before behalf restore (docs/operations.md).
func lockDatabase(dsn string, exclusive bool) (func(), error) {
	return func() {}, nil
}
