-- Gateways: MCP endpoints in front of targets, reached by id (ARNs, the MCP
-- URL) or name. workload names the workload identity created with the
-- gateway (named after its id) and deleted with it.
CREATE TABLE gateways (
	id              TEXT NOT NULL PRIMARY KEY,
	name            TEXT NOT NULL UNIQUE,
	description     TEXT NOT NULL,
	role_arn        TEXT NOT NULL,
	protocol_type   TEXT NOT NULL,
	authorizer_type TEXT NOT NULL,
	authorizer      TEXT NOT NULL, -- JSON JWT authorizer, or null
	instructions    TEXT NOT NULL,
	exception_level TEXT NOT NULL,
	workload        TEXT NOT NULL,
	tags            TEXT NOT NULL, -- JSON object
	status          TEXT NOT NULL,
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL
);
