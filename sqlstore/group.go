package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// poolGroupColumns are the pool_groups columns in scanPoolGroup's order.
const poolGroupColumns = `pool_id, name, description, precedence, role_arn, created_at, updated_at`

// CreatePoolGroup inserts g. It returns ECONFLICT if the pool has a group
// with that name (compared exactly), or ENOTFOUND if g.PoolID names no user
// pool.
func (db *DB) CreatePoolGroup(ctx context.Context, g *behalf.PoolGroup) error {
	c := db.conn()
	_, err := c.exec(ctx, "INSERT INTO pool_groups ("+poolGroupColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		g.PoolID, g.Name, g.Description, nullPrecedence(g.Precedence), g.RoleARN, micros(g.CreatedAt), micros(g.UpdatedAt))
	if err != nil {
		return inPoolWriteError(c, err, fmt.Sprintf("insert group %q", g.Name), g.PoolID,
			fmt.Sprintf("A group with the name %s already exists.", g.Name))
	}
	return nil
}

// GetPoolGroup returns the group of pool poolID with exactly that name, or
// ENOTFOUND.
func (db *DB) GetPoolGroup(ctx context.Context, poolID, name string) (*behalf.PoolGroup, error) {
	return findPoolGroup(ctx, db.conn(), poolID, name)
}

// UpdatePoolGroup applies fn to the group in one transaction and stores
// the result; PoolID, Name and CreatedAt keep their stored values. It
// returns ENOTFOUND, or fn's error unchanged.
func (db *DB) UpdatePoolGroup(ctx context.Context, poolID, name string, fn func(*behalf.PoolGroup) error) (*behalf.PoolGroup, error) {
	load := func(c conn) (*behalf.PoolGroup, error) { return findPoolGroup(ctx, c, poolID, name) }
	keep := func(edited, orig *behalf.PoolGroup) {
		edited.PoolID, edited.Name, edited.CreatedAt = orig.PoolID, orig.Name, orig.CreatedAt
	}
	save := func(c conn, g *behalf.PoolGroup) error {
		_, err := c.exec(ctx, "UPDATE pool_groups SET description = ?, precedence = ?, role_arn = ?, updated_at = ? WHERE pool_id = ? AND name = ?",
			g.Description, nullPrecedence(g.Precedence), g.RoleARN, micros(g.UpdatedAt), poolID, name)
		if err != nil {
			return fmt.Errorf("update group %q of user pool %q: %w", name, poolID, err)
		}
		return nil
	}
	return modify(ctx, db, load, fn, keep, save)
}

// DeletePoolGroup deletes the group; its memberships go with it (the
// foreign key cascades in the same statement). It returns ENOTFOUND if
// there is no such group.
func (db *DB) DeletePoolGroup(ctx context.Context, poolID, name string) error {
	res, err := db.conn().exec(ctx, "DELETE FROM pool_groups WHERE pool_id = ? AND name = ?", poolID, name)
	if err != nil {
		return fmt.Errorf("delete group %q of user pool %q: %w", name, poolID, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("delete group %q of user pool %q: %w", name, poolID, err)
	}
	if !ok {
		return poolGroupNotFound()
	}
	return nil
}

// ListPoolGroups returns one page of the groups of pool poolID, ordered by
// name (bytewise). A pool that does not exist has none.
func (db *DB) ListPoolGroups(ctx context.Context, poolID string, opt behalf.ListOptions) ([]*behalf.PoolGroup, error) {
	page, args := scopedPageClause("pool_id", poolID, "name", opt)
	gs, err := queryAll(ctx, db.conn(), scanPoolGroup, "SELECT "+poolGroupColumns+" FROM pool_groups"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list groups of user pool %q: %w", poolID, err)
	}
	return gs, nil
}

// CountPoolGroups counts the groups of pool poolID, at most limit of them
// when limit > 0 (an index range scan of that many entries).
func (db *DB) CountPoolGroups(ctx context.Context, poolID string, limit int) (int, error) {
	q, args := "SELECT COUNT(*) FROM pool_groups WHERE pool_id = ?", []any{poolID}
	if limit > 0 {
		q, args = "SELECT COUNT(*) FROM (SELECT 1 FROM pool_groups WHERE pool_id = ? LIMIT ?) AS g", []any{poolID, limit}
	}
	var n int
	if err := db.conn().queryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count groups of user pool %q: %w", poolID, err)
	}
	return n, nil
}

