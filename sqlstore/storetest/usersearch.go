package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
)

// searchUser is a fixture of the search tests: a user of pool A with the
// given username and attributes (no email or phone number unless given).
func searchUser(t *testing.T, s behalf.Store, username, status string, enabled bool, attrs map[string]string) {
	t.Helper()
	u := newPoolUser(poolA, username, "sub-"+strings.ToLower(username))
	u.Attributes = attrs
	u.Status = status
	u.Enabled = enabled
	createPoolUser(t, s, u)
}

// search runs a query on pool A and returns the usernames it finds.
func search(t *testing.T, s behalf.Store, q behalf.PoolUserQuery) []string {
	t.Helper()
	us, err := s.SearchPoolUsers(t.Context(), poolA, q)
	if err != nil {
		t.Fatalf("SearchPoolUsers(%+v): %v", q, err)
	}
	for _, u := range us {
		if u.PoolID != poolA {
			t.Fatalf("SearchPoolUsers(%+v) found a user of pool %s", q, u.PoolID)
		}
	}
	return names(us, func(u *behalf.PoolUser) string { return u.Username })
}

// testSearchPoolUsers checks SearchPoolUsers: each searchable attribute
// with = and ^=, case folding, characters LIKE would treat as patterns,
// the order and its cursor, and pool isolation.
func testSearchPoolUsers(t *testing.T, open openFunc) {
	s := open(t)
	createUserPool(t, s, newUserPool(poolA))
	createUserPool(t, s, newUserPool(poolB))
	confirmed, force := behalf.UserConfirmed, behalf.UserForceChangePassword
	searchUser(t, s, "py-alice", confirmed, true, map[string]string{
		"email": "Alice@Example.com", "phone_number": "+13125550001", "name": "Alice Liddell",
		"given_name": "Alice", "family_name": "Liddell", "preferred_username": "ally",
	})
	searchUser(t, s, "py-bob", force, true, map[string]string{
		"email": "bob@example.com", "phone_number": "+13125550002", "name": "Bob Reddy",
		"given_name": "Bob", "family_name": "Reddy", "preferred_username": "100%_real",
	})
	searchUser(t, s, "PY-carol", confirmed, false, map[string]string{
		"email": "carol@example.org", "phone_number": "+14155550003", "name": "Élodie Reddy",
		"given_name": "Élodie", "family_name": "reddy", "preferred_username": `back\slash`,
	})
	searchUser(t, s, "dave", confirmed, true, map[string]string{"email": "dave@example.com", "family_name": ""})
	searchUser(t, s, "py_erin", confirmed, true, map[string]string{"given_name": "\U0010FFFF\U0010FFFFx", "name": "\ud7ffz"})
	// Pool B has a user matching everything, who must never be found.
	other := newPoolUser(poolB, "py-alice", "sub-py-alice")
	other.Attributes = map[string]string{"email": "alice@example.com", "family_name": "Reddy", "name": "Alice Liddell"}
	createPoolUser(t, s, other)

	cases := []struct {
		attr, value string
		prefix      bool
		want        []string // in the order of the sort key, then username
	}{
		// username: exact and case-sensitive; _ and % are not patterns.
		{"username", "py-alice", false, []string{"py-alice"}},
		{"username", "PY-ALICE", false, nil},
		{"username", "py-", true, []string{"py-alice", "py-bob"}},
		{"username", "PY-", true, []string{"PY-carol"}},
		{"username", "py_", true, []string{"py_erin"}},
		{"username", "py%", true, nil},
		{"username", "", true, []string{"PY-carol", "dave", "py-alice", "py-bob", "py_erin"}},
		{"username", "", false, nil},
		// email: ASCII case ignored, ordered by the folded value.
		{"email", "alice@example.com", false, []string{"py-alice"}},
		{"email", "ALICE@EXAMPLE.COM", false, []string{"py-alice"}},
		{"email", "a", true, []string{"py-alice"}},
		{"email", "", true, []string{"py-alice", "py-bob", "PY-carol", "dave"}},
		{"email", "b", true, []string{"py-bob"}},
		{"email", "bob@example.co", false, nil},
		{"phone_number", "+1312", true, []string{"py-alice", "py-bob"}},
		{"phone_number", "+14155550003", false, []string{"PY-carol"}},
		// Attributes read from the JSON.
		{"family_name", "reddy", false, []string{"PY-carol", "py-bob"}},
		{"family_name", "REDDY", false, []string{"PY-carol", "py-bob"}},
		{"family_name", "Red", true, []string{"PY-carol", "py-bob"}},
		{"family_name", "", false, nil},
		{"family_name", "", true, []string{"py-alice", "PY-carol", "py-bob"}},
		{"given_name", "alice", false, []string{"py-alice"}},
		// Only ASCII letters fold: É is not é.
		{"given_name", "élodie", false, nil},
		{"given_name", "ÉLODIE", false, []string{"PY-carol"}},
		{"given_name", "É", true, []string{"PY-carol"}},
		// Prefixes ending in U+10FFFF, and one before the surrogates.
		{"given_name", "\U0010FFFF", true, []string{"py_erin"}},
		{"given_name", "\U0010FFFF\U0010FFFF", true, []string{"py_erin"}},
		{"name", "\ud7ff", true, []string{"py_erin"}},
		{"name", "alice l", true, []string{"py-alice"}},
		{"name", "b", true, []string{"py-bob"}},
		{"preferred_username", "100%", true, []string{"py-bob"}},
		{"preferred_username", "100_", true, nil},
		{"preferred_username", "10%", true, nil},
		{"preferred_username", `back\`, true, []string{"PY-carol"}},
		{"preferred_username", `back\slash`, false, []string{"PY-carol"}},
		{"preferred_username", `back%`, true, nil},
		// cognito:user_status ignores case; status does not.
		{"cognito:user_status", "CONFIRMED", false, []string{"PY-carol", "dave", "py-alice", "py_erin"}},
		{"cognito:user_status", "confirmed", false, []string{"PY-carol", "dave", "py-alice", "py_erin"}},
		{"cognito:user_status", "force", true, []string{"py-bob"}},
		{"cognito:user_status", "", true, []string{"PY-carol", "dave", "py-alice", "py_erin", "py-bob"}},
		{"status", "Enabled", false, []string{"dave", "py-alice", "py-bob", "py_erin"}},
		{"status", "enabled", false, nil},
		{"status", "Disabled", false, []string{"PY-carol"}},
		{"status", "Dis", true, []string{"PY-carol"}},
		{"status", "", true, []string{"PY-carol", "dave", "py-alice", "py-bob", "py_erin"}},
		{"status", "Enabledx", true, nil},
		// sub ignores case (subs are lower case).
		{"sub", "sub-py-bob", false, []string{"py-bob"}},
		{"sub", "SUB-PY-BOB", false, []string{"py-bob"}},
		{"sub", "sub-py", true, []string{"py-alice", "py-bob", "PY-carol", "py_erin"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %s %q", c.attr, map[bool]string{false: "=", true: "^="}[c.prefix], c.value), func(t *testing.T) {
			q := behalf.PoolUserQuery{Attribute: c.attr, Value: c.value, Prefix: c.prefix}
			got := search(t, s, q)
			wantNames(t, "found", got, c.want)
			if len(c.want) < 2 {
				return
			}
			// Walk the same results one at a time with the cursor.
			var walked []string
			q.Limit = 1
			for range len(c.want) + 1 {
				page, err := s.SearchPoolUsers(t.Context(), poolA, q)
				ok(t, err)
				if len(page) == 0 {
					break
				}
				u := page[0]
				walked = append(walked, u.Username)
				q.After = &behalf.PoolUserCursor{Key: behalf.PoolUserSortKey(c.attr, u), Username: u.Username}
			}
			wantNames(t, "walked one by one", walked, c.want)
			q.After, q.Limit = nil, 2
			wantNames(t, "first two", search(t, s, q), c.want[:2])
		})
	}
	t.Run("SortKey", func(t *testing.T) {
		// The order is the sort keys': check it against PoolUserSortKey.
		for _, attr := range behalf.SearchAttributes {
			us, err := s.SearchPoolUsers(t.Context(), poolA, behalf.PoolUserQuery{Attribute: attr, Prefix: true})
			ok(t, err)
			sorted := slices.IsSortedFunc(us, func(a, b *behalf.PoolUser) int {
				if c := strings.Compare(behalf.PoolUserSortKey(attr, a), behalf.PoolUserSortKey(attr, b)); c != 0 {
					return c
				}
				return strings.Compare(a.Username, b.Username)
			})
			if !sorted {
				t.Errorf("%s: order %q is not the sort keys'", attr, names(us, func(u *behalf.PoolUser) string { return u.Username }))
			}
		}
	})
	t.Run("ErrAttribute", func(t *testing.T) {
		for _, attr := range []string{"custom:team", "email_verified", "locale", "", "Username"} {
			_, err := s.SearchPoolUsers(t.Context(), poolA, behalf.PoolUserQuery{Attribute: attr, Value: "x"})
			wantCode(t, err, behalf.EINVALID)
		}
	})
	t.Run("MissingPool", func(t *testing.T) {
		us, err := s.SearchPoolUsers(t.Context(), "us-east-1_nopool", behalf.PoolUserQuery{Attribute: "username", Prefix: true})
		ok(t, err)
		if len(us) != 0 {
			t.Fatalf("a missing pool has %d users", len(us))
		}
	})
	t.Run("Whole", func(t *testing.T) {
		us, err := s.SearchPoolUsers(t.Context(), poolA, behalf.PoolUserQuery{Attribute: "username", Value: "py-alice"})
		ok(t, err)
		want := newPoolUser(poolA, "py-alice", "sub-py-alice")
		want.Attributes = getPoolUser(t, s, poolA, "py-alice").Attributes
		wantEqualList(t, "found", us, []*behalf.PoolUser{want})
	})
}
