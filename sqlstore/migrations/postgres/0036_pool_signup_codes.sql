-- Sign-up and password recovery (issue 14).
--
-- user_pools: AutoVerifiedAttributes (JSON array), AdminCreateUserConfig's
-- AllowAdminCreateUserOnly, and the VerificationMessageTemplate's messages
-- (JSON object {EmailSubject, EmailMessage, SMSMessage}; '{}' for
-- Cognito's defaults). Previous releases neither read nor write them.
ALTER TABLE user_pools ADD COLUMN auto_verified_attributes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE user_pools ADD COLUMN allow_admin_create_user_only BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE user_pools ADD COLUMN verification_message TEXT NOT NULL DEFAULT '{}';

-- The code a user was last sent for one purpose ('sign-up',
-- 'reset-password'): never the code, only the user-pool service's keyed
-- hash of it (HMAC under a sealed per-pool key), the wrong attempts made
-- against it, and how many codes were sent in the current window. A new
-- code replaces the row; a used one is deleted; expired rows are swept.
CREATE TABLE pool_codes (
	pool_id     TEXT COLLATE "C" NOT NULL,
	username    TEXT COLLATE "C" NOT NULL,
	purpose     TEXT COLLATE "C" NOT NULL,
	hash        TEXT COLLATE "C" NOT NULL,
	attribute   TEXT NOT NULL,
	attempts    BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL,
	sends       BIGINT NOT NULL,
	send_window BIGINT NOT NULL,
	created_at  BIGINT NOT NULL,
	PRIMARY KEY (pool_id, username, purpose),
	FOREIGN KEY (pool_id, username) REFERENCES pool_users (pool_id, username) ON DELETE CASCADE
);
CREATE INDEX pool_codes_expires_at ON pool_codes (expires_at);

-- The local outbox: code messages kept instead of sent (no SMTP server
-- configured, or SMS), for the administrator (behalf user codes). The
-- subject and body, which hold the code, are sealed.
CREATE TABLE pool_messages (
	id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	pool_id     TEXT COLLATE "C" NOT NULL,
	username    TEXT COLLATE "C" NOT NULL,
	purpose     TEXT COLLATE "C" NOT NULL,
	medium      TEXT NOT NULL,
	destination TEXT NOT NULL,
	sealed      BYTEA NOT NULL,
	expires_at  BIGINT NOT NULL,
	created_at  BIGINT NOT NULL,
	FOREIGN KEY (pool_id, username) REFERENCES pool_users (pool_id, username) ON DELETE CASCADE
);
CREATE INDEX pool_messages_user ON pool_messages (pool_id, username, created_at);
CREATE INDEX pool_messages_expires_at ON pool_messages (expires_at);
