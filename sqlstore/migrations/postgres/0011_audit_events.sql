-- Append-only audit log. Ids come from a sequence, so id order is the order
-- events were appended (up to transactions committing out of order).
CREATE TABLE audit_events (
	id          BIGSERIAL PRIMARY KEY,
	event_time  BIGINT NOT NULL,
	kind        TEXT COLLATE "C" NOT NULL,
	workload    TEXT COLLATE "C" NOT NULL,
	user_key    TEXT COLLATE "C" NOT NULL,
	provider_id TEXT COLLATE "C" NOT NULL,
	session_id  TEXT COLLATE "C" NOT NULL,
	actor       TEXT NOT NULL,
	detail      TEXT NOT NULL
);

CREATE INDEX audit_events_kind ON audit_events (kind, id);
