// Package fakeprovider is a local authorization server for tests that
// speaks Google's OAuth 2.0 endpoints: the authorization endpoint (which
// consents at once on behalf of a user), the token endpoint
// (authorization_code with PKCE, refresh_token, client_credentials), RFC
// 7009 revocation, OpenID discovery, and a Drive-like API that checks
// bearer tokens.
//
// It follows Google where Google differs from the bare RFCs: a refresh
// token is issued only for access_type=offline, and on a repeat consent
// only with prompt=consent; refreshing returns no new refresh token unless
// Options.RotateRefreshTokens is set; ID tokens (for the openid scope) are
// unsigned JWTs ("alg":"none"), fine for reading claims in tests but not
// for signature checks.
//
// All methods are safe for concurrent use.
package fakeprovider

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// DefaultUser consents to authorization requests that carry no
// login_hint.
const DefaultUser = "alice@example.com"

// DriveScope is the scope the Drive endpoint accepts; any scope starting
// with it (such as DriveScope + ".readonly") does too.
const DriveScope = "https://www.googleapis.com/auth/drive"

// Endpoint paths, as on Google.
const (
	AuthorizePath  = "/o/oauth2/v2/auth"
	TokenPath      = "/token"
	RevokePath     = "/revoke"
	DiscoveryPath  = "/.well-known/openid-configuration"
	DriveFilesPath = "/drive/v3/files"
)

// Client authentication methods for Options.RequireAuthMethod.
const (
	AuthBasic = "basic"
	AuthPost  = "post"
)

// Options configures a Server.
type Options struct {
	// AccessTokenTTL is the lifetime of access tokens; zero means one hour.
	AccessTokenTTL time.Duration
	// RotateRefreshTokens makes every refresh return a new refresh token
	// and invalidate the old one. Google does not rotate.
	RotateRefreshTokens bool
	// RequireAuthMethod, AuthBasic or AuthPost, makes the token endpoint
	// refuse confidential clients that authenticate the other way; empty
	// accepts both.
	RequireAuthMethod string
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
}

// Server is a running fake authorization server.
type Server struct {
	// URL is the server's base URL (http on loopback) and its issuer.
	URL string

	opts Options
	mu   sync.Mutex
	st   state
}

// state is everything the server remembers; Server.mu guards it.
type state struct {
	clients   map[string]*client
	codes     map[string]*authCode
	access    map[string]*accessToken
	refresh   map[string]*grant
	consented map[string]bool // clientID + " " + user, once a refresh token was issued
	revoked   []string

	deny       bool
	fail       *failure
	retryAfter time.Duration

	lastAuth  url.Values
	lastToken url.Values

	authorizations, exchanges, refreshes, clientCredentials int
}

// client is a registered OAuth client; an empty secret makes it public.
type client struct {
	secret    string
	redirects []string
}

// grant is what a user (or, for client_credentials, a client) consented
// to; revoking it invalidates its refresh token and access tokens.
type grant struct {
	clientID string
	user     string
	scopes   []string
	refresh  string // "" when no refresh token was issued
	revoked  bool
}

// accessToken is an issued access token.
type accessToken struct {
	grant   *grant
	scopes  []string
	expires time.Time
	expired bool // set by ExpireAccessTokens
}

// failure is an injected refresh failure.
type failure struct {
	status int
	code   string
}

// New starts a Server on loopback; t.Cleanup closes it. It fails t if
// opts.RequireAuthMethod is not "", AuthBasic or AuthPost.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if !slices.Contains([]string{"", AuthBasic, AuthPost}, opts.RequireAuthMethod) {
		t.Fatalf("fakeprovider: RequireAuthMethod %q is not %q or %q", opts.RequireAuthMethod, AuthBasic, AuthPost)
	}
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, st: state{
		clients:   map[string]*client{},
		codes:     map[string]*authCode{},
		access:    map[string]*accessToken{},
		refresh:   map[string]*grant{},
		consented: map[string]bool{},
	}}
	hs := httptest.NewServer(s.handler())
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// handler routes the server's endpoints.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+AuthorizePath, s.authorize)
	mux.HandleFunc("POST "+TokenPath, s.token)
	mux.HandleFunc("POST "+RevokePath, s.revoke)
	mux.HandleFunc("GET "+DriveFilesPath, s.driveFiles)
	mux.HandleFunc("GET "+DiscoveryPath, s.discovery)
	return mux
}

