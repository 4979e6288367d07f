-- A workload identity's immutable id, new at every creation, and the
-- workload id a scoped access key is bound to. Deleting a workload deletes
-- its keys in the same statement (ON DELETE CASCADE; Open turns foreign
-- keys on), and a key made for a deleted workload never works for a later
-- workload of the same name, whose id differs.
ALTER TABLE workloads ADD COLUMN id TEXT NOT NULL DEFAULT '';
UPDATE workloads SET id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX workloads_id ON workloads (id);

-- NULL for root keys.
ALTER TABLE access_keys ADD COLUMN workload_id TEXT REFERENCES workloads (id) ON DELETE CASCADE;
UPDATE access_keys SET workload_id = (SELECT w.id FROM workloads w WHERE 'workload/' || w.name = access_keys.principal)
	WHERE substr(principal, 1, 9) = 'workload/';
-- Scoped keys that outlived their workload: before this migration they
-- worked again for any later workload of the same name.
DELETE FROM access_keys WHERE substr(principal, 1, 9) = 'workload/' AND workload_id IS NULL;
CREATE INDEX access_keys_workload_id ON access_keys (workload_id);
