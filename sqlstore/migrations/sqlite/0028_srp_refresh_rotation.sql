-- USER_SRP_AUTH and refresh-token rotation (issue 14).
--
-- pool_users.srp_verifier: the user's SRP salt and verifier, sealed by the
-- user-pool service, written beside password_hash whenever a password is
-- set; empty for passwords set before this migration (those users get one
-- at their next password sign-in). Previous releases never write it, and
-- a verifier made for another password_hash is ignored, so rolling
-- upgrades are safe.
ALTER TABLE pool_users ADD COLUMN srp_verifier BLOB NOT NULL DEFAULT x'';

-- app_clients: RefreshTokenRotation (Feature ENABLED, and its
-- RetryGracePeriodSeconds in microseconds).
ALTER TABLE app_clients ADD COLUMN rotate_refresh_tokens BOOLEAN NOT NULL DEFAULT 0 CHECK (rotate_refresh_tokens IN (0, 1));
ALTER TABLE app_clients ADD COLUMN refresh_retry_grace BIGINT NOT NULL DEFAULT 0;

-- pool_refresh_tokens.rotated_at: when rotation first replaced the token
-- (microseconds; 0 for never).
ALTER TABLE pool_refresh_tokens ADD COLUMN rotated_at BIGINT NOT NULL DEFAULT 0;

-- Single-use values of user pools (the SRP SECRET_BLOCK of a completed
-- sign-in): a row says the nonce is spent until expires_at; expired rows
-- are swept.
CREATE TABLE pool_nonces (
	pool_id    TEXT NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
	nonce      TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (pool_id, nonce)
);
CREATE INDEX pool_nonces_expires_at ON pool_nonces (expires_at);

-- Per-pool secrets of the user-pool service, sealed: the key that derives
-- the SALT and USER_ID_FOR_SRP of simulated SRP challenges for names that
-- are no user's, so that they are the same on every replica and restart.
CREATE TABLE pool_secrets (
	pool_id TEXT NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
	name    TEXT NOT NULL,
	sealed  BLOB NOT NULL,
	PRIMARY KEY (pool_id, name)
);
