package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/behalf-dev/behalf"
)

// DefaultUser is the sandbox user the consent page proposes when the
// authorization request has no login_hint.
const DefaultUser = "alice@example.com"

// DriveScope is the scope the Drive endpoint accepts; any scope starting
// with it (such as DriveScope + ".metadata.readonly") does too.
const DriveScope = "https://www.googleapis.com/auth/drive"

// Endpoint paths, as on Google where Google has them.
const (
	AuthorizePath  = "/o/oauth2/v2/auth"
	ConsentPath    = "/o/oauth2/v2/consent"
	TokenPath      = "/token"
	RevokePath     = "/revoke"
	UserinfoPath   = "/v1/userinfo"
	DiscoveryPath  = "/.well-known/openid-configuration"
	DriveFilesPath = "/drive/v3/files"
	DrivePath      = "/drive/v3/" // the Drive API base, for DRIVE_ENDPOINT
	ClientsPath    = "/sandbox/clients"
)

// Client authentication methods for Options.RequireAuthMethod.
const (
	AuthBasic = "basic"
	AuthPost  = "post"
)

// DefaultSeedFiles is how many files each user's Drive holds when
// Options.SeedFiles is zero.
const DefaultSeedFiles = 5

// Options configures a Server.
type Options struct {
	// URL is the server's base URL as clients and browsers reach it, and
	// its issuer, such as "http://127.0.0.1:8700". Required by New; Start
	// defaults it to http://{the address listened on}.
	URL string
	// Open accepts any client id with any http(s) redirect URI, and any
	// secret at the token endpoint, for clients not registered. Registered
	// clients are still checked.
	Open bool
	// AutoConsent skips the consent page: a valid authorization request is
	// approved at once for login_hint (or DefaultUser). For tests that do
	// not exercise the page.
	AutoConsent bool
	// SeedFiles is the number of files in each user's Drive: zero means
	// DefaultSeedFiles, negative none. Files, when set, replaces them.
	SeedFiles int
	// Files, when set, returns a user's Drive files.
	Files func(user string) []File
	// AccessTokenTTL is the lifetime of access tokens; zero means one hour.
	AccessTokenTTL time.Duration
	// RotateRefreshTokens makes every refresh return a new refresh token
	// and invalidate the old one. Google does not rotate.
	RotateRefreshTokens bool
	// RotationGrace, with RotateRefreshTokens, keeps a rotated-out refresh
	// token usable for this long after the refresh that replaced it, as
	// providers' reuse grace periods do (Okta's grace period, Auth0's
	// reuse interval, Cognito's RetryGracePeriodSeconds), so a client that
	// lost the answer can retry. Within the window a refresh with the
	// rotated-out token answers a new access token and the grant's current
	// refresh token (the same successor the lost answer carried; Auth0
	// issues a fresh one instead) and rotates nothing. Only the token
	// rotated out last has a window: rotating again ends it. Zero makes a
	// rotated-out token invalid at once.
	RotationGrace time.Duration
	// RequireAuthMethod, AuthBasic or AuthPost, makes the token endpoint
	// refuse confidential clients that authenticate the other way; empty
	// accepts both.
	RequireAuthMethod string
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
}

// Client is an OAuth client registered at the sandbox.
type Client struct {
	ID string `json:"client_id"`
	// Secret is empty for a public client, which authenticates with its
	// client_id alone.
	Secret string `json:"client_secret,omitempty"`
	// Name is shown on the consent page; default the id.
	Name         string   `json:"client_name,omitempty"`
	RedirectURIs []string `json:"redirect_uris"`
}

// Server is a sandbox. Create it with New (and serve Handler) or Start.
type Server struct {
	// URL is the server's base URL and issuer (Options.URL).
	URL string

	opts Options
	hs   *http.Server
	ln   net.Listener
	done chan struct{}

	mu sync.Mutex
	st state
}

