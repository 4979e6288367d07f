-- Token-vault settings.
CREATE TABLE token_vaults (
	id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	key_type    TEXT NOT NULL,
	kms_key_arn TEXT NOT NULL,
	updated_at  BIGINT NOT NULL
);