// AddPoolGroupMember makes the user a member of the group, in one
// transaction that first locks the user's row, so that concurrent adds for
// one user are counted against maxGroups one after the other. Being a
// member already is not an error (and not counted). It returns ENOTFOUND
// ("User does not exist.") if there is no such user, ENOTFOUND ("Group not
// found.") if there is no such group, and EFORBIDDEN if maxGroups > 0 and
// the user is in maxGroups groups already.
func (db *DB) AddPoolGroupMember(ctx context.Context, poolID, groupName, username string, maxGroups int, at time.Time) error {
	return db.inTx(ctx, func(c conn) error {
		if _, err := findPoolUser(ctx, c, poolID, "username", username); err != nil {
			return err
		}
		var groups, member int
		err := c.queryRow(ctx, "SELECT (SELECT COUNT(*) FROM pool_groups WHERE pool_id = ? AND name = ?),"+
			" (SELECT COUNT(*) FROM pool_group_members WHERE pool_id = ? AND group_name = ? AND username = ?)",
			poolID, groupName, poolID, groupName, username).Scan(&groups, &member)
		if err != nil {
			return fmt.Errorf("read membership of %q in group %q: %w", username, groupName, err)
		}
		if groups == 0 {
			return poolGroupNotFound()
		}
		if member > 0 {
			return nil
		}
		if maxGroups > 0 {
			var n int
			err := c.queryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM pool_group_members WHERE pool_id = ? AND username = ? LIMIT ?) AS m",
				poolID, username, maxGroups).Scan(&n)
			if err != nil {
				return fmt.Errorf("count groups of user %q: %w", username, err)
			}
			if n >= maxGroups {
				return behalf.Errorf(behalf.EFORBIDDEN, "A user can be in at most %d groups.", maxGroups)
			}
		}
		_, err = c.exec(ctx, "INSERT INTO pool_group_members (pool_id, group_name, username, created_at) VALUES (?, ?, ?, ?)",
			poolID, groupName, username, micros(at))
		switch {
		case err == nil:
			return nil
		case c.d.isForeignKeyViolation(err):
			// The user is locked and exists: the group was deleted since.
			return poolGroupNotFound()
		}
		return fmt.Errorf("add user %q to group %q: %w", username, groupName, err)
	})
}

// RemovePoolGroupMember deletes a membership; there being none is not an
// error.
func (db *DB) RemovePoolGroupMember(ctx context.Context, poolID, groupName, username string) error {
	_, err := db.conn().exec(ctx, "DELETE FROM pool_group_members WHERE pool_id = ? AND group_name = ? AND username = ?",
		poolID, groupName, username)
	if err != nil {
		return fmt.Errorf("remove user %q from group %q: %w", username, groupName, err)
	}
	return nil
}

// ListPoolGroupMembers returns one page of the users of a group, ordered
// by username (bytewise).
func (db *DB) ListPoolGroupMembers(ctx context.Context, poolID, groupName string, opt behalf.ListOptions) ([]*behalf.PoolUser, error) {
	q := "SELECT " + qualified("u", poolUserColumns) + " FROM pool_group_members m JOIN pool_users u ON u.pool_id = m.pool_id AND u.username = m.username" +
		" WHERE m.pool_id = ? AND m.group_name = ?"
	args := []any{poolID, groupName}
	q, args = appendPage(q, args, "m.username", opt)
	us, err := queryAll(ctx, db.conn(), scanPoolUser, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list users of group %q: %w", groupName, err)
	}
	return us, nil
}

// ListPoolUserGroups returns one page of the groups of a user, ordered by
// name (bytewise).
func (db *DB) ListPoolUserGroups(ctx context.Context, poolID, username string, opt behalf.ListOptions) ([]*behalf.PoolGroup, error) {
	q := "SELECT " + qualified("g", poolGroupColumns) + " FROM pool_group_members m JOIN pool_groups g ON g.pool_id = m.pool_id AND g.name = m.group_name" +
		" WHERE m.pool_id = ? AND m.username = ?"
	args := []any{poolID, username}
	q, args = appendPage(q, args, "m.group_name", opt)
	gs, err := queryAll(ctx, db.conn(), scanPoolGroup, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list groups of user %q: %w", username, err)
	}
	return gs, nil
}

// appendPage adds opt's page of rows keyed by column key to a query that
// ends with a WHERE clause.
func appendPage(q string, args []any, key string, opt behalf.ListOptions) (string, []any) {
	if opt.After != "" {
		q += " AND " + key + " > ?"
		args = append(args, opt.After)
	}
	q += " ORDER BY " + key
	if opt.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, opt.Limit)
	}
	return q, args
}

// qualified prefixes each column of a column list with alias.
func qualified(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, col := range cols {
		cols[i] = alias + "." + strings.TrimSpace(col)
	}
	return strings.Join(cols, ", ")
}

// findPoolGroup reads a group, locking it inside a writing transaction.
func findPoolGroup(ctx context.Context, c conn, poolID, name string) (*behalf.PoolGroup, error) {
	row := c.queryRow(ctx, "SELECT "+poolGroupColumns+" FROM pool_groups WHERE pool_id = ? AND name = ?"+c.lock(), poolID, name)
	g, err := scanPoolGroup(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, poolGroupNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("select group %q of user pool %q: %w", name, poolID, err)
	}
	return g, nil
}

// poolGroupNotFound is the ENOTFOUND error for a group, in Cognito's words.
func poolGroupNotFound() error {
	return behalf.Errorf(behalf.ENOTFOUND, "Group not found.")
}

// nullPrecedence is the precedence column of a group: NULL for none.
func nullPrecedence(p *int32) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*p), Valid: true}
}

// scanPoolGroup reads a row of poolGroupColumns.
func scanPoolGroup(s scanner) (*behalf.PoolGroup, error) {
	var (
		g                behalf.PoolGroup
		precedence       sql.NullInt64
		created, updated int64
	)
	if err := s.Scan(&g.PoolID, &g.Name, &g.Description, &precedence, &g.RoleARN, &created, &updated); err != nil {
		return nil, err
	}
	if precedence.Valid {
		p := int32(precedence.Int64)
		g.Precedence = &p
	}
	g.CreatedAt = fromMicros(created)
	g.UpdatedAt = fromMicros(updated)
	return &g, nil
}
