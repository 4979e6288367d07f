package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/behalf-dev/behalf"
)

const (
	gatewayKind       = "Gateway"
	gatewayTargetKind = "Gateway target"
)

// gatewayColumns are the gateways columns in scanGateway's order.
const gatewayColumns = "id, name, description, role_arn, protocol_type, authorizer_type, authorizer, " +
	"instructions, exception_level, workload, tags, status, created_at, updated_at"

// gatewayTargetColumns are the gateway_targets columns in scanGatewayTarget's order.
const gatewayTargetColumns = "gateway_id, id, name, description, kind, openapi, endpoint, credentials, " +
	"status, created_at, updated_at, status_reasons, auth_user_id, authorization_url, synced_at"

var _ behalf.GatewayStore = (*DB)(nil)

// CreateGateway inserts g and its workload identity w in one transaction.
// It returns ECONFLICT if g's name or id, or w's name, exists.
func (db *DB) CreateGateway(ctx context.Context, g *behalf.Gateway, w *behalf.WorkloadIdentity) error {
	if w == nil || w.Name != g.Workload {
		return fmt.Errorf("insert gateway %q: workload identity must be named %q", g.Name, g.Workload)
	}
	return db.inTx(ctx, func(c conn) error {
		if err := insertWorkload(ctx, c, w); err != nil {
			return err
		}
		args, err := gatewayArgs(g)
		if err != nil {
			return fmt.Errorf("insert gateway %q: %w", g.Name, err)
		}
		_, err = c.exec(ctx, "INSERT INTO gateways ("+gatewayColumns+") VALUES ("+placeholders(len(args))+")", args...)
		if err != nil {
			return c.conflict(err, fmt.Sprintf("insert gateway %q", g.Name), gatewayKind, g.Name)
		}
		return nil
	})
}

// GetGateway returns the gateway whose id or name is idOrName, or ENOTFOUND.
func (db *DB) GetGateway(ctx context.Context, idOrName string) (*behalf.Gateway, error) {
	row := db.conn().queryRow(ctx, "SELECT "+gatewayColumns+" FROM gateways WHERE id = ? OR name = ?", idOrName, idOrName)
	return gatewayRow(row, idOrName)
}

// UpdateGateway applies fn to the gateway with id in one transaction; ID,
// Name, Workload and CreatedAt keep their stored values.
func (db *DB) UpdateGateway(ctx context.Context, id string, fn func(*behalf.Gateway) error) (*behalf.Gateway, error) {
	load := func(c conn) (*behalf.Gateway, error) { return findGatewayByID(ctx, c, id) }
	save := func(c conn, g *behalf.Gateway) error {
		args, err := gatewayArgs(g)
		if err != nil {
			return fmt.Errorf("update gateway %q: %w", g.ID, err)
		}
		// Every column but id (0), name (1), workload (9) and created_at (12).
		_, err = c.exec(ctx, "UPDATE gateways SET description = ?, role_arn = ?, protocol_type = ?, authorizer_type = ?, "+
			"authorizer = ?, instructions = ?, exception_level = ?, tags = ?, status = ?, updated_at = ? WHERE id = ?",
			args[2], args[3], args[4], args[5], args[6], args[7], args[8], args[10], args[11], args[13], g.ID)
		if err != nil {
			return fmt.Errorf("update gateway %q: %w", g.ID, err)
		}
		return nil
	}
	keep := func(edited, orig *behalf.Gateway) {
		edited.ID, edited.Name, edited.Workload, edited.CreatedAt = orig.ID, orig.Name, orig.Workload, orig.CreatedAt
	}
	return modify(ctx, db, load, fn, keep, save)
}

