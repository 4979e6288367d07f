-- Authorization sessions: one three-legged OAuth flow each.
CREATE TABLE auth_sessions (
	id             TEXT NOT NULL PRIMARY KEY,
	workload       TEXT NOT NULL,
	user_issuer    TEXT NOT NULL,
	user_subject   TEXT NOT NULL,
	provider_id    TEXT NOT NULL,
	scopes         TEXT NOT NULL, -- JSON array of strings
	return_url     TEXT NOT NULL,
	state_hash     TEXT NOT NULL UNIQUE, -- SHA-256 of the OAuth state
	secrets        BLOB NOT NULL, -- sealed SessionSecrets
	pending        BLOB NOT NULL, -- sealed TokenSet awaiting binding
	resources      TEXT NOT NULL, -- JSON array of strings
	audiences      TEXT NOT NULL, -- JSON array of strings
	status         TEXT NOT NULL,
	failure_reason TEXT NOT NULL,
	grant_id       TEXT NOT NULL,
	version        BIGINT NOT NULL,
	created_at     BIGINT NOT NULL,
	expires_at     BIGINT NOT NULL
);

CREATE INDEX auth_sessions_expires ON auth_sessions (expires_at);
