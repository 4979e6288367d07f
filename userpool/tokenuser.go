package userpool

import (
	"context"
	"time"

	"github.com/behalf-dev/behalf"
)

// TokenUserCacheTTL bounds how long a pool token keeps working elsewhere in
// Behalf (GetWorkloadAccessTokenForJWT, agent runtimes) after its user was
// disabled, deleted or signed out.
const TokenUserCacheTTL = 5 * time.Second

// tokenUser is what CheckTokenUser needs to know of a token's subject.
type tokenUser struct {
	found       bool // a user, or a client (client_credentials tokens)
	enabled     bool
	validAfter  time.Time // TokensValidAfter
	isAppClient bool
}

var errTokenUser = behalf.Errorf(behalf.EUNAUTHORIZED, "The token's user is disabled, deleted or signed out.")

// CheckTokenUser checks, for a token of pool poolID whose signature was
// verified elsewhere, that its subject still stands: an enabled user who
// has not signed out (or been signed out) since iat, or the app client of a
// client_credentials token. raw holds the token's claims, for the
// sub-second issue time Behalf adds to access tokens. Answers are cached
// for TokenUserCacheTTL.
func (s *Service) CheckTokenUser(ctx context.Context, poolID, sub string, iat time.Time, raw map[string]any) error {
	u, err := s.tokenUser(ctx, poolID, sub)
	if err != nil {
		return err
	}
	switch {
	case !u.found:
		return errTokenUser
	case u.isAppClient:
		return nil
	case !u.enabled:
		return errTokenUser
	}
	if !u.validAfter.IsZero() && !preciseIssuedAt(raw, iat).After(u.validAfter) {
		return errTokenUser
	}
	return nil
}

func (s *Service) tokenUser(ctx context.Context, poolID, sub string) (tokenUser, error) {
	key := poolID + "\x00" + sub
	now := time.Now()
	if u, ok := s.tokenUsers.Get(key, now); ok {
		return u, nil
	}
	var u tokenUser
	pu, err := s.Store.GetPoolUserBySub(ctx, poolID, sub)
	switch {
	case err == nil:
		u = tokenUser{found: true, enabled: pu.Enabled, validAfter: pu.TokensValidAfter}
	case isNotFound(err):
		c, cerr := s.Store.GetAppClient(ctx, sub)
		if cerr != nil && !isNotFound(cerr) {
			return tokenUser{}, internal("get app client", cerr)
		}
		u = tokenUser{found: cerr == nil && c.PoolID == poolID, isAppClient: true}
	default:
		return tokenUser{}, internal("get user by sub", err)
	}
	s.tokenUsers.Put(key, u, now.Add(TokenUserCacheTTL))
	return u, nil
}
