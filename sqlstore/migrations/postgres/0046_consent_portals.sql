-- Consent portals: a gateway's page where users connect its
-- AUTHORIZATION_CODE targets. One portal per gateway.
CREATE TABLE consent_portals (
	id                 TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name               TEXT COLLATE "C" NOT NULL UNIQUE,
	description        TEXT NOT NULL,
	execution_role_arn TEXT NOT NULL,
	provider           TEXT COLLATE "C" NOT NULL,
	scopes             TEXT NOT NULL, -- JSON array
	audience           TEXT NOT NULL,
	gateway_id         TEXT COLLATE "C" NOT NULL UNIQUE,
	tags               TEXT NOT NULL, -- JSON object
	status             TEXT NOT NULL,
	created_at         BIGINT NOT NULL,
	updated_at         BIGINT NOT NULL
);
