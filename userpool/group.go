package userpool

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

// maxGroupsPerPool is Cognito's quota of groups a pool (a variable for
// the tests).
var maxGroupsPerPool = 10000

// Group limits (Cognito's).
const (
	maxGroupsPerUser     = 100 // a quota
	maxGroupName         = 128
	maxGroupDescription  = 2048
	minRoleARN           = 20
	maxRoleARN           = 2048
	maxGroupPage         = 60 // ListGroups', AdminListGroupsForUser's and ListUsersInGroup's Limit
	groupNamePatternText = `[\p{L}\p{M}\p{S}\p{N}\p{P}]+`
	roleARNPatternText   = `arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?`
)

var (
	groupNamePattern = regexp.MustCompile(`^` + groupNamePatternText + `$`)
	roleARNPattern   = regexp.MustCompile(`^` + roleARNPatternText + `$`)
)

// CreateGroup creates a group of a pool.
func (s *Service) CreateGroup(ctx context.Context, in behalf.GroupInput) (*behalf.PoolGroup, error) {
	if _, err := s.getPool(ctx, in.PoolID); err != nil {
		return nil, err
	}
	if err := validateGroup(in); err != nil {
		return nil, err
	}
	n, err := s.Store.CountPoolGroups(ctx, in.PoolID, maxGroupsPerPool)
	if err != nil {
		return nil, internal("count groups", err)
	}
	if n >= maxGroupsPerPool {
		return nil, cognito(behalf.CognitoLimitExceeded, "A user pool has at most %d groups.", maxGroupsPerPool)
	}
	now := s.now()
	g := &behalf.PoolGroup{PoolID: in.PoolID, Name: in.Name, CreatedAt: now, UpdatedAt: now}
	applyGroup(g, in)
	err = s.Store.CreatePoolGroup(ctx, g)
	switch {
	case isConflict(err):
		return nil, cognito(behalf.CognitoGroupExists, "A group with the name %s already exists.", in.Name)
	case isNotFound(err):
		return nil, poolNotFound(in.PoolID)
	case err != nil:
		return nil, internal("create group", err)
	}
	return g, nil
}

// GetGroup returns a group.
func (s *Service) GetGroup(ctx context.Context, poolID, name string) (*behalf.PoolGroup, error) {
	if _, err := s.getPool(ctx, poolID); err != nil {
		return nil, err
	}
	return s.group(ctx, poolID, name)
}

// UpdateGroup changes the description, precedence and role that in gives
// (not nil); the others keep their values, as Cognito's UpdateGroup does.
// A precedence or role, once set, can be changed but not removed.
func (s *Service) UpdateGroup(ctx context.Context, in behalf.GroupInput) (*behalf.PoolGroup, error) {
	if _, err := s.getPool(ctx, in.PoolID); err != nil {
		return nil, err
	}
	if err := validateGroup(in); err != nil {
		return nil, err
	}
	g, err := s.Store.UpdatePoolGroup(ctx, in.PoolID, in.Name, func(g *behalf.PoolGroup) error {
		applyGroup(g, in)
		g.UpdatedAt = s.now()
		return nil
	})
	if isNotFound(err) {
		return nil, groupNotFound()
	}
	if err != nil {
		return nil, internal("update group", err)
	}
	return g, nil
}

// DeleteGroup deletes a group; its memberships go with it. Tokens issued
// before keep the group in their cognito:groups claim until they expire.
func (s *Service) DeleteGroup(ctx context.Context, poolID, name string) error {
	if _, err := s.getPool(ctx, poolID); err != nil {
		return err
	}
	if err := validateGroupName(name); err != nil {
		return err
	}
	err := s.Store.DeletePoolGroup(ctx, poolID, name)
	if isNotFound(err) {
		return groupNotFound()
	}
	if err != nil {
		return internal("delete group", err)
	}
	return nil
}

// ListGroups returns one page of a pool's groups, by name.
func (s *Service) ListGroups(ctx context.Context, poolID string, req behalf.PageRequest) ([]*behalf.PoolGroup, string, error) {
	if _, err := s.getPool(ctx, poolID); err != nil {
		return nil, "", err
	}
	opt, limit, err := groupPage(req)
	if err != nil {
		return nil, "", err
	}
	gs, err := s.Store.ListPoolGroups(ctx, poolID, opt)
	if err != nil {
		return nil, "", internal("list groups", err)
	}
	gs, next := behalf.NextPage(gs, limit, func(g *behalf.PoolGroup) string { return g.Name })
	return gs, next, nil
}

