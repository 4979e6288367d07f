package oidcop

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/behalf-dev/behalf"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// RFC 7591 dynamic client registration at POST {pool}/oauth2/register.
//
// Only public clients register (token_endpoint_auth_method none), for the
// authorization code flow with PKCE S256 (Authorize requires it of every
// public client) and refresh tokens, which rotate. Their redirect URIs
// are https, or http on a loopback host, without fragments, matched
// exactly later; the pool's TagClientRegistration says which of those it
// takes (behalf.UserPool.ClientRegistration). A registered client is an
// ordinary app client of the pool, flagged DynamicallyRegistered: its
// sign-ins always show the login page, which names it and the host its
// code goes to. Abuse is bounded by the per-IP rate limit (the route's
// name, HostedLoginRegister), maxRegisterBody, and WithRegistrationLimit.

// DefaultMaxRegisteredClients is how many dynamically registered clients
// a pool may have unless WithRegistrationLimit says otherwise.
const DefaultMaxRegisteredClients = 1000

// Bounds of a registration request.
const (
	maxRegisterBody   = 16 << 10 // bytes of the JSON body
	maxRedirectURIs   = 10
	defaultClientName = "Unnamed application"
)

// RFC 7591 §3.2.2's error codes, and access_denied for a pool that takes
// no (more) registrations.
const (
	errorInvalidRedirectURI    = "invalid_redirect_uri"
	errorInvalidClientMetadata = "invalid_client_metadata"
	errorAccessDenied          = "access_denied"
)

// defaultRegisteredScopes are what a client that names no scope gets.
var defaultRegisteredScopes = []string{oidc.ScopeOpenID, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeProfile}

// registeredGrantTypes and registeredResponseTypes are all a registered
// client may use.
var (
	registeredGrantTypes    = []string{string(oidc.GrantTypeCode), string(oidc.GrantTypeRefreshToken)}
	registeredResponseTypes = []string{string(oidc.ResponseTypeCode)}
)

// WithRegistrationLimit bounds how many dynamically registered clients
// each pool keeps (default DefaultMaxRegisteredClients; 0 removes the
// bound). Past it, registrations are refused until an administrator
// deletes some (DeleteUserPoolClient).
func WithRegistrationLimit(n int) Option {
	return func(p *Provider) { p.maxRegistered = n }
}

// registrationRequest is the client metadata of RFC 7591 §2 that this
// server reads; other members are ignored, as §2 asks.
type registrationRequest struct {
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod *string  `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              *string  `json:"client_name"`
	Scope                   *string  `json:"scope"`
	ApplicationType         string   `json:"application_type"`
}

// registrationResponse is RFC 7591 §3.2.1's answer: the metadata as
// registered.
type registrationResponse struct {
	ClientID                string   `json:"client_id"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope"`
	ApplicationType         string   `json:"application_type,omitempty"`
}

// registrationError is an RFC 7591 §3.2.2 error answer.
type registrationError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *registrationError) Error() string { return e.Code + ": " + e.Description }

func invalidMetadata(desc string) *registrationError {
	return &registrationError{http.StatusBadRequest, errorInvalidClientMetadata, desc}
}

func invalidRedirect(desc string) *registrationError {
	return &registrationError{http.StatusBadRequest, errorInvalidRedirectURI, desc}
}

