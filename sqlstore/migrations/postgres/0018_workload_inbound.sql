-- A workload's inbound identity provider, for Behalf's own binding page
-- (Behalf-specific). inbound_client_secret is sealed; empty for none.
ALTER TABLE workloads ADD COLUMN inbound_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE workloads ADD COLUMN inbound_client_id TEXT NOT NULL DEFAULT '';
ALTER TABLE workloads ADD COLUMN inbound_client_secret BYTEA NOT NULL DEFAULT '\x';
ALTER TABLE workloads ADD COLUMN bind_redirect_url TEXT NOT NULL DEFAULT '';
