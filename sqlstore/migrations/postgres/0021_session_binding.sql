-- Session binding (issue 10). request_hash is SHA-256 of the authorization
-- URL's request_uri, a random single-use reference that is not the session
-- URI; browser_hash is SHA-256 of the key held, in a cookie, by the browser
-- that opened that URL; account names the provider account a pending token
-- and a grant belong to ("" when the provider gave no identity).
ALTER TABLE auth_sessions ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_sessions ADD COLUMN browser_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_sessions ADD COLUMN account TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX auth_sessions_request ON auth_sessions (request_hash) WHERE request_hash <> '';
CREATE INDEX auth_sessions_pending ON auth_sessions (status, expires_at);
ALTER TABLE grants ADD COLUMN account TEXT NOT NULL DEFAULT '';
