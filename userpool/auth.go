package userpool

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

// Auth parameter names.
const (
	paramUsername     = "USERNAME"
	paramPassword     = "PASSWORD"
	paramSecretHash   = "SECRET_HASH"
	paramRefreshToken = "REFRESH_TOKEN"
	paramNewPassword  = "NEW_PASSWORD"
)

// Legacy ExplicitAuthFlows values that allow a flow.
const (
	legacyUserPassword  = "USER_PASSWORD_AUTH"
	legacyAdminPassword = "ADMIN_NO_SRP_AUTH"
)

// maxRefreshTokenLength bounds a refresh token Behalf looks up.
const maxRefreshTokenLength = 4096

// Statuses that bar signing in.
const (
	statusUnconfirmed   = behalf.UserUnconfirmed
	statusResetRequired = behalf.UserResetRequired
)

// InitiateAuth runs USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH (REFRESH_TOKEN).
func (s *Service) InitiateAuth(ctx context.Context, clientID, flow string, params map[string]behalf.Secret) (*behalf.AuthResult, error) {
	return s.initiate(ctx, "", clientID, flow, params, false)
}

// AdminInitiateAuth runs ADMIN_USER_PASSWORD_AUTH (or legacy
// ADMIN_NO_SRP_AUTH) or a refresh flow, for a client of poolID.
func (s *Service) AdminInitiateAuth(ctx context.Context, poolID, clientID, flow string, params map[string]behalf.Secret) (*behalf.AuthResult, error) {
	if poolID == "" {
		return nil, invalidParameter("UserPoolId is required.")
	}
	return s.initiate(ctx, poolID, clientID, flow, params, true)
}

// initiate dispatches an auth flow after checking that the client allows it.
func (s *Service) initiate(ctx context.Context, poolID, clientID, flow string, params map[string]behalf.Secret, admin bool) (*behalf.AuthResult, error) {
	if err := checkFlow(flow, admin); err != nil {
		return nil, err
	}
	client, pool, err := s.getClient(ctx, poolID, clientID)
	if err != nil {
		return nil, err
	}
	if !flowAllowed(client, flow) {
		return nil, invalidParameter("%s flow not enabled for this client", flow)
	}
	switch flow {
	case behalf.AuthFlowRefreshToken, behalf.AuthFlowRefresh:
		return s.refreshAuth(ctx, pool, client, params)
	case flowUserSRP:
		return s.srpAuth(ctx, pool, client, params)
	}
	return s.passwordAuth(ctx, pool, client, params)
}

// checkFlow accepts the flows Behalf serves on this entry point.
func checkFlow(flow string, admin bool) error {
	switch flow {
	case behalf.AuthFlowRefreshToken, behalf.AuthFlowRefresh, flowUserSRP:
		return nil
	case behalf.AuthFlowUserPassword:
		if !admin {
			return nil
		}
	case behalf.AuthFlowAdminUserPassword, legacyAdminPassword:
		if admin {
			return nil
		}
	case "CUSTOM_AUTH", "USER_AUTH":
		return invalidParameter("%s is not supported by Behalf; use USER_SRP_AUTH, USER_PASSWORD_AUTH or ADMIN_USER_PASSWORD_AUTH.", flow)
	default:
		return invalidParameter("1 validation error detected: Value '%s' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set", flow)
	}
	return invalidParameter("Initiate Auth method not supported.")
}

// flowAllowed reports whether a client's ExplicitAuthFlows allow flow.
// Clients configured with legacy values may always refresh.
func flowAllowed(c *behalf.AppClient, flow string) bool {
	has := func(v string) bool { return slices.Contains(c.ExplicitAuthFlows, v) }
	switch flow {
	case behalf.AuthFlowUserPassword:
		return has(behalf.AllowUserPasswordAuth) || has(legacyUserPassword)
	case behalf.AuthFlowAdminUserPassword, legacyAdminPassword:
		return has(behalf.AllowAdminUserPasswordAuth) || has(legacyAdminPassword)
	case behalf.AuthFlowRefreshToken, behalf.AuthFlowRefresh:
		return has(behalf.AllowRefreshTokenAuth) || slices.ContainsFunc(c.ExplicitAuthFlows, func(f string) bool {
			return !strings.HasPrefix(f, "ALLOW_")
		})
	case flowUserSRP:
		// Legacy clients always allowed SRP, unless limited to custom auth.
		return has(behalf.AllowUserSRPAuth) || !has("CUSTOM_AUTH_FLOW_ONLY") && slices.ContainsFunc(c.ExplicitAuthFlows, func(f string) bool {
			return !strings.HasPrefix(f, "ALLOW_")
		})
	}
	return false
}

