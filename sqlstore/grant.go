package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/ttlcache"
)

// grantKind names grants in messages.
const grantKind = "Grant"

// grantColumns are the grants columns in scanGrant's order.
const grantColumns = "id, workload, user_key, provider_id, scopes, token, expires_at, has_refresh, refresh_lease, version, created_at, updated_at, refreshed_at, last_used_at, account, interrupted_lease, exchange"

// GetGrant returns the consent grant (exchange "") of workload × userKey ×
// providerID, or ENOTFOUND. It is one read of the
// grants_user_workload_provider index (see getGrant).
func (db *DB) GetGrant(ctx context.Context, workload, userKey, providerID string) (*behalf.Grant, error) {
	return db.getGrant(ctx, grantKey{workload, userKey, providerID, ""})
}

// GetExchangeGrant returns the grant of workload × userKey × providerID ×
// exchange, or ENOTFOUND; one read of the same index.
func (db *DB) GetExchangeGrant(ctx context.Context, workload, userKey, providerID, exchange string) (*behalf.Grant, error) {
	return db.getGrant(ctx, grantKey{workload, userKey, providerID, exchange})
}

// getGrant reads the grants_user_workload_provider index every time (a
// grant deleted or changed, by any process, is never returned as it was),
// but only the row's id, version, updated_at and last_used_at when this DB
// read the same id at the same version and updated_at before: every write
// of a grant but TouchGrants increments its version, so the rest of that
// row is the one read then (grantCache). When this process owns the
// database (OwnWrites) and has written nothing since it read the row, the
// row is what the database holds and is returned without a read.
func (db *DB) getGrant(ctx context.Context, key grantKey) (*behalf.Grant, error) {
	at, quiet := db.clock.now()
	c := db.conn()
	if cached, ok := db.grants.Get(key, time.Now()); ok {
		if cached.current && quiet && cached.at == at {
			return cloneGrant(cached.g), nil
		}
		var (
			id                string
			version           int64
			updated, lastUsed int64
		)
		err := c.queryRow(ctx, "SELECT id, version, updated_at, last_used_at FROM grants WHERE user_key = ? AND workload = ? AND provider_id = ? AND exchange = ?",
			key.userKey, key.workload, key.providerID, key.exchange).Scan(&id, &version, &updated, &lastUsed)
		if errors.Is(err, sql.ErrNoRows) {
			db.grants.Delete(key)
			return nil, grantNotFound(key.workload, key.userKey, key.providerID)
		}
		if err != nil {
			return nil, fmt.Errorf("select grant of workload %q, user %q, provider %q: %w", key.workload, key.userKey, key.providerID, err)
		}
		if id == cached.g.ID && version == cached.g.Version && updated == micros(cached.g.UpdatedAt) {
			g := cloneGrant(cached.g)
			g.LastUsedAt = fromMicros(lastUsed)
			db.rememberGrant(key, g, at, quiet)
			return g, nil
		}
	}
	g, err := findGrantFor(ctx, c, key.workload, key.userKey, key.providerID, key.exchange)
	if err != nil {
		if behalf.ErrorCode(err) == behalf.ENOTFOUND {
			db.grants.Delete(key)
		}
		return nil, err
	}
	db.rememberGrant(key, g, at, quiet)
	return g, nil
}

// rememberGrant keeps a copy of g, read from the database as of (at,
// quiet): current if nothing was written since.
func (db *DB) rememberGrant(key grantKey, g *behalf.Grant, at uint64, quiet bool) {
	db.grants.Put(key, grantEntry{g: cloneGrant(g), at: at, current: quiet}, time.Now().Add(grantCacheTTL))
}

// grantCache holds the grants getGrant read last, by workload × user ×
// provider × exchange, so that a read of one whose version has not moved
// reads four columns, not seventeen, and none while it is current.
type grantCache = ttlcache.Cache[grantKey, grantEntry]

// grantEntry is a grant read from the database after the write clock
// returned at; current if the clock was quiet then.
type grantEntry struct {
	g       *behalf.Grant
	at      uint64
	current bool
}

type grantKey struct{ workload, userKey, providerID, exchange string }

// grantCacheTTL bounds how long an unused entry of grantCache is kept.
const grantCacheTTL = time.Minute

