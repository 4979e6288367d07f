package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/behalf-dev/behalf"
)

// oauth2Kind names OAuth 2.0 credential providers in messages.
const oauth2Kind = "OAuth2 credential provider"

// oauth2Columns are the oauth2_providers columns in scanOAuth2Provider's order.
const oauth2Columns = "id, name, vendor, client_id, client_secret, tenant_id, discovery_url, metadata, client_auth_method, tags, created_at, updated_at, on_behalf_of, private_key_jwt"

// CreateOAuth2Provider inserts p. It returns ECONFLICT if the name or the
// id exists.
func (db *DB) CreateOAuth2Provider(ctx context.Context, p *behalf.OAuth2Provider) error {
	return insertOAuth2Provider(ctx, db.conn(), p)
}

// GetOAuth2Provider returns the named provider, or ENOTFOUND.
func (db *DB) GetOAuth2Provider(ctx context.Context, name string) (*behalf.OAuth2Provider, error) {
	return findOAuth2Provider(ctx, db.conn(), "name", name)
}

// GetOAuth2ProviderByID returns the provider with the given id, or
// ENOTFOUND.
func (db *DB) GetOAuth2ProviderByID(ctx context.Context, id string) (*behalf.OAuth2Provider, error) {
	return findOAuth2Provider(ctx, db.conn(), "id", id)
}

// UpdateOAuth2Provider applies fn to the named provider in one transaction
// and stores the result; ID, Name and CreatedAt keep their stored values.
// It returns ENOTFOUND, or fn's error unchanged.
func (db *DB) UpdateOAuth2Provider(ctx context.Context, name string, fn func(*behalf.OAuth2Provider) error) (*behalf.OAuth2Provider, error) {
	load := func(c conn) (*behalf.OAuth2Provider, error) { return findOAuth2Provider(ctx, c, "name", name) }
	save := func(c conn, p *behalf.OAuth2Provider) error { return updateOAuth2Provider(ctx, c, p) }
	return modify(ctx, db, load, fn, keepOAuth2Provider, save)
}

// DeleteOAuth2Provider deletes the named provider, or returns ENOTFOUND.
func (db *DB) DeleteOAuth2Provider(ctx context.Context, name string) error {
	return deleteOAuth2Provider(ctx, db.conn(), name)
}

// ListOAuth2Providers returns one page of providers ordered by name.
func (db *DB) ListOAuth2Providers(ctx context.Context, opt behalf.ListOptions) ([]*behalf.OAuth2Provider, error) {
	return listOAuth2Providers(ctx, db.conn(), opt)
}

// insertOAuth2Provider inserts p, returning ECONFLICT if its name or id
// exists.
func insertOAuth2Provider(ctx context.Context, c conn, p *behalf.OAuth2Provider) error {
	metadata, tags, obo, pkj, err := encodeOAuth2Provider(p)
	if err != nil {
		return fmt.Errorf("insert oauth2 provider %q: %w", p.Name, err)
	}
	_, err = c.exec(ctx, "INSERT INTO oauth2_providers ("+oauth2Columns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		p.ID, p.Name, p.Vendor, p.ClientID, blob(p.ClientSecret), p.TenantID, p.DiscoveryURL,
		metadata, p.ClientAuthMethod, tags, micros(p.CreatedAt), micros(p.UpdatedAt), obo, pkj)
	if err != nil {
		return c.conflict(err, fmt.Sprintf("insert oauth2 provider %q", p.Name), oauth2Kind, p.Name)
	}
	return nil
}

// findOAuth2Provider reads the provider whose column key ("name" or "id")
// equals value, locking it inside a writing transaction. It returns
// ENOTFOUND if there is none.
func findOAuth2Provider(ctx context.Context, c conn, key, value string) (*behalf.OAuth2Provider, error) {
	row := c.queryRow(ctx, "SELECT "+oauth2Columns+" FROM oauth2_providers WHERE "+key+" = ?"+c.lock(), value)
	p, err := scanOAuth2Provider(row)
	if errors.Is(err, sql.ErrNoRows) && key == "id" {
		return nil, notFound(oauth2Kind+" with id", value)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(oauth2Kind, value)
	}
	if err != nil {
		return nil, fmt.Errorf("select oauth2 provider %s %q: %w", key, value, err)
	}
	return p, nil
}

// updateOAuth2Provider writes every mutable field of p.
func updateOAuth2Provider(ctx context.Context, c conn, p *behalf.OAuth2Provider) error {
	metadata, tags, obo, pkj, err := encodeOAuth2Provider(p)
	if err != nil {
		return fmt.Errorf("update oauth2 provider %q: %w", p.Name, err)
	}
	_, err = c.exec(ctx, `UPDATE oauth2_providers SET vendor = ?, client_id = ?, client_secret = ?, tenant_id = ?,
		discovery_url = ?, metadata = ?, client_auth_method = ?, tags = ?, updated_at = ?, on_behalf_of = ?, private_key_jwt = ? WHERE id = ?`,
		p.Vendor, p.ClientID, blob(p.ClientSecret), p.TenantID, p.DiscoveryURL,
		metadata, p.ClientAuthMethod, tags, micros(p.UpdatedAt), obo, pkj, p.ID)
	if err != nil {
		return fmt.Errorf("update oauth2 provider %q: %w", p.Name, err)
	}
	return nil
}

