-- Cognito-compatible user pools. Deleting a pool deletes everything in it:
-- app_clients, pool_users, pool_refresh_tokens and pool_auth_requests
-- reference user_pools (id) ON DELETE CASCADE.
CREATE TABLE user_pools (
	id                               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name                             TEXT NOT NULL,
	-- PasswordPolicy, one column per field.
	password_minimum_length          BIGINT NOT NULL,
	password_require_uppercase       BOOLEAN NOT NULL,
	password_require_lowercase       BOOLEAN NOT NULL,
	password_require_numbers         BOOLEAN NOT NULL,
	password_require_symbols         BOOLEAN NOT NULL,
	temporary_password_validity_days BIGINT NOT NULL,
	username_attributes              TEXT NOT NULL, -- JSON array of strings
	domain                           TEXT COLLATE "C" NOT NULL, -- "" when none
	tags                             TEXT NOT NULL, -- JSON object
	created_at                       BIGINT NOT NULL,
	updated_at                       BIGINT NOT NULL
);
