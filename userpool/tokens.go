package userpool

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/behalf-dev/behalf"
)

// Token constants.
const (
	tokenTypeBearer = "Bearer"
	useAccess       = "access"
	useID           = "id"
	scopeOpenID     = "openid"
	// flowClientCredentials is the OAuth flow of tokens a client gets for
	// itself.
	flowClientCredentials = "client_credentials"
	// tokenVersion is the version claim of the tokens Cognito's OAuth 2.0
	// endpoints issue; client_credentials tokens carry it.
	tokenVersion = 2
)

// issueRequest describes the tokens to mint for one sign-in or refresh.
type issueRequest struct {
	pool     *behalf.UserPool
	client   *behalf.AppClient
	user     *behalf.PoolUser
	scopes   []string // OAuth scopes; nil for an API sign-in
	authTime time.Time
	// origin is the origin_jti of a refresh; "" for a new sign-in.
	origin     string
	nonce      string
	newRefresh bool // store and return a new refresh token
	atHash     bool // add at_hash to the ID token (OAuth)
	// refreshExpires, when set, is the new refresh token's expiry (a
	// rotated token keeps its family's); else the client's validity.
	refreshExpires time.Time
	// groups are the user's groups, in claim order (issue reads them).
	groups []*behalf.PoolGroup
	// resources are the access token's aud (RFC 8707); none: no aud, as
	// Cognito's access tokens have none.
	resources []string
	// grantResources are the resources a new refresh token keeps: those
	// of the sign-in, which a refresh may narrow for one access token.
	grantResources []string
}

// issue signs an access token and, for API sign-ins or the openid scope,
// an ID token, and stores a new refresh token when asked. A new refresh
// token's store key (the hex SHA-256 of its value) is the origin_jti of
// every token of its family, so access tokens can be checked against the
// family's revocation with one lookup.
func (s *Service) issue(ctx context.Context, r issueRequest) (*behalf.PoolTokens, error) {
	sg, err := s.signer(ctx, r.pool.ID)
	if err != nil {
		return nil, err
	}
	if r.groups, err = s.userGroups(ctx, r.pool.ID, r.user.Username); err != nil {
		return nil, err
	}
	now := s.now()
	refresh, origin := "", r.origin
	if r.newRefresh {
		refresh = newRefreshToken()
		if origin == "" { // a new family; a rotated token stays in its own
			origin = tokenHash(refresh)
		}
	}
	if origin == "" {
		origin = newUUID()
	}
	accessTTL := orDefault(r.client.AccessTokenValidity, defaultAccessValidity)
	common := s.commonClaims(r, now, origin)
	// The refresh token's commit (a disk write) and the access token's
	// signature run while the ID token is signed: a sign-in's latency is
	// then about one RS256 signature, not two plus a commit. A refresh
	// token stored for tokens that then fail to sign is never handed out.
	var wg sync.WaitGroup
	var storeErr error
	if r.newRefresh {
		wg.Go(func() { storeErr = s.storeRefresh(ctx, r, refresh, origin, now) })
	}
	var access string
	var accessErr error
	accessDone := make(chan struct{})
	go func() {
		defer close(accessDone)
		access, accessErr = sg.Sign(s.accessClaims(r, common, now.Add(accessTTL)))
	}()
	var id string
	var idErr error
	withID := r.scopes == nil || slices.Contains(r.scopes, scopeOpenID)
	if withID {
		forHash := ""
		if r.atHash { // at_hash is over the access token
			<-accessDone
			forHash = access
		}
		id, idErr = sg.Sign(idClaims(r, common, now.Add(orDefault(r.client.IDTokenValidity, defaultIDValidity)), forHash))
	}
	<-accessDone
	wg.Wait()
	switch {
	case accessErr != nil:
		return nil, internal("sign access token", accessErr)
	case idErr != nil:
		return nil, internal("sign ID token", idErr)
	case storeErr != nil:
		return nil, storeErr
	}
	out := &behalf.PoolTokens{
		AccessToken: behalf.Secret(access), IDToken: behalf.Secret(id), ExpiresIn: int(accessTTL / time.Second),
		TokenType: tokenTypeBearer, Scopes: tokenScopes(r.scopes),
	}
	if r.newRefresh {
		out.RefreshToken = behalf.Secret(refresh)
	}
	return out, nil
}

// commonClaims are the claims access and ID tokens of one issue share.
func (s *Service) commonClaims(r issueRequest, now time.Time, origin string) map[string]any {
	c := map[string]any{
		"sub": r.user.Sub, "iss": s.Issuer(r.pool.ID), "event_id": newUUID(),
		"auth_time": r.authTime.Unix(), "iat": now,
	}
	if r.client.EnableTokenRevocation {
		c["origin_jti"] = origin
	}
	groupClaims(c, r.groups)
	return c
}