// Metadata returns the server's endpoints as discovery metadata.
func (s *Server) Metadata() behalf.AuthServerMetadata {
	methods := []string{"client_secret_basic", "client_secret_post"}
	switch s.opts.RequireAuthMethod {
	case AuthBasic:
		methods = methods[:1]
	case AuthPost:
		methods = methods[1:]
	}
	return behalf.AuthServerMetadata{
		Issuer:                   s.URL,
		AuthorizationEndpoint:    s.URL + AuthorizePath,
		TokenEndpoint:            s.URL + TokenPath,
		RevocationEndpoint:       s.URL + RevokePath,
		ResponseTypes:            []string{"code"},
		TokenEndpointAuthMethods: methods,
		ScopesSupported:          []string{"openid", "email", "profile"},
		CodeChallengeMethods:     []string{"S256"},
	}
}

// discovery serves Metadata as an OpenID discovery document.
func (s *Server) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Metadata())
}

// RegisterClient registers (or replaces) a client with its allowed
// redirect URIs. An empty secret registers a public client, which
// authenticates with its client_id alone.
func (s *Server) RegisterClient(id, secret string, redirectURIs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.clients[id] = &client{secret: secret, redirects: slices.Clone(redirectURIs)}
}

// Counts returns how many requests each endpoint received, successful or
// not: authorization requests, and token requests with grant_type
// authorization_code, refresh_token and client_credentials.
func (s *Server) Counts() (authorizations, codeExchanges, refreshes, clientCredentials int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.authorizations, s.st.exchanges, s.st.refreshes, s.st.clientCredentials
}

// Revoked returns the tokens sent to the revocation endpoint, in order.
func (s *Server) Revoked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.revoked)
}

// Deny sets whether authorization requests are refused: while set, a
// valid authorization request redirects back with error=access_denied, as
// when the user clicks Cancel.
func (s *Server) Deny(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.deny = deny
}

// FailRefreshWith makes every following refresh_token request fail with
// the HTTP status and OAuth error code (for example 503 and
// "temporarily_unavailable", or 400 and "invalid_grant") until it is
// called with status 0.
func (s *Server) FailRefreshWith(status int, oauthError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.fail = nil
	if status != 0 {
		s.st.fail = &failure{status: status, code: oauthError}
	}
}

// SetRetryAfter sets the Retry-After header (whole seconds) sent with
// failures injected by FailRefreshWith; zero sends none.
func (s *Server) SetRetryAfter(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.retryAfter = d
}

// ExpireAccessTokens makes every access token issued so far invalid at
// the Drive endpoint. Refresh tokens are unaffected.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, at := range s.st.access {
		at.expired = true
	}
}

// LastAuthorization returns the query of the latest authorization
// request, or nil if there was none.
func (s *Server) LastAuthorization() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneValues(s.st.lastAuth)
}

// LastTokenRequest returns the form of the latest token request
// (including any client_secret sent in it), or nil if there was none.
func (s *Server) LastTokenRequest() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneValues(s.st.lastToken)
}

// now returns the server's current time.
func (s *Server) now() time.Time { return s.opts.Now() }

// cloneValues deep-copies v; nil stays nil.
func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	c := maps.Clone(v)
	for k, vs := range c {
		c[k] = slices.Clone(vs)
	}
	return c
}

// writeJSON writes v as a JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("fakeprovider: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}
