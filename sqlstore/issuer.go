package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/behalf-dev/behalf"
)

// issuerKind names trusted issuers in messages.
const issuerKind = "Trusted issuer"

// issuerColumns are the trusted_issuers columns in scanIssuer's order.
const issuerColumns = "issuer, discovery_url, jwks_uri, audiences, created_at"

// CreateIssuer inserts i. It returns ECONFLICT if the issuer exists; issuers
// are compared bytewise.
func (db *DB) CreateIssuer(ctx context.Context, i *behalf.TrustedIssuer) error {
	return insertIssuer(ctx, db.conn(), i)
}

// GetIssuer returns the trusted issuer whose Issuer is exactly issuer, or
// ENOTFOUND.
func (db *DB) GetIssuer(ctx context.Context, issuer string) (*behalf.TrustedIssuer, error) {
	return findIssuer(ctx, db.conn(), issuer)
}

// ListIssuers returns every trusted issuer, ordered bytewise by issuer.
func (db *DB) ListIssuers(ctx context.Context) ([]*behalf.TrustedIssuer, error) {
	return listIssuers(ctx, db.conn())
}

// DeleteIssuer deletes the trusted issuer, or returns ENOTFOUND.
func (db *DB) DeleteIssuer(ctx context.Context, issuer string) error {
	return deleteIssuer(ctx, db.conn(), issuer)
}

// insertIssuer inserts i, returning ECONFLICT if its issuer exists.
func insertIssuer(ctx context.Context, c conn, i *behalf.TrustedIssuer) error {
	audiences, err := encodeList("audiences", i.Audiences)
	if err != nil {
		return fmt.Errorf("insert trusted issuer %q: %w", i.Issuer, err)
	}
	_, err = c.exec(ctx, "INSERT INTO trusted_issuers ("+issuerColumns+") VALUES (?, ?, ?, ?, ?)",
		i.Issuer, i.DiscoveryURL, i.JWKSURI, audiences, micros(i.CreatedAt))
	if err != nil {
		return c.conflict(err, fmt.Sprintf("insert trusted issuer %q", i.Issuer), issuerKind, i.Issuer)
	}
	return nil
}

// findIssuer reads the trusted issuer, or returns ENOTFOUND.
func findIssuer(ctx context.Context, c conn, issuer string) (*behalf.TrustedIssuer, error) {
	row := c.queryRow(ctx, "SELECT "+issuerColumns+" FROM trusted_issuers WHERE issuer = ?"+c.lock(), issuer)
	i, err := scanIssuer(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(issuerKind, issuer)
	}
	if err != nil {
		return nil, fmt.Errorf("select trusted issuer %q: %w", issuer, err)
	}
	return i, nil
}

// listIssuers returns every trusted issuer by issuer.
func listIssuers(ctx context.Context, c conn) ([]*behalf.TrustedIssuer, error) {
	is, err := queryAll(ctx, c, scanIssuer, "SELECT "+issuerColumns+" FROM trusted_issuers ORDER BY issuer")
	if err != nil {
		return nil, fmt.Errorf("list trusted issuers: %w", err)
	}
	return is, nil
}

// deleteIssuer deletes the trusted issuer, or returns ENOTFOUND.
func deleteIssuer(ctx context.Context, c conn, issuer string) error {
	res, err := c.exec(ctx, "DELETE FROM trusted_issuers WHERE issuer = ?", issuer)
	if err != nil {
		return fmt.Errorf("delete trusted issuer %q: %w", issuer, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("delete trusted issuer %q: %w", issuer, err)
	}
	if !ok {
		return notFound(issuerKind, issuer)
	}
	return nil
}

// scanIssuer reads a row of issuerColumns.
func scanIssuer(s scanner) (*behalf.TrustedIssuer, error) {
	var (
		i             behalf.TrustedIssuer
		audiencesJSON string
		created       int64
	)
	if err := s.Scan(&i.Issuer, &i.DiscoveryURL, &i.JWKSURI, &audiencesJSON, &created); err != nil {
		return nil, err
	}
	var err error
	if i.Audiences, err = decodeList("audiences", audiencesJSON); err != nil {
		return nil, err
	}
	i.CreatedAt = fromMicros(created)
	return &i, nil
}
