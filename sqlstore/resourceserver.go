package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/behalf-dev/behalf"
)

// resourceServerColumns are the resource_servers columns in
// scanResourceServer's order.
const resourceServerColumns = `pool_id, identifier, name, scopes, created_at, updated_at`

// CreateResourceServer inserts rs. It returns ECONFLICT if the pool has a
// resource server with that identifier, or ENOTFOUND if rs.PoolID names no
// user pool.
func (db *DB) CreateResourceServer(ctx context.Context, rs *behalf.ResourceServer) error {
	scopes, err := encodeScopes(rs.Scopes)
	if err != nil {
		return fmt.Errorf("insert resource server %q: %w", rs.Identifier, err)
	}
	c := db.conn()
	_, err = c.exec(ctx, "INSERT INTO resource_servers ("+resourceServerColumns+") VALUES (?, ?, ?, ?, ?, ?)",
		rs.PoolID, rs.Identifier, rs.Name, scopes, micros(rs.CreatedAt), micros(rs.UpdatedAt))
	if err != nil {
		return inPoolWriteError(c, err, fmt.Sprintf("insert resource server %q", rs.Identifier), rs.PoolID,
			fmt.Sprintf("%s already exists in user pool %s.", rs.Identifier, rs.PoolID))
	}
	return nil
}

// GetResourceServer returns the resource server of pool poolID with the
// given identifier, or ENOTFOUND.
func (db *DB) GetResourceServer(ctx context.Context, poolID, identifier string) (*behalf.ResourceServer, error) {
	return findResourceServer(ctx, db.conn(), poolID, identifier)
}

// UpdateResourceServer applies fn to the resource server in one
// transaction and stores the result; PoolID, Identifier and CreatedAt keep
// their stored values. In the same transaction it removes the scopes the
// server no longer defines from the AllowedOAuthScopes of the pool's app
// clients (whose other fields, UpdatedAt included, stay as they are). It
// returns ENOTFOUND, or fn's error unchanged.
func (db *DB) UpdateResourceServer(ctx context.Context, poolID, identifier string, fn func(*behalf.ResourceServer) error) (*behalf.ResourceServer, error) {
	var out *behalf.ResourceServer
	err := db.inTx(ctx, func(c conn) error {
		rs, err := findResourceServer(ctx, c, poolID, identifier)
		if err != nil {
			return err
		}
		orig := *rs
		orig.Scopes = slices.Clone(rs.Scopes)
		if err := fn(rs); err != nil {
			return err
		}
		rs.PoolID, rs.Identifier, rs.CreatedAt = orig.PoolID, orig.Identifier, orig.CreatedAt
		scopes, err := encodeScopes(rs.Scopes)
		if err != nil {
			return fmt.Errorf("update resource server %q: %w", identifier, err)
		}
		if _, err := c.exec(ctx, "UPDATE resource_servers SET name = ?, scopes = ?, updated_at = ? WHERE pool_id = ? AND identifier = ?",
			rs.Name, scopes, micros(rs.UpdatedAt), poolID, identifier); err != nil {
			return fmt.Errorf("update resource server %q: %w", identifier, err)
		}
		dropped := map[string]bool{}
		for _, sc := range orig.Scopes {
			dropped[behalf.CustomScope(identifier, sc.Name)] = true
		}
		for _, sc := range rs.Scopes {
			delete(dropped, behalf.CustomScope(identifier, sc.Name))
		}
		if len(dropped) > 0 {
			if err := pruneClientScopes(ctx, c, poolID, func(s string) bool { return dropped[s] }); err != nil {
				return err
			}
		}
		out, err = findResourceServer(ctx, c, poolID, identifier)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteResourceServer deletes the resource server and, in the same
// transaction, removes every scope identifier/name (whatever the name)
// from the AllowedOAuthScopes of the pool's app clients. It returns
// ENOTFOUND if there is no such server.
func (db *DB) DeleteResourceServer(ctx context.Context, poolID, identifier string) error {
	return db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, "DELETE FROM resource_servers WHERE pool_id = ? AND identifier = ?", poolID, identifier)
		if err != nil {
			return fmt.Errorf("delete resource server %q: %w", identifier, err)
		}
		ok, err := affectedOne(res)
		if err != nil {
			return fmt.Errorf("delete resource server %q: %w", identifier, err)
		}
		if !ok {
			return resourceServerNotFound(identifier)
		}
		return pruneClientScopes(ctx, c, poolID, func(s string) bool {
			id, _, ok := behalf.SplitCustomScope(s)
			return ok && id == identifier
		})
	})
}

