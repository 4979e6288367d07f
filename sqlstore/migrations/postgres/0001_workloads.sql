-- Workload identities. Times are unix microseconds; lists and maps are JSON.
-- Keys sort bytewise (COLLATE "C"), as in SQLite.
CREATE TABLE workloads (
	name                TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	allowed_return_urls TEXT NOT NULL, -- JSON array of strings
	tags                TEXT NOT NULL, -- JSON object
	created_at          BIGINT NOT NULL,
	updated_at          BIGINT NOT NULL
);