// passwordAuth is USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH: SECRET_HASH,
// then the password (with lockout), then the user's state.
func (s *Service) passwordAuth(ctx context.Context, pool *behalf.UserPool, client *behalf.AppClient, params map[string]behalf.Secret) (*behalf.AuthResult, error) {
	username, password := params[paramUsername].Reveal(), params[paramPassword]
	if username == "" {
		return nil, invalidParameter("Missing required parameter USERNAME")
	}
	if password.IsZero() {
		return nil, invalidParameter("Missing required parameter PASSWORD")
	}
	if err := s.checkSecretHash(ctx, client, params[paramSecretHash], username); err != nil {
		return nil, err
	}
	u, err := s.authenticate(ctx, pool, username, password)
	if err != nil {
		return nil, err
	}
	switch u.Status {
	case behalf.UserConfirmed:
		return s.signedIn(ctx, pool, client, u, username)
	case behalf.UserForceChangePassword:
		return s.newPasswordChallenge(ctx, pool, client, u, username)
	}
	return nil, statusError(u.Status)
}

// statusError is the error for a user whose status bars signing in.
func statusError(status string) error {
	switch status {
	case statusUnconfirmed:
		return cognito(behalf.CognitoUserNotConfirmed, "User is not confirmed.")
	case statusResetRequired:
		return cognito(behalf.CognitoPasswordResetRequired, "Password reset required for the user")
	}
	return notAuthorized(msgIncorrect)
}

// AuthenticatePassword checks a user's password for a hosted login, with
// lockout and without revealing whether the user exists. A returned user
// whose Status is FORCE_CHANGE_PASSWORD must choose a new password
// (AdminSetUserPassword, permanent) before IssueTokens.
func (s *Service) AuthenticatePassword(ctx context.Context, poolID, username string, password behalf.Secret) (*behalf.PoolUser, error) {
	pool, err := s.getPool(ctx, poolID)
	if err != nil {
		return nil, err
	}
	if username == "" || password.IsZero() {
		return nil, notAuthorized(msgIncorrect)
	}
	u, err := s.authenticate(ctx, pool, username, password)
	if err != nil {
		return nil, err
	}
	if u.Status != behalf.UserConfirmed && u.Status != behalf.UserForceChangePassword {
		return nil, statusError(u.Status)
	}
	return publicUser(u), nil
}

// authenticate checks name and password. Unknown users and wrong
// passwords get the same answer after the same work: one read of the
// name's lockout record, one argon2id hash, and one lockout write
// (lockout.go); locked-out names, existing or not, are refused without a
// hash. A success writes only to delete a lockout record it read, to
// rehash the password, or (once) to store the SRP verifier of a password
// set without one (srp.go). Only after the password matches does it reveal
// that a user is disabled or its temporary password expired.
func (s *Service) authenticate(ctx context.Context, pool *behalf.UserPool, name string, password behalf.Secret) (*behalf.PoolUser, error) {
	if utf8.RuneCountInString(password.Reveal()) > maxPasswordLength || len(name) > 4*maxUsernameLength {
		return nil, invalidParameter("USERNAME or PASSWORD is too long.")
	}
	now := s.now()
	u, err := s.findUser(ctx, pool, name)
	if err != nil && !isNotFound(err) {
		return nil, internal("get user", err)
	}
	hash, key := "", lockoutKey(pool.ID, name)
	if u != nil {
		hash, key = u.PasswordHash, lockoutKey(pool.ID, u.Username)
	}
	l, err := s.lockout(ctx, pool.ID, key)
	if err != nil {
		return nil, err
	}
	if locked(l, now) {
		return nil, notAuthorized(msgAttemptsExceeded)
	}
	// An unknown user (or one without a password) is checked against the
	// dummy hash.
	ok, rehash, err := s.verifyPassword(ctx, hash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := s.recordFailure(ctx, pool.ID, key, now); err != nil {
			return nil, err
		}
		return nil, notAuthorized(msgIncorrect)
	}
	// A user MFA is asked of keeps its failures until the code is right
	// (mfa.go).
	if l != nil && (u == nil || mfaChallenge(pool, u) == "") {
		if err := s.Store.DeletePoolLockout(ctx, pool.ID, key); err != nil {
			return nil, internal("reset lockout", err)
		}
	}
	if rehash {
		if u, err = s.rehash(ctx, u, password); err != nil {
			return nil, err
		}
	}
	if u, err = s.backfillSRP(ctx, u, password); err != nil {
		return nil, err
	}
	if err := checkUsable(pool, u, now); err != nil {
		return nil, err
	}
	return u, nil
}

