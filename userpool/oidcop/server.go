package oidcop

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/behalf-dev/behalf"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// server implements op.Server: op has parsed and validated each request
// before a method runs, and writes its result or error.
type server struct {
	op.UnimplementedServer
	p *Provider
}

// metadataServer implements op.MetadataServer for every pool.
type metadataServer struct {
	op.UnimplementedMetadataServer
	p *Provider
}

// Scopes the hosted login knows besides the clients' custom ones.
var standardScopes = []string{oidc.ScopeOpenID, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeProfile, behalf.ScopeCognitoAdmin}

// s256Challenge is the shape of a PKCE S256 code_challenge.
var s256Challenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// OpenIDConfiguration serves a pool's discovery document.
func (m *metadataServer) OpenIDConfiguration(ctx context.Context, r *op.Request[op.MetadataRequest]) (*op.Response, error) {
	return m.p.discovery(ctx)
}

// AuthorizationServerMetadata serves the same document at RFC 8414's path.
func (m *metadataServer) AuthorizationServerMetadata(ctx context.Context, r *op.Request[op.MetadataRequest]) (*op.Response, error) {
	return m.p.discovery(ctx)
}

// discovery returns the discovery document of the pool on ctx (op's tenant).
func (p *Provider) discovery(ctx context.Context) (*op.Response, error) {
	pool, err := p.pool(ctx, op.TenantFromContext(ctx))
	if err != nil {
		return nil, err
	}
	// The endpoints are under the URL the request came in on (the issuer,
	// or a domain of the pool); the issuer is the tokens' either way.
	base := p.base(ctx, pool.ID)
	auth := []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	registration := "" // not advertised where it would refuse every client
	if pool.ClientRegistration() != behalf.ClientRegistrationOff {
		registration = base + pathRegister
	}
	return op.NewResponse(&discoveryDocument{ClientIDMetadataDocumentSupported: p.documentsOn() &&
		pool.ClientRegistration() != behalf.ClientRegistrationOff, DiscoveryConfiguration: &oidc.DiscoveryConfiguration{
		RegistrationEndpoint:                   registration,
		Issuer:                                 p.svc.Issuer(pool.ID),
		AuthorizationEndpoint:                  base + pathAuthorize,
		TokenEndpoint:                          base + pathToken,
		UserinfoEndpoint:                       base + pathUserInfo,
		RevocationEndpoint:                     base + pathRevoke,
		EndSessionEndpoint:                     base + pathLogout,
		JwksURI:                                base + pathJWKS,
		ScopesSupported:                        standardScopes,
		ResponseTypesSupported:                 []string{string(oidc.ResponseTypeCode)},
		ResponseModesSupported:                 []string{string(oidc.ResponseModeQuery)},
		GrantTypesSupported:                    []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials},
		SubjectTypesSupported:                  []string{"public"},
		IDTokenSigningAlgValuesSupported:       []string{"RS256"},
		TokenEndpointAuthMethodsSupported:      auth,
		RevocationEndpointAuthMethodsSupported: auth,
		CodeChallengeMethodsSupported:          []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256},
		ClaimsSupported: []string{
			"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "token_use",
			"cognito:username", "cognito:groups", "email", "email_verified", "phone_number",
			"phone_number_verified", "name", "given_name", "family_name", "preferred_username",
		},
	}}), nil
}

// discoveryDocument is the discovery document: OpenID Connect's and RFC
// 8414's members, and client_id_metadata_document_supported.
type discoveryDocument struct {
	*oidc.DiscoveryConfiguration
	ClientIDMetadataDocumentSupported bool `json:"client_id_metadata_document_supported,omitempty"`
}

// Keys serves the pool's JSON Web Key Set, exactly as the service has it.
func (s *server) Keys(ctx context.Context, r *op.Request[struct{}]) (*op.Response, error) {
	b, err := s.p.svc.JWKS(ctx, poolFrom(ctx).ID)
	if err != nil {
		return nil, s.p.serverError(ctx, "JWKS", err)
	}
	return op.NewResponse(json.RawMessage(b)), nil
}

