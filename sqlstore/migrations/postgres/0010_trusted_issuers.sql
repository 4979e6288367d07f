-- Trusted external OpenID issuers, keyed by the exact iss claim.
CREATE TABLE trusted_issuers (
	issuer        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	discovery_url TEXT NOT NULL,
	jwks_uri      TEXT NOT NULL,
	audiences     TEXT NOT NULL, -- JSON array of strings
	created_at    BIGINT NOT NULL
);
