package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/behalf-dev/behalf"
)

// appClientColumns are the app_clients columns in scanAppClient's order.
const appClientColumns = `id, pool_id, name, secret, explicit_auth_flows, allowed_oauth_flows, allowed_oauth_scopes,
	allowed_oauth_flows_user_pool_client, callback_urls, logout_urls, supported_identity_providers,
	access_token_validity, id_token_validity, refresh_token_validity, enable_token_revocation,
	created_at, updated_at, rotate_refresh_tokens, refresh_retry_grace, dynamically_registered`

// CreateAppClient inserts c. It returns ECONFLICT if the client id exists
// (in any pool), or ENOTFOUND if c.PoolID names no user pool. The token
// validities are stored in microseconds: a finer part is dropped.
func (db *DB) CreateAppClient(ctx context.Context, c *behalf.AppClient) error {
	return insertAppClient(ctx, db.conn(), c)
}

// CountRegisteredAppClients counts pool poolID's DynamicallyRegistered
// app clients, up to limit (limit <= 0 counts them all).
func (db *DB) CountRegisteredAppClients(ctx context.Context, poolID string, limit int) (int, error) {
	q := "SELECT COUNT(*) FROM (SELECT 1 FROM app_clients WHERE pool_id = ? AND dynamically_registered"
	args := []any{poolID}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	var n int
	if err := db.conn().queryRow(ctx, q+") AS registered", args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count registered app clients of user pool %q: %w", poolID, err)
	}
	return n, nil
}

// GetAppClient returns the app client with the given id, whatever its
// pool, or ENOTFOUND.
func (db *DB) GetAppClient(ctx context.Context, clientID string) (*behalf.AppClient, error) {
	return findAppClient(ctx, db.conn(), clientID)
}

// UpdateAppClient applies fn to the app client with the given id in one
// transaction and stores the result; ID, PoolID and CreatedAt keep their
// stored values. It returns ENOTFOUND, or fn's error unchanged.
func (db *DB) UpdateAppClient(ctx context.Context, clientID string, fn func(*behalf.AppClient) error) (*behalf.AppClient, error) {
	load := func(c conn) (*behalf.AppClient, error) { return findAppClient(ctx, c, clientID) }
	save := func(c conn, ac *behalf.AppClient) error { return updateAppClient(ctx, c, ac) }
	return modify(ctx, db, load, fn, keepAppClient, save)
}

// DeleteAppClient deletes the app client with the given id and, in the
// same transaction, revokes the refresh tokens issued to it, so that a
// client re-created with that id cannot use them. It returns ENOTFOUND if
// there is no such client.
func (db *DB) DeleteAppClient(ctx context.Context, clientID string) error {
	return db.inTx(ctx, func(c conn) error {
		if err := deleteAppClient(ctx, c, clientID); err != nil {
			return err
		}
		_, err := revokeClientRefreshTokens(ctx, c, clientID)
		return err
	})
}

// ListAppClients returns one page of the app clients of pool poolID,
// ordered by id. A pool that does not exist has no clients.
func (db *DB) ListAppClients(ctx context.Context, poolID string, opt behalf.ListOptions) ([]*behalf.AppClient, error) {
	return listAppClients(ctx, db.conn(), poolID, opt)
}

// appClientNotFound is the ENOTFOUND error for app client id.
func appClientNotFound(id string) error {
	return behalf.Errorf(behalf.ENOTFOUND, "User pool client %s does not exist.", id)
}

