package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// Agent runtime versions, named endpoints and sessions (issue 13).

const (
	runtimeVersionKind  = "Agent runtime version"
	runtimeEndpointKind = "Agent runtime endpoint"
	runtimeSessionKind  = "Runtime session"
)

var (
	_ behalf.AgentRuntimeVersionStore  = (*DB)(nil)
	_ behalf.AgentRuntimeEndpointStore = (*DB)(nil)
	_ behalf.RuntimeSessionStore       = (*DB)(nil)
)

// versionSeq is a version's number, its order among the runtime's versions.
func versionSeq(version string) (int64, error) {
	n, err := strconv.ParseInt(version, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("agent runtime version %q is not a positive number", version)
	}
	return n, nil
}

// insertAgentRuntimeVersion records r's configuration as version r.Version.
func insertAgentRuntimeVersion(ctx context.Context, c conn, r *behalf.AgentRuntime) error {
	seq, err := versionSeq(r.Version)
	if err != nil {
		return fmt.Errorf("insert agent runtime version: %w", err)
	}
	args, err := agentRuntimeArgs(r)
	if err != nil {
		return fmt.Errorf("insert agent runtime %q version %s: %w", r.ID, r.Version, err)
	}
	args = append([]any{seq}, args...)
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
	_, err = c.exec(ctx, "INSERT INTO agent_runtime_versions (seq, "+agentRuntimeColumns+") VALUES ("+marks+")", args...)
	if err != nil {
		return c.conflict(err, fmt.Sprintf("insert agent runtime %q version %s", r.ID, r.Version), runtimeVersionKind, r.ID+"/"+r.Version)
	}
	return nil
}

// deleteAgentRuntimeParts deletes the versions, endpoints and sessions of
// the runtime with id.
func deleteAgentRuntimeParts(ctx context.Context, c conn, id string) error {
	for _, table := range []string{"agent_runtime_versions WHERE id = ?", "agent_runtime_endpoints WHERE runtime_id = ?", "agent_runtime_sessions WHERE runtime_id = ?"} {
		if _, err := c.exec(ctx, "DELETE FROM "+table, id); err != nil {
			return fmt.Errorf("delete agent runtime %q: %w", id, err)
		}
	}
	return nil
}

// asVersion gives a version record the runtime's current name, workload,
// tags and status.
func asVersion(v, cur *behalf.AgentRuntime) *behalf.AgentRuntime {
	v.Name, v.Workload, v.Tags, v.Status = cur.Name, cur.Workload, cur.Tags, cur.Status
	return v
}

// GetAgentRuntimeVersion returns one version of the runtime with id, or
// ENOTFOUND.
func (db *DB) GetAgentRuntimeVersion(ctx context.Context, id, version string) (*behalf.AgentRuntime, error) {
	key := id + " version " + version
	seq, err := versionSeq(version)
	if err != nil {
		return nil, notFound(runtimeVersionKind, key)
	}
	cur, err := findAgentRuntimeByID(ctx, db.conn(), id)
	if err != nil {
		return nil, err
	}
	row := db.conn().queryRow(ctx, "SELECT "+agentRuntimeColumns+" FROM agent_runtime_versions WHERE id = ? AND seq = ?", id, seq)
	v, err := scanAgentRuntime(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(runtimeVersionKind, key)
	}
	if err != nil {
		return nil, fmt.Errorf("select agent runtime %q: %w", key, err)
	}
	return asVersion(v, cur), nil
}

// ListAgentRuntimeVersions returns the runtime's versions after version
// opt.After, in numeric order.
func (db *DB) ListAgentRuntimeVersions(ctx context.Context, id string, opt behalf.ListOptions) ([]*behalf.AgentRuntime, error) {
	cur, err := findAgentRuntimeByID(ctx, db.conn(), id)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	q := "SELECT " + agentRuntimeColumns + " FROM agent_runtime_versions WHERE id = ?"
	args := []any{id}
	if opt.After != "" {
		after, err := versionSeq(opt.After)
		if err != nil {
			return nil, behalf.Invalid("nextToken", "The pagination token is invalid.")
		}
		q += " AND seq > ?"
		args = append(args, after)
	}
	q += " ORDER BY seq"
	if opt.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, opt.Limit)
	}
	vs, err := queryAll(ctx, db.conn(), scanAgentRuntime, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list agent runtime %q versions: %w", id, err)
	}
	for _, v := range vs {
		asVersion(v, cur)
	}
	return vs, nil
}

// runtimeEndpointColumns are the agent_runtime_endpoints columns in
// scanRuntimeEndpoint's order.
const runtimeEndpointColumns = "runtime_id, name, description, version, tags, created_at, updated_at"

