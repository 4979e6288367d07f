-- SigV4 access keys.
CREATE TABLE access_keys (
	id         TEXT NOT NULL PRIMARY KEY,
	secret     BLOB NOT NULL, -- sealed
	principal  TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE INDEX access_keys_principal ON access_keys (principal, id);
