-- OAuth 2.0 resource servers of user pools (Cognito's ResourceServerType):
-- each defines the custom scopes identifier/name that the pool's app
-- clients may be allowed. Identifiers are unique within a pool.
CREATE TABLE resource_servers (
	pool_id    TEXT NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
	identifier TEXT NOT NULL,
	name       TEXT NOT NULL,
	scopes     TEXT NOT NULL, -- JSON array of {"name", "description"}
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	-- Serves ListResourceServers (one pool, by identifier) and the cascade
	-- from user_pools.
	PRIMARY KEY (pool_id, identifier)
);
