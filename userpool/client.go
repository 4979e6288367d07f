package userpool

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// Token validity defaults and bounds (Cognito's).
const (
	defaultAccessValidity  = time.Hour
	defaultIDValidity      = time.Hour
	defaultRefreshValidity = 30 * 24 * time.Hour
	minTokenValidity       = 5 * time.Minute
	maxTokenValidity       = 24 * time.Hour
	minRefreshValidity     = time.Hour
	maxRefreshValidity     = 3650 * 24 * time.Hour
	maxURLs                = 100
	maxURLLength           = 1024
	maxScopes              = 50
)

// knownAuthFlows are the ExplicitAuthFlows values Cognito accepts; the
// values without ALLOW_ are legacy and cannot be mixed with ALLOW_ ones.
var knownAuthFlows = []string{
	behalf.AllowUserPasswordAuth, behalf.AllowAdminUserPasswordAuth, behalf.AllowRefreshTokenAuth,
	behalf.AllowUserSRPAuth, behalf.AllowCustomAuth, "ALLOW_USER_AUTH",
	"ADMIN_NO_SRP_AUTH", "CUSTOM_AUTH_FLOW_ONLY", "USER_PASSWORD_AUTH",
}

// defaultAuthFlows is what a client allows when ExplicitAuthFlows is omitted.
var defaultAuthFlows = []string{behalf.AllowRefreshTokenAuth, behalf.AllowUserSRPAuth, behalf.AllowCustomAuth}

