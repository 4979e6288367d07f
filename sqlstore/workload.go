package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/ttlcache"
)

// workloadKind names workload identities in messages.
const workloadKind = "Workload identity"

// workloadColumns are the workloads columns in scanWorkload's order.
const workloadColumns = "id, name, allowed_return_urls, tags, inbound_issuer, inbound_client_id, inbound_client_secret, bind_redirect_url, created_at, updated_at"

// CreateWorkload inserts w, first setting an empty w.ID to a new random
// id. It returns ECONFLICT if the name (or the id) exists.
func (db *DB) CreateWorkload(ctx context.Context, w *behalf.WorkloadIdentity) error {
	return insertWorkload(ctx, db.conn(), w)
}

// GetWorkload returns the named workload identity, or ENOTFOUND.
// When this process owns the database (OwnWrites) and has written nothing
// since it last read the workload, that read's copy is returned.
func (db *DB) GetWorkload(ctx context.Context, name string) (*behalf.WorkloadIdentity, error) {
	at, quiet := db.clock.now()
	if e, ok := db.workloads.Get(name, time.Now()); ok && quiet && e.at == at {
		return cloneWorkload(e.w), nil
	}
	w, err := findWorkload(ctx, db.conn(), name)
	if err == nil && quiet {
		db.workloads.Put(name, workloadEntry{cloneWorkload(w), at}, time.Now().Add(workloadCacheTTL))
	}
	return w, err
}

// workloadCache holds workloads read from the database after the write
// clock returned at, quiet, while this process owns the database.
type workloadCache = ttlcache.Cache[string, workloadEntry]

type workloadEntry struct {
	w  *behalf.WorkloadIdentity
	at uint64
}

// workloadCacheTTL bounds how long an unused entry of workloadCache is kept.
const workloadCacheTTL = time.Minute

// cloneWorkload copies w, its lists and maps too: callers may change the
// workload they get.
func cloneWorkload(w *behalf.WorkloadIdentity) *behalf.WorkloadIdentity {
	c := *w
	c.AllowedReturnURLs = slices.Clone(w.AllowedReturnURLs)
	c.Tags = maps.Clone(w.Tags)
	c.Inbound.ClientSecret = slices.Clone(w.Inbound.ClientSecret)
	return &c
}

// UpdateWorkload applies fn to the named workload identity in one
// transaction and stores the result; Name and CreatedAt keep their stored
// values. It returns ENOTFOUND, or fn's error unchanged.
func (db *DB) UpdateWorkload(ctx context.Context, name string, fn func(*behalf.WorkloadIdentity) error) (*behalf.WorkloadIdentity, error) {
	load := func(c conn) (*behalf.WorkloadIdentity, error) { return findWorkload(ctx, c, name) }
	save := func(c conn, w *behalf.WorkloadIdentity) error { return updateWorkload(ctx, c, w) }
	return modify(ctx, db, load, fn, keepWorkload, save)
}

// DeleteWorkload deletes the named workload identity and, in the same
// statement, its scoped access keys (access_keys.workload_id references
// workloads ON DELETE CASCADE). It returns ENOTFOUND if there is none.
func (db *DB) DeleteWorkload(ctx context.Context, name string) error {
	return deleteWorkload(ctx, db.conn(), name)
}

// ListWorkloads returns one page of workload identities ordered by name.
func (db *DB) ListWorkloads(ctx context.Context, opt behalf.ListOptions) ([]*behalf.WorkloadIdentity, error) {
	return listWorkloads(ctx, db.conn(), opt)
}

// insertWorkload inserts w, first setting an empty w.ID to a new random
// id, returning ECONFLICT if its name (or id) exists.
func insertWorkload(ctx context.Context, c conn, w *behalf.WorkloadIdentity) error {
	urls, tags, err := encodeWorkload(w)
	if err != nil {
		return fmt.Errorf("insert workload %q: %w", w.Name, err)
	}
	if w.ID == "" {
		w.ID = newWorkloadID()
	}
	_, err = c.exec(ctx, "INSERT INTO workloads ("+workloadColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		w.ID, w.Name, urls, tags, w.Inbound.Issuer, w.Inbound.ClientID, blob(w.Inbound.ClientSecret), w.Inbound.BindRedirectURL,
		micros(w.CreatedAt), micros(w.UpdatedAt))
	if err != nil {
		return c.conflict(err, fmt.Sprintf("insert workload %q", w.Name), workloadKind, w.Name)
	}
	return nil
}

