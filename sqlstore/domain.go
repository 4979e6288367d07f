package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/behalf-dev/behalf"
)

// userPoolDomainColumns are the user_pool_domains columns in
// scanUserPoolDomain's order.
const userPoolDomainColumns = `domain, pool_id, custom, certificate_arn, managed_login_version, created_at, updated_at`

// Cognito's messages for a domain that cannot be created.
const (
	msgPoolHasDomain = "User pool already has a domain configured."
	msgDomainTaken   = "Domain already associated with another user pool."
)

// CreateUserPoolDomain inserts d. It returns ECONFLICT with Cognito's
// message if the pool already has a domain of d's kind, or if the name is
// taken (by any pool), and ENOTFOUND if d.PoolID names no user pool. The
// pool's row is locked first, so that two domains of one kind cannot both
// pass the check.
func (db *DB) CreateUserPoolDomain(ctx context.Context, d *behalf.UserPoolDomain) error {
	return db.inTx(ctx, func(c conn) error {
		if _, err := findUserPool(ctx, c, d.PoolID); err != nil {
			return err
		}
		var n int
		err := c.queryRow(ctx, "SELECT COUNT(*) FROM user_pool_domains WHERE pool_id = ? AND custom = ?", d.PoolID, d.Custom).Scan(&n)
		if err != nil {
			return fmt.Errorf("count domains of user pool %q: %w", d.PoolID, err)
		}
		if n > 0 {
			return behalf.Errorf(behalf.ECONFLICT, "%s", msgPoolHasDomain)
		}
		_, err = c.exec(ctx, "INSERT INTO user_pool_domains ("+userPoolDomainColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
			d.Domain, d.PoolID, d.Custom, d.CertificateARN, d.ManagedLoginVersion, micros(d.CreatedAt), micros(d.UpdatedAt))
		if err != nil {
			// The pool's lock leaves one cause: the name, taken by
			// another pool (at once, or just before).
			return inPoolWriteError(c, err, fmt.Sprintf("insert user pool domain %q", d.Domain), d.PoolID, msgDomainTaken)
		}
		return nil
	})
}

// GetUserPoolDomain returns the domain with the given name, or ENOTFOUND.
func (db *DB) GetUserPoolDomain(ctx context.Context, domain string) (*behalf.UserPoolDomain, error) {
	return findUserPoolDomain(ctx, db.conn(), domain)
}

// UpdateUserPoolDomain applies fn to the domain in one transaction and
// stores its certificate ARN, managed login version and UpdatedAt; the
// other fields keep their stored values. It returns ENOTFOUND, or fn's
// error unchanged.
func (db *DB) UpdateUserPoolDomain(ctx context.Context, domain string, fn func(*behalf.UserPoolDomain) error) (*behalf.UserPoolDomain, error) {
	load := func(c conn) (*behalf.UserPoolDomain, error) { return findUserPoolDomain(ctx, c, domain) }
	keep := func(edited, orig *behalf.UserPoolDomain) {
		edited.Domain, edited.PoolID, edited.Custom, edited.CreatedAt = orig.Domain, orig.PoolID, orig.Custom, orig.CreatedAt
		edited.URL = ""
	}
	save := func(c conn, d *behalf.UserPoolDomain) error {
		_, err := c.exec(ctx, "UPDATE user_pool_domains SET certificate_arn = ?, managed_login_version = ?, updated_at = ? WHERE domain = ?",
			d.CertificateARN, d.ManagedLoginVersion, micros(d.UpdatedAt), d.Domain)
		if err != nil {
			return fmt.Errorf("update user pool domain %q: %w", d.Domain, err)
		}
		return nil
	}
	return modify(ctx, db, load, fn, keep, save)
}

// DeleteUserPoolDomain deletes the domain of pool poolID with the given
// name. It returns ENOTFOUND if that pool has no such domain (whether or
// not another pool has).
func (db *DB) DeleteUserPoolDomain(ctx context.Context, poolID, domain string) error {
	res, err := db.conn().exec(ctx, "DELETE FROM user_pool_domains WHERE domain = ? AND pool_id = ?", domain, poolID)
	if err != nil {
		return fmt.Errorf("delete user pool domain %q: %w", domain, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("delete user pool domain %q: %w", domain, err)
	}
	if !ok {
		return userPoolDomainNotFound(domain)
	}
	return nil
}

// ListUserPoolDomains returns the domains of pool poolID, the prefix
// domain first. A pool that does not exist has none.
func (db *DB) ListUserPoolDomains(ctx context.Context, poolID string) ([]*behalf.UserPoolDomain, error) {
	ds, err := queryAll(ctx, db.conn(), scanUserPoolDomain,
		"SELECT "+userPoolDomainColumns+" FROM user_pool_domains WHERE pool_id = ? ORDER BY custom", poolID)
	if err != nil {
		return nil, fmt.Errorf("list domains of user pool %q: %w", poolID, err)
	}
	return ds, nil
}

// userPoolDomainNotFound is the ENOTFOUND error for domain name.
func userPoolDomainNotFound(domain string) error {
	return behalf.Errorf(behalf.ENOTFOUND, "Domain %s does not exist.", domain)
}

// findUserPoolDomain reads a domain, locking it inside a writing
// transaction. It returns ENOTFOUND if there is none.
func findUserPoolDomain(ctx context.Context, c conn, domain string) (*behalf.UserPoolDomain, error) {
	row := c.queryRow(ctx, "SELECT "+userPoolDomainColumns+" FROM user_pool_domains WHERE domain = ?"+c.lock(), domain)
	d, err := scanUserPoolDomain(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userPoolDomainNotFound(domain)
	}
	if err != nil {
		return nil, fmt.Errorf("select user pool domain %q: %w", domain, err)
	}
	return d, nil
}

// scanUserPoolDomain reads a row of userPoolDomainColumns.
func scanUserPoolDomain(s scanner) (*behalf.UserPoolDomain, error) {
	var (
		d                behalf.UserPoolDomain
		created, updated int64
	)
	if err := s.Scan(&d.Domain, &d.PoolID, &d.Custom, &d.CertificateARN, &d.ManagedLoginVersion, &created, &updated); err != nil {
		return nil, err
	}
	d.CreatedAt = fromMicros(created)
	d.UpdatedAt = fromMicros(updated)
	return &d, nil
}
