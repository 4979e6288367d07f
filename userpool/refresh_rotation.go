package userpool

import (
	"context"
	"time"

	"github.com/behalf-dev/behalf"
)

// Refresh-token rotation (the app client's RefreshTokenRotation), served
// by GetTokensFromRefreshToken.
//
// Every refresh token belongs to a family: the tokens of one sign-in. The
// first token's store key (its hash) is the family's id, carried as
// origin_jti by every access and ID token of the family and as OriginJTI
// by every refresh token rotated from it. A rotated token keeps its
// family's auth_time, scopes and expiry (rotation does not extend a
// sign-in). Revoking any token of a family (RevokeToken) revokes the
// family's first token too, and a family whose first token is revoked is
// dead: its refresh tokens and its access tokens (whose revocation is
// checked against that row) are all refused.
//
// With rotation on, GetTokensFromRefreshToken (and the OAuth refresh_token
// grant, RefreshTokens) returns a new refresh token
// and marks the one it was given as rotated (RotatedAt, set once, in one
// statement). The old token keeps working for the client's
// RefreshRetryGrace after its first rotation, so that a client that lost
// the answer can retry; used after that, it is a replay: the whole family
// is revoked (the thief's tokens and the user's alike, OAuth 2.0 Security
// BCP §4.14.2) and the answer is RefreshTokenReuseException.

// Rotation limits (Cognito's RetryGracePeriodSeconds).
const maxRefreshRetryGrace = 60 * time.Second

// msgRefreshReused is the message of a rotated-out refresh token used
// after its grace period.
const msgRefreshReused = "Refresh Token has been rotated and is no longer valid."

// GetTokensFromRefreshToken refreshes tokens for a client: new access and
// ID tokens, and a new refresh token when the client rotates them. A
// confidential client must send its secret (ClientSecret, not a
// SECRET_HASH). The client must allow REFRESH_TOKEN_AUTH, as for
// InitiateAuth's refresh.
func (s *Service) GetTokensFromRefreshToken(ctx context.Context, clientID string, refreshToken, clientSecret behalf.Secret) (*behalf.PoolTokens, error) {
	client, pool, err := s.getClient(ctx, "", clientID)
	if err != nil {
		return nil, err
	}
	if err := s.checkClientSecret(ctx, client, clientSecret); err != nil {
		return nil, err
	}
	if !flowAllowed(client, behalf.AuthFlowRefreshToken) {
		return nil, invalidParameter("%s flow not enabled for this client", behalf.AuthFlowRefreshToken)
	}
	token := refreshToken.Reveal()
	if token == "" {
		return nil, invalidParameter("Missing required parameter RefreshToken")
	}
	rt, u, err := s.loadRefresh(ctx, pool, client, token)
	if err != nil {
		return nil, err
	}
	if !client.RotateRefreshTokens {
		return s.refreshed(ctx, pool, client, rt, u, nil)
	}
	return s.rotate(ctx, pool, client, rt, u, nil)
}

// rotate is a refresh of a client that rotates refresh tokens: the token's
// checks, then its rotation, and tokens with a new refresh token of its
// family (which keeps the family's resources). The access token's aud is
// aud, or the family's resources when aud is nil.
func (s *Service) rotate(ctx context.Context, pool *behalf.UserPool, client *behalf.AppClient, rt *behalf.PoolRefreshToken, u *behalf.PoolUser, aud []string) (*behalf.PoolTokens, error) {
	if err := s.checkRefresh(rt, u); err != nil {
		return nil, err
	}
	if err := s.checkFamily(ctx, rt); err != nil {
		return nil, err
	}
	now := s.now()
	if !rt.RotatedAt.IsZero() && s.pastGrace(client, rt.RotatedAt, now) {
		return nil, s.reused(ctx, rt)
	}
	// Mark it rotated; a concurrent rotation may have done it first, and
	// then its time counts.
	stored, err := s.Store.RotatePoolRefreshToken(ctx, rt.Hash, now)
	if isNotFound(err) {
		return nil, notAuthorized(msgRefreshInvalid)
	}
	if err != nil {
		return nil, internal("rotate refresh token", err)
	}
	if !stored.RotatedAt.Equal(now) && s.pastGrace(client, stored.RotatedAt, now) {
		return nil, s.reused(ctx, rt)
	}
	return s.issue(ctx, issueRequest{
		pool: pool, client: client, user: u, scopes: requestScopes(rt.Scopes),
		authTime: rt.AuthTime, origin: rt.OriginJTI, newRefresh: true, refreshExpires: rt.ExpiresAt,
		resources: audOf(rt, aud), grantResources: rt.Resources,
	})
}

// pastGrace reports whether a token first rotated at rotated may no
// longer be used at now: grace 0 allows no second use at all.
func (s *Service) pastGrace(c *behalf.AppClient, rotated, now time.Time) bool {
	if c.RefreshRetryGrace <= 0 {
		return true
	}
	return !now.Before(rotated.Add(c.RefreshRetryGrace))
}

// reused revokes the family of a rotated-out token used after its grace
// period and returns RefreshTokenReuseException.
func (s *Service) reused(ctx context.Context, rt *behalf.PoolRefreshToken) error {
	if err := s.revokeFamily(ctx, rt); err != nil {
		return err
	}
	return cognito(behalf.CognitoRefreshTokenReuse, msgRefreshReused)
}

// revokeFamily revokes a refresh token and its family's first token (its
// OriginJTI), which kills the family.
func (s *Service) revokeFamily(ctx context.Context, rt *behalf.PoolRefreshToken) error {
	for _, h := range []string{rt.Hash, rt.OriginJTI} {
		if h == "" {
			continue
		}
		if err := s.Store.RevokePoolRefreshToken(ctx, h); err != nil && !isNotFound(err) {
			return internal("revoke refresh token", err)
		}
		if rt.OriginJTI == rt.Hash {
			break
		}
	}
	return nil
}

// checkFamily refuses a rotated refresh token whose family was revoked
// (its first token's row); a family's first token is checked by
// checkRefresh itself.
func (s *Service) checkFamily(ctx context.Context, rt *behalf.PoolRefreshToken) error {
	if rt.OriginJTI == "" || rt.OriginJTI == rt.Hash {
		return nil
	}
	root, err := s.Store.GetPoolRefreshToken(ctx, rt.OriginJTI)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return internal("get refresh token", err)
	}
	if root.PoolID == rt.PoolID && root.Revoked {
		return notAuthorized(msgRefreshRevoked)
	}
	return nil
}
