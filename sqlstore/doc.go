// Package sqlstore implements behalf.Store on SQLite (modernc.org/sqlite,
// no cgo) and PostgreSQL (github.com/jackc/pgx/v5/stdlib).
//
// Open picks the backend from the data source name: a postgres:// or
// postgresql:// URL selects PostgreSQL; anything else is the path of a
// SQLite file. Both backends share every query; the small differences
// (placeholders, row locks, unique-violation codes, migration locking) live
// in a dialect value.
//
// Storage conventions, identical in both backends:
//
//   - times are BIGINT unix microseconds, read back as UTC time.Time values
//     truncated to the microsecond; durations (app client token
//     validities) are BIGINT microseconds, truncated likewise;
//   - tags, pool user attributes, lists and authorization-server metadata
//     are JSON text; empty maps and lists are read back as nil;
//   - sealed values are BLOB (SQLite) or BYTEA (PostgreSQL); empty sealed
//     values are read back as nil;
//   - names sort bytewise (COLLATE "C" on PostgreSQL, BINARY on SQLite), so
//     list pages are ordered alike on both, and compare exactly: pool
//     usernames are case-sensitive;
//   - an optional text key that must be unique when set (an auth request's
//     code hash) or that is only looked up when set (a pool user's email
//     and phone_number, copied from its attributes) is NULL when empty;
//   - the records of a user pool reference it with FOREIGN KEY … ON DELETE
//     CASCADE, so deleting the pool deletes them in the same statement
//     (SQLite enforces foreign keys because Open turns them on); creating
//     one in a missing pool is ENOTFOUND.
//   - a workload-scoped access key references its workload's immutable id
//     (workloads.id, new at every creation) with FOREIGN KEY … ON DELETE
//     CASCADE: deleting the workload deletes its keys, and a key is never
//     bound to a later workload of the same name.
//
// The schema is created by the numbered SQL files embedded from
// migrations/sqlite and migrations/postgres, applied in order at Open and
// recorded in the schema_migrations table. A new table goes in a new file
// with the next number, in both directories.
package sqlstore
