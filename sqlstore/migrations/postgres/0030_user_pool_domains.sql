-- Domains of user pools (Cognito's DomainDescriptionType): a prefix domain
-- (served at {prefix}.{the operator's suffix}) or a custom domain (a name
-- the operator allows), under which the pool's hosted login is served.
-- Names are unique across pools; a pool has at most one of each kind.
CREATE TABLE user_pool_domains (
	domain                TEXT COLLATE "C" NOT NULL PRIMARY KEY, -- lower case
	pool_id               TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
	custom                BOOLEAN NOT NULL,
	certificate_arn       TEXT NOT NULL, -- "" for a prefix domain
	managed_login_version BIGINT NOT NULL,
	created_at            BIGINT NOT NULL,
	updated_at            BIGINT NOT NULL,
	-- One domain of each kind per pool; serves ListUserPoolDomains and the
	-- cascade from user_pools.
	UNIQUE (pool_id, custom)
);
