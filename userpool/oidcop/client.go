package oidcop

import (
	"context"
	"crypto/subtle"
	"net/http"
	"slices"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// client is an app client as op sees it, for one request.
type client struct {
	app *behalf.AppClient
	// secret is the client's secret when the request authenticated with
	// it (RevokeToken wants it again); "" for public clients.
	secret behalf.Secret
	// documentURL is the client_id of a client ID metadata document's
	// client (document.go), as the request named it.
	documentURL string
}

var _ op.Client = (*client)(nil)

// confidential reports whether the client has a secret.
func (c *client) confidential() bool { return len(c.app.Secret) > 0 }

// flow reports whether the client may use an OAuth flow ("code",
// "client_credentials"): Cognito requires AllowedOAuthFlowsUserPoolClient.
func (c *client) flow(name string) bool {
	return c.app.AllowedOAuthFlowsUserPoolClient && slices.Contains(c.app.AllowedOAuthFlows, name)
}

// scopeAllowed reports whether the client may be granted scope.
func (c *client) scopeAllowed(scope string) bool {
	return slices.Contains(c.app.AllowedOAuthScopes, scope)
}

func (c *client) GetID() string                    { return c.app.ID }
func (c *client) RedirectURIs() []string           { return c.app.CallbackURLs }
func (c *client) PostLogoutRedirectURIs() []string { return c.app.LogoutURLs }

// ApplicationType is native for every client. The redirect_uri has already
// been matched exactly (VerifyAuthRequest), and op's native rules then
// accept what Cognito's CallbackURLs allow: https, http on loopback, and
// app schemes; its web rules would refuse app schemes.
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeNative }

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.confidential() {
		return oidc.AuthMethodBasic // client_secret_post is accepted too
	}
	return oidc.AuthMethodNone
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	if c.flow("code") {
		return []oidc.ResponseType{oidc.ResponseTypeCode}
	}
	return nil
}

func (c *client) GrantTypes() []oidc.GrantType {
	var g []oidc.GrantType
	if c.flow("code") {
		g = append(g, oidc.GrantTypeCode, oidc.GrantTypeRefreshToken)
	}
	if c.flow("client_credentials") {
		g = append(g, oidc.GrantTypeClientCredentials)
	}
	return g
}

func (c *client) LoginURL(string) string               { return "" } // Authorize builds it
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration       { return c.app.IDTokenValidity }
func (c *client) DevMode() bool                        { return false }
func (c *client) IsScopeAllowed(scope string) bool     { return c.scopeAllowed(scope) }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// lookupClient returns a client of the pool, without its secret, or an
// invalid_client error.
func (p *Provider) lookupClient(ctx context.Context, poolID, clientID string) (*client, error) {
	if clientID == "" || len(clientID) > 128 {
		return nil, errInvalidClient("client_id is missing.")
	}
	app, err := p.store.GetAppClient(ctx, clientID)
	if err != nil || app.PoolID != poolID {
		return nil, p.clientError(ctx, err)
	}
	return &client{app: app}, nil
}

// clientError maps a failed client lookup: invalid_client for an unknown
// client (or one of another pool, err == nil), server_error otherwise.
func (p *Provider) clientError(ctx context.Context, err error) error {
	if err == nil || behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return errInvalidClient("Unknown client.")
	}
	return p.serverError(ctx, "get client", err)
}

// VerifyClient authenticates the client of a token or revocation request:
// a public client sends only its id; a confidential one its secret, by
// HTTP Basic or in the form, compared in constant time. Failures are 401
// invalid_client.
func (s *server) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	cc := r.Data
	if cc.ClientAssertion != "" || cc.ClientAssertionType != "" {
		return nil, unauthorized(errInvalidClient("Client assertions are not supported."))
	}
	pool, id, documentURL := poolFrom(ctx), cc.ClientID, ""
	if isDocumentClientID(id) {
		// A client ID metadata document's client, public: its app client
		// exists once an authorization read the document.
		dc, ok := s.p.svc.(DocumentClients)
		if !ok || !s.p.documentsOn() || pool.ClientRegistration() == behalf.ClientRegistrationOff || len(id) > maxDocumentURL {
			return nil, unauthorized(errInvalidClient("Unknown client."))
		}
		id, documentURL = dc.DocumentClientID(pool.ID, id), id
	} else if id == "" || len(id) > 128 {
		return nil, unauthorized(errInvalidClient("client_id is missing."))
	}
	app, want, err := s.p.svc.DescribeUserPoolClient(ctx, pool.ID, id)
	if err != nil {
		return nil, unauthorized(s.p.clientError(ctx, err))
	}
	c := &client{app: app, documentURL: documentURL}
	switch {
	case !c.confidential() && cc.ClientSecret == "":
		return c, nil
	case !c.confidential():
		return nil, unauthorized(errInvalidClient("This client has no secret."))
	case cc.ClientSecret == "" || subtle.ConstantTimeCompare([]byte(cc.ClientSecret), []byte(want.Reveal())) != 1:
		return nil, unauthorized(errInvalidClient("Client authentication failed."))
	}
	c.secret = want
	return c, nil
}

// unauthorized answers an invalid_client error with 401 (RFC 6749 §5.2);
// other errors pass unchanged.
func unauthorized(err error) error {
	if e, ok := err.(*oidc.Error); ok && e.ErrorType == oidc.InvalidClient {
		return op.NewStatusError(e, http.StatusUnauthorized)
	}
	return err
}
