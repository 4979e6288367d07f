-- Token-signing keys; at most one is active per use.
CREATE TABLE signing_keys (
	id         TEXT NOT NULL PRIMARY KEY, -- the JWK kid
	key_use    TEXT NOT NULL,
	algorithm  TEXT NOT NULL,
	private    BLOB NOT NULL, -- sealed
	public_jwk BLOB NOT NULL,
	active     BOOLEAN NOT NULL CHECK (active IN (0, 1)),
	created_at BIGINT NOT NULL,
	retire_at  BIGINT NOT NULL
);

CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (key_use) WHERE active;
CREATE INDEX signing_keys_use_created ON signing_keys (key_use, created_at, id);
