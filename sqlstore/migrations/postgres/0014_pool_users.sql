-- Users of user pools, keyed by pool and username (compared exactly:
-- case-sensitive). email and phone_number copy the attributes of those
-- names (NULL when absent or empty), kept in sync on every write, so that
-- FindPoolUserByAttribute is an index read. They are not unique.
CREATE TABLE pool_users (
	pool_id             TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
	username            TEXT COLLATE "C" NOT NULL,
	sub                 TEXT COLLATE "C" NOT NULL,
	attributes          TEXT NOT NULL, -- JSON object
	email               TEXT COLLATE "C",
	phone_number        TEXT COLLATE "C",
	group_names         TEXT NOT NULL, -- JSON array of strings
	password_hash       TEXT NOT NULL,
	status              TEXT NOT NULL,
	enabled             BOOLEAN NOT NULL,
	password_changed_at BIGINT NOT NULL,
	failed_attempts     BIGINT NOT NULL,
	locked_until        BIGINT NOT NULL,
	tokens_valid_after  BIGINT NOT NULL,
	created_at          BIGINT NOT NULL,
	updated_at          BIGINT NOT NULL,
	PRIMARY KEY (pool_id, username)
);

CREATE UNIQUE INDEX pool_users_sub ON pool_users (pool_id, sub);
CREATE INDEX pool_users_email ON pool_users (pool_id, email);
CREATE INDEX pool_users_phone_number ON pool_users (pool_id, phone_number);
