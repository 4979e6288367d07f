package oidcop

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// authRequest is an authorization request as stored, sealed, in a
// behalf.PoolAuthRequest's Data. It holds no behalf.Secret fields, whose
// JSON form is redacted.
type authRequest struct {
	ClientID        string                   `json:"client_id"`
	ClientName      string                   `json:"client_name,omitempty"` // shown on the login page
	RedirectURI     string                   `json:"redirect_uri"`
	Scopes          []string                 `json:"scopes"`
	State           string                   `json:"state,omitempty"`
	Nonce           string                   `json:"nonce,omitempty"`
	CodeChallenge   string                   `json:"code_challenge,omitempty"`
	ChallengeMethod oidc.CodeChallengeMethod `json:"code_challenge_method,omitempty"`
	LoginHint       string                   `json:"login_hint,omitempty"`
	// Resources are the RFC 8707 resource indicators asked for: the
	// tokens' aud.
	Resources []string `json:"resources,omitempty"`
	// Registered is a dynamically registered client's request: the login
	// page says so, and where the code goes.
	Registered bool `json:"registered,omitempty"`
	// DocumentURL is the client_id of a client ID metadata document's
	// client: the login page shows its host.
	DocumentURL string `json:"document_url,omitempty"`

	// A user whose temporary password was verified and who must choose a
	// new one, in the browser whose CSRF cookie hashes to PendingBrowser.
	PendingUser    string    `json:"pending_user,omitempty"`
	PendingBrowser string    `json:"pending_browser,omitempty"`
	PendingAt      time.Time `json:"pending_at,omitzero"`
	// PendingStep is what the pending user must do next: "" (a new
	// password), stepMFA or stepMFASetup. TOTPSecret and TOTPURI are the
	// secret the MFA setup page shows until a code of it is verified
	// (sealed with the request, like all of it).
	PendingStep string `json:"pending_step,omitempty"`
	TOTPSecret  string `json:"totp_secret,omitempty"`
	TOTPURI     string `json:"totp_uri,omitempty"`

	// Set when the user signed in and the code was issued.
	Username string    `json:"username,omitempty"`
	AuthTime time.Time `json:"auth_time,omitzero"`
	// Set when the code was presented at the token endpoint.
	Redeemed bool `json:"redeemed,omitempty"`
	// RefreshToken is what the code was exchanged for, kept (sealed) until
	// the code expires so that a replay can revoke it.
	RefreshToken string `json:"refresh_token,omitempty"`
}

// challenge returns the PKCE challenge, or nil.
func (a *authRequest) challenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: a.ChallengeMethod}
}

// storedRequest is an auth request with its record: raw and codeHash are
// what updates compare to detect a concurrent change.
type storedRequest struct {
	id        string
	poolID    string
	codeHash  string
	raw       behalf.Sealed
	expiresAt time.Time
	data      authRequest
}

// errRequestGone is an auth request that does not exist (any more), is of
// another pool, or expired.
var errRequestGone = errors.New("auth request not found or expired")

// errRequestChanged is an auth request that changed since it was read: a
// concurrent login or redemption won.
var errRequestChanged = errors.New("auth request changed concurrently")

// requestContext is where an auth request's data is sealed.
func requestContext(id string) behalf.SealContext {
	return behalf.SealContext{Kind: "pool-auth-request", Key: id, Field: "data"}
}

// newCode returns an authorization code: 256 random bits.
func newCode() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// codeHash is the hex SHA-256 a code is stored by.
func codeHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// seal encodes and seals an auth request for record id.
func (p *Provider) seal(ctx context.Context, id string, a *authRequest) (behalf.Sealed, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	return p.sealer.Seal(ctx, requestContext(id), b)
}

