package main

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// claimStrings returns a token claim that is a JSON array of strings.
func claimStrings(t *testing.T, claims map[string]any, name string) []string {
	t.Helper()
	v, ok := claims[name]
	if !ok {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("claim %s = %v (%T), want an array", name, v, v)
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		if out[i], ok = x.(string); !ok {
			t.Fatalf("claim %s holds %v (%T)", name, x, x)
		}
	}
	return out
}

// groupNames lists the names of groups.
func groupNames(gs []types.GroupType) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = aws.ToString(g.GroupName)
	}
	return out
}

// Ensure groups round-trip through the official client with Cognito's
// shapes, paging and typed errors, and that InitiateAuth
// (USER_PASSWORD_AUTH) puts cognito:groups, by precedence, in the access
// and ID tokens, which keep it while memberships change.
func TestUserPoolGroups(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.cognito(t)
		f := newPoolFixture(t, ctx, c, "groups")
		pool := aws.String(f.poolID)
		f.createUser(t, ctx, c, "alice", "Corr3ct-Horse!")
		f.createUser(t, ctx, c, "bob", "Batt3ry-Staple!")
		role := "arn:aws:iam::123456789012:role/agents"

		created, err := c.CreateGroup(ctx, &cip.CreateGroupInput{
			UserPoolId: pool, GroupName: aws.String("agents"), Description: aws.String("Agent users"),
			Precedence: aws.Int32(10), RoleArn: aws.String(role),
		})
		if err != nil {
			t.Fatal(err)
		}
		g := created.Group
		if aws.ToString(g.GroupName) != "agents" || aws.ToString(g.UserPoolId) != f.poolID || aws.ToString(g.Description) != "Agent users" ||
			aws.ToInt32(g.Precedence) != 10 || aws.ToString(g.RoleArn) != role || g.CreationDate == nil || g.LastModifiedDate == nil {
			t.Fatalf("CreateGroup = %+v", g)
		}
		_, err = c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("agents")})
		wantErrorAs[*types.GroupExistsException](t, err)
		bare, err := c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("admins")})
		if err != nil {
			t.Fatal(err)
		}
		if bare.Group.Precedence != nil || bare.Group.Description != nil || bare.Group.RoleArn != nil {
			t.Fatalf("a bare group = %+v", bare.Group)
		}
		if _, err := c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("ops"), Precedence: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}

		// UpdateGroup changes what it is sent and keeps the rest.
		up, err := c.UpdateGroup(ctx, &cip.UpdateGroupInput{UserPoolId: pool, GroupName: aws.String("agents"), Precedence: aws.Int32(0)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToInt32(up.Group.Precedence) != 0 || up.Group.Precedence == nil || aws.ToString(up.Group.Description) != "Agent users" || aws.ToString(up.Group.RoleArn) != role {
			t.Fatalf("UpdateGroup = %+v", up.Group)
		}
		got, err := c.GetGroup(ctx, &cip.GetGroupInput{UserPoolId: pool, GroupName: aws.String("agents")})
		if err != nil || aws.ToInt32(got.Group.Precedence) != 0 || !got.Group.CreationDate.Equal(*g.CreationDate) {
			t.Fatalf("GetGroup = %+v, %v", got, err)
		}

		// Typed errors.
		_, err = c.GetGroup(ctx, &cip.GetGroupInput{UserPoolId: pool, GroupName: aws.String("nope")})
		if e := wantErrorAs[*types.ResourceNotFoundException](t, err); e.ErrorMessage() != "Group not found." {
			t.Fatalf("message %q", e.ErrorMessage())
		}
		_, err = c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String("nobody"), GroupName: aws.String("agents")})
		wantErrorAs[*types.UserNotFoundException](t, err)
		_, err = c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String("alice"), GroupName: aws.String("nope")})
		wantErrorAs[*types.ResourceNotFoundException](t, err)
		_, err = c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: pool, Username: aws.String("nobody")})
		wantErrorAs[*types.UserNotFoundException](t, err)
		_, err = c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("has space")})
		wantErrorAs[*types.InvalidParameterException](t, err)
		_, err = c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("g"), Precedence: aws.Int32(-1)})
		wantErrorAs[*types.InvalidParameterException](t, err)
		_, err = c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: aws.String("us-east-1_Nope12345"), GroupName: aws.String("g")})
		wantErrorAs[*types.ResourceNotFoundException](t, err)
		_, err = c.ListGroups(ctx, &cip.ListGroupsInput{UserPoolId: pool, Limit: aws.Int32(61)})
		wantErrorAs[*types.InvalidParameterException](t, err)

		// Memberships, both ways.
		for _, m := range [][2]string{{"alice", "admins"}, {"alice", "agents"}, {"alice", "ops"}, {"bob", "agents"}, {"alice", "agents"}} {
			if _, err := c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String(m[0]), GroupName: aws.String(m[1])}); err != nil {
				t.Fatalf("add %s to %s: %v", m[0], m[1], err)
			}
		}
		ug, err := c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: pool, Username: aws.String("alice")})
		if err != nil || !slices.Equal(groupNames(ug.Groups), []string{"admins", "agents", "ops"}) || ug.NextToken != nil {
			t.Fatalf("AdminListGroupsForUser = %v %v", ug, err)
		}
		members, err := c.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: pool, GroupName: aws.String("agents")})
		if err != nil || len(members.Users) != 2 || aws.ToString(members.Users[0].Username) != "alice" || aws.ToString(members.Users[1].Username) != "bob" ||
			members.Users[0].UserStatus != types.UserStatusTypeConfirmed || !members.Users[0].Enabled || len(members.Users[0].Attributes) == 0 {
			t.Fatalf("ListUsersInGroup = %+v %v", members, err)
		}

		// Paging: a pool of 7 groups in pages of 3, with the SDK's paginator.
		for i := range 4 {
			if _, err := c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String(fmt.Sprintf("z%d", i))}); err != nil {
				t.Fatal(err)
			}
		}
		var all []string
		pages := 0
		for p := cip.NewListGroupsPaginator(c, &cip.ListGroupsInput{UserPoolId: pool, Limit: aws.Int32(3)}); p.HasMorePages(); pages++ {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, groupNames(page.Groups)...)
		}
		if want := []string{"admins", "agents", "ops", "z0", "z1", "z2", "z3"}; !slices.Equal(all, want) || pages != 3 {
			t.Fatalf("ListGroups in %d pages = %q, want %q", pages, all, want)
		}

		// Tokens: cognito:groups by precedence (ops 1 comes after agents 0;
		// admins has none, so last), in both tokens; roles in the ID token.
		tokens := mustTokens(t)(f.signIn(ctx, c, "alice", "Corr3ct-Horse!"))
		want := []string{"agents", "ops", "admins"}
		access := m2mClaims(t, s, f.poolID, aws.ToString(tokens.AccessToken))
		id := m2mClaims(t, s, f.poolID, aws.ToString(tokens.IdToken))
		if got := claimStrings(t, access, "cognito:groups"); !slices.Equal(got, want) {
			t.Fatalf("access cognito:groups = %q, want %q", got, want)
		}
		if got := claimStrings(t, id, "cognito:groups"); !slices.Equal(got, want) {
			t.Fatalf("ID cognito:groups = %q, want %q", got, want)
		}
		if got := claimStrings(t, id, "cognito:roles"); !slices.Equal(got, []string{role}) || id["cognito:preferred_role"] != role {
			t.Fatalf("ID roles = %q, preferred %v", got, id["cognito:preferred_role"])
		}

		// Removing, deleting a group and deleting a user take memberships
		// away; tokens issued before keep their claim until they expire.
		if _, err := c.AdminRemoveUserFromGroup(ctx, &cip.AdminRemoveUserFromGroupInput{UserPoolId: pool, Username: aws.String("alice"), GroupName: aws.String("ops")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteGroup(ctx, &cip.DeleteGroupInput{UserPoolId: pool, GroupName: aws.String("admins")}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DeleteGroup(ctx, &cip.DeleteGroupInput{UserPoolId: pool, GroupName: aws.String("admins")})
		wantErrorAs[*types.ResourceNotFoundException](t, err)
		refreshed := mustTokens(t)(f.refresh(ctx, c, "alice", aws.ToString(tokens.RefreshToken)))
		if got := claimStrings(t, m2mClaims(t, s, f.poolID, aws.ToString(refreshed.AccessToken)), "cognito:groups"); !slices.Equal(got, []string{"agents"}) {
			t.Fatalf("refreshed cognito:groups = %q", got)
		}
		if _, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: tokens.AccessToken}); err != nil {
			t.Fatalf("the earlier access token: %v", err)
		}
		if _, err := c.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: pool, Username: aws.String("bob")}); err != nil {
			t.Fatal(err)
		}
		members, err = c.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: pool, GroupName: aws.String("agents")})
		if err != nil || len(members.Users) != 1 || aws.ToString(members.Users[0].Username) != "alice" {
			t.Fatalf("agents after bob's deletion = %+v %v", members, err)
		}
		f.createUser(t, ctx, c, "bob", "Batt3ry-Staple!")
		ug, err = c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: pool, Username: aws.String("bob")})
		if err != nil || len(ug.Groups) != 0 {
			t.Fatalf("a re-created bob's groups = %v %v", ug, err)
		}
		bobID := m2mClaims(t, s, f.poolID, aws.ToString(mustTokens(t)(f.signIn(ctx, c, "bob", "Batt3ry-Staple!")).IdToken))
		if _, ok := bobID["cognito:groups"]; ok {
			t.Fatalf("a user in no group has cognito:groups %v", bobID["cognito:groups"])
		}
		assertCleanResponses(t, s)
	})
}

