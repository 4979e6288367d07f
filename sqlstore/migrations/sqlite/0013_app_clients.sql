-- App clients of user pools. Client ids are unique across pools. Token
-- validities are BIGINT microseconds (time.Duration truncated to the
-- microsecond, like times).
CREATE TABLE app_clients (
	id                                   TEXT NOT NULL PRIMARY KEY,
	pool_id                              TEXT NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
	name                                 TEXT NOT NULL,
	secret                               BLOB NOT NULL, -- sealed; empty for a public client
	explicit_auth_flows                  TEXT NOT NULL, -- JSON array of strings
	allowed_oauth_flows                  TEXT NOT NULL, -- JSON array of strings
	allowed_oauth_scopes                 TEXT NOT NULL, -- JSON array of strings
	allowed_oauth_flows_user_pool_client BOOLEAN NOT NULL CHECK (allowed_oauth_flows_user_pool_client IN (0, 1)),
	callback_urls                        TEXT NOT NULL, -- JSON array of strings
	logout_urls                          TEXT NOT NULL, -- JSON array of strings
	supported_identity_providers         TEXT NOT NULL, -- JSON array of strings
	access_token_validity                BIGINT NOT NULL, -- microseconds
	id_token_validity                    BIGINT NOT NULL, -- microseconds
	refresh_token_validity               BIGINT NOT NULL, -- microseconds
	enable_token_revocation              BOOLEAN NOT NULL CHECK (enable_token_revocation IN (0, 1)),
	created_at                           BIGINT NOT NULL,
	updated_at                           BIGINT NOT NULL
);

-- Serves ListAppClients (one pool, by id) and the cascade from user_pools.
CREATE INDEX app_clients_pool ON app_clients (pool_id, id);
