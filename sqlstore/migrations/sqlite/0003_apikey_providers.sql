-- API-key credential providers.
CREATE TABLE apikey_providers (
	id         TEXT NOT NULL PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	api_key    BLOB NOT NULL, -- sealed
	tags       TEXT NOT NULL, -- JSON object
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
