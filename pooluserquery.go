package behalf

import (
	"encoding/json"
	"strings"
)

// The attributes ListUsers filters on (Cognito's searchable attributes).
// Custom attributes are not searchable.
const (
	SearchUsername          = "username"
	SearchSub               = "sub"
	SearchEmail             = "email"
	SearchPhoneNumber       = "phone_number"
	SearchName              = "name"
	SearchGivenName         = "given_name"
	SearchFamilyName        = "family_name"
	SearchPreferredUsername = "preferred_username"
	SearchUserStatus        = "cognito:user_status" // the user's Status
	SearchStatus            = "status"              // "Enabled" or "Disabled"
)

// SearchAttributes lists the attributes a PoolUserQuery may name.
var SearchAttributes = []string{
	SearchUsername, SearchEmail, SearchPhoneNumber, SearchName, SearchGivenName, SearchFamilyName,
	SearchPreferredUsername, SearchUserStatus, SearchStatus, SearchSub,
}

// Values of the status search attribute.
const (
	StatusEnabled  = "Enabled"
	StatusDisabled = "Disabled"
)

// PoolUserQuery selects users of a pool by one attribute: those whose
// value equals Value or, with Prefix, starts with it. Values compare as
// Cognito documents: username and status exactly; cognito:user_status,
// sub and the other attributes without regard to the case of ASCII letters
// (FoldASCII; no other case folding). A user without the attribute, or
// with it empty, never matches; Value "" matches no one, and Prefix with
// Value "" every user with a non-empty value.
//
// Users come ordered by their sort key (PoolUserSortKey), bytewise, then by
// username: Cognito sorts filtered results by the attribute.
type PoolUserQuery struct {
	Attribute string // one of SearchAttributes
	Value     string
	Prefix    bool
	// After resumes a listing after the user with this sort key and
	// username (those of a previous page's last user); nil starts it.
	After *PoolUserCursor
	Limit int // at most this many users; <= 0 means no limit
}

// PoolUserCursor is a position in a PoolUserQuery's order.
type PoolUserCursor struct {
	Key      string // PoolUserSortKey of the user
	Username string
}

// PoolUserSortKey is the value a PoolUserQuery on attr orders u by: its
// value of the attribute, ASCII-lower-cased where the query ignores case
// ("" when u has none). cognito:user_status and sub are as stored: statuses
// are upper case, subs lower-case UUIDs.
func PoolUserSortKey(attr string, u *PoolUser) string {
	switch attr {
	case SearchUsername:
		return u.Username
	case SearchSub:
		return u.Sub
	case SearchUserStatus:
		return u.Status
	case SearchStatus:
		if u.Enabled {
			return StatusEnabled
		}
		return StatusDisabled
	}
	return FoldASCII(u.Attributes[attr])
}

// FoldASCII lower-cases the ASCII letters of s and leaves every other
// character as it is: the case folding of searches, which both SQL
// dialects' lower() agree on (SQLite's lower() and PostgreSQL's under the
// "C" collation fold ASCII only).
func FoldASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// String encodes the cursor for a page token.
func (c PoolUserCursor) String() string {
	b, _ := json.Marshal([2]string{c.Key, c.Username})
	return string(b)
}

// ParsePoolUserCursor decodes PoolUserCursor.String.
func ParsePoolUserCursor(s string) (PoolUserCursor, bool) {
	var v [2]string
	if json.Unmarshal([]byte(s), &v) != nil {
		return PoolUserCursor{}, false
	}
	return PoolUserCursor{Key: v[0], Username: v[1]}, true
}