// newWorkloadID returns a random workload id: 32 lowercase hex digits, as
// migration 0022 gave the workloads that existed before it.
func newWorkloadID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// findWorkload reads the named workload identity, locking it inside a
// writing transaction. It returns ENOTFOUND if there is none.
func findWorkload(ctx context.Context, c conn, name string) (*behalf.WorkloadIdentity, error) {
	row := c.queryRow(ctx, "SELECT "+workloadColumns+" FROM workloads WHERE name = ?"+c.lock(), name)
	w, err := scanWorkload(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(workloadKind, name)
	}
	if err != nil {
		return nil, fmt.Errorf("select workload %q: %w", name, err)
	}
	return w, nil
}

// updateWorkload writes every mutable field of w.
func updateWorkload(ctx context.Context, c conn, w *behalf.WorkloadIdentity) error {
	urls, tags, err := encodeWorkload(w)
	if err != nil {
		return fmt.Errorf("update workload %q: %w", w.Name, err)
	}
	_, err = c.exec(ctx, `UPDATE workloads SET allowed_return_urls = ?, tags = ?, inbound_issuer = ?, inbound_client_id = ?,
		inbound_client_secret = ?, bind_redirect_url = ?, updated_at = ? WHERE name = ?`,
		urls, tags, w.Inbound.Issuer, w.Inbound.ClientID, blob(w.Inbound.ClientSecret), w.Inbound.BindRedirectURL,
		micros(w.UpdatedAt), w.Name)
	if err != nil {
		return fmt.Errorf("update workload %q: %w", w.Name, err)
	}
	return nil
}

// deleteWorkload deletes the named workload identity, or returns ENOTFOUND.
func deleteWorkload(ctx context.Context, c conn, name string) error {
	res, err := c.exec(ctx, "DELETE FROM workloads WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("delete workload %q: %w", name, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return fmt.Errorf("delete workload %q: %w", name, err)
	}
	if !ok {
		return notFound(workloadKind, name)
	}
	return nil
}

// listWorkloads returns opt's page of workload identities by name.
func listWorkloads(ctx context.Context, c conn, opt behalf.ListOptions) ([]*behalf.WorkloadIdentity, error) {
	page, args := pageClause("name", opt)
	ws, err := queryAll(ctx, c, scanWorkload, "SELECT "+workloadColumns+" FROM workloads"+page, args...)
	if err != nil {
		return nil, fmt.Errorf("list workloads: %w", err)
	}
	return ws, nil
}

// keepWorkload restores the fields an update may not change.
func keepWorkload(edited, orig *behalf.WorkloadIdentity) {
	edited.ID = orig.ID
	edited.Name = orig.Name
	edited.CreatedAt = orig.CreatedAt
}

// encodeWorkload returns w's JSON columns.
func encodeWorkload(w *behalf.WorkloadIdentity) (urls, tags string, err error) {
	if urls, err = encodeList("allowed_return_urls", w.AllowedReturnURLs); err != nil {
		return "", "", err
	}
	if tags, err = encodeTags(w.Tags); err != nil {
		return "", "", err
	}
	return urls, tags, nil
}

// scanWorkload reads a row of workloadColumns.
func scanWorkload(s scanner) (*behalf.WorkloadIdentity, error) {
	var (
		id, name, urlsJSON, tagsJSON string
		in                           behalf.WorkloadInbound
		secret                       []byte
		created, updated             int64
	)
	if err := s.Scan(&id, &name, &urlsJSON, &tagsJSON, &in.Issuer, &in.ClientID, &secret, &in.BindRedirectURL, &created, &updated); err != nil {
		return nil, err
	}
	urls, err := decodeList("allowed_return_urls", urlsJSON)
	if err != nil {
		return nil, err
	}
	tags, err := decodeTags(tagsJSON)
	if err != nil {
		return nil, err
	}
	in.ClientSecret = fromBlob(secret)
	return &behalf.WorkloadIdentity{
		ID:                id,
		Name:              name,
		AllowedReturnURLs: urls,
		Tags:              tags,
		Inbound:           in,
		CreatedAt:         fromMicros(created),
		UpdatedAt:         fromMicros(updated),
	}, nil
}
