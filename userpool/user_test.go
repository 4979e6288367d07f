package userpool_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
)

var uuidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestUserCRUD(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	u, temp, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{
		PoolID: p.ID, Username: "alice", Attributes: map[string]string{"email": "alice@example.com", "email_verified": "true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != behalf.UserForceChangePassword || !u.Enabled || !uuidShape.MatchString(u.Sub) || u.Attributes["sub"] != u.Sub {
		t.Errorf("created user %+v", u)
	}
	if u.PasswordHash != "" {
		t.Error("AdminCreateUser returned the password hash")
	}
	if temp.IsZero() {
		t.Fatal("no generated temporary password")
	}
	_, _, err = e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "alice", TemporaryPassword: testPassword})
	wantCognito(t, err, behalf.CognitoUsernameExists, "")

	got, err := e.svc.AdminGetUser(e.ctx, p.ID, "alice")
	if err != nil || got.Sub != u.Sub || got.Attributes["email"] != "alice@example.com" {
		t.Fatalf("AdminGetUser = %+v, %v", got, err)
	}
	_, err = e.svc.AdminGetUser(e.ctx, p.ID, "bob")
	wantCognito(t, err, behalf.CognitoUserNotFound, "User does not exist.")

	e.user(t, p.ID, "bob", map[string]string{"email": "bob@example.com"})
	users, next, err := e.svc.ListUsers(e.ctx, p.ID, behalf.PageRequest{MaxResults: 1}, "")
	if err != nil || len(users) != 1 || users[0].Username != "alice" || next == "" {
		t.Fatalf("ListUsers page 1 = %d users, next %q, %v", len(users), next, err)
	}
	users, next, err = e.svc.ListUsers(e.ctx, p.ID, behalf.PageRequest{MaxResults: 1, NextToken: next}, "")
	if err != nil || len(users) != 1 || users[0].Username != "bob" || next != "" {
		t.Fatalf("ListUsers page 2 = %+v, next %q, %v", users, next, err)
	}

	if err := e.svc.AdminDisableUser(e.ctx, p.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.AdminGetUser(e.ctx, p.ID, "alice"); got.Enabled {
		t.Error("AdminDisableUser left the user enabled")
	}
	if err := e.svc.AdminEnableUser(e.ctx, p.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.AdminGetUser(e.ctx, p.ID, "alice"); !got.Enabled {
		t.Error("AdminEnableUser left the user disabled")
	}
	if err := e.svc.AdminDeleteUser(e.ctx, p.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AdminGetUser(e.ctx, p.ID, "alice")
	wantCognito(t, err, behalf.CognitoUserNotFound, "")
	wantCognito(t, e.svc.AdminDeleteUser(e.ctx, p.ID, "alice"), behalf.CognitoUserNotFound, "")
	_, _, err = e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: "us-east-1_nothere12", Username: "x"})
	wantCognito(t, err, behalf.CognitoResourceNotFound, "")
}

func TestGeneratedPasswordSignsIn(t *testing.T) {
	e := newEnv(t)
	policy := behalf.PasswordPolicy{MinimumLength: 20, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true}
	p, err := e.svc.CreateUserPool(e.ctx, behalf.CreateUserPoolInput{Name: "strict", PasswordPolicy: &policy})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := e.client(t, p.ID, false)
	for i := range 20 {
		name := fmt.Sprintf("u%d", i)
		_, temp, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: name})
		if err != nil {
			t.Fatal(err)
		}
		if len(temp.Reveal()) < 20 {
			t.Fatalf("generated password of %d chars, policy wants 20", len(temp.Reveal()))
		}
		res, err := e.signIn(c, "", name, temp)
		if err != nil || res.ChallengeName != behalf.ChallengeNewPasswordRequired {
			t.Fatalf("sign in with generated password: %+v, %v", res, err)
		}
	}
}