// scopePattern is RFC 6749's scope-token.
var scopePattern = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]{1,256}$`)

// secretContext is where a client's secret is sealed.
func secretContext(poolID, clientID string) behalf.SealContext {
	return behalf.SealContext{Kind: "app-client", Key: poolID + "/" + clientID, Field: "secret"}
}

// CreateUserPoolClient creates an app client, with a 51-character secret
// when GenerateSecret is set. Its scopes must be system scopes or defined
// by a resource server of the pool (ScopeDoesNotExistException). A
// resource server deleted meanwhile may leave a scope name on the client;
// the token endpoint grants only scopes defined when it issues.
func (s *Service) CreateUserPoolClient(ctx context.Context, in behalf.UserPoolClientInput) (*behalf.AppClient, behalf.Secret, error) {
	if _, err := s.getPool(ctx, in.PoolID); err != nil {
		return nil, "", err
	}
	c := &behalf.AppClient{PoolID: in.PoolID, DynamicallyRegistered: in.DynamicallyRegistered}
	if in.DynamicallyRegistered && in.GenerateSecret {
		return nil, "", invalidParameter("A dynamically registered client is public: it has no secret.")
	}
	if err := applyClientInput(c, in, in.GenerateSecret); err != nil {
		return nil, "", err
	}
	if err := s.checkScopesDefined(ctx, in.PoolID, c.AllowedOAuthScopes); err != nil {
		return nil, "", err
	}
	c.CreatedAt = s.now()
	c.UpdatedAt = c.CreatedAt
	var secret behalf.Secret
	if in.GenerateSecret {
		secret = behalf.Secret(newClientSecret())
	}
	if err := s.insertClient(ctx, c, secret); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// insertClient stores c under a new id, sealing its secret (if any) to
// that id; it retries on the unlikely id collision.
func (s *Service) insertClient(ctx context.Context, c *behalf.AppClient, secret behalf.Secret) error {
	var err error
	for range createRetries {
		c.ID = newClientID()
		c.Secret = nil
		if !secret.IsZero() {
			if c.Secret, err = s.Sealer.Seal(ctx, secretContext(c.PoolID, c.ID), []byte(secret.Reveal())); err != nil {
				return internal("seal client secret", err)
			}
		}
		if err = s.Store.CreateAppClient(ctx, c); !isConflict(err) {
			break
		}
	}
	if err != nil {
		return internal("create client", err)
	}
	return nil
}

// DescribeUserPoolClient returns a client and its secret.
func (s *Service) DescribeUserPoolClient(ctx context.Context, poolID, clientID string) (*behalf.AppClient, behalf.Secret, error) {
	c, _, err := s.getClient(ctx, poolID, clientID)
	if err != nil {
		return nil, "", err
	}
	secret, err := s.clientSecret(ctx, c)
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// clientSecret opens a client's secret; "" for a public client.
func (s *Service) clientSecret(ctx context.Context, c *behalf.AppClient) (behalf.Secret, error) {
	if len(c.Secret) == 0 {
		return "", nil
	}
	b, err := s.Sealer.Open(ctx, secretContext(c.PoolID, c.ID), c.Secret)
	if err != nil {
		return "", internal("open client secret", err)
	}
	return behalf.Secret(b), nil
}

// UpdateUserPoolClient replaces a client's settings; its secret stays.
func (s *Service) UpdateUserPoolClient(ctx context.Context, in behalf.UserPoolClientInput) (*behalf.AppClient, behalf.Secret, error) {
	cur, _, err := s.getClient(ctx, in.PoolID, in.ClientID)
	if err != nil {
		return nil, "", err
	}
	if in.GenerateSecret {
		return nil, "", invalidParameter("GenerateSecret cannot be set on an existing client.")
	}
	in.DynamicallyRegistered = false // create only: the name is the administrator's now
	if err := applyClientInput(&behalf.AppClient{}, in, len(cur.Secret) > 0); err != nil {
		return nil, "", err
	}
	if err := s.checkScopesDefined(ctx, cur.PoolID, in.AllowedOAuthScopes); err != nil {
		return nil, "", err
	}
	c, err := s.Store.UpdateAppClient(ctx, in.ClientID, func(c *behalf.AppClient) error {
		if err := applyClientInput(c, in, len(c.Secret) > 0); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		return nil
	})
	var ce *behalf.CognitoError
	switch {
	case err != nil && asCognito(err, &ce):
		return nil, "", err
	case isNotFound(err):
		return nil, "", clientNotFound(in.ClientID)
	case err != nil:
		return nil, "", internal("update client", err)
	}
	secret, err := s.clientSecret(ctx, c)
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// ListUserPoolClients returns one page of a pool's clients, by id.
func (s *Service) ListUserPoolClients(ctx context.Context, poolID string, req behalf.PageRequest) ([]*behalf.AppClient, string, error) {
	if _, err := s.getPool(ctx, poolID); err != nil {
		return nil, "", err
	}
	opt, limit, err := listOptions(req)
	if err != nil {
		return nil, "", err
	}
	clients, err := s.Store.ListAppClients(ctx, poolID, opt)
	if err != nil {
		return nil, "", internal("list clients", err)
	}
	clients, next := behalf.NextPage(clients, limit, func(c *behalf.AppClient) string { return c.ID })
	return clients, next, nil
}

// DeleteUserPoolClient deletes a client; its tokens stop working, since
// refresh and access-token checks require the client to exist.
func (s *Service) DeleteUserPoolClient(ctx context.Context, poolID, clientID string) error {
	if _, _, err := s.getClient(ctx, poolID, clientID); err != nil {
		return err
	}
	err := s.Store.DeleteAppClient(ctx, clientID)
	if isNotFound(err) {
		return clientNotFound(clientID)
	}
	if err != nil {
		return internal("delete client", err)
	}
	return nil
}

// applyClientInput validates in and sets every configurable field of c.
func applyClientInput(c *behalf.AppClient, in behalf.UserPoolClientInput, hasSecret bool) error {
	nameOK := validateName
	if in.DynamicallyRegistered {
		nameOK = validateDisplayName
	}
	if err := nameOK("ClientName", in.Name); err != nil {
		return err
	}
	flows, err := explicitAuthFlows(in.ExplicitAuthFlows)
	if err != nil {
		return err
	}
	if err := validateOAuth(in, hasSecret); err != nil {
		return err
	}
	access, id, refresh, err := validities(in)
	if err != nil {
		return err
	}
	if in.RefreshRetryGrace < 0 || in.RefreshRetryGrace > maxRefreshRetryGrace || in.RefreshRetryGrace%time.Second != 0 {
		return invalidParameter("RetryGracePeriodSeconds must be a whole number of seconds from 0 to 60.")
	}
	c.RotateRefreshTokens, c.RefreshRetryGrace = in.RotateRefreshTokens, in.RefreshRetryGrace
	c.Name = in.Name
	c.ExplicitAuthFlows = flows
	c.AllowedOAuthFlows = slices.Clone(in.AllowedOAuthFlows)
	c.AllowedOAuthScopes = slices.Clone(in.AllowedOAuthScopes)
	c.AllowedOAuthFlowsUserPoolClient = in.AllowedOAuthFlowsUserPoolClient
	c.CallbackURLs = slices.Clone(in.CallbackURLs)
	c.LogoutURLs = slices.Clone(in.LogoutURLs)
	c.SupportedIdentityProviders = slices.Clone(in.SupportedIdentityProviders)
	c.AccessTokenValidity, c.IDTokenValidity, c.RefreshTokenValidity = access, id, refresh
	c.EnableTokenRevocation = in.EnableTokenRevocation == nil || *in.EnableTokenRevocation
	return nil
}

// explicitAuthFlows validates a client's auth flows, defaulting nil or
// empty to Cognito's default set.
func explicitAuthFlows(flows []string) ([]string, error) {
	if len(flows) == 0 {
		return slices.Clone(defaultAuthFlows), nil
	}
	legacy, modern := false, false
	for i, f := range flows {
		if !slices.Contains(knownAuthFlows, f) || slices.Contains(flows[:i], f) {
			return nil, invalidParameter("Invalid ExplicitAuthFlows value %q.", f)
		}
		if strings.HasPrefix(f, "ALLOW_") {
			modern = true
		} else {
			legacy = true
		}
	}
	if legacy && modern {
		return nil, invalidParameter("ExplicitAuthFlows cannot mix legacy values with ALLOW_ values.")
	}
	return slices.Clone(flows), nil
}

// validateOAuth checks a client's OAuth settings.
func validateOAuth(in behalf.UserPoolClientInput, hasSecret bool) error {
	if err := validateOAuthFlows(in.AllowedOAuthFlows, hasSecret); err != nil {
		return err
	}
	if err := validateScopes(in.AllowedOAuthScopes, slices.Contains(in.AllowedOAuthFlows, "client_credentials")); err != nil {
		return err
	}
	for _, urls := range [][]string{in.CallbackURLs, in.LogoutURLs} {
		if err := validateURLs(urls); err != nil {
			return err
		}
	}
	for _, idp := range in.SupportedIdentityProviders {
		if idp != "COGNITO" {
			return invalidParameter("The provider %s does not exist for User Pool %s", idp, in.PoolID)
		}
	}
	if !in.AllowedOAuthFlowsUserPoolClient {
		return nil
	}
	if len(in.AllowedOAuthFlows) == 0 || len(in.AllowedOAuthScopes) == 0 {
		return invalidParameter("AllowedOAuthFlows and AllowedOAuthScopes are required when AllowedOAuthFlowsUserPoolClient is true.")
	}
	if !slices.Equal(in.AllowedOAuthFlows, []string{"client_credentials"}) && len(in.CallbackURLs) == 0 {
		return invalidParameter("CallbackURLs are required for the code and implicit flows.")
	}
	return nil
}

// validateOAuthFlows checks the flow names; client_credentials must be
// the only flow and needs a client secret.
func validateOAuthFlows(flows []string, hasSecret bool) error {
	for i, f := range flows {
		if (f != "code" && f != "implicit" && f != "client_credentials") || slices.Contains(flows[:i], f) {
			return invalidParameter("Invalid AllowedOAuthFlows value %q.", f)
		}
	}
	if slices.Contains(flows, "client_credentials") {
		if len(flows) > 1 {
			return invalidParameter("client_credentials flow can not be selected along with code flow or implicit flow.")
		}
		if !hasSecret {
			return invalidParameter("client_credentials flow can not be selected if client does not have a client secret.")
		}
	}
	return nil
}

// validateScopes checks scope names; client_credentials clients may only
// have resource-server scopes ("server/scope"). Whether a resource server
// defines them is checkScopesDefined's to say.
func validateScopes(scopes []string, clientCredentials bool) error {
	if len(scopes) > maxScopes {
		return invalidParameter("At most %d AllowedOAuthScopes.", maxScopes)
	}
	for _, sc := range scopes {
		if !scopePattern.MatchString(sc) {
			return invalidParameter("Invalid scope %q.", sc)
		}
		if clientCredentials && !strings.Contains(sc, "/") {
			return invalidParameter("Scope %s is not allowed with the client_credentials flow.", sc)
		}
	}
	return nil
}

// validateURLs checks callback or logout URLs: absolute, no fragment,
// https except for loopback hosts; custom app schemes are allowed.
func validateURLs(urls []string) error {
	if len(urls) > maxURLs {
		return invalidParameter("At most %d URLs.", maxURLs)
	}
	for _, raw := range urls {
		if err := validateURL(raw); err != nil {
			return err
		}
	}
	return nil
}

// validateURL checks one callback or logout URL.
func validateURL(raw string) error {
	u, err := url.Parse(raw)
	bad := err != nil || len(raw) > maxURLLength || u.Scheme == "" || strings.Contains(raw, "#") || hasSpace(raw)
	if !bad {
		switch strings.ToLower(u.Scheme) {
		case "https":
			bad = u.Host == ""
		case "http":
			h := u.Hostname()
			bad = h != "localhost" && h != "127.0.0.1" && h != "::1"
		case "javascript", "data", "vbscript", "file":
			bad = true
		}
	}
	if bad {
		return invalidParameter("Invalid URL %q: use an absolute https URL without a fragment (http only for localhost).", raw)
	}
	return nil
}

// validities converts and checks a client's token validities.
func validities(in behalf.UserPoolClientInput) (access, id, refresh time.Duration, err error) {
	u := in.TokenValidityUnits
	if access, err = validity("AccessTokenValidity", in.AccessTokenValidity, u.AccessToken, "hours", defaultAccessValidity, minTokenValidity, maxTokenValidity); err != nil {
		return
	}
	if id, err = validity("IdTokenValidity", in.IDTokenValidity, u.IDToken, "hours", defaultIDValidity, minTokenValidity, maxTokenValidity); err != nil {
		return
	}
	refresh, err = validity("RefreshTokenValidity", in.RefreshTokenValidity, u.RefreshToken, "days", defaultRefreshValidity, minRefreshValidity, maxRefreshValidity)
	return
}

// validity converts n units (unit "" means defUnit) into a duration
// within [min, max]; 0 means def.
func validity(field string, n int64, unit, defUnit string, def, min, max time.Duration) (time.Duration, error) {
	if unit == "" {
		unit = defUnit
	}
	per, ok := map[string]time.Duration{"seconds": time.Second, "minutes": time.Minute, "hours": time.Hour, "days": 24 * time.Hour}[unit]
	if !ok {
		return 0, invalidParameter("Invalid TokenValidityUnits value %q for %s.", unit, field)
	}
	if n == 0 {
		return def, nil
	}
	if n < 0 || n > int64(max/per) || time.Duration(n)*per < min {
		return 0, invalidParameter("%s must be between %s and %s.", field, min, max)
	}
	return time.Duration(n) * per, nil
}

// validateDisplayName checks the name of a dynamically registered client
// (RFC 7591's client_name, shown on the login page): behalf.ValidDisplayName.
func validateDisplayName(field, name string) error {
	if !behalf.ValidDisplayName(name) {
		return invalidParameter("%s must be 1 to %d printable characters, without leading or trailing spaces.", field, behalf.MaxDisplayNameLength)
	}
	return nil
}
