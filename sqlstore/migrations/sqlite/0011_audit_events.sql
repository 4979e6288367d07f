-- Append-only audit log. AUTOINCREMENT: ids are never reused, so id order
-- is append order even after deletions.
CREATE TABLE audit_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	event_time  BIGINT NOT NULL,
	kind        TEXT NOT NULL,
	workload    TEXT NOT NULL,
	user_key    TEXT NOT NULL,
	provider_id TEXT NOT NULL,
	session_id  TEXT NOT NULL,
	actor       TEXT NOT NULL,
	detail      TEXT NOT NULL
);

CREATE INDEX audit_events_kind ON audit_events (kind, id);
