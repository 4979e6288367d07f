-- audit list reads events by time, newest first (QueryAudit).
CREATE INDEX audit_events_time ON audit_events (event_time, id);
