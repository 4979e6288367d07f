package api

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// groupPools records the group inputs it is given and answers with a
// fixed group.
type groupPools struct {
	behalf.UserPoolService
	in   behalf.GroupInput
	page behalf.PageRequest
}

var testGroupTime = time.Date(2030, 1, 2, 3, 4, 5, 678e6, time.UTC)

func (p *groupPools) group(in behalf.GroupInput) *behalf.PoolGroup {
	g := &behalf.PoolGroup{PoolID: in.PoolID, Name: in.Name, CreatedAt: testGroupTime, UpdatedAt: testGroupTime}
	if in.Description != nil {
		g.Description = *in.Description
	}
	if in.Precedence != nil {
		v := int32(*in.Precedence)
		g.Precedence = &v
	}
	if in.RoleARN != nil {
		g.RoleARN = *in.RoleARN
	}
	return g
}

func (p *groupPools) CreateGroup(ctx context.Context, in behalf.GroupInput) (*behalf.PoolGroup, error) {
	p.in = in
	return p.group(in), nil
}

func (p *groupPools) UpdateGroup(ctx context.Context, in behalf.GroupInput) (*behalf.PoolGroup, error) {
	p.in = in
	return p.group(in), nil
}

func (p *groupPools) ListGroups(ctx context.Context, poolID string, page behalf.PageRequest) ([]*behalf.PoolGroup, string, error) {
	p.page = page
	return []*behalf.PoolGroup{p.group(behalf.GroupInput{PoolID: poolID, Name: "g"})}, "next", nil
}

func (p *groupPools) ListUsersInGroup(ctx context.Context, poolID, group string, page behalf.PageRequest) ([]*behalf.PoolUser, string, error) {
	p.page = page
	return nil, "", nil
}

// Ensure the group operations read Cognito's members (absent ones nil, so
// that UpdateGroup keeps them) and write GroupType with its optional
// members omitted when unset.
func TestCognitoGroupWire(t *testing.T) {
	pools := &groupPools{}
	s := &Server{UserPools: pools, CognitoAuth: allowAll{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	resp, body := cognitoCall(t, s, "CreateGroup", `{"UserPoolId":"us-east-1_x","GroupName":"g","Description":"d","Precedence":0,"RoleArn":"arn:aws:iam::1:role/r"}`)
	if resp.StatusCode != 200 || pools.in.Description == nil || *pools.in.Description != "d" || pools.in.Precedence == nil || *pools.in.Precedence != 0 || pools.in.RoleARN == nil {
		t.Fatalf("CreateGroup: %d %v, input %+v", resp.StatusCode, body, pools.in)
	}
	g := body["Group"].(map[string]any)
	if g["GroupName"] != "g" || g["UserPoolId"] != "us-east-1_x" || g["Precedence"] != float64(0) || g["Description"] != "d" ||
		g["CreationDate"] != 1893553445.678 || g["LastModifiedDate"] != 1893553445.678 {
		t.Fatalf("Group = %v", g)
	}

	resp, body = cognitoCall(t, s, "UpdateGroup", `{"UserPoolId":"us-east-1_x","GroupName":"g"}`)
	if resp.StatusCode != 200 || pools.in.Description != nil || pools.in.Precedence != nil || pools.in.RoleARN != nil {
		t.Fatalf("UpdateGroup with nothing: %d, input %+v", resp.StatusCode, pools.in)
	}
	g = body["Group"].(map[string]any)
	for _, k := range []string{"Precedence", "Description", "RoleArn"} {
		if _, ok := g[k]; ok {
			t.Errorf("unset %s is sent: %v", k, g)
		}
	}
	cognitoCall(t, s, "UpdateGroup", `{"UserPoolId":"us-east-1_x","GroupName":"g","Description":""}`)
	if pools.in.Description == nil || *pools.in.Description != "" {
		t.Fatalf("an empty Description is not absent: %+v", pools.in)
	}
	// An out-of-range precedence reaches the service, which words it.
	cognitoCall(t, s, "UpdateGroup", `{"UserPoolId":"us-east-1_x","GroupName":"g","Precedence":4294967296}`)
	if pools.in.Precedence == nil || *pools.in.Precedence != 1<<32 {
		t.Fatalf("Precedence 2^32 = %+v", pools.in)
	}

	resp, body = cognitoCall(t, s, "ListGroups", `{"UserPoolId":"us-east-1_x","Limit":7,"NextToken":"tok"}`)
	if resp.StatusCode != 200 || pools.page != (behalf.PageRequest{NextToken: "tok", MaxResults: 7}) || body["NextToken"] != "next" || len(body["Groups"].([]any)) != 1 {
		t.Fatalf("ListGroups: %d %v, page %+v", resp.StatusCode, body, pools.page)
	}
	resp, body = cognitoCall(t, s, "ListUsersInGroup", `{"UserPoolId":"us-east-1_x","GroupName":"g"}`)
	if users, ok := body["Users"].([]any); resp.StatusCode != 200 || !ok || len(users) != 0 || body["NextToken"] != nil {
		t.Fatalf("ListUsersInGroup: %d %v", resp.StatusCode, body)
	}

	for op, req := range map[string]string{
		"CreateGroup":              `{"UserPoolId":"us-east-1_x"}`,
		"GetGroup":                 `{"GroupName":"g"}`,
		"DeleteGroup":              `{}`,
		"AdminAddUserToGroup":      `{"UserPoolId":"us-east-1_x","GroupName":"g"}`,
		"AdminRemoveUserFromGroup": `{"UserPoolId":"us-east-1_x","Username":"u"}`,
		"AdminListGroupsForUser":   `{"UserPoolId":"us-east-1_x"}`,
		"ListUsersInGroup":         `{"UserPoolId":"us-east-1_x"}`,
		"ListGroups":               `{}`,
	} {
		resp, body := cognitoCall(t, s, op, req)
		if resp.StatusCode != 400 || body["__type"] != "InvalidParameterException" {
			t.Errorf("%s without a required member: %d %v", op, resp.StatusCode, body)
		}
	}
	resp, body = cognitoCall(t, s, "CreateGroup", `{"UserPoolId":"us-east-1_x","GroupName":"g","Precedence":"high"}`)
	if resp.StatusCode != 400 || body["__type"] != "SerializationException" {
		t.Fatalf("a string Precedence: %d %v", resp.StatusCode, body)
	}
}
