package userpool_test

import (
	"regexp"
	"testing"

	"github.com/behalf-dev/behalf"
)

var poolIDShape = regexp.MustCompile(`^us-east-1_[0-9A-Za-z]{9}$`)

func TestPoolCRUD(t *testing.T) {
	e := newEnv(t)
	p, err := e.svc.CreateUserPool(e.ctx, behalf.CreateUserPoolInput{
		Name: "agents", MFAConfiguration: "OFF", Tags: map[string]string{"team": "ai"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !poolIDShape.MatchString(p.ID) {
		t.Errorf("pool id %q is not {region}_{9 alphanumerics}", p.ID)
	}
	if p.PasswordPolicy != behalf.DefaultPasswordPolicy {
		t.Errorf("policy = %+v, want the default", p.PasswordPolicy)
	}
	got, err := e.svc.DescribeUserPool(e.ctx, p.ID)
	if err != nil || got.Name != "agents" || got.Tags["team"] != "ai" {
		t.Fatalf("DescribeUserPool = %+v, %v", got, err)
	}

	policy := behalf.PasswordPolicy{MinimumLength: 12, RequireNumbers: true}
	up, err := e.svc.UpdateUserPool(e.ctx, behalf.UpdateUserPoolInput{PoolID: p.ID, PasswordPolicy: &policy})
	if err != nil {
		t.Fatal(err)
	}
	if up.PasswordPolicy.MinimumLength != 12 || up.PasswordPolicy.RequireSymbols || up.PasswordPolicy.TemporaryPasswordValidityDays != 7 {
		t.Errorf("updated policy = %+v", up.PasswordPolicy)
	}
	if up.Tags["team"] != "ai" {
		t.Errorf("nil tags changed the tags: %v", up.Tags)
	}
	_, err = e.svc.UpdateUserPool(e.ctx, behalf.UpdateUserPoolInput{PoolID: p.ID, MFAConfiguration: "ON"})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")

	if err := e.svc.DeleteUserPool(e.ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.DescribeUserPool(e.ctx, p.ID)
	wantCognito(t, err, behalf.CognitoResourceNotFound, "User pool "+p.ID+" does not exist.")
	wantCognito(t, e.svc.DeleteUserPool(e.ctx, p.ID), behalf.CognitoResourceNotFound, "")
}

func TestListUserPoolsPages(t *testing.T) {
	e := newEnv(t)
	for range 3 {
		e.pool(t)
	}
	var ids []string
	req := behalf.PageRequest{MaxResults: 2}
	for {
		pools, next, err := e.svc.ListUserPools(e.ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pools {
			ids = append(ids, p.ID)
		}
		if next == "" {
			break
		}
		req.NextToken = next
	}
	if len(ids) != 3 {
		t.Fatalf("listed %v, want 3 pools", ids)
	}
	_, _, err := e.svc.ListUserPools(e.ctx, behalf.PageRequest{MaxResults: 61})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	_, _, err = e.svc.ListUserPools(e.ctx, behalf.PageRequest{NextToken: "garbage!"})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
}

func TestCreateUserPoolValidation(t *testing.T) {
	e := newEnv(t)
	for name, in := range map[string]behalf.CreateUserPoolInput{
		"no name":        {},
		"bad name":       {Name: "a/b"},
		"mfa":            {Name: "p", MFAConfiguration: "OPTIONAL"},
		"username attr":  {Name: "p", UsernameAttributes: []string{"name"}},
		"short policy":   {Name: "p", PasswordPolicy: &behalf.PasswordPolicy{MinimumLength: 5}},
		"long policy":    {Name: "p", PasswordPolicy: &behalf.PasswordPolicy{MinimumLength: 100}},
		"negative temp":  {Name: "p", PasswordPolicy: &behalf.PasswordPolicy{TemporaryPasswordValidityDays: -1}},
		"duplicate attr": {Name: "p", UsernameAttributes: []string{"email", "email"}},
	} {
		_, err := e.svc.CreateUserPool(e.ctx, in)
		if behalf.CognitoException(err) != behalf.CognitoInvalidParameter || behalf.ErrorCode(err) != behalf.EINVALID {
			t.Errorf("%s: err = %v, want InvalidParameterException (EINVALID)", name, err)
		}
	}
}

func TestCognitoErrorCodes(t *testing.T) {
	err := behalf.CognitoErrorf(behalf.CognitoNotAuthorized, "Incorrect username or password.")
	if behalf.ErrorCode(err) != behalf.EUNAUTHORIZED || behalf.ErrorMessage(err) != "Incorrect username or password." {
		t.Fatalf("code %s message %q", behalf.ErrorCode(err), behalf.ErrorMessage(err))
	}
	if behalf.CognitoException(err) != behalf.CognitoNotAuthorized {
		t.Fatal("exception lost")
	}
	if behalf.CognitoException(behalf.Errorf(behalf.ENOTFOUND, "x")) != behalf.CognitoResourceNotFound {
		t.Fatal("ENOTFOUND does not map to ResourceNotFoundException")
	}
}
