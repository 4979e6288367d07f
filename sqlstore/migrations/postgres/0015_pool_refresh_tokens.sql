-- Refresh tokens issued by user pools, keyed by the hex SHA-256 of the
-- opaque token. Revocation only sets revoked; rows go with their pool.
CREATE TABLE pool_refresh_tokens (
	hash       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	pool_id    TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
	client_id  TEXT COLLATE "C" NOT NULL,
	username   TEXT COLLATE "C" NOT NULL,
	origin_jti TEXT COLLATE "C" NOT NULL,
	scopes     TEXT NOT NULL, -- JSON array of strings
	auth_time  BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked    BOOLEAN NOT NULL,
	created_at BIGINT NOT NULL
);

-- Serves RevokePoolRefreshTokens (one user, all clients or one) and the
-- cascade from user_pools.
CREATE INDEX pool_refresh_tokens_user ON pool_refresh_tokens (pool_id, username, client_id);
-- Serves the revocation of a deleted app client's tokens.
CREATE INDEX pool_refresh_tokens_client ON pool_refresh_tokens (client_id);
