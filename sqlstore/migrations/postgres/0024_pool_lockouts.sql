-- Sign-in lockout of user pools (userpool/lockout.go): one record per name
-- signed in with and failed, whether or not a user has that name, so that
-- being locked out tells nothing about which names exist, and kept here so
-- that it survives restarts and is shared by replicas. name_hash is the
-- hex SHA-256 the user pool service computes over the pool id and the name;
-- no name is stored. A success deletes the record, and records whose lock
-- ended more than the reset window ago are swept (locked_until index).
--
-- This replaces pool_users.failed_attempts and locked_until, which are no
-- longer read or updated; new users get 0 and the zero time there. They
-- stay so that replicas of the previous release keep working during a
-- rolling upgrade (docs/operations.md, Upgrades). Locks in force when this
-- runs are not carried over: the new key is a hash SQLite cannot compute,
-- and a lock lasts at most 15 minutes.
CREATE TABLE pool_lockouts (
	pool_id      TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
	name_hash    TEXT COLLATE "C" NOT NULL,
	failures     BIGINT NOT NULL,
	locked_until BIGINT NOT NULL,
	PRIMARY KEY (pool_id, name_hash)
);

CREATE INDEX pool_lockouts_locked_until ON pool_lockouts (locked_until);
