-- On-behalf-of token exchange and private_key_jwt (issue 13).
--
-- A provider's onBehalfOfTokenExchangeConfig and privateKeyJwtConfig, as
-- JSON objects; '' when not configured.
ALTER TABLE oauth2_providers ADD COLUMN on_behalf_of TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth2_providers ADD COLUMN private_key_jwt TEXT NOT NULL DEFAULT '';

-- The results of on-behalf-of exchanges are grants too, one per workload ×
-- user × provider × what was asked (exchange); consent grants have
-- exchange ''. The unique index takes the new column last, so it still
-- serves GetGrant (exchange = '') and ListGrants of one user.
ALTER TABLE grants ADD COLUMN exchange TEXT NOT NULL DEFAULT '';
DROP INDEX grants_user_workload_provider;
CREATE UNIQUE INDEX grants_user_workload_provider ON grants (user_key, workload, provider_id, exchange);

-- The user's JWT behind a workload access token minted from one, sealed,
-- keyed by the WAT's jti, until the WAT expires.
CREATE TABLE wat_subject_tokens (
	id         TEXT NOT NULL PRIMARY KEY,
	token      BLOB NOT NULL, -- sealed
	expires_at BIGINT NOT NULL
);
CREATE INDEX wat_subject_tokens_expires ON wat_subject_tokens (expires_at);