// insertAppClient inserts ac, returning ECONFLICT if its id exists or
// ENOTFOUND if its pool does not.
func insertAppClient(ctx context.Context, c conn, ac *behalf.AppClient) error {
	j, err := encodeAppClient(ac)
	if err != nil {
		return fmt.Errorf("insert app client %q: %w", ac.ID, err)
	}
	_, err = c.exec(ctx, "INSERT INTO app_clients ("+appClientColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		ac.ID, ac.PoolID, ac.Name, blob(ac.Secret), j.explicitAuthFlows, j.allowedOAuthFlows, j.allowedOAuthScopes,
		ac.AllowedOAuthFlowsUserPoolClient, j.callbackURLs, j.logoutURLs, j.supportedIdentityProviders,
		durationMicros(ac.AccessTokenValidity), durationMicros(ac.IDTokenValidity), durationMicros(ac.RefreshTokenValidity),
		ac.EnableTokenRevocation, micros(ac.CreatedAt), micros(ac.UpdatedAt),
		ac.RotateRefreshTokens, durationMicros(ac.RefreshRetryGrace), ac.DynamicallyRegistered)
	if err != nil {
		return inPoolWriteError(c, err, fmt.Sprintf("insert app client %q", ac.ID), ac.PoolID,
			fmt.Sprintf("User pool client %s already exists.", ac.ID))
	}
	return nil
}

// findAppClient reads the app client with the given id, locking it inside
// a writing transaction. It returns ENOTFOUND if there is none.
func findAppClient(ctx context.Context, c conn, id string) (*behalf.AppClient, error) {
	row := c.queryRow(ctx, "SELECT "+appClientColumns+" FROM app_clients WHERE id = ?"+c.lock(), id)
	ac, err := scanAppClient(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, appClientNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("select app client %q: %w", id, err)
	}
	return ac, nil
}

// updateAppClient writes every mutable field of ac.
func updateAppClient(ctx context.Context, c conn, ac *behalf.AppClient) error {
	j, err := encodeAppClient(ac)
	if err != nil {
		return fmt.Errorf("update app client %q: %w", ac.ID, err)
	}
	_, err = c.exec(ctx, `UPDATE app_clients SET name = ?, secret = ?, explicit_auth_flows = ?, allowed_oauth_flows = ?,
		allowed_oauth_scopes = ?, allowed_oauth_flows_user_pool_client = ?, callback_urls = ?, logout_urls = ?,
		supported_identity_providers = ?, access_token_validity = ?, id_token_validity = ?,
		refresh_token_validity = ?, enable_token_revocation = ?, updated_at = ?,
		rotate_refresh_tokens = ?, refresh_retry_grace = ?
		WHERE id = ?`,
		ac.Name, blob(ac.Secret), j.explicitAuthFlows, j.allowedOAuthFlows, j.allowedOAuthScopes,
		ac.AllowedOAuthFlowsUserPoolClient, j.callbackURLs, j.logoutURLs, j.supportedIdentityProviders,
		durationMicros(ac.AccessTokenValidity), durationMicros(ac.IDTokenValidity), durationMicros(ac.RefreshTokenValidity),
		ac.EnableTokenRevocation, micros(ac.UpdatedAt), ac.RotateRefreshTokens, durationMicros(ac.RefreshRetryGrace), ac.ID)
	if err != nil {
		return fmt.Errorf("update app client %q: %w", ac.ID, err)
	}
	return nil
}

// deleteAppClient deletes the app client with the given id, or returns
// ENOTFOUND.
func deleteAppClient(ctx context.Context, c conn, id string) error {
	res, err := c.exec(ctx, "DELETE FROM app_clients WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete app client %q: %w", id, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("delete app client %q: %w", id, err)
	}
	if !ok {
		return appClientNotFound(id)
	}
	return nil
}

// listAppClients returns opt's page of pool poolID's app clients by id.
func listAppClients(ctx context.Context, c conn, poolID string, opt behalf.ListOptions) ([]*behalf.AppClient, error) {
	page, args := scopedPageClause("pool_id", poolID, "id", opt)
	cs, err := queryAll(ctx, c, scanAppClient, "SELECT "+appClientColumns+" FROM app_clients"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list app clients of user pool %q: %w", poolID, err)
	}
	return cs, nil
}