// state is everything the server remembers; Server.mu guards it.
type state struct {
	clients   map[string]*Client
	pending   map[string]*pendingAuth // consent pages shown, by request id
	codes     map[string]*authCode
	access    map[string]*accessToken
	refresh   map[string]*grant
	consented map[string]bool // clientID + " " + user, once a refresh token was issued
	revoked   []string

	deny          bool
	fail          *failure
	refuse        map[string]*failure // by grant_type: RefuseTokenRequests
	retryAfter    time.Duration
	rotationGrace time.Duration // Options.RotationGrace, or SetRotationGrace

	lastAuth  url.Values
	lastToken url.Values

	authorizations, exchanges, refreshes, clientCredentials int
	// graceRefreshes counts refreshes answered for a rotated-out token
	// inside its grace window.
	graceRefreshes int
}

// grant is what a user (or, for client_credentials, a client) consented
// to; revoking it invalidates its refresh token and access tokens.
type grant struct {
	clientID string
	user     string
	scopes   []string
	refresh  string // "" when no refresh token was issued
	revoked  bool
	// previous is the refresh token rotated out last, usable until
	// previousUntil (RotationGrace); "" when none is.
	previous      string
	previousUntil time.Time
}

// accessToken is an issued access token.
type accessToken struct {
	grant   *grant
	scopes  []string
	expires time.Time
	expired bool // set by ExpireAccessTokens
}

// failure is an injected token-endpoint failure.
type failure struct {
	status int
	code   string
}

// New returns a sandbox for opts; serve its Handler at opts.URL.
func New(opts Options) (*Server, error) {
	if !slices.Contains([]string{"", AuthBasic, AuthPost}, opts.RequireAuthMethod) {
		return nil, fmt.Errorf("sandbox: RequireAuthMethod %q is not %q or %q", opts.RequireAuthMethod, AuthBasic, AuthPost)
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("sandbox: URL %q must be an absolute http(s) URL", opts.URL)
	}
	opts.URL = strings.TrimSuffix(opts.URL, "/")
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RotationGrace < 0 || (opts.RotationGrace > 0 && !opts.RotateRefreshTokens) {
		return nil, fmt.Errorf("sandbox: RotationGrace %v needs RotateRefreshTokens and must not be negative", opts.RotationGrace)
	}
	return &Server{URL: opts.URL, opts: opts, st: state{
		rotationGrace: opts.RotationGrace,
		clients:       map[string]*Client{},
		pending:       map[string]*pendingAuth{},
		codes:         map[string]*authCode{},
		access:        map[string]*accessToken{},
		refresh:       map[string]*grant{},
		consented:     map[string]bool{},
	}}, nil
}

// Start listens on addr (such as "127.0.0.1:8700", or port 0 for any) and
// serves a sandbox there until Close. An empty opts.URL becomes
// http://{the address listened on}.
func Start(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if opts.URL == "" {
		opts.URL = "http://" + ln.Addr().String()
	}
	s, err := New(opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.ln, s.done = ln, make(chan struct{})
	s.hs = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	go func() {
		defer close(s.done)
		s.hs.Serve(ln)
	}()
	return s, nil
}

// Addr is the address Start listens on ("" for a Server from New).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops a Server from Start, closing its connections; it does nothing
// for one from New.
func (s *Server) Close() error {
	if s.hs == nil {
		return nil
	}
	err := s.hs.Close()
	<-s.done
	return err
}

// Shutdown stops a Server from Start gracefully, waiting for requests in
// flight until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.hs == nil {
		return nil
	}
	err := s.hs.Shutdown(ctx)
	if err == nil {
		<-s.done
	}
	return err
}

