package userpool_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
)

// listUsers runs ListUsers with a filter, walking every page of size, and
// returns the usernames in order.
func (e *env) listUsers(tb testing.TB, poolID, filter string, size int) []string {
	tb.Helper()
	var out []string
	page := behalf.PageRequest{MaxResults: size}
	for range 100 {
		users, next, err := e.svc.ListUsers(e.ctx, poolID, page, filter)
		if err != nil {
			tb.Fatalf("ListUsers(%q): %v", filter, err)
		}
		for _, u := range users {
			out = append(out, u.Username)
		}
		if next == "" {
			return out
		}
		page.NextToken = next
	}
	tb.Fatalf("ListUsers(%q) never ends", filter)
	return nil
}

// Ensure ListUsers filters as Cognito documents: = and ^= on each
// searchable attribute, results by the attribute and then username, paged.
func TestListUsersFilters(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testListUsersFilters(t, newEnv(t)) })
	t.Run("Postgres", func(t *testing.T) { testListUsersFilters(t, postgresEnv(t)) })
}

func testListUsersFilters(t *testing.T, e *env) {
	p := e.pool(t)
	e.user(t, p.ID, "py-alice", map[string]string{"email": "alice@example.com", "given_name": "Alice", "family_name": "Reddy", "phone_number": "+13125550001"})
	e.user(t, p.ID, "py-bob", map[string]string{"email": "Bob@Example.com", "given_name": "bob", "family_name": "Reddy", "preferred_username": "bobby"})
	e.user(t, p.ID, "carol", map[string]string{"email": "carol@example.org", "name": "Carol Reddy", "family_name": "O'Brien"})
	if _, _, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{PoolID: p.ID, Username: "py-dave", TemporaryPassword: testPassword}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AdminDisableUser(e.ctx, p.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{`username ^= "py-"`, []string{"py-alice", "py-bob", "py-dave"}},
		{`username^="py-"`, []string{"py-alice", "py-bob", "py-dave"}},
		{`username ^= "PY-"`, nil},
		{`username = "carol"`, []string{"carol"}},
		{`email ^= "B"`, []string{"py-bob"}},
		{`email = "ALICE@example.com"`, []string{"py-alice"}},
		{`email ^= ""`, []string{"py-alice", "py-bob", "carol"}},
		{`given_name ^= "b"`, []string{"py-bob"}},
		// By the attribute, then username.
		{`family_name = "reddy"`, []string{"py-alice", "py-bob"}},
		{`family_name ^= ""`, []string{"carol", "py-alice", "py-bob"}},
		{`family_name ^= "O'"`, []string{"carol"}},
		{`name ^= "carol r"`, []string{"carol"}},
		{`preferred_username = "bobby"`, []string{"py-bob"}},
		{`phone_number ^= "+1312"`, []string{"py-alice"}},
		{`cognito:user_status = "force_change_password"`, []string{"py-dave"}},
		{`cognito:user_status ^= "CONF"`, []string{"carol", "py-alice", "py-bob"}},
		{`status = "Disabled"`, []string{"carol"}},
		{`status = "Enabled"`, []string{"py-alice", "py-bob", "py-dave"}},
		{`status = "enabled"`, nil},
		{`   `, []string{"carol", "py-alice", "py-bob", "py-dave"}},
	} {
		for _, size := range []int{0, 1, 2} {
			if got := e.listUsers(t, p.ID, c.filter, size); !slices.Equal(got, c.want) {
				t.Errorf("filter %s (pages of %d) = %q, want %q", c.filter, size, got, c.want)
			}
		}
	}
	alice, err := e.svc.AdminGetUser(e.ctx, p.ID, "py-alice")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.listUsers(t, p.ID, `sub = "`+strings.ToUpper(alice.Sub)+`"`, 0); !slices.Equal(got, []string{"py-alice"}) {
		t.Errorf("sub = %q", got)
	}
	if got := e.listUsers(t, p.ID, `sub ^= "`+alice.Sub[:8]+`"`, 0); !slices.Equal(got, []string{"py-alice"}) {
		t.Errorf("sub ^= %q", got)
	}
	// A filtered page's token does not serve another listing.
	users, next, err := e.svc.ListUsers(e.ctx, p.ID, behalf.PageRequest{MaxResults: 1}, `username ^= "py-"`)
	if err != nil || len(users) != 1 || next == "" {
		t.Fatalf("first page: %v %q %v", users, next, err)
	}
	_, next2, err := e.svc.ListUsers(e.ctx, p.ID, behalf.PageRequest{MaxResults: 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.svc.ListUsers(e.ctx, p.ID, behalf.PageRequest{NextToken: next2}, `username ^= "py-"`)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "The pagination token is invalid.")
}

func TestListUsersFilterErrors(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	for _, c := range []struct{ filter, msg string }{
		{`custom:team = "blue"`, "Invalid search attribute: custom:team"},
		{`locale = "en"`, "Invalid search attribute: locale"},
		{`Email = "a"`, "Invalid search attribute: Email"},
		{`email == "a"`, "Error while parsing filter."},
		{`email ~ "a"`, "Error while parsing filter."},
		{`email = a`, "Error while parsing filter."},
		{`email = "a" and name = "b"`, "Error while parsing filter."},
		{`email = "a`, "Error while parsing filter."},
		{`email = "a\q"`, "Error while parsing filter."},
		{`email`, "Error while parsing filter."},
		{`= "a"`, "Error while parsing filter."},
		{`email ^ = "a"`, "Error while parsing filter."},
		{`email = "` + strings.Repeat("a", 250) + `"`, "1 validation error detected: Value at 'filter' failed to satisfy constraint: Member must have length less than or equal to 256"},
	} {
		_, _, err := e.svc.ListUsers(e.ctx, p.ID, behalf.PageRequest{}, c.filter)
		wantCognito(t, err, behalf.CognitoInvalidParameter, c.msg)
	}
}

// Ensure attribute values hold no NUL: PostgreSQL text cannot, and the
// search indexes read attributes as jsonb, which cannot either.
func TestAttributeNUL(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	_, _, err := e.svc.AdminCreateUser(e.ctx, behalf.AdminCreateUserInput{
		PoolID: p.ID, Username: "alice", Attributes: map[string]string{"name": "a\x00b"}, MessageAction: "SUPPRESS",
	})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "Attribute name must be valid UTF-8 of at most 2048 characters, without NUL.")
}
