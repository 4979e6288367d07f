-- SigV4 access keys.
CREATE TABLE access_keys (
	id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	secret     BYTEA NOT NULL, -- sealed
	principal  TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE INDEX access_keys_principal ON access_keys (principal, id);