// CreateAgentRuntimeEndpoint inserts e, returning ENOTFOUND if its runtime
// does not exist and ECONFLICT if the name is taken.
func (db *DB) CreateAgentRuntimeEndpoint(ctx context.Context, e *behalf.AgentRuntimeEndpoint) error {
	tags, err := encodeTags(e.Tags)
	if err != nil {
		return fmt.Errorf("insert agent runtime endpoint %q: %w", e.Name, err)
	}
	return db.inTx(ctx, func(c conn) error {
		if _, err := findAgentRuntimeByID(ctx, c, e.RuntimeID); err != nil {
			return err
		}
		_, err := c.exec(ctx, "INSERT INTO agent_runtime_endpoints ("+runtimeEndpointColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
			e.RuntimeID, e.Name, e.Description, e.Version, tags, micros(e.CreatedAt), micros(e.UpdatedAt))
		if err != nil {
			return c.conflict(err, fmt.Sprintf("insert agent runtime endpoint %q", e.Name), runtimeEndpointKind, e.Name)
		}
		return nil
	})
}

// GetAgentRuntimeEndpoint returns the endpoint, or ENOTFOUND.
func (db *DB) GetAgentRuntimeEndpoint(ctx context.Context, runtimeID, name string) (*behalf.AgentRuntimeEndpoint, error) {
	return findRuntimeEndpoint(ctx, db.conn(), runtimeID, name)
}

func findRuntimeEndpoint(ctx context.Context, c conn, runtimeID, name string) (*behalf.AgentRuntimeEndpoint, error) {
	row := c.queryRow(ctx, "SELECT "+runtimeEndpointColumns+" FROM agent_runtime_endpoints WHERE runtime_id = ? AND name = ?"+c.lock(), runtimeID, name)
	e, err := scanRuntimeEndpoint(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(runtimeEndpointKind, name)
	}
	if err != nil {
		return nil, fmt.Errorf("select agent runtime endpoint %q: %w", name, err)
	}
	return e, nil
}

// UpdateAgentRuntimeEndpoint applies fn to the endpoint in one transaction.
func (db *DB) UpdateAgentRuntimeEndpoint(ctx context.Context, runtimeID, name string, fn func(*behalf.AgentRuntimeEndpoint) error) (*behalf.AgentRuntimeEndpoint, error) {
	load := func(c conn) (*behalf.AgentRuntimeEndpoint, error) {
		return findRuntimeEndpoint(ctx, c, runtimeID, name)
	}
	keep := func(edited, orig *behalf.AgentRuntimeEndpoint) {
		edited.RuntimeID, edited.Name, edited.CreatedAt = orig.RuntimeID, orig.Name, orig.CreatedAt
	}
	save := func(c conn, e *behalf.AgentRuntimeEndpoint) error {
		tags, err := encodeTags(e.Tags)
		if err != nil {
			return fmt.Errorf("update agent runtime endpoint %q: %w", name, err)
		}
		_, err = c.exec(ctx, "UPDATE agent_runtime_endpoints SET description = ?, version = ?, tags = ?, updated_at = ? WHERE runtime_id = ? AND name = ?",
			e.Description, e.Version, tags, micros(e.UpdatedAt), runtimeID, name)
		if err != nil {
			return fmt.Errorf("update agent runtime endpoint %q: %w", name, err)
		}
		return nil
	}
	return modify(ctx, db, load, fn, keep, save)
}

// DeleteAgentRuntimeEndpoint deletes the endpoint and returns it, or
// ENOTFOUND.
func (db *DB) DeleteAgentRuntimeEndpoint(ctx context.Context, runtimeID, name string) (*behalf.AgentRuntimeEndpoint, error) {
	var out *behalf.AgentRuntimeEndpoint
	err := db.inTx(ctx, func(c conn) error {
		e, err := findRuntimeEndpoint(ctx, c, runtimeID, name)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, "DELETE FROM agent_runtime_endpoints WHERE runtime_id = ? AND name = ?", runtimeID, name); err != nil {
			return fmt.Errorf("delete agent runtime endpoint %q: %w", name, err)
		}
		out = e
		return nil
	})
	return out, err
}

// ListAgentRuntimeEndpoints returns the runtime's endpoints by name.
func (db *DB) ListAgentRuntimeEndpoints(ctx context.Context, runtimeID string, opt behalf.ListOptions) ([]*behalf.AgentRuntimeEndpoint, error) {
	page, args := scopedPageClause("runtime_id", runtimeID, "name", opt)
	es, err := queryAll(ctx, db.conn(), scanRuntimeEndpoint, "SELECT "+runtimeEndpointColumns+" FROM agent_runtime_endpoints"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list agent runtime endpoints: %w", err)
	}
	return es, nil
}

