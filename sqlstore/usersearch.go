package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

// searchKey is how SearchPoolUsers filters and orders by one attribute: the
// SQL expression of the attribute's sort key, the same as its index's
// (migration 0029) so that the index serves both the filter and the order,
// and how a searched value is brought to that key's form.
type searchKey struct {
	expr   string
	fold   func(string) string
	unique bool // the key is unique in a pool: no username tie-break
}

// jsonAttributeKey is the expression of an attribute read from the
// attributes JSON; name is one of a fixed set, never input.
func jsonAttributeKey(d *dialect, name string) string {
	if d == postgresDialect {
		return `lower((attributes::jsonb ->> '` + name + `') COLLATE "C")`
	}
	return `lower(json_extract(attributes, '$.` + name + `'))`
}

// searchKeyOf returns the search key of attr, or false for an attribute
// that cannot be searched.
func searchKeyOf(d *dialect, attr string) (searchKey, bool) {
	same := func(s string) string { return s }
	switch attr {
	case behalf.SearchUsername:
		return searchKey{expr: "username", fold: same, unique: true}, true
	case behalf.SearchSub:
		// Subs are lower-case UUIDs: folding the value makes the search
		// ignore case and keeps it on the unique index.
		return searchKey{expr: "sub", fold: behalf.FoldASCII, unique: true}, true
	case behalf.SearchUserStatus:
		// Statuses are upper case.
		return searchKey{expr: "status", fold: upperASCII}, true
	case behalf.SearchEmail, behalf.SearchPhoneNumber:
		return searchKey{expr: "lower(" + attr + ")", fold: behalf.FoldASCII}, true
	case behalf.SearchName, behalf.SearchGivenName, behalf.SearchFamilyName, behalf.SearchPreferredUsername:
		return searchKey{expr: jsonAttributeKey(d, attr), fold: behalf.FoldASCII}, true
	}
	return searchKey{}, false
}

// SearchPoolUsers returns the users of pool poolID that q selects, ordered
// by q.Attribute's sort key and then username (behalf.PoolUserQuery). Each
// search reads one index range in that order: an exact value is an
// equality on the key, a prefix the range from the prefix to the least
// string above all strings it starts (prefixBound). Values are always
// bound as parameters, never written into the SQL, and prefixes are not
// LIKE patterns, so that %, _ and \ in them are ordinary characters (and
// username stays case-sensitive, which SQLite's LIKE is not). An attribute
// that is not searchable is EINVALID.
func (db *DB) SearchPoolUsers(ctx context.Context, poolID string, q behalf.PoolUserQuery) ([]*behalf.PoolUser, error) {
	if q.Attribute == behalf.SearchStatus {
		return db.searchPoolUsersByStatus(ctx, poolID, q)
	}
	k, ok := searchKeyOf(db.d, q.Attribute)
	if !ok {
		return nil, behalf.Invalid("attribute", "Users cannot be searched by %q.", q.Attribute)
	}
	if !utf8.ValidString(q.Value) {
		return nil, behalf.Invalid("value", "The searched value is not valid UTF-8.")
	}
	if q.Value == "" && !q.Prefix {
		return nil, nil
	}
	value := k.fold(q.Value)
	where, args := []string{"pool_id = ?"}, []any{poolID}
	switch {
	case !q.Prefix:
		where, args = append(where, k.expr+" = ?"), append(args, value)
	case value == "":
		where = append(where, k.expr+" > ''")
	default:
		where, args = append(where, k.expr+" >= ?"), append(args, value)
		if bound, ok := prefixBound(value); ok {
			where, args = append(where, k.expr+" < ?"), append(args, bound)
		} else {
			// Only a prefix of U+10FFFF characters has no bound.
			where, args = append(where, "substr("+k.expr+", 1, ?) = ?"), append(args, utf8.RuneCountInString(value), value)
		}
	}
	order := k.expr + ", username"
	if q.After != nil {
		if k.unique {
			where, args = append(where, k.expr+" > ?"), append(args, q.After.Key)
		} else {
			where, args = append(where, "("+k.expr+", username) > (?, ?)"), append(args, q.After.Key, q.After.Username)
		}
	}
	if k.unique {
		order = k.expr
	}
	return db.searchPoolUsers(ctx, poolID, q, where, args, order)
}

// searchPoolUsersByStatus searches by status, "Enabled" or "Disabled"
// (case-sensitive): the enabled column, whose order (false first) is the
// sort keys'.
func (db *DB) searchPoolUsersByStatus(ctx context.Context, poolID string, q behalf.PoolUserQuery) ([]*behalf.PoolUser, error) {
	var match []bool
	for _, s := range []struct {
		name    string
		enabled bool
	}{{behalf.StatusDisabled, false}, {behalf.StatusEnabled, true}} {
		if s.name == q.Value || (q.Prefix && strings.HasPrefix(s.name, q.Value)) {
			match = append(match, s.enabled)
		}
	}
	where, args := []string{"pool_id = ?"}, []any{poolID}
	switch len(match) {
	case 0:
		return nil, nil
	case 1:
		where, args = append(where, "enabled = ?"), append(args, match[0])
	}
	if q.After != nil {
		where, args = append(where, "(enabled, username) > (?, ?)"), append(args, q.After.Key == behalf.StatusEnabled, q.After.Username)
	}
	return db.searchPoolUsers(ctx, poolID, q, where, args, "enabled, username")
}

// searchPoolUsers runs a search's query.
func (db *DB) searchPoolUsers(ctx context.Context, poolID string, q behalf.PoolUserQuery, where []string, args []any, order string) ([]*behalf.PoolUser, error) {
	query := "SELECT " + poolUserColumns + " FROM pool_users WHERE " + strings.Join(where, " AND ") + " ORDER BY " + order
	if q.Limit > 0 {
		query, args = query+" LIMIT ?", append(args, q.Limit)
	}
	us, err := queryAll(ctx, db.conn(), scanPoolUser, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search users of user pool %q by %s: %w", poolID, q.Attribute, err)
	}
	return us, nil
}

// prefixBound returns the least string above every string that starts
// with prefix, in code point order (which is UTF-8's byte order, SQLite's
// BINARY collation and PostgreSQL's "C"): prefix with its last character
// incremented, skipping the surrogates, after dropping trailing U+10FFFFs.
// It is valid UTF-8, as PostgreSQL requires of text. There is none (false)
// when prefix is empty or all U+10FFFF.
func prefixBound(prefix string) (string, bool) {
	runes := []rune(prefix)
	for i := len(runes) - 1; i >= 0; i-- {
		r := runes[i]
		if r >= utf8.MaxRune {
			continue
		}
		r++
		if r == 0xD800 {
			r = 0xE000
		}
		runes[i] = r
		return string(runes[:i+1]), true
	}
	return "", false
}

// upperASCII upper-cases the ASCII letters of s.
func upperASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - ('a' - 'A')
		}
		return r
	}, s)
}
