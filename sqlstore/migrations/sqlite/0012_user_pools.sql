-- Cognito-compatible user pools. Deleting a pool deletes everything in it:
-- app_clients, pool_users, pool_refresh_tokens and pool_auth_requests
-- reference user_pools (id) ON DELETE CASCADE, which SQLite enforces
-- because Open turns foreign_keys on for every connection.
CREATE TABLE user_pools (
	id                               TEXT NOT NULL PRIMARY KEY,
	name                             TEXT NOT NULL,
	-- PasswordPolicy, one column per field.
	password_minimum_length          BIGINT NOT NULL,
	password_require_uppercase       BOOLEAN NOT NULL CHECK (password_require_uppercase IN (0, 1)),
	password_require_lowercase       BOOLEAN NOT NULL CHECK (password_require_lowercase IN (0, 1)),
	password_require_numbers         BOOLEAN NOT NULL CHECK (password_require_numbers IN (0, 1)),
	password_require_symbols         BOOLEAN NOT NULL CHECK (password_require_symbols IN (0, 1)),
	temporary_password_validity_days BIGINT NOT NULL,
	username_attributes              TEXT NOT NULL, -- JSON array of strings
	domain                           TEXT NOT NULL, -- "" when none
	tags                             TEXT NOT NULL, -- JSON object
	created_at                       BIGINT NOT NULL,
	updated_at                       BIGINT NOT NULL
);
