package userpool

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// maxTokenBytes bounds a token Behalf parses.
const maxTokenBytes = 64 << 10

// signerExpired is the message signer.Verify gives an expired token.
const signerExpired = "The token has expired."

// VerifyAccessToken verifies an access token of any pool. The iss claim,
// read before verification, only picks the pool: the signature must then
// verify with that pool's own keys, so a token of pool A, or a forged one,
// naming pool B fails. It then requires token_use "access", a client of
// that pool, the user (same sub) enabled, an issue time after the user's
// last global sign-out, and an unrevoked refresh-token family (origin_jti).
// A client_credentials token (no username, sub = client_id) names no user:
// its client must still exist and allow the flow, and the claims' User is
// nil.
func (s *Service) VerifyAccessToken(ctx context.Context, token behalf.Secret) (*behalf.PoolAccessClaims, error) {
	claims, pool, err := s.verifySignature(ctx, token.Reveal())
	if err != nil {
		return nil, err
	}
	c, err := parseAccessClaims(pool.ID, claims)
	if err != nil {
		return nil, err
	}
	if err := s.checkAccessState(ctx, pool, c); err != nil {
		return nil, err
	}
	return c, nil
}

// verifySignature finds the pool a token's iss names and verifies the
// token with that pool's keys; it returns the verified claims.
func (s *Service) verifySignature(ctx context.Context, raw string) (map[string]any, *behalf.UserPool, error) {
	invalid := notAuthorized(msgAccessInvalid)
	if raw == "" || len(raw) > maxTokenBytes {
		return nil, nil, invalid
	}
	unverified, err := jwt.ParseInsecure([]byte(raw))
	if err != nil {
		return nil, nil, invalid
	}
	iss, _ := unverified.Issuer()
	poolID, ok := strings.CutPrefix(iss, s.Issuer(""))
	if !ok || !behalf.IsPoolID(poolID) {
		return nil, nil, invalid
	}
	pool, err := s.getPool(ctx, poolID)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, nil, invalid
	}
	if err != nil {
		return nil, nil, err
	}
	sg, err := s.signer(ctx, pool.ID)
	if err != nil {
		return nil, nil, err
	}
	claims, err := sg.Verify(raw, s.now())
	if err != nil {
		if behalf.ErrorMessage(err) == signerExpired {
			return nil, nil, notAuthorized(msgAccessExpired)
		}
		return nil, nil, invalid
	}
	if claims["iss"] != iss {
		return nil, nil, invalid
	}
	return claims, pool, nil
}

// parseAccessClaims reads the claims of a verified access token.
func parseAccessClaims(poolID string, m map[string]any) (*behalf.PoolAccessClaims, error) {
	c := &behalf.PoolAccessClaims{
		PoolID: poolID, ClientID: claimString(m, "client_id"), Sub: claimString(m, "sub"),
		Username: claimString(m, "username"), JTI: claimString(m, "jti"),
		OriginJTI: claimString(m, "origin_jti"), EventID: claimString(m, "event_id"),
		Scopes: strings.Fields(claimString(m, "scope")), Groups: claimStrings(m, "cognito:groups"),
		AuthTime: claimTime(m, "auth_time"), IssuedAt: claimTime(m, "iat"), ExpiresAt: claimTime(m, "exp"),
	}
	if claimString(m, "token_use") != useAccess || c.ClientID == "" || c.Sub == "" || c.IssuedAt.IsZero() {
		return nil, notAuthorized(msgAccessInvalid)
	}
	if c.Username == "" && c.Sub != c.ClientID { // neither a user's token nor a client's
		return nil, notAuthorized(msgAccessInvalid)
	}
	if _, ok := m["aud"]; ok {
		return nil, notAuthorized(msgAccessInvalid)
	}
	c.IssuedAt = preciseIssuedAt(m, c.IssuedAt)
	return c, nil
}

// preciseIssuedAt returns a token's issue time to the microsecond, read
// from its jti (a version-7 UUID of the issue time, tokens.go), or from
// the private claim behalf:iat_us of tokens minted before; else iat
// itself (behalf.TokenIssuedAt).
func preciseIssuedAt(m map[string]any, iat time.Time) time.Time {
	return behalf.TokenIssuedAt(iat, m)
}

// checkAccessState checks a verified token against the store: client,
// user, sign-out and revocation. It sets c.User; a client_credentials
// token has no user, and only its client is checked.
func (s *Service) checkAccessState(ctx context.Context, pool *behalf.UserPool, c *behalf.PoolAccessClaims) error {
	client, err := s.Store.GetAppClient(ctx, c.ClientID)
	if isNotFound(err) || (err == nil && client.PoolID != pool.ID) {
		return notAuthorized(msgAccessInvalid)
	}
	if err != nil {
		return internal("get client", err)
	}
	if c.Username == "" {
		if !allowsClientCredentials(client) {
			return notAuthorized(msgAccessInvalid)
		}
		return nil
	}
	u, err := s.Store.GetPoolUser(ctx, pool.ID, c.Username)
	if isNotFound(err) || (err == nil && u.Sub != c.Sub) {
		return notAuthorized(msgUserNotFound)
	}
	if err != nil {
		return internal("get user", err)
	}
	if !u.Enabled {
		return notAuthorized(msgDisabled)
	}
	if err := s.checkRevoked(ctx, pool, u, c); err != nil {
		return err
	}
	c.User = publicUser(u)
	return nil
}