// AdminAddUserToGroup adds a user to a group, at most maxGroupsPerUser
// groups a user; a member already stays one. The user's next tokens carry
// the group.
func (s *Service) AdminAddUserToGroup(ctx context.Context, poolID, username, group string) error {
	u, err := s.groupAndUser(ctx, poolID, username, group)
	if err != nil {
		return err
	}
	err = s.Store.AddPoolGroupMember(ctx, poolID, group, u.Username, maxGroupsPerUser, s.now())
	switch {
	case err == nil:
		return nil
	case behalf.ErrorCode(err) == behalf.EFORBIDDEN:
		return cognito(behalf.CognitoLimitExceeded, "A user can be in at most %d groups.", maxGroupsPerUser)
	case isNotFound(err):
		// The user or the group was deleted meanwhile: say which.
		if _, gerr := s.group(ctx, poolID, group); gerr != nil {
			return gerr
		}
		return userNotFound()
	}
	return internal("add user to group", err)
}

// AdminRemoveUserFromGroup removes a user from a group; a user who is not
// a member is not an error.
func (s *Service) AdminRemoveUserFromGroup(ctx context.Context, poolID, username, group string) error {
	u, err := s.groupAndUser(ctx, poolID, username, group)
	if err != nil {
		return err
	}
	if err := s.Store.RemovePoolGroupMember(ctx, poolID, group, u.Username); err != nil {
		return internal("remove user from group", err)
	}
	return nil
}

// AdminListGroupsForUser returns one page of a user's groups, by name.
func (s *Service) AdminListGroupsForUser(ctx context.Context, poolID, username string, req behalf.PageRequest) ([]*behalf.PoolGroup, string, error) {
	_, u, err := s.adminUser(ctx, poolID, username)
	if err != nil {
		return nil, "", err
	}
	opt, limit, err := groupPage(req)
	if err != nil {
		return nil, "", err
	}
	gs, err := s.Store.ListPoolUserGroups(ctx, poolID, u.Username, opt)
	if err != nil {
		return nil, "", internal("list groups of user", err)
	}
	gs, next := behalf.NextPage(gs, limit, func(g *behalf.PoolGroup) string { return g.Name })
	return gs, next, nil
}

// ListUsersInGroup returns one page of a group's users, by username.
func (s *Service) ListUsersInGroup(ctx context.Context, poolID, group string, req behalf.PageRequest) ([]*behalf.PoolUser, string, error) {
	if _, err := s.GetGroup(ctx, poolID, group); err != nil {
		return nil, "", err
	}
	opt, limit, err := groupPage(req)
	if err != nil {
		return nil, "", err
	}
	us, err := s.Store.ListPoolGroupMembers(ctx, poolID, group, opt)
	if err != nil {
		return nil, "", internal("list users in group", err)
	}
	us, next := behalf.NextPage(us, limit, func(u *behalf.PoolUser) string { return u.Username })
	for i, u := range us {
		us[i] = publicUser(u)
	}
	return us, next, nil
}

// group returns a group of an existing pool: ResourceNotFoundException
// when missing.
func (s *Service) group(ctx context.Context, poolID, name string) (*behalf.PoolGroup, error) {
	if err := validateGroupName(name); err != nil {
		return nil, err
	}
	g, err := s.Store.GetPoolGroup(ctx, poolID, name)
	if isNotFound(err) {
		return nil, groupNotFound()
	}
	if err != nil {
		return nil, internal("get group", err)
	}
	return g, nil
}

// groupAndUser checks the pool, then the group (ResourceNotFoundException),
// then the user, named by username or sign-in alias
// (UserNotFoundException), and returns the user.
func (s *Service) groupAndUser(ctx context.Context, poolID, username, group string) (*behalf.PoolUser, error) {
	if _, err := s.GetGroup(ctx, poolID, group); err != nil {
		return nil, err
	}
	_, u, err := s.adminUser(ctx, poolID, username)
	return u, err
}

// groupNotFound is Cognito's error for a missing group.
func groupNotFound() error { return cognito(behalf.CognitoResourceNotFound, "Group not found.") }

// applyGroup sets the members in gives on g.
func applyGroup(g *behalf.PoolGroup, in behalf.GroupInput) {
	if in.Description != nil {
		g.Description = *in.Description
	}
	if in.Precedence != nil {
		p := int32(*in.Precedence)
		g.Precedence = &p
	}
	if in.RoleARN != nil {
		g.RoleARN = *in.RoleARN
	}
}

// validateGroupName checks a group name alone.
func validateGroupName(name string) error {
	var v violations
	v.groupName(name)
	return v.err()
}