func TestFilterUsers(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	alice := e.user(t, p.ID, "alice", map[string]string{"email": "alice@example.com"})
	e.user(t, p.ID, "bob", map[string]string{"email": "bob@example.com"})
	for _, f := range []string{`email = "alice@example.com"`, `username="alice"`, `sub = "` + alice.Sub + `"`, `  email  =  "alice@example.com"  `} {
		users, _, err := e.svc.ListUsers(e.ctx, p.ID, behalf.PageRequest{}, f)
		if err != nil || len(users) != 1 || users[0].Username != "alice" {
			t.Errorf("filter %s: %d users, %v", f, len(users), err)
		}
	}
	users, _, err := e.svc.ListUsers(e.ctx, p.ID, behalf.PageRequest{}, `email = "nobody@example.com"`)
	if err != nil || len(users) != 0 {
		t.Errorf("no match: %d users, %v", len(users), err)
	}
	for _, f := range []string{`email = alice`, `email = "a" x`, `nonsense`, `custom:x = "1"`, `email = "a\q"`} {
		_, _, err := e.svc.ListUsers(e.ctx, p.ID, behalf.PageRequest{}, f)
		wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	}
	users, _, err = e.svc.ListUsers(e.ctx, p.ID, behalf.PageRequest{}, `username = "qu\"ote"`)
	if err != nil || len(users) != 0 {
		t.Errorf("escaped quote: %v", err)
	}
}

func TestAttributeValidation(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	for name, attrs := range map[string]map[string]string{
		"sub":          {"sub": "x"},
		"unknown":      {"favourite_colour": "blue"},
		"bad email":    {"email": "not-an-email"},
		"bad phone":    {"phone_number": "555-1234"},
		"bad verified": {"email_verified": "yes"},
		"long value":   {"name": strings.Repeat("x", 2049)},
	} {
		_, _, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "u", Attributes: attrs})
		if behalf.CognitoException(err) != behalf.CognitoInvalidParameter {
			t.Errorf("%s: err = %v, want InvalidParameterException", name, err)
		}
	}
	for _, name := range []string{"", "a b", strings.Repeat("x", 129), "tab\t"} {
		_, _, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: name})
		wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	}
	if _, _, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "c", Attributes: map[string]string{"custom:team": "x"}}); err != nil {
		t.Errorf("custom attribute: %v", err)
	}
}

func TestPasswordPolicyEnforced(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	e.user(t, p.ID, "alice", nil)
	for pw, reason := range map[string]string{
		"Sh0rt!":             "Password not long enough",
		"ALLUPPER123!":       "Password must have lowercase characters",
		"alllower123!":       "Password must have uppercase characters",
		"NoNumbersHere!":     "Password must have numeric characters",
		"NoSymbols123":       "Password must have symbol characters",
		" Leading-space-1A ": "Password must not begin or end with whitespace",
	} {
		err := e.svc.AdminSetUserPassword(e.ctx, p.ID, "alice", behalf.Secret(pw), true)
		wantCognito(t, err, behalf.CognitoInvalidPassword, "Password did not conform with policy: "+reason)
		_, _, err = e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "new", TemporaryPassword: behalf.Secret(pw)})
		wantCognito(t, err, behalf.CognitoInvalidPassword, "")
	}
	err := e.svc.AdminSetUserPassword(e.ctx, p.ID, "alice", behalf.Secret(strings.Repeat("aA1!", 65)), true)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	if err := e.svc.AdminSetUserPassword(e.ctx, p.ID, "alice", "With space 1A!", true); err != nil {
		t.Errorf("a space inside counts as a symbol: %v", err)
	}

	relaxed := behalf.PasswordPolicy{MinimumLength: 6}
	if _, err := e.svc.UpdateUserPool(e.ctx, behalf.UpdateUserPoolInput{PoolID: p.ID, PasswordPolicy: &relaxed}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AdminSetUserPassword(e.ctx, p.ID, "alice", "simple", true); err != nil {
		t.Errorf("relaxed policy: %v", err)
	}
}

func TestEmailUsernamePool(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t, "email")
	c, secret := e.client(t, p.ID, true)
	u, _, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "carol@example.com", TemporaryPassword: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != u.Sub || u.Attributes["email"] != "carol@example.com" {
		t.Fatalf("email-username user: username %q sub %q email %q", u.Username, u.Sub, u.Attributes["email"])
	}
	_, _, err = e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "carol@example.com"})
	wantCognito(t, err, behalf.CognitoUsernameExists, "")
	_, _, err = e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "carol"})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")

	if err := e.svc.AdminSetUserPassword(e.ctx, p.ID, "carol@example.com", testPassword, true); err != nil {
		t.Fatal(err)
	}
	tokens := e.mustSignIn(t, c, secret, "carol@example.com")
	// The refresh SECRET_HASH may use the sub (the real username) or the email.
	for _, name := range []string{u.Sub, "carol@example.com"} {
		if _, err := e.refresh(c, secret, name, tokens.RefreshToken); err != nil {
			t.Errorf("refresh with SECRET_HASH over %s: %v", name, err)
		}
	}
}
