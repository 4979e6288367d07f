-- Token-signing keys; at most one is active per use.
CREATE TABLE signing_keys (
	id         TEXT COLLATE "C" NOT NULL PRIMARY KEY, -- the JWK kid
	key_use    TEXT COLLATE "C" NOT NULL,
	algorithm  TEXT NOT NULL,
	private    BYTEA NOT NULL, -- sealed
	public_jwk BYTEA NOT NULL,
	active     BOOLEAN NOT NULL,
	created_at BIGINT NOT NULL,
	retire_at  BIGINT NOT NULL
);

CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (key_use) WHERE active;
CREATE INDEX signing_keys_use_created ON signing_keys (key_use, created_at, id);
