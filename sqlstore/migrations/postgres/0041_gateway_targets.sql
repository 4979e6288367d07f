-- Gateway targets: a gateway's tool sources (an inline OpenAPI document or
-- an MCP server's URL) and their outbound credentials. Deleted only
-- one by one: a gateway with targets cannot be deleted.
CREATE TABLE gateway_targets (
	gateway_id  TEXT COLLATE "C" NOT NULL REFERENCES gateways (id),
	id          TEXT COLLATE "C" NOT NULL,
	name        TEXT COLLATE "C" NOT NULL,
	description TEXT NOT NULL,
	kind        TEXT NOT NULL,
	openapi     TEXT NOT NULL,
	endpoint    TEXT NOT NULL,
	credentials TEXT NOT NULL, -- JSON array of credential configurations
	status      TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (gateway_id, id),
	UNIQUE (gateway_id, name)
);