// checkRevoked refuses a token revoked by RevokeToken or a global
// sign-out. A token of a stored refresh-token family (origin_jti, the
// family's store key) is judged by that row, to the microsecond: revoked,
// or created no later than the user's TokensValidAfter. Other tokens
// (clients without token revocation, hosted-login tokens without a refresh
// token) are judged by their issue time, to the microsecond too (their
// jti is a version-7 UUID of it), so a sign-in right after a sign-out, in
// the same second, gets a usable token. A token whose jti carries no time
// has only iat's whole seconds and is refused if it is from the second of
// a sign-out.
func (s *Service) checkRevoked(ctx context.Context, pool *behalf.UserPool, u *behalf.PoolUser, c *behalf.PoolAccessClaims) error {
	rt, err := s.family(ctx, pool, u, c.OriginJTI)
	if err != nil {
		return err
	}
	if rt != nil {
		if rt.Revoked || !rt.CreatedAt.After(u.TokensValidAfter) {
			return notAuthorized(msgAccessRevoked)
		}
		return nil
	}
	// A whole-second iat is never after a sign-out in its own second.
	if !u.TokensValidAfter.IsZero() && !c.IssuedAt.After(u.TokensValidAfter) {
		return notAuthorized(msgAccessRevoked)
	}
	return nil
}

// family returns the user's refresh token whose store key is originJTI,
// or nil if there is none.
func (s *Service) family(ctx context.Context, pool *behalf.UserPool, u *behalf.PoolUser, originJTI string) (*behalf.PoolRefreshToken, error) {
	if originJTI == "" {
		return nil, nil
	}
	rt, err := s.Store.GetPoolRefreshToken(ctx, originJTI)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, internal("get refresh token", err)
	}
	if rt.PoolID != pool.ID || rt.Username != u.Username {
		return nil, nil
	}
	return rt, nil
}

// claimString returns a string claim, or "".
func claimString(m map[string]any, name string) string {
	s, _ := m[name].(string)
	return s
}

// claimStrings returns a list-of-strings claim.
func claimStrings(m map[string]any, name string) []string {
	list, _ := m[name].([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// claimTime returns a NumericDate claim, or the zero time.
func claimTime(m map[string]any, name string) time.Time {
	f, ok := m[name].(float64)
	if !ok {
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}

// userToken verifies an access token for the user APIs, which require
// the aws.cognito.signin.user.admin scope.
func (s *Service) userToken(ctx context.Context, token behalf.Secret) (*behalf.PoolAccessClaims, *behalf.UserPool, error) {
	c, err := s.VerifyAccessToken(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if c.User == nil || !slices.Contains(c.Scopes, behalf.ScopeCognitoAdmin) {
		return nil, nil, notAuthorized(msgAccessScopes)
	}
	pool, err := s.getPool(ctx, c.PoolID)
	if err != nil {
		return nil, nil, err
	}
	return c, pool, nil
}

// GetUser returns the user an access token names.
func (s *Service) GetUser(ctx context.Context, accessToken behalf.Secret) (*behalf.PoolUser, error) {
	c, _, err := s.userToken(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	return c.User, nil
}

// ChangePassword checks the previous password (with lockout, like a
// sign-in) and sets the proposed one under the pool's policy.
func (s *Service) ChangePassword(ctx context.Context, accessToken, previous, proposed behalf.Secret) error {
	c, pool, err := s.userToken(ctx, accessToken)
	if err != nil {
		return err
	}
	if previous.IsZero() || proposed.IsZero() {
		return invalidParameter("PreviousPassword and ProposedPassword are required.")
	}
	if err := checkPassword(pool.PasswordPolicy, proposed); err != nil {
		return err
	}
	if _, err := s.authenticate(ctx, pool, c.Username, previous); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, proposed)
	if err != nil {
		return err
	}
	srp, err := s.newSRPVerifier(ctx, pool.ID, c.Username, proposed, hash)
	if err != nil {
		return err
	}
	_, err = s.updateUser(ctx, pool.ID, c.Username, func(u *behalf.PoolUser) error {
		setPassword(u, hash, behalf.UserConfirmed, s.now())
		u.SRPVerifier = srp
		return nil
	})
	return err
}

// GlobalSignOut revokes every token of the access token's user.
func (s *Service) GlobalSignOut(ctx context.Context, accessToken behalf.Secret) error {
	c, pool, err := s.userToken(ctx, accessToken)
	if err != nil {
		return err
	}
	return s.signOut(ctx, pool.ID, c.Username, nil)
}

// RevokeToken revokes a refresh token and so its family (the tokens
// rotated from the same sign-in, refresh_rotation.go): access tokens
// minted from it (origin_jti) fail verification from then on. The client
// must be the token's and, if confidential, authenticate; an unknown token
// is not an error (RFC 7009).
func (s *Service) RevokeToken(ctx context.Context, refreshToken behalf.Secret, clientID string, clientSecret behalf.Secret) error {
	client, _, err := s.getClient(ctx, "", clientID)
	if err != nil {
		return err
	}
	if err := s.checkClientSecret(ctx, client, clientSecret); err != nil {
		return err
	}
	if !client.EnableTokenRevocation {
		return cognito(behalf.CognitoUnsupportedOperation, "Token revocation is not enabled for client %s.", client.ID)
	}
	token := refreshToken.Reveal()
	if token == "" || len(token) > maxRefreshTokenLength {
		return invalidParameter("Token must be a refresh token.")
	}
	hash := tokenHash(token)
	rt, err := s.Store.GetPoolRefreshToken(ctx, hash)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return internal("get refresh token", err)
	}
	if rt.ClientID != client.ID {
		return notAuthorized("The token was not issued to client " + client.ID + ".")
	}
	return s.revokeFamily(ctx, rt)
}
