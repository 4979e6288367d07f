-- The main resource an administrative event acted on (a workload name,
-- provider name, runtime id, pool id, "poolId/username", access key id …),
-- so `behalf audit list --resource` finds it; "" for the vault's events,
-- which name theirs in workload, provider_id, session_id and user_key.
ALTER TABLE audit_events ADD COLUMN resource TEXT COLLATE "C" NOT NULL DEFAULT '';
