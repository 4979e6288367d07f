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
	pool_id     TEXT NOT NULL REFERENCES user_pools (id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	description TEXT NOT NULL,
	precedence  BIGINT,
	role_arn    TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	-- Serves ListGroups (one pool, by name) and the cascade from user_pools.
	PRIMARY KEY (pool_id, name)
);

CREATE TABLE pool_group_members (
	pool_id    TEXT NOT NULL,
	group_name TEXT NOT NULL,
	username   TEXT NOT NULL,
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
-- keys are lower(), which folds ASCII letters only, as PostgreSQL's does
-- under the "C" collation. username is the primary key and sub has its
-- unique index.
CREATE INDEX pool_users_search_email ON pool_users (pool_id, lower(email), username);
CREATE INDEX pool_users_search_phone_number ON pool_users (pool_id, lower(phone_number), username);
CREATE INDEX pool_users_search_name ON pool_users (pool_id, lower(json_extract(attributes, '$.name')), username);
CREATE INDEX pool_users_search_given_name ON pool_users (pool_id, lower(json_extract(attributes, '$.given_name')), username);
CREATE INDEX pool_users_search_family_name ON pool_users (pool_id, lower(json_extract(attributes, '$.family_name')), username);
CREATE INDEX pool_users_search_preferred_username ON pool_users (pool_id, lower(json_extract(attributes, '$.preferred_username')), username);
CREATE INDEX pool_users_search_user_status ON pool_users (pool_id, status, username);
CREATE INDEX pool_users_search_status ON pool_users (pool_id, enabled, username);
