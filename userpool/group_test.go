package userpool_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/userpool"
)

func ptr[T any](v T) *T { return &v }

// group creates a group, failing tb on error.
func (e *env) group(tb testing.TB, poolID, name string, precedence *int64, role string) *behalf.PoolGroup {
	tb.Helper()
	in := behalf.GroupInput{PoolID: poolID, Name: name, Precedence: precedence}
	if role != "" {
		in.RoleARN = &role
	}
	g, err := e.svc.CreateGroup(e.ctx, in)
	if err != nil {
		tb.Fatalf("CreateGroup %s: %v", name, err)
	}
	return g
}

// join adds a user to groups, failing tb on error.
func (e *env) join(tb testing.TB, poolID, username string, groups ...string) {
	tb.Helper()
	for _, g := range groups {
		if err := e.svc.AdminAddUserToGroup(e.ctx, poolID, username, g); err != nil {
			tb.Fatalf("AdminAddUserToGroup %s %s: %v", username, g, err)
		}
	}
}

// strs turns a JSON array claim into strings ("!" marks a non-string).
func strs(v any) []string {
	a, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, len(a))
	for i, x := range a {
		s, ok := x.(string)
		if !ok {
			s = "!"
		}
		out[i] = s
	}
	return out
}

func TestGroupLifecycle(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	role := "arn:aws:iam::123456789012:role/agents"
	g, err := e.svc.CreateGroup(e.ctx, behalf.GroupInput{
		PoolID: p.ID, Name: "agents", Description: ptr("Agent users"), Precedence: ptr[int64](3), RoleARN: &role,
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "agents" || g.Description != "Agent users" || *g.Precedence != 3 || g.RoleARN != role || g.CreatedAt.IsZero() || !g.UpdatedAt.Equal(g.CreatedAt) {
		t.Fatalf("created %+v", g)
	}
	_, err = e.svc.CreateGroup(e.ctx, behalf.GroupInput{PoolID: p.ID, Name: "agents"})
	wantCognito(t, err, behalf.CognitoGroupExists, "A group with the name agents already exists.")

	// UpdateGroup changes only what it is given.
	e.clock.Add(60e9)
	u, err := e.svc.UpdateGroup(e.ctx, behalf.GroupInput{PoolID: p.ID, Name: "agents", Precedence: ptr[int64](0)})
	if err != nil {
		t.Fatal(err)
	}
	if u.Description != "Agent users" || *u.Precedence != 0 || u.RoleARN != role || !u.CreatedAt.Equal(g.CreatedAt) || !u.UpdatedAt.After(g.UpdatedAt) {
		t.Fatalf("updated %+v", u)
	}
	u, err = e.svc.UpdateGroup(e.ctx, behalf.GroupInput{PoolID: p.ID, Name: "agents", Description: ptr("")})
	if err != nil || u.Description != "" || *u.Precedence != 0 {
		t.Fatalf("cleared description: %+v %v", u, err)
	}
	got, err := e.svc.GetGroup(e.ctx, p.ID, "agents")
	if err != nil || !reflect.DeepEqual(got, u) {
		t.Fatalf("GetGroup = %+v %v, want %+v", got, err, u)
	}

	for _, call := range []func() error{
		func() error { _, err := e.svc.GetGroup(e.ctx, p.ID, "Agents"); return err },
		func() error {
			_, err := e.svc.UpdateGroup(e.ctx, behalf.GroupInput{PoolID: p.ID, Name: "nope", Description: ptr("x")})
			return err
		},
		func() error { return e.svc.DeleteGroup(e.ctx, p.ID, "nope") },
		func() error { return e.svc.AdminAddUserToGroup(e.ctx, p.ID, "alice", "nope") },
		func() error { return e.svc.AdminRemoveUserFromGroup(e.ctx, p.ID, "alice", "nope") },
		func() error {
			_, _, err := e.svc.ListUsersInGroup(e.ctx, p.ID, "nope", behalf.PageRequest{})
			return err
		},
	} {
		wantCognito(t, call(), behalf.CognitoResourceNotFound, "Group not found.")
	}
	for _, call := range []func() error{
		func() error { _, err := e.svc.GetGroup(e.ctx, "us-east-1_Nope12345", "agents"); return err },
		func() error {
			_, err := e.svc.CreateGroup(e.ctx, behalf.GroupInput{PoolID: "us-east-1_Nope12345", Name: "x"})
			return err
		},
		func() error {
			_, _, err := e.svc.ListGroups(e.ctx, "us-east-1_Nope12345", behalf.PageRequest{})
			return err
		},
	} {
		wantCognito(t, call(), behalf.CognitoResourceNotFound, "User pool us-east-1_Nope12345 does not exist.")
	}

	// Users: unknown ones are UserNotFoundException.
	e.user(t, p.ID, "alice", nil)
	for _, call := range []func() error{
		func() error { return e.svc.AdminAddUserToGroup(e.ctx, p.ID, "bob", "agents") },
		func() error { return e.svc.AdminRemoveUserFromGroup(e.ctx, p.ID, "bob", "agents") },
		func() error {
			_, _, err := e.svc.AdminListGroupsForUser(e.ctx, p.ID, "bob", behalf.PageRequest{})
			return err
		},
	} {
		wantCognito(t, call(), behalf.CognitoUserNotFound, "User does not exist.")
	}
	e.join(t, p.ID, "alice", "agents", "agents") // twice: still one membership
	gs, next, err := e.svc.AdminListGroupsForUser(e.ctx, p.ID, "alice", behalf.PageRequest{})
	if err != nil || next != "" || len(gs) != 1 || gs[0].Name != "agents" {
		t.Fatalf("AdminListGroupsForUser = %v %q %v", gs, next, err)
	}
	us, _, err := e.svc.ListUsersInGroup(e.ctx, p.ID, "agents", behalf.PageRequest{})
	if err != nil || len(us) != 1 || us[0].Username != "alice" || us[0].PasswordHash != "" || us[0].Attributes["sub"] == "" {
		t.Fatalf("ListUsersInGroup = %+v %v", us, err)
	}
	if err := e.svc.AdminRemoveUserFromGroup(e.ctx, p.ID, "alice", "agents"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AdminRemoveUserFromGroup(e.ctx, p.ID, "alice", "agents"); err != nil {
		t.Fatalf("removing a non-member: %v", err)
	}
	if us, _, _ := e.svc.ListUsersInGroup(e.ctx, p.ID, "agents", behalf.PageRequest{}); len(us) != 0 {
		t.Fatalf("after removal: %v", us)
	}

	// Deleting a group deletes its memberships; the name is free again.
	e.join(t, p.ID, "alice", "agents")
	if err := e.svc.DeleteGroup(e.ctx, p.ID, "agents"); err != nil {
		t.Fatal(err)
	}
	e.group(t, p.ID, "agents", nil, "")
	if gs, _, _ := e.svc.AdminListGroupsForUser(e.ctx, p.ID, "alice", behalf.PageRequest{}); len(gs) != 0 {
		t.Fatalf("memberships survived the group: %v", gs)
	}
	// Deleting a user deletes theirs.
	e.join(t, p.ID, "alice", "agents")
	if err := e.svc.AdminDeleteUser(e.ctx, p.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if us, _, _ := e.svc.ListUsersInGroup(e.ctx, p.ID, "agents", behalf.PageRequest{}); len(us) != 0 {
		t.Fatalf("memberships survived the user: %v", us)
	}
}

// Ensure a pool that signs in with email takes the email wherever a
// username is asked for, as the other admin operations do.
func TestGroupUserAlias(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t, "email")
	u := e.user(t, p.ID, "carol@example.com", nil)
	e.group(t, p.ID, "staff", nil, "")
	e.join(t, p.ID, "carol@example.com", "staff")
	us, _, err := e.svc.ListUsersInGroup(e.ctx, p.ID, "staff", behalf.PageRequest{})
	if err != nil || len(us) != 1 || us[0].Username != u.Username {
		t.Fatalf("ListUsersInGroup = %v %v, want the user %s", us, err, u.Username)
	}
	gs, _, err := e.svc.AdminListGroupsForUser(e.ctx, p.ID, u.Username, behalf.PageRequest{})
	if err != nil || len(gs) != 1 {
		t.Fatalf("by sub-username: %v %v", gs, err)
	}
	if err := e.svc.AdminRemoveUserFromGroup(e.ctx, p.ID, "carol@example.com", "staff"); err != nil {
		t.Fatal(err)
	}
}

func TestGroupValidation(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	long := strings.Repeat("g", 129)
	for name, tc := range map[string]struct {
		in  behalf.GroupInput
		msg string
	}{
		"empty name":     {behalf.GroupInput{Name: ""}, "1 validation error detected: Value '' at 'groupName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		"long name":      {behalf.GroupInput{Name: long}, "at 'groupName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		"space in name":  {behalf.GroupInput{Name: "a b"}, `Member must satisfy regular expression pattern: [\p{L}\p{M}\p{S}\p{N}\p{P}]+`},
		"control":        {behalf.GroupInput{Name: "a\tb"}, "regular expression pattern"},
		"negative":       {behalf.GroupInput{Name: "g", Precedence: ptr[int64](-1)}, "Value '-1' at 'precedence' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		"too high":       {behalf.GroupInput{Name: "g", Precedence: ptr[int64](1 << 31)}, "Member must have value less than or equal to 2147483647"},
		"long desc":      {behalf.GroupInput{Name: "g", Description: ptr(strings.Repeat("d", 2049))}, "at 'description' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		"short role":     {behalf.GroupInput{Name: "g", RoleARN: ptr("arn:aws:iam::1:r/x")}, "Member must have length greater than or equal to 20"},
		"not an arn":     {behalf.GroupInput{Name: "g", RoleARN: ptr("role/agents-and-more-text")}, "at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		"two violations": {behalf.GroupInput{Name: "", Precedence: ptr[int64](-2)}, "2 validation errors detected: "},
	} {
		t.Run(name, func(t *testing.T) {
			tc.in.PoolID = p.ID
			_, err := e.svc.CreateGroup(e.ctx, tc.in)
			wantCognito(t, err, behalf.CognitoInvalidParameter, "")
			if msg := behalf.ErrorMessage(err); !strings.Contains(msg, tc.msg) {
				t.Fatalf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
	// What the pattern admits: letters, marks, symbols, numbers and
	// punctuation of any script; precedence up to 2^31-1.
	for _, name := range []string{"admins", "Ünïcode-组-ℵ", "a+b=c@d.e/f:g_h", "😀", strings.Repeat("g", 128)} {
		if _, err := e.svc.CreateGroup(e.ctx, behalf.GroupInput{PoolID: p.ID, Name: name, Precedence: ptr[int64](1<<31 - 1)}); err != nil {
			t.Errorf("CreateGroup(%q): %v", name, err)
		}
	}
	if _, err := e.svc.CreateGroup(e.ctx, behalf.GroupInput{PoolID: p.ID, Name: "roled", RoleARN: ptr("arn:aws:iam::123456789012:role/service-role/agents")}); err != nil {
		t.Errorf("a valid role: %v", err)
	}
	_, err := e.svc.UpdateGroup(e.ctx, behalf.GroupInput{PoolID: p.ID, Name: "roled", RoleARN: ptr("")})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
}

func TestGroupPaging(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	e.user(t, p.ID, "alice", nil)
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("g%d", i)
		want = append(want, name)
		e.group(t, p.ID, name, nil, "")
		e.join(t, p.ID, "alice", name)
		user := fmt.Sprintf("u%d", i)
		e.user(t, p.ID, user, nil)
		e.join(t, p.ID, user, "g0")
	}
	walk := func(list func(page behalf.PageRequest) ([]string, string, error)) []string {
		var all []string
		page := behalf.PageRequest{MaxResults: 3}
		for {
			names, next, err := list(page)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, names...)
			if next == "" {
				return all
			}
			page.NextToken = next
		}
	}
	groupNames := func(gs []*behalf.PoolGroup) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Name)
		}
		return out
	}
	if got := walk(func(pr behalf.PageRequest) ([]string, string, error) {
		gs, next, err := e.svc.ListGroups(e.ctx, p.ID, pr)
		return groupNames(gs), next, err
	}); !slices.Equal(got, want) {
		t.Errorf("ListGroups = %q", got)
	}
	if got := walk(func(pr behalf.PageRequest) ([]string, string, error) {
		gs, next, err := e.svc.AdminListGroupsForUser(e.ctx, p.ID, "alice", pr)
		return groupNames(gs), next, err
	}); !slices.Equal(got, want) {
		t.Errorf("AdminListGroupsForUser = %q", got)
	}
	if got := walk(func(pr behalf.PageRequest) ([]string, string, error) {
		us, next, err := e.svc.ListUsersInGroup(e.ctx, p.ID, "g0", pr)
		var out []string
		for _, u := range us {
			out = append(out, u.Username)
		}
		return out, next, err
	}); !slices.Equal(got, []string{"alice", "u0", "u1", "u2", "u3", "u4", "u5", "u6"}) {
		t.Errorf("ListUsersInGroup = %q", got)
	}
	for _, bad := range []behalf.PageRequest{{MaxResults: 61}, {MaxResults: -1}, {NextToken: "!!"}} {
		_, _, err := e.svc.ListGroups(e.ctx, p.ID, bad)
		wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	}
	_, _, err := e.svc.ListGroups(e.ctx, p.ID, behalf.PageRequest{MaxResults: 61})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "1 validation error detected: Value '61' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60")
}

func TestGroupLimitPerUser(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	e.user(t, p.ID, "alice", nil)
	for i := range 101 {
		e.group(t, p.ID, fmt.Sprintf("g%03d", i), nil, "")
	}
	for i := range 100 {
		e.join(t, p.ID, "alice", fmt.Sprintf("g%03d", i))
	}
	err := e.svc.AdminAddUserToGroup(e.ctx, p.ID, "alice", "g100")
	wantCognito(t, err, behalf.CognitoLimitExceeded, "A user can be in at most 100 groups.")
	e.join(t, p.ID, "alice", "g099") // a member already: fine at the limit
}

func TestGroupLimitPerPool(t *testing.T) {
	defer userpool.SetMaxGroupsPerPool(3)()
	e := newEnv(t)
	p := e.pool(t)
	for i := range 3 {
		e.group(t, p.ID, fmt.Sprintf("g%d", i), nil, "")
	}
	_, err := e.svc.CreateGroup(e.ctx, behalf.GroupInput{PoolID: p.ID, Name: "g3"})
	wantCognito(t, err, behalf.CognitoLimitExceeded, "A user pool has at most 3 groups.")
	if err := e.svc.DeleteGroup(e.ctx, p.ID, "g0"); err != nil {
		t.Fatal(err)
	}
	e.group(t, p.ID, "g3", nil, "")
}

// Ensure tokens carry the user's groups as Cognito does: cognito:groups in
// both tokens, by precedence (none last, ties by name); cognito:roles and
// cognito:preferred_role in the ID token; a refresh reads the groups anew,
// and tokens issued before a change keep what they had.
func TestGroupClaims(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	e.user(t, p.ID, "bob", nil)

	none := e.mustSignIn(t, c, "", "alice")
	for _, tok := range []behalf.Secret{none.AccessToken, none.IDToken} {
		if m := claimsOf(t, e, p.ID, tok); m["cognito:groups"] != nil || m["cognito:roles"] != nil {
			t.Fatalf("a user in no group: %v", m)
		}
	}

	role := func(n string) string { return "arn:aws:iam::123456789012:role/" + n }
	e.group(t, p.ID, "zeta", ptr[int64](1), role("a"))
	e.group(t, p.ID, "alpha", ptr[int64](5), role("b"))
	e.group(t, p.ID, "beta", ptr[int64](1), "")
	e.group(t, p.ID, "gamma", nil, role("c"))
	e.group(t, p.ID, "delta", nil, "")
	e.group(t, p.ID, "other", ptr[int64](0), role("o"))
	e.join(t, p.ID, "alice", "gamma", "alpha", "delta", "zeta", "beta")
	tokens := e.mustSignIn(t, c, "", "alice")
	want := []string{"beta", "zeta", "alpha", "delta", "gamma"}
	a, id := claimsOf(t, e, p.ID, tokens.AccessToken), claimsOf(t, e, p.ID, tokens.IDToken)
	if got := strs(a["cognito:groups"]); !slices.Equal(got, want) {
		t.Errorf("access cognito:groups = %q, want %q", got, want)
	}
	if got := strs(id["cognito:groups"]); !slices.Equal(got, want) {
		t.Errorf("ID cognito:groups = %q, want %q", got, want)
	}
	if got := strs(id["cognito:roles"]); !slices.Equal(got, []string{role("a"), role("b"), role("c")}) {
		t.Errorf("cognito:roles = %q", got)
	}
	if id["cognito:preferred_role"] != role("a") {
		t.Errorf("cognito:preferred_role = %v", id["cognito:preferred_role"])
	}
	if a["cognito:roles"] != nil || a["cognito:preferred_role"] != nil {
		t.Errorf("access token has role claims: %v", a)
	}

	// Two groups of equal precedence with different roles: no preferred role.
	e.group(t, p.ID, "tie", ptr[int64](1), role("t"))
	e.join(t, p.ID, "alice", "tie")
	id = claimsOf(t, e, p.ID, e.mustSignIn(t, c, "", "alice").IDToken)
	if _, ok := id["cognito:preferred_role"]; ok {
		t.Errorf("tied roles gave cognito:preferred_role %v", id["cognito:preferred_role"])
	}
	if got := strs(id["cognito:groups"]); !slices.Equal(got, []string{"beta", "tie", "zeta", "alpha", "delta", "gamma"}) {
		t.Errorf("cognito:groups = %q", got)
	}

	// A refresh reads the groups anew; the earlier token keeps its own.
	if err := e.svc.DeleteGroup(e.ctx, p.ID, "zeta"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AdminRemoveUserFromGroup(e.ctx, p.ID, "alice", "tie"); err != nil {
		t.Fatal(err)
	}
	res, err := e.refresh(c, "", "alice", tokens.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if got := strs(claimsOf(t, e, p.ID, res.Tokens.AccessToken)["cognito:groups"]); !slices.Equal(got, []string{"beta", "alpha", "delta", "gamma"}) {
		t.Errorf("refreshed cognito:groups = %q", got)
	}
	if got := strs(claimsOf(t, e, p.ID, tokens.AccessToken)["cognito:groups"]); !slices.Equal(got, want) {
		t.Errorf("earlier token's cognito:groups = %q", got)
	}
	verified, err := e.svc.VerifyAccessToken(e.ctx, tokens.AccessToken)
	if err != nil || !slices.Equal(verified.Groups, want) {
		t.Errorf("VerifyAccessToken of the earlier token: groups %v, %v", verified, err)
	}
	// The hosted login's tokens carry them too.
	hosted, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: c.ID, Username: "alice", Scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []behalf.Secret{hosted.AccessToken, hosted.IDToken} {
		if got := strs(claimsOf(t, e, p.ID, tok)["cognito:groups"]); !slices.Equal(got, []string{"beta", "alpha", "delta", "gamma"}) {
			t.Errorf("hosted login cognito:groups = %q", got)
		}
	}
	// Bob's tokens are his own.
	if m := claimsOf(t, e, p.ID, e.mustSignIn(t, c, "", "bob").AccessToken); m["cognito:groups"] != nil {
		t.Errorf("bob's groups: %v", m["cognito:groups"])
	}
}