// cloneGrant copies g, its scopes and token too: callers may change the
// grant they get.
func cloneGrant(g *behalf.Grant) *behalf.Grant {
	c := *g
	c.Scopes = slices.Clone(g.Scopes)
	c.Token = slices.Clone(g.Token)
	return &c
}

func grantNotFound(workload, userKey, providerID string) error {
	return behalf.Errorf(behalf.ENOTFOUND, "No grant found for workload %q, user %q and provider %q.", workload, userKey, providerID)
}

// PutGrant inserts g, atomically replacing any grant with the same
// workload × user × provider × exchange (whatever its id). The row stored is g as
// passed, except Version: it is the replaced grant's Version + 1, or 1 if
// there was none, and is written back into g.Version. It returns ECONFLICT
// if g.ID is the id of a grant for another workload × user × provider.
func (db *DB) PutGrant(ctx context.Context, g *behalf.Grant) error {
	return upsertGrant(ctx, db.conn(), g)
}

// UpdateGrant applies fn to the grant with the given id in one transaction
// and stores the result with Version incremented; ID, Workload, UserKey,
// ProviderID and CreatedAt keep their stored values, and a Version set by
// fn is ignored. It returns ENOTFOUND, or fn's error unchanged.
func (db *DB) UpdateGrant(ctx context.Context, id string, fn func(*behalf.Grant) error) (*behalf.Grant, error) {
	load := func(c conn) (*behalf.Grant, error) { return findGrant(ctx, c, id) }
	save := func(c conn, g *behalf.Grant) error { return updateGrant(ctx, c, g) }
	return modify(ctx, db, load, fn, keepGrant, save)
}

// ClaimGrantRefresh sets the RefreshLease of grant id to until, and
// increments its Version, if its lease is not later than now (a zero lease
// is never later). It reports whether this caller got the lease; the check
// and the write are one conditional UPDATE, so of concurrent claimers
// exactly one wins. A lease taken over that is not zero ran out without
// being released: its end is recorded in InterruptedLease, in the same
// UPDATE. It returns ENOTFOUND if there is no such grant.
func (db *DB) ClaimGrantRefresh(ctx context.Context, id string, now, until time.Time) (bool, error) {
	return claimGrantRefresh(ctx, db.conn(), id, now, until)
}

