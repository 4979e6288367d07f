package sqlstore

import (
	"context"
	"fmt"

	"github.com/behalf-dev/behalf"
)

// auditColumns are the audit_events columns, but id, in insertion order.
const auditColumns = "event_time, kind, workload, user_key, provider_id, session_id, actor, detail, resource"

// AppendAudit stores e and sets e.ID to the id the database assigned; the
// ID e had is ignored. Ids increase in append order.
func (db *DB) AppendAudit(ctx context.Context, e *behalf.AuditEvent) error {
	return insertAudit(ctx, db.conn(), e)
}

// ListAudit returns the events of kind ("" for every kind), newest (highest
// id) first, at most limit of them (limit <= 0: all).
func (db *DB) ListAudit(ctx context.Context, kind string, limit int) ([]*behalf.AuditEvent, error) {
	return listAudit(ctx, db.conn(), kind, limit)
}

// QueryAudit returns the events q selects, by time newest first, then by
// id (the latest appended first).
func (db *DB) QueryAudit(ctx context.Context, q behalf.AuditQuery) ([]*behalf.AuditEvent, error) {
	query := "SELECT id, " + auditColumns + " FROM audit_events WHERE 1 = 1"
	var args []any
	if q.Kind != "" {
		query += " AND kind = ?"
		args = append(args, q.Kind)
	}
	if q.Principal != "" {
		query += " AND actor = ?"
		args = append(args, q.Principal)
	}
	if q.Resource != "" {
		query += " AND (resource = ? OR workload = ? OR provider_id = ? OR session_id = ? OR user_key = ?)"
		args = append(args, q.Resource, q.Resource, q.Resource, q.Resource, q.Resource)
	}
	if !q.Since.IsZero() {
		query += " AND event_time >= ?"
		args = append(args, micros(q.Since))
	}
	if !q.Until.IsZero() {
		query += " AND event_time < ?"
		args = append(args, micros(q.Until))
	}
	query += " ORDER BY event_time DESC, id DESC"
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	es, err := queryAll(ctx, db.conn(), scanAudit, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query audit events: %w", err)
	}
	return es, nil
}

// insertAudit inserts e and sets e.ID. SQLite (3.35+) and PostgreSQL share
// INSERT … RETURNING, so one statement serves both.
func insertAudit(ctx context.Context, c conn, e *behalf.AuditEvent) error {
	var id int64
	err := c.queryRow(ctx, "INSERT INTO audit_events ("+auditColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
		micros(e.Time), e.Kind, e.Workload, e.UserKey, e.ProviderID, e.SessionID, e.Actor, e.Detail, e.Resource).Scan(&id)
	if err != nil {
		return fmt.Errorf("append audit event %q: %w", e.Kind, err)
	}
	e.ID = id
	return nil
}

// listAudit returns up to limit events of kind ("" for all), by id
// descending.
func listAudit(ctx context.Context, c conn, kind string, limit int) ([]*behalf.AuditEvent, error) {
	query := "SELECT id, " + auditColumns + " FROM audit_events"
	var args []any
	if kind != "" {
		query += " WHERE kind = ?"
		args = append(args, kind)
	}
	query += " ORDER BY id DESC"
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}
	es, err := queryAll(ctx, c, scanAudit, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return es, nil
}

// scanAudit reads a row of id and auditColumns.
func scanAudit(s scanner) (*behalf.AuditEvent, error) {
	var (
		e  behalf.AuditEvent
		at int64
	)
	if err := s.Scan(&e.ID, &at, &e.Kind, &e.Workload, &e.UserKey, &e.ProviderID, &e.SessionID, &e.Actor, &e.Detail, &e.Resource); err != nil {
		return nil, err
	}
	e.Time = fromMicros(at)
	return &e, nil
}