// keepAppClient restores the fields an update may not change.
func keepAppClient(edited, orig *behalf.AppClient) {
	edited.DynamicallyRegistered = orig.DynamicallyRegistered
	edited.ID = orig.ID
	edited.PoolID = orig.PoolID
	edited.CreatedAt = orig.CreatedAt
}

// appClientJSON holds the JSON list columns of an app client.
type appClientJSON struct {
	explicitAuthFlows, allowedOAuthFlows, allowedOAuthScopes string
	callbackURLs, logoutURLs, supportedIdentityProviders     string
}

// encodeAppClient returns ac's JSON columns.
func encodeAppClient(ac *behalf.AppClient) (j appClientJSON, err error) {
	if j.explicitAuthFlows, err = encodeList("explicit_auth_flows", ac.ExplicitAuthFlows); err != nil {
		return j, err
	}
	if j.allowedOAuthFlows, err = encodeList("allowed_oauth_flows", ac.AllowedOAuthFlows); err != nil {
		return j, err
	}
	if j.allowedOAuthScopes, err = encodeList("allowed_oauth_scopes", ac.AllowedOAuthScopes); err != nil {
		return j, err
	}
	if j.callbackURLs, err = encodeList("callback_urls", ac.CallbackURLs); err != nil {
		return j, err
	}
	if j.logoutURLs, err = encodeList("logout_urls", ac.LogoutURLs); err != nil {
		return j, err
	}
	if j.supportedIdentityProviders, err = encodeList("supported_identity_providers", ac.SupportedIdentityProviders); err != nil {
		return j, err
	}
	return j, nil
}

// decodeAppClient sets ac's list fields from its JSON columns.
func decodeAppClient(ac *behalf.AppClient, j *appClientJSON) (err error) {
	if ac.ExplicitAuthFlows, err = decodeList("explicit_auth_flows", j.explicitAuthFlows); err != nil {
		return err
	}
	if ac.AllowedOAuthFlows, err = decodeList("allowed_oauth_flows", j.allowedOAuthFlows); err != nil {
		return err
	}
	if ac.AllowedOAuthScopes, err = decodeList("allowed_oauth_scopes", j.allowedOAuthScopes); err != nil {
		return err
	}
	if ac.CallbackURLs, err = decodeList("callback_urls", j.callbackURLs); err != nil {
		return err
	}
	if ac.LogoutURLs, err = decodeList("logout_urls", j.logoutURLs); err != nil {
		return err
	}
	if ac.SupportedIdentityProviders, err = decodeList("supported_identity_providers", j.supportedIdentityProviders); err != nil {
		return err
	}
	return nil
}

// scanAppClient reads a row of appClientColumns.
func scanAppClient(s scanner) (*behalf.AppClient, error) {
	var (
		ac                                  behalf.AppClient
		secret                              []byte
		j                                   appClientJSON
		accessValidity, idValidity, refresh int64
		created, updated, grace             int64
	)
	err := s.Scan(&ac.ID, &ac.PoolID, &ac.Name, &secret, &j.explicitAuthFlows, &j.allowedOAuthFlows,
		&j.allowedOAuthScopes, &ac.AllowedOAuthFlowsUserPoolClient, &j.callbackURLs, &j.logoutURLs,
		&j.supportedIdentityProviders, &accessValidity, &idValidity, &refresh, &ac.EnableTokenRevocation,
		&created, &updated, &ac.RotateRefreshTokens, &grace, &ac.DynamicallyRegistered)
	if err != nil {
		return nil, err
	}
	ac.RefreshRetryGrace = fromDurationMicros(grace)
	if err := decodeAppClient(&ac, &j); err != nil {
		return nil, err
	}
	ac.Secret = fromBlob(secret)
	ac.AccessTokenValidity = fromDurationMicros(accessValidity)
	ac.IDTokenValidity = fromDurationMicros(idValidity)
	ac.RefreshTokenValidity = fromDurationMicros(refresh)
	ac.CreatedAt = fromMicros(created)
	ac.UpdatedAt = fromMicros(updated)
	return &ac, nil
}