// Handler routes the sandbox's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+AuthorizePath, s.authorize)
	mux.HandleFunc("POST "+ConsentPath, s.consent)
	mux.HandleFunc("POST "+TokenPath, s.token)
	mux.HandleFunc("POST "+RevokePath, s.revoke)
	mux.HandleFunc("GET "+UserinfoPath, s.userinfo)
	mux.HandleFunc("POST "+UserinfoPath, s.userinfo)
	mux.HandleFunc("GET "+DriveFilesPath, s.driveFiles)
	mux.HandleFunc("GET "+DiscoveryPath, s.discovery)
	mux.HandleFunc("POST "+ClientsPath, s.addClientHandler)
	mux.HandleFunc("GET "+ClientsPath, s.listClientsHandler)
	mux.HandleFunc("GET /{$}", s.home)
	return mux
}

// DiscoveryURL is the sandbox's OpenID discovery URL, for
// `behalf provider create ... --vendor CustomOauth2 --discovery-url`.
func (s *Server) DiscoveryURL() string { return s.URL + DiscoveryPath }

// DriveEndpoint is the Drive API base URL, for the drive agent's
// DRIVE_ENDPOINT.
func (s *Server) DriveEndpoint() string { return s.URL + DrivePath }

// Metadata returns the server's endpoints as discovery metadata.
func (s *Server) Metadata() behalf.AuthServerMetadata {
	return behalf.AuthServerMetadata{
		Issuer:                   s.URL,
		AuthorizationEndpoint:    s.URL + AuthorizePath,
		TokenEndpoint:            s.URL + TokenPath,
		RevocationEndpoint:       s.URL + RevokePath,
		UserinfoEndpoint:         s.URL + UserinfoPath,
		ResponseTypes:            []string{"code"},
		TokenEndpointAuthMethods: s.authMethods(),
		ScopesSupported:          []string{"openid", "email", "profile", DriveScope, DriveScope + ".readonly", DriveScope + ".metadata.readonly"},
		CodeChallengeMethods:     []string{"S256"},
	}
}

func (s *Server) authMethods() []string {
	methods := []string{"client_secret_basic", "client_secret_post"}
	switch s.opts.RequireAuthMethod {
	case AuthBasic:
		return methods[:1]
	case AuthPost:
		return methods[1:]
	}
	return methods
}

// discovery serves Metadata as an OpenID discovery document, with the
// OpenID fields a sandbox can honestly claim.
func (s *Server) discovery(w http.ResponseWriter, _ *http.Request) {
	doc := map[string]any{}
	b, _ := json.Marshal(s.Metadata())
	json.Unmarshal(b, &doc)
	doc["grant_types_supported"] = []string{"authorization_code", "refresh_token", "client_credentials"}
	doc["subject_types_supported"] = []string{"public"}
	doc["id_token_signing_alg_values_supported"] = []string{"none"} // a sandbox: unsigned ID tokens
	doc["claims_supported"] = []string{"iss", "aud", "sub", "email", "email_verified", "name", "iat", "exp", "nonce"}
	doc["service_documentation"] = "Behalf sandbox: a local stand-in for Google OAuth 2.0 and Drive; not Google."
	writeJSON(w, http.StatusOK, doc)
}

// RegisterClient registers (or replaces) a client with its allowed
// redirect URIs, unchecked (none suits client_credentials). An empty
// secret registers a public client, which authenticates with its
// client_id alone.
func (s *Server) RegisterClient(id, secret string, redirectURIs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.clients[id] = &Client{ID: id, Secret: secret, RedirectURIs: slices.Clone(redirectURIs)}
}

// AddClient registers (or replaces) c after checking it: a client id and
// at least one absolute http(s) redirect URI without fragment.
func (s *Server) AddClient(c Client) error {
	if err := checkClient(c); err != nil {
		return err
	}
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.clients[c.ID] = &c
	return nil
}

func checkClient(c Client) error {
	if c.ID == "" || len(c.ID) > 256 || strings.ContainsAny(c.ID, " \t\r\n") {
		return errors.New("client_id must be 1 to 256 characters without spaces")
	}
	if len(c.RedirectURIs) == 0 {
		return errors.New("redirect_uris must name at least one redirect URI")
	}
	for _, r := range c.RedirectURIs {
		if !validRedirect(r) {
			return fmt.Errorf("redirect URI %q must be an absolute http(s) URL without fragment", r)
		}
	}
	return nil
}

