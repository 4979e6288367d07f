package api

import (
	"context"
	"slices"
	"sort"

	"github.com/behalf-dev/behalf"
)

// Users of a pool (UserType, AdminGetUser).

// attributeWire is AttributeType.
type attributeWire struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// attributesIn turns a UserAttributes list into a map; a name given twice
// is InvalidParameterException.
func attributesIn(list []attributeWire) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(list))
	for _, a := range list {
		if a.Name == "" {
			return nil, requireMembers("UserAttributes.member.Name", "")
		}
		if _, dup := m[a.Name]; dup {
			return nil, behalf.CognitoErrorf(behalf.CognitoInvalidParameter, "Duplicate attribute %s.", a.Name)
		}
		m[a.Name] = a.Value
	}
	return m, nil
}

// attributesOut lists a user's attributes, sub first and then by name;
// only names in want when want is not nil.
func attributesOut(u *behalf.PoolUser, want []string) []attributeWire {
	names := make([]string, 0, len(u.Attributes)+1)
	for n := range u.Attributes {
		if n != "sub" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]attributeWire, 0, len(names)+1)
	if want == nil || slices.Contains(want, "sub") {
		out = append(out, attributeWire{"sub", u.Sub})
	}
	for _, n := range names {
		if want == nil || slices.Contains(want, n) {
			out = append(out, attributeWire{n, u.Attributes[n]})
		}
	}
	return out
}

// userWire is UserType.
type userWire struct {
	Username             string          `json:"Username"`
	Attributes           []attributeWire `json:"Attributes"`
	UserCreateDate       epoch           `json:"UserCreateDate"`
	UserLastModifiedDate epoch           `json:"UserLastModifiedDate"`
	Enabled              bool            `json:"Enabled"`
	UserStatus           string          `json:"UserStatus"`
}

func userOut(u *behalf.PoolUser, want []string) userWire {
	return userWire{
		Username: u.Username, Attributes: attributesOut(u, want),
		UserCreateDate: epoch(u.CreatedAt), UserLastModifiedDate: epoch(u.UpdatedAt),
		Enabled: u.Enabled, UserStatus: u.Status,
	}
}

// poolUserIn names one user of one pool.
type poolUserIn struct {
	UserPoolID string `json:"UserPoolId"`
	Username   string `json:"Username"`
}

func (in *poolUserIn) decode(body []byte) error {
	if err := decodeCognito(body, in); err != nil {
		return err
	}
	return requireMembers("UserPoolId", in.UserPoolID, "Username", in.Username)
}

func (s *Server) cognitoAdminCreateUser(ctx context.Context, body []byte) (any, error) {
	var in struct {
		UserPoolID        string          `json:"UserPoolId"`
		Username          string          `json:"Username"`
		UserAttributes    []attributeWire `json:"UserAttributes"`
		TemporaryPassword behalf.Secret   `json:"TemporaryPassword"`
		MessageAction     string          `json:"MessageAction"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "Username", in.Username); err != nil {
		return nil, err
	}
	attrs, err := attributesIn(in.UserAttributes)
	if err != nil {
		return nil, err
	}
	// Behalf sends no invitation messages, so a password it generates is
	// known to nobody; pass TemporaryPassword or set one with
	// AdminSetUserPassword. It is not returned: Cognito's response has no
	// place for it.
	u, _, err := s.UserPools.AdminCreateUser(ctx, behalf.AdminCreateUserInput{
		PoolID: in.UserPoolID, Username: in.Username, TemporaryPassword: in.TemporaryPassword,
		Attributes: attrs, MessageAction: in.MessageAction,
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"User": userOut(u, nil)}, nil
}

func (s *Server) cognitoAdminSetUserPassword(ctx context.Context, body []byte) (any, error) {
	var in struct {
		UserPoolID string        `json:"UserPoolId"`
		Username   string        `json:"Username"`
		Password   behalf.Secret `json:"Password"`
		Permanent  bool          `json:"Permanent"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "Username", in.Username, "Password", in.Password.Reveal()); err != nil {
		return nil, err
	}
	return nil, s.UserPools.AdminSetUserPassword(ctx, in.UserPoolID, in.Username, in.Password, in.Permanent)
}

func (s *Server) cognitoAdminGetUser(ctx context.Context, body []byte) (any, error) {
	var in poolUserIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	u, err := s.UserPools.AdminGetUser(ctx, in.UserPoolID, in.Username)
	if err != nil {
		return nil, err
	}
	pref, list := mfaSettingsOut(u)
	return struct {
		Username             string          `json:"Username"`
		UserAttributes       []attributeWire `json:"UserAttributes"`
		UserCreateDate       epoch           `json:"UserCreateDate"`
		UserLastModifiedDate epoch           `json:"UserLastModifiedDate"`
		Enabled              bool            `json:"Enabled"`
		UserStatus           string          `json:"UserStatus"`
		PreferredMfaSetting  string          `json:"PreferredMfaSetting,omitempty"`
		UserMFASettingList   []string        `json:"UserMFASettingList,omitempty"`
	}{u.Username, attributesOut(u, nil), epoch(u.CreatedAt), epoch(u.UpdatedAt), u.Enabled, u.Status, pref, list}, nil
}

func (s *Server) cognitoAdminDeleteUser(ctx context.Context, body []byte) (any, error) {
	var in poolUserIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	return nil, s.UserPools.AdminDeleteUser(ctx, in.UserPoolID, in.Username)
}

func (s *Server) cognitoAdminDisableUser(ctx context.Context, body []byte) (any, error) {
	var in poolUserIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	return nil, s.UserPools.AdminDisableUser(ctx, in.UserPoolID, in.Username)
}

func (s *Server) cognitoAdminEnableUser(ctx context.Context, body []byte) (any, error) {
	var in poolUserIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	return nil, s.UserPools.AdminEnableUser(ctx, in.UserPoolID, in.Username)
}

func (s *Server) cognitoAdminUserGlobalSignOut(ctx context.Context, body []byte) (any, error) {
	var in poolUserIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	return nil, s.UserPools.AdminUserGlobalSignOut(ctx, in.UserPoolID, in.Username)
}

func (s *Server) cognitoListUsers(ctx context.Context, body []byte) (any, error) {
	var in struct {
		UserPoolID      string   `json:"UserPoolId"`
		AttributesToGet []string `json:"AttributesToGet"`
		Filter          string   `json:"Filter"`
		Limit           int      `json:"Limit"`
		PaginationToken string   `json:"PaginationToken"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID); err != nil {
		return nil, err
	}
	users, next, err := s.UserPools.ListUsers(ctx, in.UserPoolID, behalf.PageRequest{NextToken: in.PaginationToken, MaxResults: in.Limit}, in.Filter)
	if err != nil {
		return nil, err
	}
	out := struct {
		Users           []userWire `json:"Users"`
		PaginationToken string     `json:"PaginationToken,omitempty"`
	}{Users: []userWire{}, PaginationToken: next}
	for _, u := range users {
		out.Users = append(out.Users, userOut(u, in.AttributesToGet))
	}
	return out, nil
}
