package behalf

import (
	"context"
	"time"
)

// PoolGroup is a group of a user pool (Cognito's GroupType). The names of
// a user's groups are the cognito:groups claim of the user's tokens.
type PoolGroup struct {
	PoolID      string
	Name        string
	Description string
	// Precedence orders a user's groups, lowest first; nil (Cognito's null)
	// comes after every number.
	Precedence *int32
	RoleARN    string // "" when the group has no IAM role
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// PoolGroupStore persists the groups of user pools and their members. A
// membership goes with its group (DeletePoolGroup) and with its user
// (DeletePoolUser), in the same transaction.
type PoolGroupStore interface {
	// CreatePoolGroup returns ECONFLICT if the pool has a group with that
	// name, ENOTFOUND if there is no such pool.
	CreatePoolGroup(ctx context.Context, g *PoolGroup) error
	GetPoolGroup(ctx context.Context, poolID, name string) (*PoolGroup, error) // ENOTFOUND
	UpdatePoolGroup(ctx context.Context, poolID, name string, fn func(*PoolGroup) error) (*PoolGroup, error)
	// DeletePoolGroup deletes the group and its memberships (ENOTFOUND).
	DeletePoolGroup(ctx context.Context, poolID, name string) error
	ListPoolGroups(ctx context.Context, poolID string, opt ListOptions) ([]*PoolGroup, error) // by name
	// CountPoolGroups counts a pool's groups, stopping at limit when
	// limit > 0 so that its cost stays bounded by it.
	CountPoolGroups(ctx context.Context, poolID string, limit int) (int, error)

	// AddPoolGroupMember makes a user a member of a group; being one
	// already is not an error. In one transaction that locks the user, it
	// returns ENOTFOUND if there is no such user or group, and EFORBIDDEN
	// if maxGroups > 0 and the user is in that many groups already.
	AddPoolGroupMember(ctx context.Context, poolID, groupName, username string, maxGroups int, at time.Time) error
	// RemovePoolGroupMember ends a membership; there being none is not an
	// error.
	RemovePoolGroupMember(ctx context.Context, poolID, groupName, username string) error
	// ListPoolGroupMembers returns one page of a group's users, by
	// username. A group that does not exist has none.
	ListPoolGroupMembers(ctx context.Context, poolID, groupName string, opt ListOptions) ([]*PoolUser, error)
	// ListPoolUserGroups returns one page of a user's groups, by name. A
	// user who does not exist has none.
	ListPoolUserGroups(ctx context.Context, poolID, username string, opt ListOptions) ([]*PoolGroup, error)
}

// GroupInput defines a group (CreateGroup) or changes one (UpdateGroup):
// on update a nil member keeps the group's value, as in Cognito.
type GroupInput struct {
	PoolID      string
	Name        string
	Description *string
	// Precedence must be 0 to 2^31-1; it is int64 so that the service can
	// word an out-of-range value as Cognito does.
	Precedence *int64
	RoleARN    *string
}

// PoolGroupService is the group half of a UserPoolService. Errors are
// *CognitoError (or wrap one) except internal failures.
type PoolGroupService interface {
	// CreateGroup returns GroupExistsException for a name the pool has.
	CreateGroup(ctx context.Context, in GroupInput) (*PoolGroup, error)
	// GetGroup returns ResourceNotFoundException for an unknown group.
	GetGroup(ctx context.Context, poolID, name string) (*PoolGroup, error)
	// UpdateGroup changes the members of in that are not nil.
	UpdateGroup(ctx context.Context, in GroupInput) (*PoolGroup, error)
	// DeleteGroup deletes a group and its memberships.
	DeleteGroup(ctx context.Context, poolID, name string) error
	// ListGroups returns one page of a pool's groups, by name.
	ListGroups(ctx context.Context, poolID string, page PageRequest) ([]*PoolGroup, string, error)

	// AdminAddUserToGroup adds a user (named by username or sign-in alias)
	// to a group; a member already is left as is.
	AdminAddUserToGroup(ctx context.Context, poolID, username, group string) error
	// AdminRemoveUserFromGroup removes a user from a group.
	AdminRemoveUserFromGroup(ctx context.Context, poolID, username, group string) error
	// AdminListGroupsForUser returns one page of a user's groups, by name.
	AdminListGroupsForUser(ctx context.Context, poolID, username string, page PageRequest) ([]*PoolGroup, string, error)
	// ListUsersInGroup returns one page of a group's users, by username.
	ListUsersInGroup(ctx context.Context, poolID, group string, page PageRequest) ([]*PoolUser, string, error)
}
