package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/behalf-dev/behalf"
)

// agentRuntimeKind names agent runtimes in messages.
const agentRuntimeKind = "Agent runtime"

// agentRuntimeColumns are the agent_runtimes columns in scanAgentRuntime's order.
const agentRuntimeColumns = "id, name, description, container_uri, protocol, protocol_path, role_arn, " +
	"authorizer, header_allowlist, workload, callback_url, environment, idle_session_timeout, " +
	"max_lifetime, tags, status, version, created_at, updated_at"

var _ behalf.AgentRuntimeStore = (*DB)(nil)

// CreateAgentRuntime inserts r and its workload identity w in one
// transaction. It returns ECONFLICT if r's name or id, or w's name, exists.
func (db *DB) CreateAgentRuntime(ctx context.Context, r *behalf.AgentRuntime, w *behalf.WorkloadIdentity) error {
	if w == nil || w.Name != r.Workload {
		return fmt.Errorf("insert agent runtime %q: workload identity must be named %q", r.Name, r.Workload)
	}
	return db.inTx(ctx, func(c conn) error {
		if err := insertWorkload(ctx, c, w); err != nil {
			return err
		}
		if err := insertAgentRuntime(ctx, c, r); err != nil {
			return err
		}
		return insertAgentRuntimeVersion(ctx, c, r)
	})
}

// GetAgentRuntime returns the runtime whose id or name is idOrName, or
// ENOTFOUND.
func (db *DB) GetAgentRuntime(ctx context.Context, idOrName string) (*behalf.AgentRuntime, error) {
	return findAgentRuntime(ctx, db.conn(), idOrName)
}

// UpdateAgentRuntime applies fn to the runtime with id in one transaction
// and stores the result; ID, Name, Workload and CreatedAt keep their stored
// values. A changed Version is recorded as a new version. It returns
// ENOTFOUND, or fn's error unchanged.
func (db *DB) UpdateAgentRuntime(ctx context.Context, id string, fn func(*behalf.AgentRuntime) error) (*behalf.AgentRuntime, error) {
	load := func(c conn) (*behalf.AgentRuntime, error) { return findAgentRuntimeByID(ctx, c, id) }
	save := func(c conn, r *behalf.AgentRuntime) error { return updateAgentRuntime(ctx, c, r) }
	return modify(ctx, db, load, fn, keepAgentRuntime, save)
}

