-- TOTP MFA (issue 14).
--
-- user_pools: MfaConfiguration (OFF, OPTIONAL, ON) and
-- SoftwareTokenMfaConfiguration.Enabled.
ALTER TABLE user_pools ADD COLUMN mfa_configuration TEXT NOT NULL DEFAULT 'OFF';
ALTER TABLE user_pools ADD COLUMN software_token_mfa BOOLEAN NOT NULL DEFAULT 0 CHECK (software_token_mfa IN (0, 1));

-- pool_users: the verified TOTP secret and one associated but not yet
-- verified, both sealed by the user-pool service (empty for none); the
-- user's MFA preference; and the last TOTP step a code was accepted for,
-- raised by one conditional UPDATE so that a code works once.
ALTER TABLE pool_users ADD COLUMN totp_secret BLOB NOT NULL DEFAULT x'';
ALTER TABLE pool_users ADD COLUMN totp_pending BLOB NOT NULL DEFAULT x'';
ALTER TABLE pool_users ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT 0 CHECK (totp_enabled IN (0, 1));
ALTER TABLE pool_users ADD COLUMN mfa_preferred TEXT NOT NULL DEFAULT '';
ALTER TABLE pool_users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
