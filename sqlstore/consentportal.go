package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/behalf-dev/behalf"
)

const consentPortalKind = "Consent portal"

// consentPortalColumns are the consent_portals columns in scanConsentPortal's order.
const consentPortalColumns = "id, name, description, execution_role_arn, provider, scopes, audience, gateway_id, " +
	"tags, status, created_at, updated_at"

var _ behalf.ConsentPortalStore = (*DB)(nil)

// CreateConsentPortal inserts p: ECONFLICT if its id or name exists, or
// its gateway has a portal.
func (db *DB) CreateConsentPortal(ctx context.Context, p *behalf.ConsentPortal) error {
	args, err := consentPortalArgs(p)
	if err != nil {
		return fmt.Errorf("insert consent portal %q: %w", p.Name, err)
	}
	c := db.conn()
	var n int64
	if err := c.queryRow(ctx, "SELECT COUNT(*) FROM consent_portals WHERE gateway_id = ?", p.GatewayID).Scan(&n); err != nil {
		return fmt.Errorf("count portals of gateway %q: %w", p.GatewayID, err)
	}
	if n > 0 {
		return behalf.Errorf(behalf.ECONFLICT, "Gateway %s already has a consent portal.", p.GatewayID)
	}
	if _, err := c.exec(ctx, "INSERT INTO consent_portals ("+consentPortalColumns+") VALUES ("+placeholders(len(args))+")", args...); err != nil {
		return c.conflict(err, fmt.Sprintf("insert consent portal %q", p.Name), consentPortalKind, p.Name)
	}
	return nil
}

// GetConsentPortal returns the portal with id, or ENOTFOUND.
func (db *DB) GetConsentPortal(ctx context.Context, id string) (*behalf.ConsentPortal, error) {
	return findConsentPortal(ctx, db.conn(), id, false)
}

// UpdateConsentPortal applies fn in one transaction; ID, Name, GatewayID
// and CreatedAt keep their stored values.
func (db *DB) UpdateConsentPortal(ctx context.Context, id string, fn func(*behalf.ConsentPortal) error) (*behalf.ConsentPortal, error) {
	load := func(c conn) (*behalf.ConsentPortal, error) { return findConsentPortal(ctx, c, id, true) }
	save := func(c conn, p *behalf.ConsentPortal) error {
		a, err := consentPortalArgs(p)
		if err != nil {
			return fmt.Errorf("update consent portal %q: %w", p.ID, err)
		}
		_, err = c.exec(ctx, "UPDATE consent_portals SET description = ?, execution_role_arn = ?, provider = ?, scopes = ?, "+
			"audience = ?, tags = ?, status = ?, updated_at = ? WHERE id = ?",
			a[2], a[3], a[4], a[5], a[6], a[8], a[9], a[11], p.ID)
		if err != nil {
			return fmt.Errorf("update consent portal %q: %w", p.ID, err)
		}
		return nil
	}
	keep := func(edited, orig *behalf.ConsentPortal) {
		edited.ID, edited.Name, edited.GatewayID, edited.CreatedAt = orig.ID, orig.Name, orig.GatewayID, orig.CreatedAt
	}
	return modify(ctx, db, load, fn, keep, save)
}

// DeleteConsentPortal deletes the portal with id, or ENOTFOUND.
func (db *DB) DeleteConsentPortal(ctx context.Context, id string) error {
	res, err := db.conn().exec(ctx, "DELETE FROM consent_portals WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete consent portal %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete consent portal %q: %w", id, err)
	} else if n == 0 {
		return notFound(consentPortalKind, id)
	}
	return nil
}

// ListConsentPortals returns one page of portals ordered by id.
func (db *DB) ListConsentPortals(ctx context.Context, opt behalf.ListOptions) ([]*behalf.ConsentPortal, error) {
	page, args := pageClause("id", opt)
	ps, err := queryAll(ctx, db.conn(), scanConsentPortal, "SELECT "+consentPortalColumns+" FROM consent_portals"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list consent portals: %w", err)
	}
	return ps, nil
}

// consentPortalArgs returns p's column values in consentPortalColumns order.
func consentPortalArgs(p *behalf.ConsentPortal) ([]any, error) {
	scopes := "[]"
	if len(p.Scopes) > 0 {
		var err error
		if scopes, err = encodeJSON("scopes", p.Scopes); err != nil {
			return nil, err
		}
	}
	tags, err := encodeTags(p.Tags)
	if err != nil {
		return nil, err
	}
	return []any{
		p.ID, p.Name, p.Description, p.ExecutionRoleARN, p.Provider, scopes, p.Audience, p.GatewayID,
		tags, p.Status, micros(p.CreatedAt), micros(p.UpdatedAt),
	}, nil
}

func findConsentPortal(ctx context.Context, c conn, id string, lock bool) (*behalf.ConsentPortal, error) {
	q := "SELECT " + consentPortalColumns + " FROM consent_portals WHERE id = ?"
	if lock {
		q += c.lock()
	}
	p, err := scanConsentPortal(c.queryRow(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(consentPortalKind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("select consent portal %q: %w", id, err)
	}
	return p, nil
}

func scanConsentPortal(s scanner) (*behalf.ConsentPortal, error) {
	var (
		p                behalf.ConsentPortal
		scopes, tags     string
		created, updated int64
	)
	if err := s.Scan(&p.ID, &p.Name, &p.Description, &p.ExecutionRoleARN, &p.Provider, &scopes, &p.Audience, &p.GatewayID,
		&tags, &p.Status, &created, &updated); err != nil {
		return nil, err
	}
	if err := decodeJSON("scopes", scopes, &p.Scopes); err != nil {
		return nil, err
	}
	if len(p.Scopes) == 0 {
		p.Scopes = nil
	}
	var err error
	if p.Tags, err = decodeTags(tags); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}