// parseRegistration reads and checks a registration body for a pool whose
// ClientRegistration is mode, and returns the app client to create. Its
// errors are *registrationError.
func parseRegistration(body []byte, poolID, mode string) (*behalf.UserPoolClientInput, *registrationRequest, error) {
	var req registrationRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil, invalidMetadata("The body is not a JSON object of client metadata: " + jsonProblem(err))
	}
	if name := inexactMember(body); name != "" {
		return nil, nil, invalidMetadata(fmt.Sprintf("Member names are case-sensitive: %q is not a client metadata member.", clipName(name)))
	}
	if m := req.TokenEndpointAuthMethod; m != nil && *m != string(oidc.AuthMethodNone) {
		return nil, nil, invalidMetadata("Only public clients can register: token_endpoint_auth_method must be none.")
	}
	redirects, err := checkRedirectURIs(req.RedirectURIs, mode)
	if err != nil {
		return nil, nil, err
	}
	for _, g := range req.GrantTypes {
		if !slices.Contains(registeredGrantTypes, g) {
			return nil, nil, invalidMetadata("grant_types may hold authorization_code and refresh_token only.")
		}
	}
	if len(req.GrantTypes) > 0 && !slices.Contains(req.GrantTypes, string(oidc.GrantTypeCode)) {
		return nil, nil, invalidMetadata("grant_types must include authorization_code.")
	}
	for _, rt := range req.ResponseTypes {
		if !slices.Contains(registeredResponseTypes, rt) {
			return nil, nil, invalidMetadata("response_types may hold code only.")
		}
	}
	if a := req.ApplicationType; a != "" && a != "native" && a != "web" {
		return nil, nil, invalidMetadata("application_type must be native or web.")
	}
	name := defaultClientName
	if req.ClientName != nil {
		name = *req.ClientName
	}
	if !behalf.ValidDisplayName(name) {
		return nil, nil, invalidMetadata("client_name must be 1 to " + strconv.Itoa(behalf.MaxDisplayNameLength) +
			" printable characters, without leading or trailing spaces.")
	}
	scopes, err := registeredScopes(req.Scope)
	if err != nil {
		return nil, nil, err
	}
	return &behalf.UserPoolClientInput{
		PoolID: poolID, Name: name, DynamicallyRegistered: true,
		ExplicitAuthFlows:               []string{behalf.AllowRefreshTokenAuth},
		AllowedOAuthFlows:               []string{"code"},
		AllowedOAuthScopes:              scopes,
		AllowedOAuthFlowsUserPoolClient: true,
		CallbackURLs:                    redirects,
		SupportedIdentityProviders:      []string{"COGNITO"},
		// The MCP authorization spec: an AS MUST rotate public clients'
		// refresh tokens.
		RotateRefreshTokens: true,
	}, &req, nil
}

// jsonProblem words a decoding error without echoing the input.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return "the member " + te.Field + " has the wrong type."
	}
	return "malformed JSON."
}

// checkRedirectURIs checks a registration's redirect URIs as the MCP
// authorization spec asks: 1 to maxRedirectURIs, each https with a host,
// or http on a loopback host (127.0.0.1, [::1], localhost), no fragment,
// no user info; https only when mode is behalf.ClientRegistrationOpen.
// Duplicates are dropped.
func checkRedirectURIs(uris []string, mode string) ([]string, error) {
	if len(uris) == 0 {
		return nil, invalidRedirect("redirect_uris is required: at least one redirect URI.")
	}
	if len(uris) > maxRedirectURIs {
		return nil, invalidRedirect("At most " + strconv.Itoa(maxRedirectURIs) + " redirect_uris.")
	}
	var out []string
	for _, raw := range uris {
		loopback, err := checkRedirectURI(raw)
		if err != nil {
			return nil, err
		}
		if !loopback && mode != behalf.ClientRegistrationOpen {
			return nil, invalidRedirect("This user pool registers only clients whose redirect URIs are on a loopback " +
				"host (http://127.0.0.1, http://[::1] or http://localhost); its administrator can open it to https ones.")
		}
		if !slices.Contains(out, raw) {
			out = append(out, raw)
		}
	}
	return out, nil
}

// checkRedirectURI checks one redirect URI and reports whether it is a
// loopback one.
func checkRedirectURI(raw string) (loopback bool, err error) {
	bad := func(why string) (bool, error) {
		return false, invalidRedirect("Each redirect URI must be an absolute https URL, or http on 127.0.0.1, [::1] or localhost: " + why)
	}
	if len(raw) > maxRedirectURI {
		return bad("one is longer than " + strconv.Itoa(maxRedirectURI) + " bytes.")
	}
	if strings.Contains(raw, "#") {
		return bad("one has a fragment.")
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return bad("one has spaces or control characters.")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return bad("one is not an absolute URL with a host.")
	}
	if u.User != nil {
		return bad("one has user information.")
	}
	switch u.Scheme {
	case "https":
		return isLoopbackHost(u.Hostname()), nil
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return bad("one is http on a host that is not loopback.")
		}
		return true, nil
	}
	return bad("one has the scheme " + strconv.Quote(u.Scheme) + ".")
}

// isLoopbackHost reports whether a URL's host names the loopback
// interface as the MCP spec lists it.
func isLoopbackHost(h string) bool {
	return h == "127.0.0.1" || h == "::1" || strings.EqualFold(h, "localhost")
}

