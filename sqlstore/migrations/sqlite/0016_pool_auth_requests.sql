-- In-flight hosted-login requests of user pools. code_hash is NULL until a
-- code is issued: UNIQUE allows any number of NULLs, so only issued codes
-- must be distinct.
CREATE TABLE pool_auth_requests (
	id         TEXT NOT NULL PRIMARY KEY,
	pool_id    TEXT NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
	code_hash  TEXT UNIQUE, -- hex SHA-256 of the authorization code
	data       BLOB NOT NULL, -- sealed
	expires_at BIGINT NOT NULL,
	created_at BIGINT NOT NULL
);

-- Serves the cascade from user_pools.
CREATE INDEX pool_auth_requests_pool ON pool_auth_requests (pool_id);