// Ensure ListUsers serves Cognito's prefix filter and the other searchable
// attributes through the official client, paged, with typed errors.
func TestListUsersFilterSDK(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.cognito(t)
		f := newPoolFixture(t, ctx, c, "filters")
		pool := aws.String(f.poolID)
		for i, name := range []string{"py-zed", "py-amy", "other", "py-bea", "PY-upper", "py_under"} {
			f.createUser(t, ctx, c, name, "Corr3ct-Horse!",
				types.AttributeType{Name: aws.String("email"), Value: aws.String(fmt.Sprintf("%s@Example.com", name))},
				types.AttributeType{Name: aws.String("family_name"), Value: aws.String([]string{"Reddy", "Smith"}[i%2])})
		}
		list := func(filter string, limit int32) []string {
			t.Helper()
			var names []string
			for p := cip.NewListUsersPaginator(c, &cip.ListUsersInput{UserPoolId: pool, Filter: aws.String(filter), Limit: aws.Int32(limit)}); p.HasMorePages(); {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("ListUsers %s: %v", filter, err)
				}
				for _, u := range page.Users {
					names = append(names, aws.ToString(u.Username))
				}
			}
			return names
		}
		for _, tc := range []struct {
			filter string
			want   []string
		}{
			{`username ^= "py-"`, []string{"py-amy", "py-bea", "py-zed"}},
			{`username ^= "py_"`, []string{"py_under"}},
			{`email ^= "PY-"`, []string{"py-amy", "py-bea", "PY-upper", "py-zed"}},
			{`family_name = "smith"`, []string{"py-amy", "py-bea", "py_under"}},
			{`cognito:user_status = "confirmed"`, []string{"PY-upper", "other", "py-amy", "py-bea", "py-zed", "py_under"}},
			{`status = "Disabled"`, nil},
		} {
			for _, limit := range []int32{1, 2, 60} {
				if got := list(tc.filter, limit); !slices.Equal(got, tc.want) {
					t.Errorf("%s (limit %d) = %q, want %q", tc.filter, limit, got, tc.want)
				}
			}
		}
		out, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Filter: aws.String(`email ^= "py-a"`), AttributesToGet: []string{"email"}})
		if err != nil || len(out.Users) != 1 || len(out.Users[0].Attributes) != 1 || aws.ToString(out.Users[0].Attributes[0].Value) != "py-amy@Example.com" {
			t.Fatalf("filtered with AttributesToGet = %+v %v", out, err)
		}
		for filter, msg := range map[string]string{
			`custom:team = "blue"`: "Invalid search attribute: custom:team",
			`username ~ "py"`:      "Error while parsing filter.",
			`username ^= py`:       "Error while parsing filter.",
		} {
			_, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Filter: aws.String(filter)})
			if e := wantErrorAs[*types.InvalidParameterException](t, err); e.ErrorMessage() != msg {
				t.Errorf("%s: message %q, want %q", filter, e.ErrorMessage(), msg)
			}
		}
		assertCleanResponses(t, s)
	})
}