// checkUsable refuses a disabled user, or one whose temporary password
// has expired.
func checkUsable(pool *behalf.UserPool, u *behalf.PoolUser, now time.Time) error {
	if !u.Enabled {
		return notAuthorized(msgDisabled)
	}
	if u.Status == behalf.UserForceChangePassword {
		days := pool.PasswordPolicy.TemporaryPasswordValidityDays
		if days <= 0 {
			days = behalf.DefaultPasswordPolicy.TemporaryPasswordValidityDays
		}
		if !now.Before(u.PasswordChangedAt.Add(time.Duration(days) * 24 * time.Hour)) {
			return notAuthorized(msgTempExpired)
		}
	}
	return nil
}

// rehash stores the password hashed with the service's parameters, after
// a successful sign-in whose stored hash used others, unless the password
// changed meanwhile.
func (s *Service) rehash(ctx context.Context, u *behalf.PoolUser, password behalf.Secret) (*behalf.PoolUser, error) {
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	srp, err := s.newSRPVerifier(ctx, u.PoolID, u.Username, password, hash)
	if err != nil {
		return nil, err
	}
	old := u.PasswordHash
	return s.updateUser(ctx, u.PoolID, u.Username, func(u *behalf.PoolUser) error {
		if u.PasswordHash == old {
			u.PasswordHash, u.SRPVerifier = hash, srp
		}
		return nil
	})
}

// refreshAuth is REFRESH_TOKEN_AUTH: new access and ID tokens with the
// original auth_time and origin_jti, and no new refresh token.
func (s *Service) refreshAuth(ctx context.Context, pool *behalf.UserPool, client *behalf.AppClient, params map[string]behalf.Secret) (*behalf.AuthResult, error) {
	token := params[paramRefreshToken].Reveal()
	if token == "" {
		return nil, invalidParameter("Missing required parameter REFRESH_TOKEN")
	}
	if client.RotateRefreshTokens {
		return nil, notAuthorized("Refresh token rotation is enabled for this client: refresh with GetTokensFromRefreshToken.")
	}
	rt, u, err := s.loadRefresh(ctx, pool, client, token)
	if err != nil {
		return nil, err
	}
	if err := s.checkSecretHash(ctx, client, params[paramSecretHash], userNames(pool, u)...); err != nil {
		return nil, err
	}
	tokens, err := s.refreshed(ctx, pool, client, rt, u, nil)
	if err != nil {
		return nil, err
	}
	return &behalf.AuthResult{Tokens: tokens}, nil
}

// RefreshTokens is the refresh_token grant of the OAuth token endpoint
// (oidcop.Refresher): REFRESH_TOKEN_AUTH for a client of poolID that the
// endpoint has already authenticated (client_secret_basic or
// client_secret_post), so no SECRET_HASH is asked for. Otherwise the rules
// are REFRESH_TOKEN_AUTH's: the client must allow the flow, and the token
// must be the client's, unrevoked, unexpired, newer than the user's last
// global sign-out, and its user enabled. The refresh token is rotated, as
// by GetTokensFromRefreshToken, when the client's RefreshTokenRotation is
// on (Cognito's token endpoint does so too). resources (RFC 8707), when
// given, narrow the new access token's aud to some of the resources the
// sign-in was authorized for; naming another is an error that
// errors.Is(behalf.ErrInvalidTarget). Without them the aud is the
// sign-in's.
func (s *Service) RefreshTokens(ctx context.Context, poolID, clientID string, refreshToken behalf.Secret, resources []string) (*behalf.PoolTokens, error) {
	if poolID == "" {
		return nil, invalidParameter("UserPoolId is required.")
	}
	client, pool, err := s.getClient(ctx, poolID, clientID)
	if err != nil {
		return nil, err
	}
	if !flowAllowed(client, behalf.AuthFlowRefreshToken) {
		return nil, invalidParameter("%s flow not enabled for this client", behalf.AuthFlowRefreshToken)
	}
	token := refreshToken.Reveal()
	if token == "" {
		return nil, invalidParameter("Missing required parameter REFRESH_TOKEN")
	}
	rt, u, err := s.loadRefresh(ctx, pool, client, token)
	if err != nil {
		return nil, err
	}
	if err := validateResources(resources); err != nil {
		return nil, fmt.Errorf("%w: %w", behalf.ErrInvalidTarget, err)
	}
	for _, r := range resources {
		if !slices.Contains(rt.Resources, r) {
			return nil, fmt.Errorf("%w: %w", behalf.ErrInvalidTarget,
				invalidParameter("A resource was not named when the refresh token was granted."))
		}
	}
	if client.RotateRefreshTokens {
		return s.rotate(ctx, pool, client, rt, u, resources)
	}
	return s.refreshed(ctx, pool, client, rt, u, resources)
}

