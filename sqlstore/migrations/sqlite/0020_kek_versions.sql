-- Key-encryption key versions (behalf keys rotate): which versions exist,
-- which one wraps new data keys, and where each is kept (never the key).
-- check_value is a fixed value wrapped by the version, to recognise it.
CREATE TABLE kek_versions (
	version     BIGINT NOT NULL PRIMARY KEY,
	keeper      TEXT NOT NULL,
	check_value BLOB NOT NULL,
	state       TEXT NOT NULL CHECK (state IN ('active', 'previous', 'retired')),
	created_at  BIGINT NOT NULL,
	retired_at  BIGINT NOT NULL
);

CREATE UNIQUE INDEX kek_versions_one_active ON kek_versions (state) WHERE state = 'active';
CREATE INDEX data_keys_kek_version ON data_keys (kek_version);
