package sqlstore

import "database/sql"

// SQLDB exposes db's connection pool to the external tests.
func SQLDB(db *DB) *sql.DB { return db.sql }
