-- When an agent last fetched each grant's token, as the data plane flushes
-- it (TouchGrants, about once a minute): a zero time (never used) is the
-- unix microseconds of time.Time{}, like every other zero time.
ALTER TABLE grants ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT -62135596800000000;