// createRequest stores a new auth request of a pool. With a code, it is
// stored already signed in (a session's authorization), the code valid
// for codeLifetime; without, it waits loginLifetime for the login page.
// A request over maxStoredRequest, or past the bounds on unexpired
// requests (admit), is refused with an *oidc.Error and not stored.
func (p *Provider) createRequest(ctx context.Context, poolID string, a *authRequest, code string) (string, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return "", err
	}
	if len(b) > maxStoredRequest {
		return "", errRequestTooLarge()
	}
	clientIP, err := p.admit(ctx)
	if err != nil {
		return "", err
	}
	id := randid.Hex(16)
	sealed, err := p.sealer.Seal(ctx, requestContext(id), b)
	if err != nil {
		return "", err
	}
	now := p.clock()
	rec := &behalf.PoolAuthRequest{ID: id, PoolID: poolID, ClientIP: clientIP, Data: sealed, ExpiresAt: now.Add(loginLifetime), CreatedAt: now}
	if code != "" {
		rec.CodeHash, rec.ExpiresAt = codeHash(code), now.Add(codeLifetime)
	}
	if err := p.store.CreatePoolAuthRequest(ctx, rec); err != nil {
		return "", err
	}
	return id, nil
}

// createError answers a failed createRequest: its refusals (*oidc.Error)
// as they are, anything else as a logged server_error.
func (p *Provider) createError(ctx context.Context, err error) error {
	var oe *oidc.Error
	if errors.As(err, &oe) {
		return oe
	}
	return p.serverError(ctx, "create auth request", err)
}

// loadRequest returns a pool's auth request by id, or errRequestGone.
func (p *Provider) loadRequest(ctx context.Context, poolID, id string) (*storedRequest, error) {
	if id == "" || len(id) > 64 {
		return nil, errRequestGone
	}
	rec, err := p.store.GetPoolAuthRequest(ctx, id)
	return p.openRequest(ctx, poolID, rec, err)
}

// loadByCode returns a pool's auth request by its code, or errRequestGone.
func (p *Provider) loadByCode(ctx context.Context, poolID, code string) (*storedRequest, error) {
	if code == "" || len(code) > 512 {
		return nil, errRequestGone
	}
	rec, err := p.store.GetPoolAuthRequestByCode(ctx, codeHash(code))
	return p.openRequest(ctx, poolID, rec, err)
}

// openRequest checks and opens a loaded record; an expired one is deleted.
func (p *Provider) openRequest(ctx context.Context, poolID string, rec *behalf.PoolAuthRequest, err error) (*storedRequest, error) {
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, errRequestGone
	}
	if err != nil {
		return nil, err
	}
	if rec.PoolID != poolID {
		return nil, errRequestGone
	}
	if !p.clock().Before(rec.ExpiresAt) {
		if err := p.store.DeletePoolAuthRequest(ctx, rec.ID); err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND {
			p.log.WarnContext(ctx, "hosted login: delete expired auth request", "err", err)
		}
		return nil, errRequestGone
	}
	plain, err := p.sealer.Open(ctx, requestContext(rec.ID), rec.Data)
	if err != nil {
		return nil, err
	}
	sr := &storedRequest{id: rec.ID, poolID: rec.PoolID, codeHash: rec.CodeHash, raw: rec.Data, expiresAt: rec.ExpiresAt}
	if err := json.Unmarshal(plain, &sr.data); err != nil {
		return nil, err
	}
	return sr, nil
}

// updateRequest stores sr.data if the record is still as it was read
// (errRequestChanged otherwise). A non-empty code is set as the record's
// code, valid for codeLifetime from now.
func (p *Provider) updateRequest(ctx context.Context, sr *storedRequest, code string) error {
	sealed, err := p.seal(ctx, sr.id, &sr.data)
	if err != nil {
		return err
	}
	_, err = p.store.UpdatePoolAuthRequest(ctx, sr.id, func(r *behalf.PoolAuthRequest) error {
		if r.CodeHash != sr.codeHash || !bytes.Equal(r.Data, sr.raw) {
			return errRequestChanged
		}
		r.Data = sealed
		if code != "" {
			r.CodeHash, r.ExpiresAt = codeHash(code), p.clock().Add(codeLifetime)
		}
		return nil
	})
	switch {
	case errors.Is(err, errRequestChanged):
		return errRequestChanged
	case behalf.ErrorCode(err) == behalf.ENOTFOUND:
		return errRequestGone
	case err != nil:
		return err
	}
	sr.raw = sealed
	if code != "" {
		sr.codeHash = codeHash(code)
	}
	return nil
}
