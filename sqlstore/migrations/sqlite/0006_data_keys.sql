-- Wrapped data-encryption keys; at most one is active.
CREATE TABLE data_keys (
	id          TEXT NOT NULL PRIMARY KEY,
	wrapped     BLOB NOT NULL,
	kek_version BIGINT NOT NULL,
	active      BOOLEAN NOT NULL CHECK (active IN (0, 1)),
	created_at  BIGINT NOT NULL
);

CREATE UNIQUE INDEX data_keys_one_active ON data_keys (active) WHERE active;
CREATE INDEX data_keys_created ON data_keys (created_at, id);