// audOf is the aud of an access token refreshed from rt: aud when given,
// else the resources of rt's sign-in.
func audOf(rt *behalf.PoolRefreshToken, aud []string) []string {
	if len(aud) > 0 {
		return aud
	}
	return rt.Resources
}

// refreshed checks a loaded refresh token and mints new access and ID
// tokens with its auth_time, scopes and origin_jti; the access token's
// aud is aud, or the sign-in's resources when aud is nil.
func (s *Service) refreshed(ctx context.Context, pool *behalf.UserPool, client *behalf.AppClient, rt *behalf.PoolRefreshToken, u *behalf.PoolUser, aud []string) (*behalf.PoolTokens, error) {
	if err := s.checkRefresh(rt, u); err != nil {
		return nil, err
	}
	if err := s.checkFamily(ctx, rt); err != nil {
		return nil, err
	}
	return s.issue(ctx, issueRequest{
		pool: pool, client: client, user: u, scopes: requestScopes(rt.Scopes),
		authTime: rt.AuthTime, origin: rt.OriginJTI, resources: audOf(rt, aud),
	})
}

// loadRefresh finds a refresh token of this client and its user.
func (s *Service) loadRefresh(ctx context.Context, pool *behalf.UserPool, client *behalf.AppClient, token string) (*behalf.PoolRefreshToken, *behalf.PoolUser, error) {
	if len(token) > maxRefreshTokenLength {
		return nil, nil, notAuthorized(msgRefreshInvalid)
	}
	rt, err := s.Store.GetPoolRefreshToken(ctx, tokenHash(token))
	if isNotFound(err) || (err == nil && (rt.PoolID != pool.ID || rt.ClientID != client.ID)) {
		return nil, nil, notAuthorized(msgRefreshInvalid)
	}
	if err != nil {
		return nil, nil, internal("get refresh token", err)
	}
	u, err := s.Store.GetPoolUser(ctx, pool.ID, rt.Username)
	if isNotFound(err) {
		return nil, nil, notAuthorized(msgRefreshInvalid)
	}
	if err != nil {
		return nil, nil, internal("get user", err)
	}
	return rt, u, nil
}

// checkRefresh refuses a revoked or expired refresh token, one older than
// the user's last global sign-out, and disabled users.
func (s *Service) checkRefresh(rt *behalf.PoolRefreshToken, u *behalf.PoolUser) error {
	now := s.now()
	switch {
	case rt.Revoked || !rt.CreatedAt.After(u.TokensValidAfter):
		return notAuthorized(msgRefreshRevoked)
	case !now.Before(rt.ExpiresAt):
		return notAuthorized(msgRefreshExpired)
	case !u.Enabled:
		return notAuthorized(msgDisabled)
	}
	return nil
}

// userNames are the names a SECRET_HASH of a refresh may be computed
// over: the username, the sub, and the user's sign-in aliases.
func userNames(pool *behalf.UserPool, u *behalf.PoolUser) []string {
	names := []string{u.Username, u.Sub}
	for _, a := range pool.UsernameAttributes {
		names = append(names, u.Attributes[a])
	}
	return names
}

// challengeParameters are NEW_PASSWORD_REQUIRED's parameters: values are
// JSON-encoded strings, as Cognito sends them.
func challengeParameters(u *behalf.PoolUser) map[string]string {
	attrs := map[string]string{}
	for k, v := range u.Attributes {
		if k != "sub" {
			attrs[k] = v
		}
	}
	b, _ := json.Marshal(attrs) // a map of strings always encodes
	return map[string]string{
		"USER_ID_FOR_SRP":    u.Username,
		"requiredAttributes": "[]",
		"userAttributes":     string(b),
	}
}