// validRedirect reports whether r is an absolute http(s) URL without
// fragment.
func validRedirect(r string) bool {
	u, err := url.Parse(r)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Fragment == ""
}

// Clients returns the registered clients, by id.
func (s *Server) Clients() []Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Client, 0, len(s.st.clients))
	for _, id := range slices.Sorted(maps.Keys(s.st.clients)) {
		c := *s.st.clients[id]
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		out = append(out, c)
	}
	return out
}

// lookupClient returns the client for id: a registered one, or in open
// mode an unregistered one that accepts any redirect URI and secret.
// Callers hold s.mu.
func (s *Server) lookupClient(id string) (c *Client, open bool, ok bool) {
	if c, ok := s.st.clients[id]; ok {
		return c, false, true
	}
	if s.opts.Open && id != "" {
		return &Client{ID: id}, true, true
	}
	return nil, false, false
}

// addClientHandler is POST /sandbox/clients: a JSON Client, answered with
// the client without its secret.
func (s *Server) addClientHandler(w http.ResponseWriter, r *http.Request) {
	var c Client
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "The body must be a JSON client: " + err.Error()})
		return
	}
	if err := s.AddClient(c); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client_metadata", "error_description": err.Error()})
		return
	}
	c.Secret = ""
	writeJSON(w, http.StatusCreated, c)
}

// listClientsHandler is GET /sandbox/clients, without secrets.
func (s *Server) listClientsHandler(w http.ResponseWriter, _ *http.Request) {
	cs := s.Clients()
	for i := range cs {
		cs[i].Secret = ""
	}
	writeJSON(w, http.StatusOK, map[string]any{"clients": cs, "open": s.opts.Open})
}

// RegisterClientAt registers c at the sandbox whose base URL is base,
// through its admin endpoint (POST /sandbox/clients).
func RegisterClientAt(ctx context.Context, hc *http.Client, base string, c Client) error {
	if hc == nil {
		hc = http.DefaultClient
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+ClientsPath, strings.NewReader(string(b)))
	if err != nil {
		return fmt.Errorf("sandbox: register client: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox: register client: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		var e struct {
			Error string `json:"error_description"`
		}
		json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("sandbox: register client: status %d: %s", resp.StatusCode, e.Error)
	}
	return nil
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
// valid authorization request redirects back with error=access_denied at
// once, as when the user clicks Deny.
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

// RefuseTokenRequests makes every following token request of grantType
// (authorization_code, refresh_token, client_credentials, ...) fail with
// the HTTP status and OAuth error code, as a provider that echoes its
// request does: the error_description repeats the request's Authorization
// header and form body, secrets included, so tests can check that those
// never reach a caller. Status 0 stops it.
func (s *Server) RefuseTokenRequests(grantType string, status int, oauthError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.refuse == nil {
		s.st.refuse = map[string]*failure{}
	}
	delete(s.st.refuse, grantType)
	if status != 0 {
		s.st.refuse[grantType] = &failure{status: status, code: oauthError}
	}
}

// SetRotationGrace sets the grace window (Options.RotationGrace) of the
// refresh tokens rotated out from now on; a window already open keeps its
// end. It does nothing unless Options.RotateRefreshTokens is set.
func (s *Server) SetRotationGrace(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.rotationGrace = max(d, 0)
}

// GraceRefreshes returns how many refreshes were answered for a
// rotated-out refresh token inside its grace window (Options.RotationGrace).
func (s *Server) GraceRefreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.graceRefreshes
}

// SetRetryAfter sets the Retry-After header (whole seconds) sent with
// failures injected by FailRefreshWith; zero sends none.
func (s *Server) SetRetryAfter(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.retryAfter = d
}

// ExpireAccessTokens makes every access token issued so far invalid at
// the Drive and userinfo endpoints. Refresh tokens are unaffected.
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
		http.Error(w, fmt.Sprintf("sandbox: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}