// accessClaims are Cognito's access-token claims: client_id and no aud.
func (s *Service) accessClaims(r issueRequest, common map[string]any, exp time.Time) map[string]any {
	c := maps.Clone(common)
	c["client_id"] = r.client.ID
	if len(r.resources) > 0 {
		c["aud"] = slices.Clone(r.resources)
	}
	c["token_use"] = useAccess
	c["scope"] = strings.Join(tokenScopes(r.scopes), " ")
	c["username"] = r.user.Username
	c["exp"] = exp
	c["jti"] = tokenID(common)
	return c
}

// tokenID is a token's jti: a version-7 UUID of its issue time (the iat
// of common) to the microsecond, which tells it from a global sign-out in
// the same second (behalf.TokenIssuedAt, checkRevoked).
func tokenID(common map[string]any) string {
	now, _ := common["iat"].(time.Time)
	return behalf.NewTimeUUID(now)
}

// idClaims are Cognito's ID-token claims: aud, cognito:username and the
// user's attributes (*_verified as booleans, custom:* as strings).
func idClaims(r issueRequest, common map[string]any, exp time.Time, access string) map[string]any {
	c := maps.Clone(common)
	for k, v := range r.user.Attributes {
		if k == "sub" {
			continue
		}
		if strings.HasSuffix(k, "_verified") {
			c[k] = v == "true"
		} else {
			c[k] = v
		}
	}
	roleClaims(c, r.groups)
	c["aud"] = r.client.ID
	c["token_use"] = useID
	c["cognito:username"] = r.user.Username
	c["exp"] = exp
	c["jti"] = tokenID(common)
	if r.nonce != "" {
		c["nonce"] = r.nonce
	}
	if r.atHash {
		sum := sha256.Sum256([]byte(access))
		c["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	}
	return c
}

// storeRefresh stores a new refresh token by its hash, in the family
// origin (its own hash for a new sign-in).
func (s *Service) storeRefresh(ctx context.Context, r issueRequest, token, origin string, now time.Time) error {
	hash := tokenHash(token)
	expires := r.refreshExpires
	if expires.IsZero() {
		expires = now.Add(orDefault(r.client.RefreshTokenValidity, defaultRefreshValidity))
	}
	err := s.Store.CreatePoolRefreshToken(ctx, &behalf.PoolRefreshToken{
		Hash: hash, PoolID: r.pool.ID, ClientID: r.client.ID, Username: r.user.Username,
		OriginJTI: origin, Scopes: tokenScopes(r.scopes), AuthTime: r.authTime,
		ExpiresAt: expires, CreatedAt: now, Resources: slices.Clone(r.grantResources),
	})
	if err != nil {
		return internal("store refresh token", err)
	}
	return nil
}

// requestScopes turns a stored refresh token's scopes back into an issue
// request's: nil (an API sign-in) for none or aws.cognito.signin.user.admin
// alone.
func requestScopes(stored []string) []string {
	if len(stored) == 0 || slices.Equal(stored, []string{behalf.ScopeCognitoAdmin}) {
		return nil
	}
	return slices.Clone(stored)
}

// tokenScopes returns the scopes an access token carries: the OAuth
// scopes, or aws.cognito.signin.user.admin for an API sign-in.
func tokenScopes(scopes []string) []string {
	if scopes == nil {
		return []string{behalf.ScopeCognitoAdmin}
	}
	return slices.Clone(scopes)
}

// orDefault returns d, or def when d is zero.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// JWKS returns the JSON Web Key Set of a pool.
func (s *Service) JWKS(ctx context.Context, poolID string) ([]byte, error) {
	if _, err := s.getPool(ctx, poolID); err != nil {
		return nil, err
	}
	sg, err := s.signer(ctx, poolID)
	if err != nil {
		return nil, err
	}
	b, err := sg.PublicJWKS()
	if err != nil {
		return nil, internal("JWKS", err)
	}
	return b, nil
}

// IssueTokens mints tokens for a user who signed in through a hosted
// login. The user must be enabled and CONFIRMED. With Username "", it
// mints a client_credentials token for the client itself (see
// issueClientTokens).
func (s *Service) IssueTokens(ctx context.Context, in behalf.IssueTokensInput) (*behalf.PoolTokens, error) {
	client, pool, err := s.getClient(ctx, in.PoolID, in.ClientID)
	if err != nil {
		return nil, err
	}
	if in.Username == "" {
		return s.issueClientTokens(ctx, pool, client, in.Scopes)
	}
	u, err := s.Store.GetPoolUser(ctx, pool.ID, in.Username)
	if isNotFound(err) {
		return nil, userNotFound()
	}
	if err != nil {
		return nil, internal("get user", err)
	}
	if !u.Enabled {
		return nil, notAuthorized(msgDisabled)
	}
	if u.Status != behalf.UserConfirmed {
		return nil, notAuthorized("User must set a new password first.")
	}
	if in.Scopes != nil && len(in.Scopes) == 0 {
		return nil, invalidParameter("At least one scope must be granted.")
	}
	if err := s.checkScopesDefined(ctx, pool.ID, in.Scopes); err != nil {
		return nil, err
	}
	if err := validateResources(in.Resources); err != nil {
		return nil, err
	}
	authTime := in.AuthTime
	if authTime.IsZero() {
		authTime = s.now()
	}
	return s.issue(ctx, issueRequest{
		pool: pool, client: client, user: u, scopes: in.Scopes, authTime: authTime,
		nonce: in.Nonce, newRefresh: in.RefreshToken, atHash: in.Scopes != nil,
		resources: in.Resources, grantResources: in.Resources,
	})
}

// issueClientTokens mints the access token of the client_credentials
// grant, as Cognito does: the client is the subject (sub = client_id), the
// scope claim holds the granted scopes (each once, in the order asked),
// and there is no username, ID token or refresh token. The client must
// allow the client_credentials flow, and every scope must be one of its
// AllowedOAuthScopes that a resource server of the pool defines now: any
// other is ScopeDoesNotExistException (the token endpoint's invalid_scope).
// No scopes asks for every one of those, as Cognito grants without scope.
// The caller (the token endpoint) has authenticated the client.
func (s *Service) issueClientTokens(ctx context.Context, pool *behalf.UserPool, client *behalf.AppClient, scopes []string) (*behalf.PoolTokens, error) {
	if !allowsClientCredentials(client) {
		return nil, notAuthorized("Client " + client.ID + " is not allowed the client_credentials flow.")
	}
	var granted []string
	if len(scopes) == 0 {
		// Cognito's default: every scope the client is allowed (that a
		// resource server still defines).
		d := s.scopeDefinitions(pool.ID)
		for _, sc := range client.AllowedOAuthScopes {
			ok, err := d.defined(ctx, sc)
			if err != nil {
				return nil, err
			}
			if ok && !slices.Contains(granted, sc) {
				granted = append(granted, sc)
			}
		}
	}
	for _, sc := range scopes {
		if !slices.Contains(client.AllowedOAuthScopes, sc) {
			return nil, cognito(behalf.CognitoScopeDoesNotExist, "Scope %s is not allowed for client %s.", sc, client.ID)
		}
		if !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	if len(granted) == 0 {
		return nil, cognito(behalf.CognitoScopeDoesNotExist, "At least one scope must be granted; client %s has none.", client.ID)
	}
	if err := s.checkScopesDefined(ctx, pool.ID, granted); err != nil {
		return nil, err
	}
	sg, err := s.signer(ctx, pool.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ttl := orDefault(client.AccessTokenValidity, defaultAccessValidity)
	access, err := sg.Sign(map[string]any{
		"sub": client.ID, "token_use": useAccess, "scope": strings.Join(granted, " "), "auth_time": now.Unix(),
		"iss": s.Issuer(pool.ID), "exp": now.Add(ttl), "iat": now, "version": tokenVersion, "jti": behalf.NewTimeUUID(now),
		"client_id": client.ID,
	})
	if err != nil {
		return nil, internal("sign access token", err)
	}
	return &behalf.PoolTokens{
		AccessToken: behalf.Secret(access), ExpiresIn: int(ttl / time.Second),
		TokenType: tokenTypeBearer, Scopes: granted,
	}, nil
}

// allowsClientCredentials reports whether a client may get tokens for
// itself: Cognito requires AllowedOAuthFlowsUserPoolClient too.
func allowsClientCredentials(c *behalf.AppClient) bool {
	return c.AllowedOAuthFlowsUserPoolClient && slices.Contains(c.AllowedOAuthFlows, flowClientCredentials)
}

// validateResources checks the RFC 8707 resources of a token request:
// each a behalf.ValidResource, at most behalf.MaxResources, none twice.
func validateResources(resources []string) error {
	if len(resources) > behalf.MaxResources {
		return invalidParameter("At most %d resources.", behalf.MaxResources)
	}
	for i, r := range resources {
		if !behalf.ValidResource(r) || slices.Contains(resources[:i], r) {
			return invalidParameter("Invalid resource: use an absolute URI without a fragment, each once.")
		}
	}
	return nil
}
