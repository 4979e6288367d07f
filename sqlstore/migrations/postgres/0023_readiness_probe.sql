-- The one row the readiness probe writes (sqlstore.DB.Ready, behind
-- /readyz): a database that answers reads but takes no writes (a full
-- disk, a read-only file system or server, a write lock held elsewhere) is
-- not ready.
CREATE TABLE readiness_probe (
	id        SMALLINT NOT NULL PRIMARY KEY,
	probed_at BIGINT NOT NULL
);