// registeredScopes are the scopes a registration asks for: the default
// set when scope is absent; never aws.cognito.signin.user.admin (which
// lets a token change the user's password and attributes). Whether custom
// scopes exist is the service's to check.
func registeredScopes(scope *string) ([]string, error) {
	if scope == nil {
		return slices.Clone(defaultRegisteredScopes), nil
	}
	var out []string
	for _, sc := range strings.Fields(*scope) {
		if !scopeToken.MatchString(sc) {
			return nil, invalidMetadata("scope holds a value that is not a scope token.")
		}
		if sc == behalf.ScopeCognitoAdmin {
			return nil, invalidMetadata("The scope " + sc + " cannot be granted to a registered client.")
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, invalidMetadata("scope names no scope; omit it for the default (" + strings.Join(defaultRegisteredScopes, " ") + ").")
	}
	if len(out) > 50 {
		return nil, invalidMetadata("scope names more than 50 scopes.")
	}
	return out, nil
}

// register serves POST {pool}/oauth2/register.
func (p *Provider) register(w http.ResponseWriter, r *http.Request) {
	ctx, pool := r.Context(), poolFrom(r.Context())
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		writeRegistrationError(w, &registrationError{http.StatusMethodNotAllowed, "invalid_request", "Use POST."})
		return
	}
	if pool.ClientRegistration() == behalf.ClientRegistrationOff {
		writeRegistrationError(w, &registrationError{http.StatusForbidden, errorAccessDenied,
			"This user pool does not accept client registrations; ask its administrator for a client."})
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeRegistrationError(w, invalidMetadata("The body must be application/json."))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRegisterBody))
	if err != nil {
		writeRegistrationError(w, &registrationError{http.StatusRequestEntityTooLarge, errorInvalidClientMetadata,
			"The body is too large: at most " + strconv.Itoa(maxRegisterBody) + " bytes."})
		return
	}
	in, req, err := parseRegistration(body, pool.ID, pool.ClientRegistration())
	if err != nil {
		writeRegistrationError(w, err.(*registrationError))
		return
	}
	if p.maxRegistered > 0 {
		n, err := p.store.CountRegisteredAppClients(ctx, pool.ID, p.maxRegistered)
		if err != nil {
			p.logFailure(ctx, "count registered clients", err)
			writeRegistrationError(w, &registrationError{http.StatusInternalServerError, "server_error", "Internal error."})
			return
		}
		if n >= p.maxRegistered {
			p.log.WarnContext(ctx, "hosted login: refusing a client registration, the pool has as many as allowed",
				"pool", pool.ID, "limit", p.maxRegistered)
			writeRegistrationError(w, &registrationError{http.StatusForbidden, errorAccessDenied,
				"This user pool has as many registered clients as it may keep; ask its administrator."})
			return
		}
	}
	app, _, err := p.svc.CreateUserPoolClient(ctx, *in)
	if err != nil {
		switch behalf.CognitoException(err) {
		case behalf.CognitoInvalidParameter, behalf.CognitoScopeDoesNotExist:
			writeRegistrationError(w, invalidMetadata(behalf.ErrorMessage(err)))
		default:
			p.logFailure(ctx, "register client", err)
			writeRegistrationError(w, &registrationError{http.StatusInternalServerError, "server_error", "Internal error."})
		}
		return
	}
	p.log.InfoContext(ctx, "hosted login: client registered", "pool", pool.ID, "client", app.ID)
	writeJSON(w, http.StatusCreated, &registrationResponse{
		ClientID: app.ID, ClientIDIssuedAt: app.CreatedAt.Unix(), ClientName: app.Name,
		RedirectURIs: app.CallbackURLs, GrantTypes: registeredGrantTypes, ResponseTypes: registeredResponseTypes,
		TokenEndpointAuthMethod: string(oidc.AuthMethodNone), Scope: strings.Join(app.AllowedOAuthScopes, " "),
		ApplicationType: req.ApplicationType,
	})
}

// writeRegistrationError answers an RFC 7591 error.
func writeRegistrationError(w http.ResponseWriter, e *registrationError) {
	writeJSON(w, e.status, e)
}

// writeJSON writes an uncacheable JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error","error_description":"Internal error."}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// metadataMembers are the client metadata members Behalf reads, by their
// exact (lower-case) names.
var metadataMembers = []string{"redirect_uris", "token_endpoint_auth_method", "grant_types", "response_types",
	"client_name", "scope", "application_type", "client_id", "client_secret", "client_secret_expires_at"}

// inexactMember returns the first top-level member of the JSON object body
// whose name equals a metadata member's only when case is ignored (as
// encoding/json matches names), or "". Metadata names are case-sensitive
// (RFC 7591), so such a member is refused rather than read as the member.
func inexactMember(body []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	for k := range m {
		for _, want := range metadataMembers {
			if k != want && strings.EqualFold(k, want) {
				return k
			}
		}
	}
	return ""
}

func clipName(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
