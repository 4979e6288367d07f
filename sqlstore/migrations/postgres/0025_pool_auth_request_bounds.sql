-- The address an auth request came from (the per-IP rate limit's key: an
-- IPv4 address or an IPv6 /64; '' when not counted per address), so that
-- the hosted login can bound the unexpired requests of each address and of
-- all (CountPoolAuthRequests): both counts are index range scans, as is the
-- sweep of expired requests, which scanned the table.
ALTER TABLE pool_auth_requests ADD COLUMN client_ip TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX pool_auth_requests_client_ip ON pool_auth_requests (client_ip, expires_at);
CREATE INDEX pool_auth_requests_expires_at ON pool_auth_requests (expires_at);