// DeleteGateway deletes the gateway with id and its workload identity in
// one transaction and returns it: ENOTFOUND, or ECONFLICT while the
// gateway has targets.
func (db *DB) DeleteGateway(ctx context.Context, id string) (*behalf.Gateway, error) {
	var out *behalf.Gateway
	err := db.inTx(ctx, func(c conn) error {
		g, err := findGatewayByID(ctx, c, id)
		if err != nil {
			return err
		}
		var n int64
		if err := c.queryRow(ctx, "SELECT COUNT(*) FROM gateway_targets WHERE gateway_id = ?", id).Scan(&n); err != nil {
			return fmt.Errorf("count targets of gateway %q: %w", id, err)
		}
		if n > 0 {
			return behalf.Errorf(behalf.ECONFLICT, "Gateway %s still has %d target(s); delete them first.", id, n)
		}
		if _, err := c.exec(ctx, "DELETE FROM gateways WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete gateway %q: %w", id, err)
		}
		if err := deleteWorkload(ctx, c, g.Workload); err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND {
			return err
		}
		out = g
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListGateways returns one page of gateways ordered by id.
func (db *DB) ListGateways(ctx context.Context, opt behalf.ListOptions) ([]*behalf.Gateway, error) {
	page, args := pageClause("id", opt)
	gs, err := queryAll(ctx, db.conn(), scanGateway, "SELECT "+gatewayColumns+" FROM gateways"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list gateways: %w", err)
	}
	return gs, nil
}

// CreateGatewayTarget inserts t: ENOTFOUND without its gateway, ECONFLICT
// if its id or name exists in the gateway.
func (db *DB) CreateGatewayTarget(ctx context.Context, t *behalf.GatewayTarget) error {
	return db.inTx(ctx, func(c conn) error {
		if _, err := findGatewayByID(ctx, c, t.GatewayID); err != nil {
			return err
		}
		args, err := gatewayTargetArgs(t)
		if err != nil {
			return fmt.Errorf("insert gateway target %q: %w", t.Name, err)
		}
		_, err = c.exec(ctx, "INSERT INTO gateway_targets ("+gatewayTargetColumns+") VALUES ("+placeholders(len(args))+")", args...)
		if err != nil {
			return c.conflict(err, fmt.Sprintf("insert gateway target %q", t.Name), gatewayTargetKind, t.Name)
		}
		return nil
	})
}

// GetGatewayTarget returns a target of a gateway, or ENOTFOUND.
func (db *DB) GetGatewayTarget(ctx context.Context, gatewayID, id string) (*behalf.GatewayTarget, error) {
	return findGatewayTarget(ctx, db.conn(), gatewayID, id)
}

// UpdateGatewayTarget applies fn to a target in one transaction; GatewayID,
// ID and CreatedAt keep their stored values. ECONFLICT for a name the
// gateway's other targets use.
func (db *DB) UpdateGatewayTarget(ctx context.Context, gatewayID, id string, fn func(*behalf.GatewayTarget) error) (*behalf.GatewayTarget, error) {
	load := func(c conn) (*behalf.GatewayTarget, error) { return findGatewayTarget(ctx, c, gatewayID, id) }
	save := func(c conn, t *behalf.GatewayTarget) error {
		args, err := gatewayTargetArgs(t)
		if err != nil {
			return fmt.Errorf("update gateway target %q: %w", t.ID, err)
		}
		_, err = c.exec(ctx, "UPDATE gateway_targets SET name = ?, description = ?, kind = ?, openapi = ?, endpoint = ?, "+
			"credentials = ?, status = ?, updated_at = ?, status_reasons = ?, auth_user_id = ?, authorization_url = ?, synced_at = ? "+
			"WHERE gateway_id = ? AND id = ?",
			args[2], args[3], args[4], args[5], args[6], args[7], args[8], args[10], args[11], args[12], args[13], args[14], t.GatewayID, t.ID)
		if err != nil {
			return c.conflict(err, fmt.Sprintf("update gateway target %q", t.ID), gatewayTargetKind, t.Name)
		}
		return nil
	}
	keep := func(edited, orig *behalf.GatewayTarget) {
		edited.GatewayID, edited.ID, edited.CreatedAt = orig.GatewayID, orig.ID, orig.CreatedAt
	}
	return modify(ctx, db, load, fn, keep, save)
}

// DeleteGatewayTarget deletes a target and returns it, or ENOTFOUND.
func (db *DB) DeleteGatewayTarget(ctx context.Context, gatewayID, id string) (*behalf.GatewayTarget, error) {
	var out *behalf.GatewayTarget
	err := db.inTx(ctx, func(c conn) error {
		t, err := findGatewayTarget(ctx, c, gatewayID, id)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, "DELETE FROM gateway_targets WHERE gateway_id = ? AND id = ?", gatewayID, id); err != nil {
			return fmt.Errorf("delete gateway target %q: %w", id, err)
		}
		out = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListGatewayTargets returns one page of a gateway's targets ordered by id.
func (db *DB) ListGatewayTargets(ctx context.Context, gatewayID string, opt behalf.ListOptions) ([]*behalf.GatewayTarget, error) {
	page, args := scopedPageClause("gateway_id", gatewayID, "id", opt)
	ts, err := queryAll(ctx, db.conn(), scanGatewayTarget, "SELECT "+gatewayTargetColumns+" FROM gateway_targets"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list targets of gateway %q: %w", gatewayID, err)
	}
	return ts, nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// gatewayArgs returns g's column values in gatewayColumns order.
func gatewayArgs(g *behalf.Gateway) ([]any, error) {
	authz := "null"
	if g.Authorizer != nil {
		var err error
		if authz, err = encodeJSON("authorizer", g.Authorizer); err != nil {
			return nil, err
		}
	}
	tags, err := encodeTags(g.Tags)
	if err != nil {
		return nil, err
	}
	return []any{
		g.ID, g.Name, g.Description, g.RoleARN, g.ProtocolType, g.AuthorizerType, authz,
		g.Instructions, g.ExceptionLevel, g.Workload, tags, g.Status, micros(g.CreatedAt), micros(g.UpdatedAt),
	}, nil
}

func findGatewayByID(ctx context.Context, c conn, id string) (*behalf.Gateway, error) {
	row := c.queryRow(ctx, "SELECT "+gatewayColumns+" FROM gateways WHERE id = ?"+c.lock(), id)
	return gatewayRow(row, id)
}

func gatewayRow(row scanner, key string) (*behalf.Gateway, error) {
	g, err := scanGateway(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(gatewayKind, key)
	}
	if err != nil {
		return nil, fmt.Errorf("select gateway %q: %w", key, err)
	}
	return g, nil
}

func scanGateway(s scanner) (*behalf.Gateway, error) {
	var (
		g                behalf.Gateway
		authz, tags      string
		created, updated int64
	)
	if err := s.Scan(&g.ID, &g.Name, &g.Description, &g.RoleARN, &g.ProtocolType, &g.AuthorizerType, &authz,
		&g.Instructions, &g.ExceptionLevel, &g.Workload, &tags, &g.Status, &created, &updated); err != nil {
		return nil, err
	}
	if err := decodeJSON("authorizer", authz, &g.Authorizer); err != nil {
		return nil, err
	}
	var err error
	if g.Tags, err = decodeTags(tags); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &g, nil
}

// gatewayTargetArgs returns t's column values in gatewayTargetColumns order.
func gatewayTargetArgs(t *behalf.GatewayTarget) ([]any, error) {
	creds := "[]"
	if len(t.Credentials) > 0 {
		var err error
		if creds, err = encodeJSON("credentials", t.Credentials); err != nil {
			return nil, err
		}
	}
	reasons := "[]"
	if len(t.StatusReasons) > 0 {
		var err error
		if reasons, err = encodeJSON("status reasons", t.StatusReasons); err != nil {
			return nil, err
		}
	}
	var synced int64
	if !t.SyncedAt.IsZero() {
		synced = micros(t.SyncedAt)
	}
	return []any{
		t.GatewayID, t.ID, t.Name, t.Description, t.Kind, t.OpenAPI, t.Endpoint, creds,
		t.Status, micros(t.CreatedAt), micros(t.UpdatedAt), reasons, t.AuthUserID, t.AuthorizationURL, synced,
	}, nil
}

func findGatewayTarget(ctx context.Context, c conn, gatewayID, id string) (*behalf.GatewayTarget, error) {
	row := c.queryRow(ctx, "SELECT "+gatewayTargetColumns+" FROM gateway_targets WHERE gateway_id = ? AND id = ?"+c.lock(), gatewayID, id)
	t, err := scanGatewayTarget(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(gatewayTargetKind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("select gateway target %q: %w", id, err)
	}
	return t, nil
}

func scanGatewayTarget(s scanner) (*behalf.GatewayTarget, error) {
	var (
		t                        behalf.GatewayTarget
		creds, reasons           string
		created, updated, synced int64
	)
	if err := s.Scan(&t.GatewayID, &t.ID, &t.Name, &t.Description, &t.Kind, &t.OpenAPI, &t.Endpoint, &creds,
		&t.Status, &created, &updated, &reasons, &t.AuthUserID, &t.AuthorizationURL, &synced); err != nil {
		return nil, err
	}
	if err := decodeJSON("credentials", creds, &t.Credentials); err != nil {
		return nil, err
	}
	if err := decodeJSON("status reasons", reasons, &t.StatusReasons); err != nil {
		return nil, err
	}
	if len(t.StatusReasons) == 0 {
		t.StatusReasons = nil
	}
	if synced != 0 {
		t.SyncedAt = fromMicros(synced)
	}
	if len(t.Credentials) == 0 {
		t.Credentials = nil
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &t, nil
}
