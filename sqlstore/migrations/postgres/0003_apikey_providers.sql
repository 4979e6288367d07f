-- API-key credential providers.
CREATE TABLE apikey_providers (
	id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name       TEXT COLLATE "C" NOT NULL UNIQUE,
	api_key    BYTEA NOT NULL, -- sealed
	tags       TEXT NOT NULL, -- JSON object
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
