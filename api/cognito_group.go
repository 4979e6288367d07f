package api

import (
	"context"

	"github.com/behalf-dev/behalf"
)

// Groups of a pool (GroupType) and their members.

// groupWire is GroupType; the optional members are omitted when unset.
type groupWire struct {
	GroupName        string `json:"GroupName"`
	UserPoolID       string `json:"UserPoolId"`
	Description      string `json:"Description,omitempty"`
	RoleArn          string `json:"RoleArn,omitempty"`
	Precedence       *int32 `json:"Precedence,omitempty"`
	CreationDate     epoch  `json:"CreationDate"`
	LastModifiedDate epoch  `json:"LastModifiedDate"`
}

func groupOut(g *behalf.PoolGroup) groupWire {
	return groupWire{
		GroupName: g.Name, UserPoolID: g.PoolID, Description: g.Description, RoleArn: g.RoleARN,
		Precedence: g.Precedence, CreationDate: epoch(g.CreatedAt), LastModifiedDate: epoch(g.UpdatedAt),
	}
}

func groupsOut(gs []*behalf.PoolGroup) []groupWire {
	out := make([]groupWire, 0, len(gs))
	for _, g := range gs {
		out = append(out, groupOut(g))
	}
	return out
}

// groupIn holds the members of CreateGroup and UpdateGroup: absent ones
// are nil, which UpdateGroup leaves as they are.
type groupIn struct {
	UserPoolID  string  `json:"UserPoolId"`
	GroupName   string  `json:"GroupName"`
	Description *string `json:"Description"`
	Precedence  *int64  `json:"Precedence"` // wider than the wire's int32, for the service to word
	RoleArn     *string `json:"RoleArn"`
}

func (in *groupIn) input(body []byte) (behalf.GroupInput, error) {
	if err := decodeCognito(body, in); err != nil {
		return behalf.GroupInput{}, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "GroupName", in.GroupName); err != nil {
		return behalf.GroupInput{}, err
	}
	return behalf.GroupInput{
		PoolID: in.UserPoolID, Name: in.GroupName, Description: in.Description, Precedence: in.Precedence, RoleARN: in.RoleArn,
	}, nil
}

// groupKeyIn names one group.
type groupKeyIn struct {
	UserPoolID string `json:"UserPoolId"`
	GroupName  string `json:"GroupName"`
}

func (in *groupKeyIn) decode(body []byte) error {
	if err := decodeCognito(body, in); err != nil {
		return err
	}
	return requireMembers("UserPoolId", in.UserPoolID, "GroupName", in.GroupName)
}

// memberIn names one user and one group.
type memberIn struct {
	UserPoolID string `json:"UserPoolId"`
	Username   string `json:"Username"`
	GroupName  string `json:"GroupName"`
}

func (in *memberIn) decode(body []byte) error {
	if err := decodeCognito(body, in); err != nil {
		return err
	}
	return requireMembers("UserPoolId", in.UserPoolID, "Username", in.Username, "GroupName", in.GroupName)
}

// pageIn holds the paging members of the group listings: Limit 0 to 60
// (absent or 0: the largest page) and NextToken.
type pageIn struct {
	Limit     int    `json:"Limit"`
	NextToken string `json:"NextToken"`
}

func (p pageIn) request() behalf.PageRequest {
	return behalf.PageRequest{NextToken: p.NextToken, MaxResults: p.Limit}
}

func (s *Server) cognitoCreateGroup(ctx context.Context, body []byte) (any, error) {
	var in groupIn
	input, err := in.input(body)
	if err != nil {
		return nil, err
	}
	g, err := s.UserPools.CreateGroup(ctx, input)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Group": groupOut(g)}, nil
}

func (s *Server) cognitoGetGroup(ctx context.Context, body []byte) (any, error) {
	var in groupKeyIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	g, err := s.UserPools.GetGroup(ctx, in.UserPoolID, in.GroupName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Group": groupOut(g)}, nil
}

func (s *Server) cognitoUpdateGroup(ctx context.Context, body []byte) (any, error) {
	var in groupIn
	input, err := in.input(body)
	if err != nil {
		return nil, err
	}
	g, err := s.UserPools.UpdateGroup(ctx, input)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Group": groupOut(g)}, nil
}

func (s *Server) cognitoDeleteGroup(ctx context.Context, body []byte) (any, error) {
	var in groupKeyIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	return nil, s.UserPools.DeleteGroup(ctx, in.UserPoolID, in.GroupName)
}

func (s *Server) cognitoListGroups(ctx context.Context, body []byte) (any, error) {
	var in struct {
		UserPoolID string `json:"UserPoolId"`
		pageIn
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID); err != nil {
		return nil, err
	}
	gs, next, err := s.UserPools.ListGroups(ctx, in.UserPoolID, in.request())
	if err != nil {
		return nil, err
	}
	return struct {
		Groups    []groupWire `json:"Groups"`
		NextToken string      `json:"NextToken,omitempty"`
	}{groupsOut(gs), next}, nil
}

func (s *Server) cognitoAdminAddUserToGroup(ctx context.Context, body []byte) (any, error) {
	var in memberIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	return nil, s.UserPools.AdminAddUserToGroup(ctx, in.UserPoolID, in.Username, in.GroupName)
}

func (s *Server) cognitoAdminRemoveUserFromGroup(ctx context.Context, body []byte) (any, error) {
	var in memberIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	return nil, s.UserPools.AdminRemoveUserFromGroup(ctx, in.UserPoolID, in.Username, in.GroupName)
}

func (s *Server) cognitoAdminListGroupsForUser(ctx context.Context, body []byte) (any, error) {
	var in struct {
		poolUserIn
		pageIn
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "Username", in.Username); err != nil {
		return nil, err
	}
	gs, next, err := s.UserPools.AdminListGroupsForUser(ctx, in.UserPoolID, in.Username, in.request())
	if err != nil {
		return nil, err
	}
	return struct {
		Groups    []groupWire `json:"Groups"`
		NextToken string      `json:"NextToken,omitempty"`
	}{groupsOut(gs), next}, nil
}

func (s *Server) cognitoListUsersInGroup(ctx context.Context, body []byte) (any, error) {
	var in struct {
		groupKeyIn
		pageIn
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "GroupName", in.GroupName); err != nil {
		return nil, err
	}
	users, next, err := s.UserPools.ListUsersInGroup(ctx, in.UserPoolID, in.GroupName, in.request())
	if err != nil {
		return nil, err
	}
	out := struct {
		Users     []userWire `json:"Users"`
		NextToken string     `json:"NextToken,omitempty"`
	}{Users: []userWire{}, NextToken: next}
	for _, u := range users {
		out.Users = append(out.Users, userOut(u, nil))
	}
	return out, nil
}
