-- Groups of user pools (Cognito's GroupType) and their members. A user's
-- group names are the cognito:groups claim of the tokens issued to them
-- from then on. Memberships go with their group and with their user (both
-- foreign keys cascade); group names are unique within a pool and compared
-- exactly. precedence is NULL when the group has none; role_arn is '' when
-- it has no role.
--
-- pool_users.group_names (migration 0014) is no longer read; new users get
-- '[]' there, which is all any release ever wrote in it, and it stays for
-- the previous release's replicas during a rolling upgrade.
CREATE TABLE pool_groups (
	pool_id     TEXT COLLATE "C" NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
	name        TEXT COLLATE "C" NOT NULL,
	description TEXT NOT NULL,
	precedence  BIGINT,
	role_arn    TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	-- Serves ListGroups (one pool, by name) and the cascade from user_pools.
	PRIMARY KEY (pool_id, name)
);

CREATE TABLE pool_group_members (
	pool_id    TEXT COLLATE "C" NOT NULL,
	group_name TEXT COLLATE "C" NOT NULL,
	username   TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	-- Serves ListUsersInGroup (by username) and the cascade from pool_groups.
	PRIMARY KEY (pool_id, group_name, username),
	FOREIGN KEY (pool_id, group_name) REFERENCES pool_groups (pool_id, name) ON DELETE CASCADE,
	FOREIGN KEY (pool_id, username) REFERENCES pool_users (pool_id, username) ON DELETE CASCADE
);

-- Serves AdminListGroupsForUser, the groups of a token (by name) and the
-- cascade from pool_users.
CREATE INDEX pool_group_members_user ON pool_group_members (pool_id, username, group_name);

-- ListUsers filters (sqlstore/usersearch.go): each searchable attribute has
-- an index on (pool, sort key, username), the key being the expression the
-- queries filter and order by, so that an exact or prefix ("starts with")
-- search reads an index range in the order it answers in. Case-insensitive
-- keys are lower() under the "C" collation, which folds ASCII letters only,
-- as SQLite's lower() does. username is the primary key and sub has its
-- unique index.
--
-- The attributes other than email and phone_number are read from the
-- attributes JSON, which jsonb cannot hold a NUL (\u0000) of. Behalf now
-- refuses NUL in attribute values; the few a previous release may have
-- stored become U+FFFD here, so that the indexes below can be built.
UPDATE pool_users SET attributes = regexp_replace(attributes, '(?<!\\)((?:\\\\)*)\\u0000', '\1\\ufffd', 'g')
	WHERE attributes ~ '(?<!\\)(?:\\\\)*\\u0000';

CREATE INDEX pool_users_search_email ON pool_users (pool_id, lower(email), username);
CREATE INDEX pool_users_search_phone_number ON pool_users (pool_id, lower(phone_number), username);
CREATE INDEX pool_users_search_name ON pool_users (pool_id, lower((attributes::jsonb ->> 'name') COLLATE "C"), username);
CREATE INDEX pool_users_search_given_name ON pool_users (pool_id, lower((attributes::jsonb ->> 'given_name') COLLATE "C"), username);
CREATE INDEX pool_users_search_family_name ON pool_users (pool_id, lower((attributes::jsonb ->> 'family_name') COLLATE "C"), username);
CREATE INDEX pool_users_search_preferred_username ON pool_users (pool_id, lower((attributes::jsonb ->> 'preferred_username') COLLATE "C"), username);
CREATE INDEX pool_users_search_user_status ON pool_users (pool_id, status, username);
CREATE INDEX pool_users_search_status ON pool_users (pool_id, enabled, username);