// validateGroup checks a group's members against Cognito's constraints,
// reporting every violation as AWS does.
func validateGroup(in behalf.GroupInput) error {
	var v violations
	v.groupName(in.Name)
	if in.Description != nil && utf8.RuneCountInString(*in.Description) > maxGroupDescription {
		v.add(fmt.Sprintf("Value at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", maxGroupDescription))
	}
	if p := in.Precedence; p != nil && (*p < 0 || *p > math.MaxInt32) {
		bound := "greater than or equal to 0"
		if *p > 0 {
			bound = fmt.Sprintf("less than or equal to %d", math.MaxInt32)
		}
		v.add(fmt.Sprintf("Value '%d' at 'precedence' failed to satisfy constraint: Member must have value %s", *p, bound))
	}
	if r := in.RoleARN; r != nil {
		prefix := fmt.Sprintf("Value '%s' at 'roleArn' failed to satisfy constraint: ", clip(*r, maxRoleARN))
		switch n := utf8.RuneCountInString(*r); {
		case n < minRoleARN:
			v.add(fmt.Sprintf("%sMember must have length greater than or equal to %d", prefix, minRoleARN))
		case n > maxRoleARN:
			v.add(fmt.Sprintf("%sMember must have length less than or equal to %d", prefix, maxRoleARN))
		}
		if !roleARNPattern.MatchString(*r) {
			v.add(prefix + "Member must satisfy regular expression pattern: " + roleARNPatternText)
		}
	}
	return v.err()
}

// groupName checks a group name: 1 to 128 characters of Cognito's pattern.
func (v *violations) groupName(name string) {
	prefix := fmt.Sprintf("Value '%s' at 'groupName' failed to satisfy constraint: ", clip(name, maxGroupName))
	switch n := utf8.RuneCountInString(name); {
	case n < 1:
		v.add(prefix + "Member must have length greater than or equal to 1")
		return
	case n > maxGroupName:
		v.add(fmt.Sprintf("%sMember must have length less than or equal to %d", prefix, maxGroupName))
	}
	if !utf8.ValidString(name) || !groupNamePattern.MatchString(name) {
		v.add(prefix + "Member must satisfy regular expression pattern: " + groupNamePatternText)
	}
}

// clip shortens a value quoted in a message to max characters.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "..."
}

// groupPage validates the Limit and NextToken of a group listing in
// Cognito's words: Limit is 0 to 60, 0 meaning the largest page.
func groupPage(req behalf.PageRequest) (behalf.ListOptions, int, error) {
	switch {
	case req.MaxResults < 0:
		return behalf.ListOptions{}, 0, invalidParameter("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 0", req.MaxResults)
	case req.MaxResults > maxGroupPage:
		return behalf.ListOptions{}, 0, invalidParameter("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to %d", req.MaxResults, maxGroupPage)
	}
	return listOptionsUpTo(req, maxGroupPage)
}

// userGroups returns a user's groups in the order of the cognito:groups
// claim: by precedence, lowest first, groups without one last, and groups
// of equal precedence by name (bytewise). Cognito documents no order for
// the claim; this one puts the group that takes precedence first.
func (s *Service) userGroups(ctx context.Context, poolID, username string) ([]*behalf.PoolGroup, error) {
	gs, err := s.Store.ListPoolUserGroups(ctx, poolID, username, behalf.ListOptions{})
	if err != nil {
		return nil, internal("list groups of user", err)
	}
	slices.SortStableFunc(gs, compareGroups) // already by name
	return gs, nil
}

// compareGroups orders groups by precedence, nil last.
func compareGroups(a, b *behalf.PoolGroup) int {
	switch {
	case a.Precedence == nil && b.Precedence == nil:
		return 0
	case a.Precedence == nil:
		return 1
	case b.Precedence == nil:
		return -1
	}
	return cmp.Compare(*a.Precedence, *b.Precedence)
}

// groupClaims adds cognito:groups to the claims of both tokens of a user
// in groups (ordered as userGroups orders them).
func groupClaims(c map[string]any, groups []*behalf.PoolGroup) {
	if len(groups) == 0 {
		return
	}
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Name
	}
	c["cognito:groups"] = names
}

// roleClaims adds the ID token's cognito:roles, the roles of the user's
// groups (each once, in group order), and cognito:preferred_role: the role
// of the groups with a role that take precedence, unless those groups
// (equal in precedence) have different roles, as Cognito documents.
func roleClaims(c map[string]any, groups []*behalf.PoolGroup) {
	var roles []string
	var preferred []*behalf.PoolGroup
	for _, g := range groups {
		if g.RoleARN == "" {
			continue
		}
		if !slices.Contains(roles, g.RoleARN) {
			roles = append(roles, g.RoleARN)
		}
		if len(preferred) == 0 || compareGroups(g, preferred[0]) == 0 {
			preferred = append(preferred, g)
		}
	}
	if len(roles) == 0 {
		return
	}
	c["cognito:roles"] = roles
	if !slices.ContainsFunc(preferred, func(g *behalf.PoolGroup) bool { return g.RoleARN != preferred[0].RoleARN }) {
		c["cognito:preferred_role"] = preferred[0].RoleARN
	}
}
