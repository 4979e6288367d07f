package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/behalf-dev/behalf"
)

// apiKeyKind names API-key credential providers in messages.
const apiKeyKind = "API key credential provider"

// apiKeyColumns are the apikey_providers columns in scanAPIKeyProvider's order.
const apiKeyColumns = "id, name, api_key, tags, created_at, updated_at"

// CreateAPIKeyProvider inserts p. It returns ECONFLICT if the name or the
// id exists.
func (db *DB) CreateAPIKeyProvider(ctx context.Context, p *behalf.APIKeyProvider) error {
	return insertAPIKeyProvider(ctx, db.conn(), p)
}

// GetAPIKeyProvider returns the named provider, or ENOTFOUND.
func (db *DB) GetAPIKeyProvider(ctx context.Context, name string) (*behalf.APIKeyProvider, error) {
	return findAPIKeyProvider(ctx, db.conn(), name)
}

// UpdateAPIKeyProvider applies fn to the named provider in one transaction
// and stores the result; ID, Name and CreatedAt keep their stored values.
// It returns ENOTFOUND, or fn's error unchanged.
func (db *DB) UpdateAPIKeyProvider(ctx context.Context, name string, fn func(*behalf.APIKeyProvider) error) (*behalf.APIKeyProvider, error) {
	load := func(c conn) (*behalf.APIKeyProvider, error) { return findAPIKeyProvider(ctx, c, name) }
	save := func(c conn, p *behalf.APIKeyProvider) error { return updateAPIKeyProvider(ctx, c, p) }
	return modify(ctx, db, load, fn, keepAPIKeyProvider, save)
}

// DeleteAPIKeyProvider deletes the named provider, or returns ENOTFOUND.
func (db *DB) DeleteAPIKeyProvider(ctx context.Context, name string) error {
	return deleteAPIKeyProvider(ctx, db.conn(), name)
}

// ListAPIKeyProviders returns one page of providers ordered by name.
func (db *DB) ListAPIKeyProviders(ctx context.Context, opt behalf.ListOptions) ([]*behalf.APIKeyProvider, error) {
	return listAPIKeyProviders(ctx, db.conn(), opt)
}

// insertAPIKeyProvider inserts p, returning ECONFLICT if its name or id
// exists.
func insertAPIKeyProvider(ctx context.Context, c conn, p *behalf.APIKeyProvider) error {
	tags, err := encodeTags(p.Tags)
	if err != nil {
		return fmt.Errorf("insert api key provider %q: %w", p.Name, err)
	}
	_, err = c.exec(ctx, "INSERT INTO apikey_providers ("+apiKeyColumns+") VALUES (?, ?, ?, ?, ?, ?)",
		p.ID, p.Name, blob(p.APIKey), tags, micros(p.CreatedAt), micros(p.UpdatedAt))
	if err != nil {
		return c.conflict(err, fmt.Sprintf("insert api key provider %q", p.Name), apiKeyKind, p.Name)
	}
	return nil
}

// findAPIKeyProvider reads the named provider, locking it inside a writing
// transaction. It returns ENOTFOUND if there is none.
func findAPIKeyProvider(ctx context.Context, c conn, name string) (*behalf.APIKeyProvider, error) {
	row := c.queryRow(ctx, "SELECT "+apiKeyColumns+" FROM apikey_providers WHERE name = ?"+c.lock(), name)
	p, err := scanAPIKeyProvider(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(apiKeyKind, name)
	}
	if err != nil {
		return nil, fmt.Errorf("select api key provider %q: %w", name, err)
	}
	return p, nil
}

// updateAPIKeyProvider writes every mutable field of p.
func updateAPIKeyProvider(ctx context.Context, c conn, p *behalf.APIKeyProvider) error {
	tags, err := encodeTags(p.Tags)
	if err != nil {
		return fmt.Errorf("update api key provider %q: %w", p.Name, err)
	}
	_, err = c.exec(ctx, "UPDATE apikey_providers SET api_key = ?, tags = ?, updated_at = ? WHERE id = ?",
		blob(p.APIKey), tags, micros(p.UpdatedAt), p.ID)
	if err != nil {
		return fmt.Errorf("update api key provider %q: %w", p.Name, err)
	}
	return nil
}

// deleteAPIKeyProvider deletes the named provider, or returns ENOTFOUND.
func deleteAPIKeyProvider(ctx context.Context, c conn, name string) error {
	res, err := c.exec(ctx, "DELETE FROM apikey_providers WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("delete api key provider %q: %w", name, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("delete api key provider %q: %w", name, err)
	}
	if !ok {
		return notFound(apiKeyKind, name)
	}
	return nil
}

// listAPIKeyProviders returns opt's page of providers by name.
func listAPIKeyProviders(ctx context.Context, c conn, opt behalf.ListOptions) ([]*behalf.APIKeyProvider, error) {
	page, args := pageClause("name", opt)
	ps, err := queryAll(ctx, c, scanAPIKeyProvider, "SELECT "+apiKeyColumns+" FROM apikey_providers"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list api key providers: %w", err)
	}
	return ps, nil
}

// keepAPIKeyProvider restores the fields an update may not change.
func keepAPIKeyProvider(edited, orig *behalf.APIKeyProvider) {
	edited.ID = orig.ID
	edited.Name = orig.Name
	edited.CreatedAt = orig.CreatedAt
}

// scanAPIKeyProvider reads a row of apiKeyColumns.
func scanAPIKeyProvider(s scanner) (*behalf.APIKeyProvider, error) {
	var (
		p                behalf.APIKeyProvider
		key              []byte
		tagsJSON         string
		created, updated int64
	)
	if err := s.Scan(&p.ID, &p.Name, &key, &tagsJSON, &created, &updated); err != nil {
		return nil, err
	}
	tags, err := decodeTags(tagsJSON)
	if err != nil {
		return nil, err
	}
	p.APIKey = fromBlob(key)
	p.Tags = tags
	p.CreatedAt = fromMicros(created)
	p.UpdatedAt = fromMicros(updated)
	return &p, nil
}
