-- The end of a grant's refresh lease that ran out without being released
-- (its refresher died mid-refresh, or overran the lease), recorded by the
-- claim that took it over and cleared by the next completed refresh; a
-- zero time (none) is the unix microseconds of time.Time{}, like every
-- other zero time. A refresh the provider refuses after such a lease may
-- have used a refresh token the provider had already rotated.
ALTER TABLE grants ADD COLUMN interrupted_lease BIGINT NOT NULL DEFAULT -62135596800000000;
