-- Workload identities. Times are unix microseconds; lists and maps are JSON.
CREATE TABLE workloads (
	name                TEXT NOT NULL PRIMARY KEY,
	allowed_return_urls TEXT NOT NULL, -- JSON array of strings
	tags                TEXT NOT NULL, -- JSON object
	created_at          BIGINT NOT NULL,
	updated_at          BIGINT NOT NULL
);