// deleteOAuth2Provider deletes the named provider, or returns ENOTFOUND.
func deleteOAuth2Provider(ctx context.Context, c conn, name string) error {
	res, err := c.exec(ctx, "DELETE FROM oauth2_providers WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("delete oauth2 provider %q: %w", name, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("delete oauth2 provider %q: %w", name, err)
	}
	if !ok {
		return notFound(oauth2Kind, name)
	}
	return nil
}

// listOAuth2Providers returns opt's page of providers by name.
func listOAuth2Providers(ctx context.Context, c conn, opt behalf.ListOptions) ([]*behalf.OAuth2Provider, error) {
	page, args := pageClause("name", opt)
	ps, err := queryAll(ctx, c, scanOAuth2Provider, "SELECT "+oauth2Columns+" FROM oauth2_providers"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list oauth2 providers: %w", err)
	}
	return ps, nil
}

// keepOAuth2Provider restores the fields an update may not change.
func keepOAuth2Provider(edited, orig *behalf.OAuth2Provider) {
	edited.ID = orig.ID
	edited.Name = orig.Name
	edited.CreatedAt = orig.CreatedAt
}

// onBehalfOfJSON is the stored form of a behalf.OnBehalfOfConfig.
type onBehalfOfJSON struct {
	GrantType         string   `json:"grantType"`
	ActorTokenContent string   `json:"actorTokenContent,omitempty"`
	ActorTokenScopes  []string `json:"actorTokenScopes,omitempty"`
	NoClientAuth      bool     `json:"noClientAuth,omitempty"`
}

// privateKeyJWTJSON is the stored form of a behalf.PrivateKeyJWTConfig.
type privateKeyJWTJSON struct {
	SigningAlgorithm string            `json:"signingAlgorithm"`
	HeaderClaims     map[string]string `json:"headerClaims,omitempty"`
	PayloadClaims    map[string]string `json:"payloadClaims,omitempty"`
}

// encodeOAuth2Provider returns p's JSON columns; obo and pkj are "" when p
// has no on-behalf-of or private_key_jwt configuration.
func encodeOAuth2Provider(p *behalf.OAuth2Provider) (metadata, tags, obo, pkj string, err error) {
	if metadata, err = encodeJSON("metadata", p.Metadata); err != nil {
		return "", "", "", "", err
	}
	if tags, err = encodeTags(p.Tags); err != nil {
		return "", "", "", "", err
	}
	if o := p.OnBehalfOf; o != nil {
		obo, err = encodeJSON("on_behalf_of", onBehalfOfJSON{o.GrantType, o.ActorTokenContent, o.ActorTokenScopes, o.NoClientAuth})
		if err != nil {
			return "", "", "", "", err
		}
	}
	if k := p.PrivateKeyJWT; k != nil {
		pkj, err = encodeJSON("private_key_jwt", privateKeyJWTJSON{k.SigningAlgorithm, k.HeaderClaims, k.PayloadClaims})
		if err != nil {
			return "", "", "", "", err
		}
	}
	return metadata, tags, obo, pkj, nil
}

// scanOAuth2Provider reads a row of oauth2Columns.
func scanOAuth2Provider(s scanner) (*behalf.OAuth2Provider, error) {
	var (
		p                      behalf.OAuth2Provider
		secret                 []byte
		metadataJSON, tagsJSON string
		oboJSON, pkjJSON       string
		created, updated       int64
	)
	err := s.Scan(&p.ID, &p.Name, &p.Vendor, &p.ClientID, &secret, &p.TenantID, &p.DiscoveryURL,
		&metadataJSON, &p.ClientAuthMethod, &tagsJSON, &created, &updated, &oboJSON, &pkjJSON)
	if err != nil {
		return nil, err
	}
	if pkjJSON != "" {
		var k privateKeyJWTJSON
		if err := decodeJSON("private_key_jwt", pkjJSON, &k); err != nil {
			return nil, err
		}
		p.PrivateKeyJWT = &behalf.PrivateKeyJWTConfig{SigningAlgorithm: k.SigningAlgorithm, HeaderClaims: k.HeaderClaims, PayloadClaims: k.PayloadClaims}
	}
	if oboJSON != "" {
		var o onBehalfOfJSON
		if err := decodeJSON("on_behalf_of", oboJSON, &o); err != nil {
			return nil, err
		}
		p.OnBehalfOf = &behalf.OnBehalfOfConfig{GrantType: o.GrantType, ActorTokenContent: o.ActorTokenContent,
			ActorTokenScopes: o.ActorTokenScopes, NoClientAuth: o.NoClientAuth}
	}
	if err := decodeJSON("metadata", metadataJSON, &p.Metadata); err != nil {
		return nil, err
	}
	if p.Tags, err = decodeTags(tagsJSON); err != nil {
		return nil, err
	}
	p.ClientSecret = fromBlob(secret)
	p.CreatedAt = fromMicros(created)
	p.UpdatedAt = fromMicros(updated)
	return &p, nil
}