// CompleteGrantRefresh stores a refresh's token set into grant id and
// releases its lease in one UPDATE (one round trip, committed on its own):
// the write that must not be lost when a provider rotates refresh tokens,
// so it is kept as short as it can be.
func (db *DB) CompleteGrantRefresh(ctx context.Context, id string, token behalf.Sealed, expiresAt time.Time, scopes []string, at time.Time) error {
	enc, err := encodeList("scopes", scopes)
	if err != nil {
		return fmt.Errorf("complete refresh of grant %q: %w", id, err)
	}
	zero := micros(time.Time{})
	res, err := db.conn().exec(ctx, `UPDATE grants SET token = ?, expires_at = ?, scopes = ?, has_refresh = ?, refresh_lease = ?,
		interrupted_lease = ?, refreshed_at = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
		blob(token), micros(expiresAt), enc, true, zero, zero, micros(at), micros(at), id)
	if err != nil {
		return fmt.Errorf("complete refresh of grant %q: %w", id, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("complete refresh of grant %q: %w", id, err)
	}
	if !ok {
		return notFound(grantKind, id)
	}
	return nil
}

// DeleteGrant deletes the grant with the given id, or returns ENOTFOUND.
func (db *DB) DeleteGrant(ctx context.Context, id string) error {
	return deleteGrant(ctx, db.conn(), id)
}

// ListGrants returns the grants of userKey ("" for every user), ordered by
// workload, then provider id (then user key).
func (db *DB) ListGrants(ctx context.Context, userKey string) ([]*behalf.Grant, error) {
	return listGrants(ctx, db.conn(), userKey)
}

// GetGrantByID returns the grant with the given id, or ENOTFOUND. It is one
// read of the primary key.
func (db *DB) GetGrantByID(ctx context.Context, id string) (*behalf.Grant, error) {
	return findGrant(ctx, db.conn(), id)
}

// TouchGrants sets each grant's LastUsedAt to the later of its stored value
// and the time given for it, in one transaction; Version and every other
// field are left alone, and ids with no grant are skipped. UpdateGrant
// never writes LastUsedAt, so a refresh that read the grant before a touch
// cannot move it back.
func (db *DB) TouchGrants(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	return db.inTx(ctx, func(c conn) error {
		for _, id := range slices.Sorted(maps.Keys(lastUsed)) { // one lock order for every writer
			at := micros(lastUsed[id])
			if _, err := c.exec(ctx, "UPDATE grants SET last_used_at = ? WHERE id = ? AND last_used_at < ?", at, id, at); err != nil {
				return fmt.Errorf("touch grant %q: %w", id, err)
			}
		}
		return nil
	})
}

// upsertGrant inserts g or replaces the grant of its workload × user ×
// provider in one statement, and sets g.Version to the stored version.
// SQLite (3.35+) and PostgreSQL share the ON CONFLICT … DO UPDATE and
// RETURNING syntax.
func upsertGrant(ctx context.Context, c conn, g *behalf.Grant) error {
	scopes, err := encodeList("scopes", g.Scopes)
	if err != nil {
		return fmt.Errorf("put grant %q: %w", g.ID, err)
	}
	var version int64
	err = c.queryRow(ctx, "INSERT INTO grants ("+grantColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)"+
		` ON CONFLICT (user_key, workload, provider_id, exchange) DO UPDATE SET id = excluded.id, scopes = excluded.scopes,
		token = excluded.token, expires_at = excluded.expires_at, has_refresh = excluded.has_refresh,
		refresh_lease = excluded.refresh_lease, version = grants.version + 1, created_at = excluded.created_at,
		updated_at = excluded.updated_at, refreshed_at = excluded.refreshed_at, last_used_at = excluded.last_used_at,
		account = excluded.account, interrupted_lease = excluded.interrupted_lease
		RETURNING version`,
		g.ID, g.Workload, g.UserKey, g.ProviderID, scopes, blob(g.Token), micros(g.ExpiresAt), g.HasRefresh,
		micros(g.RefreshLease), micros(g.CreatedAt), micros(g.UpdatedAt), micros(g.RefreshedAt), micros(g.LastUsedAt), g.Account, micros(g.InterruptedLease), g.Exchange).Scan(&version)
	if err != nil {
		return c.conflict(err, fmt.Sprintf("put grant %q", g.ID), grantKind, g.ID)
	}
	g.Version = version
	return nil
}

// findGrant reads the grant with the given id, locking it inside a writing
// transaction. It returns ENOTFOUND if there is none.
func findGrant(ctx context.Context, c conn, id string) (*behalf.Grant, error) {
	row := c.queryRow(ctx, "SELECT "+grantColumns+" FROM grants WHERE id = ?"+c.lock(), id)
	g, err := scanGrant(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(grantKind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("select grant %q: %w", id, err)
	}
	return g, nil
}

// findGrantFor reads the grant of workload × userKey × providerID ×
// exchange, or returns ENOTFOUND.
func findGrantFor(ctx context.Context, c conn, workload, userKey, providerID, exchange string) (*behalf.Grant, error) {
	row := c.queryRow(ctx, "SELECT "+grantColumns+" FROM grants WHERE user_key = ? AND workload = ? AND provider_id = ? AND exchange = ?"+c.lock(),
		userKey, workload, providerID, exchange)
	g, err := scanGrant(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, grantNotFound(workload, userKey, providerID)
	}
	if err != nil {
		return nil, fmt.Errorf("select grant of workload %q, user %q, provider %q: %w", workload, userKey, providerID, err)
	}
	return g, nil
}

// updateGrant writes every mutable field of g but LastUsedAt, which only
// TouchGrants moves (forward).
func updateGrant(ctx context.Context, c conn, g *behalf.Grant) error {
	scopes, err := encodeList("scopes", g.Scopes)
	if err != nil {
		return fmt.Errorf("update grant %q: %w", g.ID, err)
	}
	_, err = c.exec(ctx, `UPDATE grants SET scopes = ?, token = ?, expires_at = ?, has_refresh = ?, refresh_lease = ?,
		version = ?, updated_at = ?, refreshed_at = ?, account = ?, interrupted_lease = ? WHERE id = ?`,
		scopes, blob(g.Token), micros(g.ExpiresAt), g.HasRefresh, micros(g.RefreshLease),
		g.Version, micros(g.UpdatedAt), micros(g.RefreshedAt), g.Account, micros(g.InterruptedLease), g.ID)
	if err != nil {
		return fmt.Errorf("update grant %q: %w", g.ID, err)
	}
	return nil
}

// claimGrantRefresh takes the refresh lease of grant id until until if it
// is free at now, reporting whether it did, or returns ENOTFOUND. The SET
// expressions read the row as it was (both dialects), so a lease taken
// over that was not released is what interrupted_lease records.
func claimGrantRefresh(ctx context.Context, c conn, id string, now, until time.Time) (bool, error) {
	res, err := c.exec(ctx, `UPDATE grants SET
		interrupted_lease = CASE WHEN refresh_lease > ? THEN refresh_lease ELSE interrupted_lease END,
		refresh_lease = ?, version = version + 1 WHERE id = ? AND refresh_lease <= ?`,
		micros(time.Time{}), micros(until), id, micros(now))
	if err != nil {
		return false, fmt.Errorf("claim refresh of grant %q: %w", id, err)
	}
	claimed, err := affectedOne(res)
	if err != nil {
		return false, fmt.Errorf("claim refresh of grant %q: %w", id, err)
	}
	if claimed {
		return true, nil
	}
	// Not claimed: the lease is held, or there is no such grant.
	var one int
	err = c.queryRow(ctx, "SELECT 1 FROM grants WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, notFound(grantKind, id)
	}
	if err != nil {
		return false, fmt.Errorf("claim refresh of grant %q: %w", id, err)
	}
	return false, nil
}

// deleteGrant deletes the grant with the given id, or returns ENOTFOUND.
func deleteGrant(ctx context.Context, c conn, id string) error {
	res, err := c.exec(ctx, "DELETE FROM grants WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete grant %q: %w", id, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("delete grant %q: %w", id, err)
	}
	if !ok {
		return notFound(grantKind, id)
	}
	return nil
}

// listGrants returns userKey's grants ("" for all) by workload, provider
// id and user key.
func listGrants(ctx context.Context, c conn, userKey string) ([]*behalf.Grant, error) {
	query := "SELECT " + grantColumns + " FROM grants"
	var args []any
	if userKey != "" {
		query += " WHERE user_key = ?"
		args = append(args, userKey)
	}
	gs, err := queryAll(ctx, c, scanGrant, query+" ORDER BY workload, provider_id, user_key, exchange", args...)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return gs, nil
}

// keepGrant restores the fields an update may not change and increments
// the version.
func keepGrant(edited, orig *behalf.Grant) {
	edited.ID = orig.ID
	edited.Workload = orig.Workload
	edited.UserKey = orig.UserKey
	edited.ProviderID = orig.ProviderID
	edited.Exchange = orig.Exchange
	edited.CreatedAt = orig.CreatedAt
	edited.LastUsedAt = orig.LastUsedAt // not written by updateGrant
	edited.Version = orig.Version + 1
}

// scanGrant reads a row of grantColumns.
func scanGrant(s scanner) (*behalf.Grant, error) {
	var (
		g                                           behalf.Grant
		scopesJSON                                  string
		token                                       []byte
		expires, lease, created, updated, refreshed int64
		lastUsed, interrupted                       int64
	)
	err := s.Scan(&g.ID, &g.Workload, &g.UserKey, &g.ProviderID, &scopesJSON, &token, &expires, &g.HasRefresh,
		&lease, &g.Version, &created, &updated, &refreshed, &lastUsed, &g.Account, &interrupted, &g.Exchange)
	if err != nil {
		return nil, err
	}
	if g.Scopes, err = decodeList("scopes", scopesJSON); err != nil {
		return nil, err
	}
	g.Token = fromBlob(token)
	g.ExpiresAt = fromMicros(expires)
	g.RefreshLease = fromMicros(lease)
	g.CreatedAt = fromMicros(created)
	g.UpdatedAt = fromMicros(updated)
	g.RefreshedAt = fromMicros(refreshed)
	g.LastUsedAt = fromMicros(lastUsed)
	g.InterruptedLease = fromMicros(interrupted)
	return &g, nil
}