// DeleteAgentRuntime deletes the runtime with id and its workload identity
// in one transaction and returns the deleted runtime, or ENOTFOUND.
func (db *DB) DeleteAgentRuntime(ctx context.Context, id string) (*behalf.AgentRuntime, error) {
	var out *behalf.AgentRuntime
	err := db.inTx(ctx, func(c conn) error {
		r, err := findAgentRuntimeByID(ctx, c, id)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, "DELETE FROM agent_runtimes WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete agent runtime %q: %w", id, err)
		}
		if err := deleteWorkload(ctx, c, r.Workload); err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND {
			return err
		}
		if err := deleteAgentRuntimeParts(ctx, c, id); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListAgentRuntimes returns one page of runtimes ordered by id.
func (db *DB) ListAgentRuntimes(ctx context.Context, opt behalf.ListOptions) ([]*behalf.AgentRuntime, error) {
	page, args := pageClause("id", opt)
	rs, err := queryAll(ctx, db.conn(), scanAgentRuntime, "SELECT "+agentRuntimeColumns+" FROM agent_runtimes"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list agent runtimes: %w", err)
	}
	return rs, nil
}

// agentRuntimeArgs returns r's column values in agentRuntimeColumns order.
func agentRuntimeArgs(r *behalf.AgentRuntime) ([]any, error) {
	authz := "null"
	if r.Authorizer != nil {
		var err error
		if authz, err = encodeJSON("authorizer", r.Authorizer); err != nil {
			return nil, err
		}
	}
	headers, err := encodeList("header_allowlist", r.HeaderAllowlist)
	if err != nil {
		return nil, err
	}
	env, err := encodeMap("environment", r.Environment)
	if err != nil {
		return nil, err
	}
	tags, err := encodeTags(r.Tags)
	if err != nil {
		return nil, err
	}
	return []any{
		r.ID, r.Name, r.Description, r.ContainerURI, r.Protocol, r.ProtocolPath, r.RoleARN,
		authz, headers, r.Workload, r.CallbackURL, env, int64(r.IdleSessionTimeout),
		int64(r.MaxLifetime), tags, r.Status, r.Version, micros(r.CreatedAt), micros(r.UpdatedAt),
	}, nil
}

// insertAgentRuntime inserts r, returning ECONFLICT if its id or name exists.
func insertAgentRuntime(ctx context.Context, c conn, r *behalf.AgentRuntime) error {
	args, err := agentRuntimeArgs(r)
	if err != nil {
		return fmt.Errorf("insert agent runtime %q: %w", r.Name, err)
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
	_, err = c.exec(ctx, "INSERT INTO agent_runtimes ("+agentRuntimeColumns+") VALUES ("+marks+")", args...)
	if err != nil {
		return c.conflict(err, fmt.Sprintf("insert agent runtime %q", r.Name), agentRuntimeKind, r.Name)
	}
	return nil
}

// findAgentRuntime reads the runtime with id or name idOrName. It returns
// ENOTFOUND if there is none.
func findAgentRuntime(ctx context.Context, c conn, idOrName string) (*behalf.AgentRuntime, error) {
	row := c.queryRow(ctx, "SELECT "+agentRuntimeColumns+" FROM agent_runtimes WHERE id = ? OR name = ?"+c.lock(), idOrName, idOrName)
	return agentRuntimeRow(row, idOrName)
}

// findAgentRuntimeByID reads the runtime with id, locking it inside a
// writing transaction. It returns ENOTFOUND if there is none.
func findAgentRuntimeByID(ctx context.Context, c conn, id string) (*behalf.AgentRuntime, error) {
	row := c.queryRow(ctx, "SELECT "+agentRuntimeColumns+" FROM agent_runtimes WHERE id = ?"+c.lock(), id)
	return agentRuntimeRow(row, id)
}

// agentRuntimeRow scans one row, mapping no row to ENOTFOUND for key.
func agentRuntimeRow(row scanner, key string) (*behalf.AgentRuntime, error) {
	r, err := scanAgentRuntime(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(agentRuntimeKind, key)
	}
	if err != nil {
		return nil, fmt.Errorf("select agent runtime %q: %w", key, err)
	}
	return r, nil
}

// updateAgentRuntime writes every mutable field of r, and records r as a
// new version if its version changed.
func updateAgentRuntime(ctx context.Context, c conn, r *behalf.AgentRuntime) error {
	var stored string
	if err := c.queryRow(ctx, "SELECT version FROM agent_runtimes WHERE id = ?", r.ID).Scan(&stored); err != nil {
		return fmt.Errorf("update agent runtime %q: %w", r.ID, err)
	}
	if stored != r.Version {
		if err := insertAgentRuntimeVersion(ctx, c, r); err != nil {
			return err
		}
	}
	args, err := agentRuntimeArgs(r)
	if err != nil {
		return fmt.Errorf("update agent runtime %q: %w", r.ID, err)
	}
	// Every column but id (0), name (1), workload (9) and created_at (17).
	_, err = c.exec(ctx, "UPDATE agent_runtimes SET description = ?, container_uri = ?, protocol = ?, "+
		"protocol_path = ?, role_arn = ?, authorizer = ?, header_allowlist = ?, callback_url = ?, "+
		"environment = ?, idle_session_timeout = ?, max_lifetime = ?, tags = ?, status = ?, version = ?, "+
		"updated_at = ? WHERE id = ?",
		args[2], args[3], args[4], args[5], args[6], args[7], args[8], args[10], args[11], args[12],
		args[13], args[14], args[15], args[16], args[18], r.ID)
	if err != nil {
		return fmt.Errorf("update agent runtime %q: %w", r.ID, err)
	}
	return nil
}

// keepAgentRuntime restores the fields an update may not change.
func keepAgentRuntime(edited, orig *behalf.AgentRuntime) {
	edited.ID = orig.ID
	edited.Name = orig.Name
	edited.Workload = orig.Workload
	edited.CreatedAt = orig.CreatedAt
}

// scanAgentRuntime reads a row of agentRuntimeColumns.
func scanAgentRuntime(s scanner) (*behalf.AgentRuntime, error) {
	var (
		r                               behalf.AgentRuntime
		authzJSON, headersJSON          string
		envJSON, tagsJSON               string
		idle, maxLife, created, updated int64
	)
	if err := s.Scan(&r.ID, &r.Name, &r.Description, &r.ContainerURI, &r.Protocol, &r.ProtocolPath, &r.RoleARN,
		&authzJSON, &headersJSON, &r.Workload, &r.CallbackURL, &envJSON, &idle,
		&maxLife, &tagsJSON, &r.Status, &r.Version, &created, &updated); err != nil {
		return nil, err
	}
	if err := decodeJSON("authorizer", authzJSON, &r.Authorizer); err != nil {
		return nil, err
	}
	var err error
	if r.HeaderAllowlist, err = decodeList("header_allowlist", headersJSON); err != nil {
		return nil, err
	}
	if r.Environment, err = decodeMap("environment", envJSON); err != nil {
		return nil, err
	}
	if r.Tags, err = decodeTags(tagsJSON); err != nil {
		return nil, err
	}
	r.IdleSessionTimeout = int(idle)
	r.MaxLifetime = int(maxLife)
	r.CreatedAt = fromMicros(created)
	r.UpdatedAt = fromMicros(updated)
	return &r, nil
}
