package userpool

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"

	"github.com/behalf-dev/behalf"
)

// A client ID metadata document (the hosted login's client_id that is an
// https URL, userpool/oidcop) is kept as an ordinary app client of the
// pool, flagged DynamicallyRegistered, whose id is derived from the pool
// and the URL: every replica finds it without a lookup table, tokens,
// refreshes, revocation and DeleteUserPoolClient work as for any client,
// and the same URL is a distinct client in each pool.

// DocumentClientID is the id of the app client a pool keeps for a client
// ID metadata document URL: 26 lower-case alphanumerics of a SHA-256 of
// both, the shape of a generated client id.
func (s *Service) DocumentClientID(poolID, documentURL string) string {
	sum := sha256.Sum256([]byte("behalf client id metadata document\x00" + poolID + "\x00" + documentURL))
	out := make([]byte, clientIDLen)
	for i := range out {
		out[i] = lowerAlnum[int(sum[i])%len(lowerAlnum)]
	}
	return string(out)
}

// PutDocumentClient creates or updates the app client of a pool's client
// ID metadata document so that it has in's settings (the document's, as
// read by the hosted login; in.DynamicallyRegistered must be set, and the
// client is public). It returns the client as stored.
func (s *Service) PutDocumentClient(ctx context.Context, documentURL string, in behalf.UserPoolClientInput) (*behalf.AppClient, error) {
	if !in.DynamicallyRegistered || in.GenerateSecret {
		return nil, invalidParameter("A metadata document's client is a public, dynamically registered client.")
	}
	if _, err := s.getPool(ctx, in.PoolID); err != nil {
		return nil, err
	}
	want := &behalf.AppClient{PoolID: in.PoolID, DynamicallyRegistered: true}
	if err := applyClientInput(want, in, false); err != nil {
		return nil, err
	}
	if err := s.checkScopesDefined(ctx, in.PoolID, want.AllowedOAuthScopes); err != nil {
		return nil, err
	}
	id := s.DocumentClientID(in.PoolID, documentURL)
	for range 2 {
		cur, err := s.Store.GetAppClient(ctx, id)
		switch {
		case err == nil && cur.PoolID != in.PoolID:
			return nil, internal("metadata document client", errIDCollision)
		case err == nil && sameDocumentSettings(cur, want):
			return cur, nil
		case err == nil:
			c, err := s.Store.UpdateAppClient(ctx, id, func(c *behalf.AppClient) error {
				if err := applyClientInput(c, in, false); err != nil {
					return err
				}
				c.UpdatedAt = s.now()
				return nil
			})
			if err != nil {
				return nil, internal("update metadata document client", err)
			}
			return c, nil
		case !isNotFound(err):
			return nil, internal("get metadata document client", err)
		}
		want.ID = id
		want.CreatedAt = s.now()
		want.UpdatedAt = want.CreatedAt
		err = s.Store.CreateAppClient(ctx, want)
		if err == nil {
			return want, nil
		}
		if !isConflict(err) {
			return nil, internal("create metadata document client", err)
		}
		// Another replica created it first: read it again.
	}
	return nil, internal("metadata document client", errIDCollision)
}

// sameDocumentSettings reports whether a stored document client already
// has the settings a document gives it.
func sameDocumentSettings(cur, want *behalf.AppClient) bool {
	return cur.Name == want.Name && slices.Equal(cur.CallbackURLs, want.CallbackURLs) &&
		slices.Equal(cur.AllowedOAuthScopes, want.AllowedOAuthScopes) &&
		slices.Equal(cur.AllowedOAuthFlows, want.AllowedOAuthFlows) &&
		cur.AllowedOAuthFlowsUserPoolClient == want.AllowedOAuthFlowsUserPoolClient &&
		cur.RotateRefreshTokens == want.RotateRefreshTokens && len(cur.Secret) == 0
}

// errIDCollision is a document client id held by another pool's client
// (a SHA-256 collision in 130 bits: never expected).
var errIDCollision = errors.New("client id held by another pool")