// ListResourceServers returns one page of the resource servers of pool
// poolID, ordered by identifier. A pool that does not exist has none.
func (db *DB) ListResourceServers(ctx context.Context, poolID string, opt behalf.ListOptions) ([]*behalf.ResourceServer, error) {
	page, args := scopedPageClause("pool_id", poolID, "identifier", opt)
	rs, err := queryAll(ctx, db.conn(), scanResourceServer, "SELECT "+resourceServerColumns+" FROM resource_servers"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list resource servers of user pool %q: %w", poolID, err)
	}
	return rs, nil
}

// resourceServerNotFound is the ENOTFOUND error for resource server id.
func resourceServerNotFound(identifier string) error {
	return behalf.Errorf(behalf.ENOTFOUND, "Resource server %s does not exist.", identifier)
}

// findResourceServer reads a resource server, locking it inside a writing
// transaction. It returns ENOTFOUND if there is none.
func findResourceServer(ctx context.Context, c conn, poolID, identifier string) (*behalf.ResourceServer, error) {
	row := c.queryRow(ctx, "SELECT "+resourceServerColumns+" FROM resource_servers WHERE pool_id = ? AND identifier = ?"+c.lock(), poolID, identifier)
	rs, err := scanResourceServer(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, resourceServerNotFound(identifier)
	}
	if err != nil {
		return nil, fmt.Errorf("select resource server %q: %w", identifier, err)
	}
	return rs, nil
}

// pruneClientScopes removes the scopes drop reports from the
// AllowedOAuthScopes of pool poolID's app clients, locking them; clients
// that lose none are not written.
func pruneClientScopes(ctx context.Context, c conn, poolID string, drop func(string) bool) error {
	type clientScopes struct {
		id     string
		scopes string
	}
	rows, err := c.query(ctx, "SELECT id, allowed_oauth_scopes FROM app_clients WHERE pool_id = ? ORDER BY id"+c.lock(), poolID)
	if err != nil {
		return fmt.Errorf("select app client scopes of user pool %q: %w", poolID, err)
	}
	var all []clientScopes
	for rows.Next() {
		var cs clientScopes
		if err := rows.Scan(&cs.id, &cs.scopes); err != nil {
			rows.Close()
			return fmt.Errorf("select app client scopes of user pool %q: %w", poolID, err)
		}
		all = append(all, cs)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("select app client scopes of user pool %q: %w", poolID, classify(err))
	}
	for _, cs := range all {
		scopes, err := decodeList("allowed_oauth_scopes", cs.scopes)
		if err != nil {
			return fmt.Errorf("app client %q: %w", cs.id, err)
		}
		kept := slices.DeleteFunc(slices.Clone(scopes), drop)
		if len(kept) == len(scopes) {
			continue
		}
		j, err := encodeList("allowed_oauth_scopes", kept)
		if err != nil {
			return fmt.Errorf("app client %q: %w", cs.id, err)
		}
		if _, err := c.exec(ctx, "UPDATE app_clients SET allowed_oauth_scopes = ? WHERE id = ?", j, cs.id); err != nil {
			return fmt.Errorf("update app client %q scopes: %w", cs.id, err)
		}
	}
	return nil
}

// scopeJSON is one element of the scopes column.
type scopeJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// encodeScopes returns scopes as the JSON array of the scopes column.
func encodeScopes(scopes []behalf.ResourceServerScope) (string, error) {
	out := make([]scopeJSON, 0, len(scopes))
	for _, sc := range scopes {
		out = append(out, scopeJSON(sc))
	}
	return encodeJSON("scopes", out)
}

// scanResourceServer reads a row of resourceServerColumns.
func scanResourceServer(s scanner) (*behalf.ResourceServer, error) {
	var (
		rs               behalf.ResourceServer
		scopes           string
		created, updated int64
	)
	if err := s.Scan(&rs.PoolID, &rs.Identifier, &rs.Name, &scopes, &created, &updated); err != nil {
		return nil, err
	}
	var list []scopeJSON
	if err := decodeJSON("scopes", scopes, &list); err != nil {
		return nil, err
	}
	for _, sc := range list {
		rs.Scopes = append(rs.Scopes, behalf.ResourceServerScope(sc))
	}
	rs.CreatedAt = fromMicros(created)
	rs.UpdatedAt = fromMicros(updated)
	return &rs, nil
}