// VerifyAuthRequest finds the client and requires the redirect_uri to be
// exactly one of its CallbackURLs. Its errors are answered with a page,
// never a redirect. A request without scope asks for all the client's.
func (s *server) VerifyAuthRequest(ctx context.Context, r *op.Request[oidc.AuthRequest]) (*op.ClientRequest[oidc.AuthRequest], error) {
	d := r.Data
	if d.ClientID == "" {
		return nil, errInvalidRequestNoRedirect("The request has no client_id.")
	}
	if err := checkClientLengths(d); err != nil {
		return nil, err
	}
	var c *client
	var err error
	if isDocumentClientID(d.ClientID) {
		c, err = s.p.documentClient(ctx, poolFrom(ctx), d.ClientID, d.RedirectURI)
	} else {
		c, err = s.p.lookupClient(ctx, poolFrom(ctx).ID, d.ClientID)
	}
	var oe *oidc.Error
	if errors.As(err, &oe) && oe.ErrorType == oidc.InvalidClient {
		return nil, errInvalidRequestNoRedirect("The client_id is not a client of this user pool.")
	}
	if err != nil {
		return nil, err
	}
	if d.RedirectURI != "" && !slices.Contains(c.app.CallbackURLs, d.RedirectURI) {
		return nil, errInvalidRequestNoRedirect("The redirect_uri is not one of this client's callback URLs.")
	}
	if len(d.Scopes) == 0 {
		d.Scopes = slices.Clone(c.app.AllowedOAuthScopes)
	}
	if len(d.State) > maxState {
		// Authorize refuses it; meanwhile no error redirect echoes it.
		d.State = ""
	}
	return &op.ClientRequest[oidc.AuthRequest]{Request: r, Client: c}, nil
}

// Authorize runs after op validated the redirect_uri, prompt, scopes,
// response type and PKCE method; its errors are redirected to the client.
// Parameters over their caps (limits.go) are refused and nothing is
// stored. A browser with a valid session gets a code at once, others go to
// the login page.
func (s *server) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	d, c, pool := r.Data, r.Client.(*client), poolFrom(ctx)
	if d.RequestParam != "" {
		return nil, oidc.ErrRequestNotSupported()
	}
	if d.ResponseMode != "" && d.ResponseMode != oidc.ResponseModeQuery {
		return nil, errInvalidRequest("Only response_mode=query is supported.")
	}
	if err := checkLengths(r.Form); err != nil {
		return nil, err
	}
	if err := checkScopes(c, r.Form.Get("scope"), d.Scopes); err != nil {
		return nil, err
	}
	if err := checkPKCE(c, d); err != nil {
		return nil, err
	}
	resources, err := checkResources(r.Form["resource"])
	if err != nil {
		return nil, err
	}
	a := &authRequest{
		ClientID: c.app.ID, ClientName: c.app.Name, RedirectURI: d.RedirectURI, Scopes: d.Scopes, State: d.State, Nonce: d.Nonce,
		CodeChallenge: d.CodeChallenge, ChallengeMethod: d.CodeChallengeMethod, LoginHint: d.LoginHint,
		Resources: resources, Registered: c.app.DynamicallyRegistered, DocumentURL: c.documentURL,
	}
	// A client that registered itself never gets a code without the login
	// page, which names it and where the code goes: else anyone could
	// register a client and collect codes from every signed-in browser
	// sent to its authorization URL.
	if c.app.DynamicallyRegistered {
		if slices.Contains(d.Prompt, oidc.PromptNone) {
			return nil, oidc.ErrLoginRequired().WithDescription("This application must show the sign-in page.")
		}
	} else if u, authTime := s.p.sessionUser(ctx, r.Header, pool.ID, d.MaxAge); u != nil {
		a.Username, a.AuthTime = u.Username, authTime
		code := newCode()
		if _, err := s.p.createRequest(ctx, pool.ID, a, code); err != nil {
			return nil, s.p.createError(ctx, err)
		}
		target, err := s.p.codeRedirect(a, code)
		if err != nil {
			return nil, err
		}
		return op.NewRedirect(target), nil
	}
	if slices.Contains(d.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired().WithDescription("The user is not signed in.")
	}
	id, err := s.p.createRequest(ctx, pool.ID, a, "")
	if err != nil {
		return nil, s.p.createError(ctx, err)
	}
	return op.NewRedirect(s.p.base(ctx, pool.ID) + pathLogin + "?request=" + id), nil
}