func scanRuntimeEndpoint(s scanner) (*behalf.AgentRuntimeEndpoint, error) {
	var (
		e                behalf.AgentRuntimeEndpoint
		tags             string
		created, updated int64
	)
	if err := s.Scan(&e.RuntimeID, &e.Name, &e.Description, &e.Version, &tags, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if e.Tags, err = decodeTags(tags); err != nil {
		return nil, err
	}
	e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &e, nil
}

// runtimeSessionColumns are the agent_runtime_sessions columns in
// scanRuntimeSession's order.
const runtimeSessionColumns = "runtime_id, endpoint, id, version, started_at, last_used_at, expires_at"

// SaveRuntimeSessions inserts the started sessions (unless present) and
// records the use of the used ones (only the same session: same start).
func (db *DB) SaveRuntimeSessions(ctx context.Context, started, used []*behalf.RuntimeSession) error {
	if len(started) == 0 && len(used) == 0 {
		return nil
	}
	return db.inTx(ctx, func(c conn) error {
		for _, s := range started {
			_, err := c.exec(ctx, "INSERT INTO agent_runtime_sessions ("+runtimeSessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)"+
				" ON CONFLICT (runtime_id, endpoint, id) DO NOTHING",
				s.RuntimeID, s.Endpoint, s.ID, s.Version, micros(s.StartedAt), micros(s.LastUsedAt), micros(s.ExpiresAt))
			if err != nil {
				return fmt.Errorf("insert runtime session: %w", err)
			}
		}
		for _, s := range used {
			_, err := c.exec(ctx, "UPDATE agent_runtime_sessions SET last_used_at = ?, expires_at = ?"+
				" WHERE runtime_id = ? AND endpoint = ? AND id = ? AND started_at = ? AND last_used_at < ?",
				micros(s.LastUsedAt), micros(s.ExpiresAt), s.RuntimeID, s.Endpoint, s.ID, micros(s.StartedAt), micros(s.LastUsedAt))
			if err != nil {
				return fmt.Errorf("update runtime session: %w", err)
			}
		}
		return nil
	})
}

// GetRuntimeSession returns the session, or ENOTFOUND.
func (db *DB) GetRuntimeSession(ctx context.Context, runtimeID, endpoint, id string) (*behalf.RuntimeSession, error) {
	return findRuntimeSession(ctx, db.conn(), runtimeID, endpoint, id)
}

func findRuntimeSession(ctx context.Context, c conn, runtimeID, endpoint, id string) (*behalf.RuntimeSession, error) {
	row := c.queryRow(ctx, "SELECT "+runtimeSessionColumns+" FROM agent_runtime_sessions WHERE runtime_id = ? AND endpoint = ? AND id = ?"+c.lock(),
		runtimeID, endpoint, id)
	var (
		s                      behalf.RuntimeSession
		started, used, expires int64
	)
	err := row.Scan(&s.RuntimeID, &s.Endpoint, &s.ID, &s.Version, &started, &used, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(runtimeSessionKind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("select runtime session: %w", err)
	}
	s.StartedAt, s.LastUsedAt, s.ExpiresAt = fromMicros(started), fromMicros(used), fromMicros(expires)
	return &s, nil
}

// DeleteRuntimeSession deletes a session that has not expired by now.
func (db *DB) DeleteRuntimeSession(ctx context.Context, runtimeID, endpoint, id string, now time.Time) (*behalf.RuntimeSession, error) {
	var out *behalf.RuntimeSession
	err := db.inTx(ctx, func(c conn) error {
		s, err := findRuntimeSession(ctx, c, runtimeID, endpoint, id)
		if err != nil {
			return err
		}
		if !s.ExpiresAt.After(now) {
			return notFound(runtimeSessionKind, id)
		}
		if _, err := c.exec(ctx, "DELETE FROM agent_runtime_sessions WHERE runtime_id = ? AND endpoint = ? AND id = ?", runtimeID, endpoint, id); err != nil {
			return fmt.Errorf("delete runtime session: %w", err)
		}
		out = s
		return nil
	})
	return out, err
}

// DeleteExpiredRuntimeSessions deletes the sessions that expired before t.
func (db *DB) DeleteExpiredRuntimeSessions(ctx context.Context, t time.Time) (int, error) {
	res, err := db.conn().exec(ctx, "DELETE FROM agent_runtime_sessions WHERE expires_at < ?", micros(t))
	if err != nil {
		return 0, fmt.Errorf("delete expired runtime sessions: %w", classify(err))
	}
	n, err := res.RowsAffected()
	return int(n), err
}
