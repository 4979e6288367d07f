-- MCP clients on user pools (issue 16): RFC 7591 registration and RFC 8707
-- resource indicators.
--
-- app_clients.dynamically_registered: the client registered itself at the
-- pool's registration endpoint; counted (per pool) against the cap on
-- such clients. Earlier releases never set it, and read clients without it.
ALTER TABLE app_clients ADD COLUMN dynamically_registered BOOLEAN NOT NULL DEFAULT false;

-- Serves CountRegisteredAppClients (one pool's registered clients).
CREATE INDEX app_clients_registered ON app_clients (pool_id) WHERE dynamically_registered;

-- pool_refresh_tokens.resources: the RFC 8707 resources the sign-in was
-- authorized for (JSON array of strings), the aud of its access tokens.
ALTER TABLE pool_refresh_tokens ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
