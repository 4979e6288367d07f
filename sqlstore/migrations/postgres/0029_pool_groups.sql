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
