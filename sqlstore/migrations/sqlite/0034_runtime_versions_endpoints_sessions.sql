-- Every version of every agent runtime (issue 13): the runtime's
-- configuration as it was at that version, in agent_runtimes' columns
-- (name, workload, tags, status are the runtime's and read from there);
-- seq is the version as a number, for ordering. Existing runtimes keep
-- their current version as their first recorded one.
CREATE TABLE agent_runtime_versions (
	id                   TEXT NOT NULL,
	seq                  BIGINT NOT NULL,
	name                 TEXT NOT NULL,
	description          TEXT NOT NULL,
	container_uri        TEXT NOT NULL,
	protocol             TEXT NOT NULL,
	protocol_path        TEXT NOT NULL,
	role_arn             TEXT NOT NULL,
	authorizer           TEXT NOT NULL,
	header_allowlist     TEXT NOT NULL,
	workload             TEXT NOT NULL,
	callback_url         TEXT NOT NULL,
	environment          TEXT NOT NULL,
	idle_session_timeout BIGINT NOT NULL,
	max_lifetime         BIGINT NOT NULL,
	tags                 TEXT NOT NULL,
	status               TEXT NOT NULL,
	version              TEXT NOT NULL,
	created_at           BIGINT NOT NULL,
	updated_at           BIGINT NOT NULL,
	PRIMARY KEY (id, seq)
);
INSERT INTO agent_runtime_versions (id, seq, name, description, container_uri, protocol, protocol_path, role_arn,
	authorizer, header_allowlist, workload, callback_url, environment, idle_session_timeout, max_lifetime, tags,
	status, version, created_at, updated_at)
SELECT id, CAST(version AS BIGINT), name, description, container_uri, protocol, protocol_path, role_arn,
	authorizer, header_allowlist, workload, callback_url, environment, idle_session_timeout, max_lifetime, tags,
	status, version, created_at, updated_at FROM agent_runtimes;

-- Runtimes' named endpoints; DEFAULT is not stored (it serves the latest
-- version).
CREATE TABLE agent_runtime_endpoints (
	runtime_id  TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT NOT NULL,
	version     TEXT NOT NULL,
	tags        TEXT NOT NULL, -- JSON object
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (runtime_id, name)
);

-- Runtime sessions the invocation gateway has seen, written behind.
CREATE TABLE agent_runtime_sessions (
	runtime_id   TEXT NOT NULL,
	endpoint     TEXT NOT NULL,
	id           TEXT NOT NULL,
	version      TEXT NOT NULL,
	started_at   BIGINT NOT NULL,
	last_used_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	PRIMARY KEY (runtime_id, endpoint, id)
);
CREATE INDEX agent_runtime_sessions_expires ON agent_runtime_sessions (expires_at);
