-- OAuth 2.0 credential providers, reached by name (API) or id (callbacks).
CREATE TABLE oauth2_providers (
	id                 TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name               TEXT COLLATE "C" NOT NULL UNIQUE,
	vendor             TEXT NOT NULL,
	client_id          TEXT NOT NULL,
	client_secret      BYTEA NOT NULL, -- sealed
	tenant_id          TEXT NOT NULL,
	discovery_url      TEXT NOT NULL,
	metadata           TEXT NOT NULL, -- JSON authorization server metadata
	client_auth_method TEXT NOT NULL,
	tags               TEXT NOT NULL, -- JSON object
	created_at         BIGINT NOT NULL,
	updated_at         BIGINT NOT NULL
);
