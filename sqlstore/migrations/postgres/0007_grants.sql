-- Grants: one user's sealed third-party token per workload and provider.
-- A zero time (no expiry, no lease) is stored like every other time: the
-- unix microseconds of time.Time{}, a large negative number, so an empty
-- refresh lease is always "<= now".
CREATE TABLE grants (
	id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	workload      TEXT COLLATE "C" NOT NULL,
	user_key      TEXT COLLATE "C" NOT NULL,
	provider_id   TEXT COLLATE "C" NOT NULL,
	scopes        TEXT NOT NULL, -- JSON array of strings
	token         BYTEA NOT NULL, -- sealed TokenSet
	expires_at    BIGINT NOT NULL,
	has_refresh   BOOLEAN NOT NULL,
	refresh_lease BIGINT NOT NULL,
	version       BIGINT NOT NULL,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL,
	refreshed_at  BIGINT NOT NULL
);

-- One grant per user × workload × provider. The index serves GetGrant (all
-- three equal) and ListGrants of one user (ordered by workload, provider).
CREATE UNIQUE INDEX grants_user_workload_provider ON grants (user_key, workload, provider_id);
