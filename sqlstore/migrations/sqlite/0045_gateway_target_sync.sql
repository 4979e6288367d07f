-- An MCP-server target's synchronization: why it is not READY (JSON
-- array), the user id it lists its tools as and the URL where an admin
-- consents for it (*_PENDING_AUTH), and when it was last listed (0: never).
ALTER TABLE gateway_targets ADD COLUMN status_reasons TEXT NOT NULL DEFAULT '[]';
ALTER TABLE gateway_targets ADD COLUMN auth_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE gateway_targets ADD COLUMN authorization_url TEXT NOT NULL DEFAULT '';
ALTER TABLE gateway_targets ADD COLUMN synced_at BIGINT NOT NULL DEFAULT 0;