// Ensure an agent runtime's JWT authorizer can admit only the members of a
// user-pool group: a custom-claim rule cognito:groups (STRING_ARRAY)
// CONTAINS the group. Membership counts from the next token on, as with
// Cognito: a token issued before a change keeps the groups it carries.
func TestRuntimeAdmitsGroupMembers(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	pool := aws.String(e.pool.poolID)
	if _, err := e.cog.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("agents")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cog.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("agents-readonly")}); err != nil {
		t.Fatal(err)
	}
	rt := e.createRuntime(t, "inv_group", e.agent.srv.URL, e.poolAuthorizer(func(a *ctltypes.CustomJWTAuthorizerConfiguration) {
		a.CustomClaims = append(a.CustomClaims, ctltypes.CustomClaimValidationType{
			InboundTokenClaimName:      aws.String("cognito:groups"),
			InboundTokenClaimValueType: ctltypes.InboundTokenClaimValueTypeStringArray,
			AuthorizingClaimMatchValue: &ctltypes.AuthorizingClaimMatchValueType{
				ClaimMatchOperator: ctltypes.ClaimMatchOperatorTypeContains,
				ClaimMatchValue:    &ctltypes.ClaimMatchValueTypeMemberMatchValueString{Value: "agents"},
			},
		})
	}), nil)
	add := func(user, group string) {
		t.Helper()
		if _, err := e.cog.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String(user), GroupName: aws.String(group)}); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func(user, password string) string {
		t.Helper()
		return aws.ToString(mustTokens(t)(e.pool.signIn(ctx, e.cog, user, password)).AccessToken)
	}
	invoke := func(who, token string, want int) {
		t.Helper()
		resp, body := e.bearer(t, rt, token, `{"prompt":"hi"}`)
		if resp.StatusCode != want {
			t.Fatalf("%s: %d %s, want %d", who, resp.StatusCode, body, want)
		}
		if want != 200 {
			wantInvokeError(t, resp, body, want, "AccessDeniedException")
		}
	}

	add("alice", "agents")
	add("bob", "agents-readonly") // a name that only starts like it
	alice, bob := signIn("alice", "Corr3ct-Horse!"), signIn("bob", "Batt3ry-Staple!")
	invoke("alice, a member", alice, 200)
	invoke("bob, in another group", bob, 403)
	invoke("bob's token from before any group", e.bob, 403)
	if n := e.agent.calls(); n != 1 {
		t.Fatalf("the agent was called %d times, want alice's one", n)
	}

	// Bob joins: his current token still lacks the group; his next has it.
	add("bob", "agents")
	invoke("bob's earlier token", bob, 403)
	invoke("bob signed in again", signIn("bob", "Batt3ry-Staple!"), 200)

	// Alice leaves: her next token is refused; the one she holds carries
	// the group until it expires, as Cognito's does.
	if _, err := e.cog.AdminRemoveUserFromGroup(ctx, &cip.AdminRemoveUserFromGroupInput{UserPoolId: pool, Username: aws.String("alice"), GroupName: aws.String("agents")}); err != nil {
		t.Fatal(err)
	}
	invoke("alice signed in again", signIn("alice", "Corr3ct-Horse!"), 403)
	invoke("alice's earlier token", alice, 200)
	if n := e.agent.calls(); n != 3 {
		t.Fatalf("the agent was called %d times, want the 3 admitted calls", n)
	}
}