// checkScopes refuses scopes the client may not have (op drops unknown
// custom scopes from the list, so the raw parameter is checked too) and
// email, phone or profile without openid, as Cognito does.
func checkScopes(c *client, raw string, scopes []string) error {
	for _, sc := range append(strings.Fields(raw), scopes...) {
		if !c.scopeAllowed(sc) {
			return scopeRefused(sc)
		}
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) && slices.ContainsFunc(scopes, func(sc string) bool {
		return sc == oidc.ScopeEmail || sc == oidc.ScopePhone || sc == oidc.ScopeProfile
	}) {
		return errInvalidScope("The email, phone and profile scopes require openid.")
	}
	return nil
}

// scopeToken is RFC 6749's scope-token, the only input echoed into an
// error_description (whose characters RFC 6749 restricts).
var scopeToken = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]{1,128}$`)

// scopeRefused is the invalid_scope error for a scope the client may not have.
func scopeRefused(scope string) error {
	if !scopeToken.MatchString(scope) {
		return errInvalidScope("The request asks for a scope the client may not have.")
	}
	return errInvalidScope("The client may not request the scope " + scope + ".")
}

// checkPKCE requires PKCE with S256 from public clients and accepts it
// (S256 only) from confidential ones.
func checkPKCE(c *client, d *oidc.AuthRequest) error {
	if d.CodeChallenge == "" {
		if !c.confidential() {
			return errInvalidRequest("Public clients must use PKCE: send code_challenge with code_challenge_method=S256.")
		}
		return nil
	}
	if d.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return errInvalidRequest("Only code_challenge_method=S256 is supported.")
	}
	if !s256Challenge.MatchString(d.CodeChallenge) {
		return errInvalidRequest("The code_challenge is not a base64url SHA-256 hash.")
	}
	return nil
}

// codeRedirect returns the client's redirect_uri with the code and state.
func (p *Provider) codeRedirect(a *authRequest, code string) (string, error) {
	return op.AuthResponseURL(a.RedirectURI, oidc.ResponseTypeCode, oidc.ResponseModeQuery,
		&op.CodeResponseType{Code: code, State: a.State}, p.encoder)
}

// tokenResponse is the token endpoint's answer, never cached.
func tokenResponse(t *behalf.PoolTokens) *op.Response {
	resp := op.NewResponse(&oidc.AccessTokenResponse{
		AccessToken: t.AccessToken.Reveal(), IDToken: t.IDToken.Reveal(), RefreshToken: t.RefreshToken.Reveal(),
		TokenType: oidc.BearerToken, ExpiresIn: uint64(max(t.ExpiresIn, 0)), Scope: t.Scopes,
	})
	resp.Header.Set("Cache-Control", "no-store")
	resp.Header.Set("Pragma", "no-cache")
	return resp
}

// CodeExchange redeems an authorization code, once: the first
// presentation marks it redeemed whatever its outcome, and a replay
// revokes the refresh token the code was exchanged for.
func (s *server) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	p, pool, c := s.p, poolFrom(ctx), r.Client.(*client)
	sr, err := p.loadByCode(ctx, pool.ID, r.Data.Code)
	if errors.Is(err, errRequestGone) {
		return nil, errInvalidGrant("The code is invalid or expired.")
	}
	if err != nil {
		return nil, p.serverError(ctx, "load auth request by code", err)
	}
	if sr.data.Redeemed {
		p.revokeReplayed(ctx, pool.ID, sr)
		return nil, errInvalidGrant("The code was already used.")
	}
	sr.data.Redeemed = true
	if err := p.updateRequest(ctx, sr, ""); errors.Is(err, errRequestChanged) || errors.Is(err, errRequestGone) {
		return nil, errInvalidGrant("The code was already used.")
	} else if err != nil {
		return nil, p.serverError(ctx, "redeem code", err)
	}
	a := &sr.data
	if a.ClientID != c.app.ID {
		return nil, errInvalidGrant("The code was issued to another client.")
	}
	if r.Data.RedirectURI != a.RedirectURI {
		return nil, errInvalidGrant("The redirect_uri differs from the authorization request's.")
	}
	if err := op.AuthorizeCodeChallenge(r.Data.CodeVerifier, a.challenge()); err != nil {
		return nil, err
	}
	aud, err := grantedResources(a.Resources, r.Form["resource"])
	if err != nil {
		return nil, err
	}
	tokens, err := p.svc.IssueTokens(ctx, behalf.IssueTokensInput{
		PoolID: pool.ID, ClientID: a.ClientID, Username: a.Username, Scopes: a.Scopes,
		Nonce: a.Nonce, AuthTime: a.AuthTime, RefreshToken: true, Resources: aud,
	})
	if err != nil {
		return nil, p.grantError(ctx, err)
	}
	if !tokens.RefreshToken.IsZero() {
		a.RefreshToken = tokens.RefreshToken.Reveal()
		if err := p.updateRequest(ctx, sr, ""); err != nil {
			p.log.WarnContext(ctx, "hosted login: remember refresh token of code", "err", err)
		}
	}
	return tokenResponse(tokens), nil
}

// revokeReplayed revokes what a replayed code was exchanged for (RFC 6749
// §4.1.2): its refresh token, and so every access token minted from it.
func (p *Provider) revokeReplayed(ctx context.Context, poolID string, sr *storedRequest) {
	if sr.data.RefreshToken == "" {
		return
	}
	_, secret, err := p.svc.DescribeUserPoolClient(ctx, poolID, sr.data.ClientID)
	if err == nil {
		err = p.svc.RevokeToken(ctx, behalf.Secret(sr.data.RefreshToken), sr.data.ClientID, secret)
	}
	if err != nil && behalf.ErrorCode(err) != behalf.ENOTFOUND {
		p.log.WarnContext(ctx, "hosted login: revoke tokens of a replayed code", "err", err)
	}
}

// Refresher is what a UserPoolService offers, beyond behalf.UserPoolService,
// to refresh tokens for a client the token endpoint has authenticated
// itself. Without it, only public clients can use the refresh_token grant
// (through REFRESH_TOKEN_AUTH, which requires a confidential client's
// SECRET_HASH over a username the token endpoint does not know).
type Refresher interface {
	RefreshTokens(ctx context.Context, poolID, clientID string, refreshToken behalf.Secret, resources []string) (*behalf.PoolTokens, error)
}

// RefreshToken mints new access and ID tokens from a refresh token; as in
// Cognito, a new refresh token comes with them only when the client
// rotates refresh tokens (RefreshTokenRotation), which the service does.
func (s *server) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	p, pool, c := s.p, poolFrom(ctx), r.Client.(*client)
	token := behalf.Secret(r.Data.RefreshToken)
	resources, err := checkResources(r.Form["resource"])
	if err != nil {
		return nil, err
	}
	var tokens *behalf.PoolTokens
	switch rf, ok := p.svc.(Refresher); {
	case ok:
		tokens, err = rf.RefreshTokens(ctx, pool.ID, c.app.ID, token, resources)
	case len(resources) > 0:
		return nil, errInvalidTarget("This server cannot narrow a refresh to a resource.")
	case !c.confidential():
		var res *behalf.AuthResult
		res, err = p.svc.AdminInitiateAuth(ctx, pool.ID, c.app.ID, behalf.AuthFlowRefreshToken,
			map[string]behalf.Secret{"REFRESH_TOKEN": token})
		if err == nil && res.Tokens == nil {
			err = behalf.CognitoErrorf(behalf.CognitoNotAuthorized, "Invalid Refresh Token")
		}
		if err == nil {
			tokens = res.Tokens
		}
	default:
		return nil, oidc.ErrUnsupportedGrantType().WithDescription("The refresh_token grant is not available to confidential clients yet.")
	}
	if errors.Is(err, behalf.ErrInvalidTarget) {
		return nil, errInvalidTarget(behalf.ErrorMessage(err))
	}
	if err != nil {
		return nil, p.grantError(ctx, err)
	}
	return tokenResponse(tokens), nil
}

// ClientCredentialsExchange mints an access token for the client itself,
// authenticated by client_secret_basic or client_secret_post (VerifyClient).
// The token gets exactly the scopes asked for, each of which the client
// must be allowed and a resource server must define, or else the request
// is refused with invalid_scope; without scope, as in Cognito, it gets
// every custom scope the client is allowed.
func (s *server) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	p, pool, c := s.p, poolFrom(ctx), r.Client.(*client)
	scopes := []string(r.Data.Scope) // none: the service grants all the client's
	for _, sc := range scopes {
		if !c.scopeAllowed(sc) {
			return nil, scopeRefused(sc)
		}
	}
	tokens, err := p.svc.IssueTokens(ctx, behalf.IssueTokensInput{PoolID: pool.ID, ClientID: c.app.ID, Scopes: scopes})
	if err != nil {
		return nil, p.grantError(ctx, err)
	}
	tokens.RefreshToken, tokens.IDToken = "", ""
	return tokenResponse(tokens), nil
}

// UserInfo answers the claims of the user of an access token of this
// pool that has the openid scope: sub and username always, then email,
// phone and profile claims by scope, or every attribute with
// aws.cognito.signin.user.admin.
func (s *server) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	p, pool := s.p, poolFrom(ctx)
	claims, err := p.svc.VerifyAccessToken(ctx, behalf.Secret(r.Data.AccessToken))
	if err != nil {
		if behalf.ErrorCode(err) == behalf.EINTERNAL {
			return nil, p.serverError(ctx, "verify access token", err)
		}
		return nil, errInvalidToken()
	}
	if claims.PoolID != pool.ID || claims.User == nil {
		return nil, errInvalidToken()
	}
	if !slices.Contains(claims.Scopes, oidc.ScopeOpenID) {
		return nil, op.NewStatusError(&oidc.Error{ErrorType: errorInsufficientScope,
			Description: "The access token does not have the openid scope."}, http.StatusForbidden)
	}
	resp := op.NewResponse(userInfo(claims))
	resp.Header.Set("Cache-Control", "no-store")
	return resp, nil
}

// Revocation revokes a refresh token of the client (and the access tokens
// minted from it). Unknown tokens are not an error (RFC 7009 §2.2).
func (s *server) Revocation(ctx context.Context, r *op.ClientRequest[oidc.RevocationRequest]) (*op.Response, error) {
	p, c := s.p, r.Client.(*client)
	if r.Data.TokenTypeHint == "access_token" || strings.Count(r.Data.Token, ".") == 2 {
		return nil, &oidc.Error{ErrorType: errorUnsupportedTokenType, Description: "Only refresh tokens can be revoked."}
	}
	err := p.svc.RevokeToken(ctx, behalf.Secret(r.Data.Token), c.app.ID, c.secret)
	switch behalf.CognitoException(err) {
	case "", behalf.CognitoNotAuthorized: // revoked, unknown, or another client's: nothing to tell
		return op.NewResponse(nil), nil
	case behalf.CognitoUnsupportedOperation, behalf.CognitoInvalidParameter:
		return nil, errInvalidRequest(behalf.ErrorMessage(err))
	case behalf.CognitoResourceNotFound:
		return nil, unauthorized(errInvalidClient("Unknown client."))
	}
	return nil, p.serverError(ctx, "revoke token", err)
}

// EndSession is Cognito's /logout: with client_id and logout_uri (or
// OIDC's post_logout_redirect_uri, with state) exactly one of the client's
// LogoutURLs, it clears the session cookie and redirects there. With
// redirect_uri and response_type instead, it clears the session and starts
// a new authorization. Anything else is refused, with no redirect.
func (s *server) EndSession(ctx context.Context, r *op.Request[oidc.EndSessionRequest]) (*op.Redirect, error) {
	p, pool := s.p, poolFrom(ctx)
	c, err := p.lookupClient(ctx, pool.ID, r.Data.ClientID)
	var oe *oidc.Error
	if errors.As(err, &oe) && oe.ErrorType == oidc.InvalidClient {
		return nil, errInvalidRequestNoRedirect("The client_id is missing or not a client of this user pool.")
	}
	if err != nil {
		return nil, err
	}
	var target string
	switch logout, post := r.Form.Get("logout_uri"), r.Data.PostLogoutRedirectURI; {
	case logout != "" || post != "":
		uri := logout
		if uri == "" {
			uri = post
		}
		if !slices.Contains(c.app.LogoutURLs, uri) {
			return nil, errInvalidRequestNoRedirect("The logout_uri is not one of this client's sign-out URLs.")
		}
		target = uri
		if logout == "" && r.Data.State != "" {
			if target, err = op.AuthResponseURL(uri, "", oidc.ResponseModeQuery, &struct {
				State string `schema:"state"`
			}{r.Data.State}, p.encoder); err != nil {
				return nil, err
			}
		}
	case r.Form.Get("redirect_uri") != "" && r.Form.Get("response_type") != "":
		q := r.URL.Query()
		q.Del("logout_uri")
		target = p.base(ctx, pool.ID) + pathAuthorize + "?" + q.Encode()
	default:
		return nil, errInvalidRequestNoRedirect("The request needs logout_uri, or redirect_uri and response_type.")
	}
	red := op.NewRedirect(target)
	p.clearSession(ctx, red.Header, pool.ID)
	return red, nil
}
