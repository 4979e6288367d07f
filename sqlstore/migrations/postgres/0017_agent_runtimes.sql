-- Agent runtimes: already running agents Behalf fronts, reached by id
-- (ARNs, invocations) or name. workload names the workload identity created
-- with the runtime and deleted with it (no foreign key: the identity API
-- owns that table).
CREATE TABLE agent_runtimes (
	id                   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name                 TEXT COLLATE "C" NOT NULL UNIQUE,
	description          TEXT NOT NULL,
	container_uri        TEXT NOT NULL,
	protocol             TEXT NOT NULL,
	protocol_path        TEXT NOT NULL,
	role_arn             TEXT NOT NULL,
	authorizer           TEXT NOT NULL, -- JSON JWT authorizer, or null
	header_allowlist     TEXT NOT NULL, -- JSON array of strings
	workload             TEXT COLLATE "C" NOT NULL,
	callback_url         TEXT NOT NULL,
	environment          TEXT NOT NULL, -- JSON object
	idle_session_timeout BIGINT NOT NULL, -- seconds, 0 for the default
	max_lifetime         BIGINT NOT NULL, -- seconds, 0 for the default
	tags                 TEXT NOT NULL, -- JSON object
	status               TEXT NOT NULL,
	version              TEXT NOT NULL,
	created_at           BIGINT NOT NULL,
	updated_at           BIGINT NOT NULL
);
