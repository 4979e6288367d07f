package oidcop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/pageframe"
	"github.com/behalf-dev/behalf/internal/route"
	"github.com/behalf-dev/behalf/ratelimit"
	"github.com/go-chi/chi/v5"
	"github.com/rs/cors"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Paths under a pool's issuer.
const (
	pathAuthorize = "/oauth2/authorize"
	pathToken     = "/oauth2/token"
	pathUserInfo  = "/oauth2/userInfo"
	pathRevoke    = "/oauth2/revoke"
	pathLogout    = "/logout"
	pathLogin     = "/login"
	pathRegister  = "/oauth2/register"
	pathJWKS      = "/.well-known/jwks.json"
)

// Defaults of the options.
const (
	DefaultSessionLifetime = time.Hour        // Cognito's managed-login session
	codeLifetime           = 5 * time.Minute  // an authorization code
	loginLifetime          = 15 * time.Minute // an auth request waiting for the login page
	pendingLifetime        = 5 * time.Minute  // a verified temporary password awaiting a new one
	maxBodyBytes           = 64 << 10
)

// poolRoute is a route under a pool this package serves: its methods
// (OPTIONS for CORS preflights of the endpoints browsers' scripts call)
// and its name. Routes of Kind HTML answer errors with an HTML page, not
// JSON.
type poolRoute struct {
	methods []string
	route.Route
}

// routes are the paths under a pool this package serves, named here for
// the log lines, metrics, traces and rate limits (see Route).
var routes = map[string]poolRoute{
	pathAuthorize: {[]string{http.MethodGet, http.MethodPost}, route.Route{Name: "HostedLoginAuthorize", Kind: route.HTML}},
	pathLogin:     {[]string{http.MethodGet, http.MethodPost}, route.Route{Name: "HostedLogin", Kind: route.HTML}},
	pathLogout:    {[]string{http.MethodGet}, route.Route{Name: "HostedLoginLogout", Kind: route.HTML}},
	pathToken:     {[]string{http.MethodPost, http.MethodOptions}, route.Route{Name: "HostedLoginToken", Kind: route.OAuth}},
	pathRevoke:    {[]string{http.MethodPost, http.MethodOptions}, route.Route{Name: "HostedLoginRevoke", Kind: route.OAuth}},
	pathUserInfo:  {[]string{http.MethodGet, http.MethodPost, http.MethodOptions}, route.Route{Name: "HostedLoginUserInfo", Kind: route.OAuth}},
	pathJWKS:      {[]string{http.MethodGet, http.MethodHead, http.MethodOptions}, route.Route{Name: "UserPoolJWKS", Kind: route.AWSJSON}},
	pathRegister:  {[]string{http.MethodPost, http.MethodOptions}, route.Route{Name: "HostedLoginRegister", Kind: route.OAuth}},
}

// discovery names the discovery documents, at their well-known paths
// (see isMetadataPath); op's metadata server checks their methods.
var discovery = route.Route{Name: "UserPoolDiscovery", Kind: route.AWSJSON}

// Option configures a Provider.
type Option func(*Provider)

// WithLogger sets the logger of unexpected failures (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(p *Provider) { p.log = l } }

// WithFrame sets the frame of the hosted login's pages: the operator's
// name and logo, the product's name, a link to the connections page
// (default: the zero Frame, the product's name only).
func WithFrame(f pageframe.Frame) Option { return func(p *Provider) { p.frame = f } }

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.now = now } }

// WithPendingLimits bounds the unexpired auth requests the hosted login
// keeps (sign-ins waiting for the login page, and codes until they
// expire): perClient of one client address, total of all (defaults
// DefaultMaxPendingPerClient and DefaultMaxPending; 0 removes a bound).
// Past either bound an authorization is refused with
// temporarily_unavailable and nothing is stored.
func WithPendingLimits(perClient, total int) Option {
	return func(p *Provider) { p.maxPerClient, p.maxPending = perClient, total }
}

// WithClientAddress sets how a request's client address is found: the key
// its auth requests are counted by, and whether they are counted per
// address at all (never with an empty key). The default,
// ratelimit.Client(r, false), is the connection's address, loopback peers
// (a reverse proxy every user would share) not counted; behind a trusted
// proxy, pass the per-IP limit's.
func WithClientAddress(fn func(r *http.Request) (key string, counted bool)) Option {
	return func(p *Provider) { p.clientAddress = fn }
}

// connectionAddress is WithClientAddress's default: the connection's
// address, loopback peers not counted.
func connectionAddress(r *http.Request) (string, bool) { return ratelimit.Client(r, false) }

// WithSessionLifetime sets how long a hosted-login session lasts
// (default DefaultSessionLifetime); later authorizations within it skip
// the password.
func WithSessionLifetime(d time.Duration) Option {
	return func(p *Provider) { p.sessionLifetime = d }
}

// Provider is the OpenID provider and hosted login of every user pool.
// It is an http.Handler; Intercept mounts it in front of another handler.
type Provider struct {
	svc             behalf.UserPoolService
	store           behalf.UserPoolStore
	sealer          behalf.Sealer
	log             *slog.Logger
	now             func() time.Time
	sessionLifetime time.Duration
	maxPerClient    int // unexpired auth requests of one client address
	maxPending      int // unexpired auth requests of all
	maxRegistered   int // dynamically registered clients of one pool
	clientAddress   func(*http.Request) (key string, counted bool)
	busyLogged      atomic.Int64  // when maxPending was last logged (unix seconds)
	docHTTP         *http.Client  // fetches client ID metadata documents; nil: off
	docs            documentCache // fetched documents by URL
	frame           pageframe.Frame
	// ownSignIn is the redirect URI of Behalf's own pages' sign-ins
	// (package web): the login page names the operator, not the client.
	ownSignIn string

	hosts   HostResolver       // the pools' domains; nil when svc has none
	secure  bool               // cookies are Secure (https public URL)
	op      http.Handler       // zitadel's router with this package's Server
	meta    http.Handler       // discovery, at its well-known paths
	handler http.Handler       // ServeHTTP: the pools' routes, else 404
	encoder httphelper.Encoder // encodes redirect parameters
}

// New returns the Provider of the pools of svc. publicURL is Behalf's
// external base URL, the one svc.Issuer builds issuers from; the routes
// are served at /{pool-id}/… of the request path (a path in publicURL
// must be stripped by the proxy in front, as for every Behalf route).
func New(svc behalf.UserPoolService, store behalf.UserPoolStore, sealer behalf.Sealer, publicURL string, opts ...Option) (*Provider, error) {
	if svc == nil || store == nil || sealer == nil {
		return nil, errors.New("oidcop: a service, a store and a sealer are required")
	}
	base := strings.TrimSuffix(publicURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("oidcop: public URL %q must be an absolute http(s) URL", publicURL)
	}
	// Cookie paths, Secure and the routes follow publicURL; tokens' iss
	// follows the service: they must agree.
	if got := svc.Issuer("p_1"); got != base+"/p_1" {
		return nil, fmt.Errorf("oidcop: the service's issuers (%q) are not under the public URL %q", got, base)
	}
	p := &Provider{
		svc: svc, store: store, sealer: sealer,
		log: slog.Default(), now: time.Now, sessionLifetime: DefaultSessionLifetime,
		maxPerClient: DefaultMaxPendingPerClient, maxPending: DefaultMaxPending, clientAddress: connectionAddress,
		maxRegistered: DefaultMaxRegisteredClients,
		secure:        u.Scheme == "https", encoder: oidc.NewEncoder(),
		ownSignIn: base + behalf.SignInCallbackPath,
	}
	p.hosts, _ = svc.(HostResolver)
	for _, o := range opts {
		o(p)
	}
	if p.sessionLifetime <= 0 {
		return nil, errors.New("oidcop: the session lifetime must be positive")
	}
	if p.maxPerClient < 0 || p.maxPending < 0 || p.maxRegistered < 0 || p.clientAddress == nil {
		return nil, errors.New("oidcop: the pending and registration limits must not be negative, and a client address function is required")
	}
	corsOpts := op.WithServerCORSOptions(&cors.Options{
		// No credentials: the login page and the session never answer a
		// cross-origin script; token, userinfo and keys need no cookies.
		AllowOriginFunc: func(string) bool { return true },
		AllowedMethods:  []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowedHeaders:  []string{"Authorization", "Content-Type", "Accept"},
	})
	tenants := op.WithTenantPrefix("")
	// RegisterServer logs each route it registers at INFO through slog's
	// process-wide default logger, with no option to turn that off; keep
	// those lines out of operators' logs (and benchmark output).
	restore := quietDefaultLog()
	defer restore()
	p.op = op.RegisterServer(&server{p: p}, op.Endpoints{
		Authorization: op.NewEndpoint(pathAuthorize),
		Token:         op.NewEndpoint(pathToken),
		Userinfo:      op.NewEndpoint(pathUserInfo),
		Revocation:    op.NewEndpoint(pathRevoke),
		EndSession:    op.NewEndpoint(pathLogout),
		JwksURI:       op.NewEndpoint(pathJWKS),
	}, corsOpts, tenants,
		op.WithHTTPMiddleware(p.poolContext),
		op.WithSetRouter(func(r chi.Router) {
			r.HandleFunc(pathLogin, p.login)
			r.HandleFunc(pathRegister, p.register)
		}),
	)
	p.meta = op.RegisterMetadataServer(&metadataServer{p: p}, corsOpts, tenants)
	p.handler = p.Intercept(http.NotFoundHandler())
	return p, nil
}

// quietLog serialises quietDefaultLog's swaps of the default logger.
var quietLog sync.Mutex

// quietDefaultLog makes slog's default logger drop INFO and below until
// restore is called.
func quietDefaultLog() (restore func()) {
	quietLog.Lock()
	prev := slog.Default()
	slog.SetDefault(slog.New(minLevel{prev.Handler(), slog.LevelWarn}))
	return func() {
		slog.SetDefault(prev)
		quietLog.Unlock()
	}
}

// minLevel is a slog.Handler that drops records below a level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// ServeHTTP serves the pools' routes and answers 404 to anything else.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// Intercept returns a handler that serves the pools' routes (and the
// discovery documents' well-known paths) and passes every other request
// to next. A request whose Host is a pool's domain (HostResolver) is that
// pool's alone: its routes at the root, the rest 404 (serveDomain).
func (p *Provider) Intercept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.hosts != nil && p.serveDomain(w, r) {
			return
		}
		switch rest, rt, ok := match(r.URL.Path); {
		case !ok:
			next.ServeHTTP(w, r)
		case rt == discovery:
			p.meta.ServeHTTP(w, appendedToInserted(r))
		default:
			p.serve(w, r, rest)
		}
	})
}

// Route names a request Intercept serves itself, and is false for those
// it passes on. The server in front (api.Server.FrontRoutes) names each
// request with it before the request reaches Intercept.
func (p *Provider) Route(r *http.Request) (route.Route, bool) {
	if rt, ok := p.domainRoute(r); ok {
		return rt, true
	}
	_, rt, ok := match(r.URL.Path)
	return rt, ok
}

// Routes returns every route Intercept serves, by name (for
// documentation, and for tests that the names the rate limits list are
// routes).
func Routes() []route.Route {
	rts := []route.Route{discovery}
	for _, pr := range routes {
		rts = append(rts, pr.Route)
	}
	slices.SortFunc(rts, func(a, b route.Route) int { return strings.Compare(a.Name, b.Name) })
	return rts
}

// match finds what Intercept serves path with: a discovery document, or
// a route under a pool (rest: its path under the pool, a key of routes).
func match(path string) (rest string, rt route.Route, ok bool) {
	if isMetadataPath(path) {
		return "", discovery, true
	}
	if _, rest, ok := splitPoolPath(path); ok {
		if pr, known := routes[rest]; known {
			return rest, pr.Route, true
		}
	}
	return "", route.Route{}, false
}

// serve checks the method, bounds the body and hands a pool route to op.
func (p *Provider) serve(w http.ResponseWriter, r *http.Request, rest string) {
	pr := routes[rest]
	if !slices.Contains(pr.methods, r.Method) {
		w.Header().Set("Allow", strings.Join(pr.methods, ", "))
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if rest == pathAuthorize {
		key, counted := p.clientAddress(r)
		r = r.WithContext(context.WithValue(r.Context(), clientKey{}, clientAddr{key, counted}))
	}
	switch {
	case pr.Kind == route.HTML:
		p.setPageHeaders(w.Header(), "")
		hw := &htmlErrorWriter{ResponseWriter: w, p: p}
		defer hw.finish()
		w = hw
	case rest == pathUserInfo:
		w = &bearerChallengeWriter{ResponseWriter: w}
	}
	p.op.ServeHTTP(w, r)
}

// isMetadataPath reports whether path is one of the discovery documents'
// forms for a pool: {pool}/.well-known/openid-configuration, RFC 8414's
// /.well-known/{oauth-authorization-server,openid-configuration}/{pool},
// or {pool}/.well-known/oauth-authorization-server, the form some
// clients build by appending RFC 8414's suffix to the issuer.
func isMetadataPath(path string) bool {
	for _, prefix := range []string{"/.well-known/oauth-authorization-server/", "/.well-known/openid-configuration/"} {
		if pool, ok := strings.CutPrefix(path, prefix); ok {
			return behalf.IsPoolID(pool)
		}
	}
	pool, rest, ok := splitPoolPath(path)
	return ok && (rest == "/.well-known/openid-configuration" || rest == pathAppendedASMetadata) && pool != ""
}

// pathAppendedASMetadata is RFC 8414's suffix appended to a pool's issuer.
const pathAppendedASMetadata = "/.well-known/oauth-authorization-server"

// appendedToInserted rewrites {pool}/.well-known/oauth-authorization-server
// to RFC 8414's /.well-known/oauth-authorization-server/{pool}, the form
// op's metadata server parses; other requests are returned as they are.
func appendedToInserted(r *http.Request) *http.Request {
	pool, rest, ok := splitPoolPath(r.URL.Path)
	if !ok || rest != pathAppendedASMetadata {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = pathAppendedASMetadata+"/"+pool, ""
	return r2
}

// splitPoolPath splits /{pool}/rest into the pool id and /rest.
func splitPoolPath(path string) (pool, rest string, ok bool) {
	trimmed, found := strings.CutPrefix(path, "/")
	if !found {
		return "", "", false
	}
	pool, rest, found = strings.Cut(trimmed, "/")
	if !found || !behalf.IsPoolID(pool) {
		return "", "", false
	}
	return pool, "/" + rest, true
}

// poolKey is the context key of the pool a request is for.
type poolKey struct{}

// poolContext, the op router's middleware, resolves the pool (op's tenant)
// and sets the issuer op builds URLs from. Unknown pools are a 404.
func (p *Provider) poolContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := op.TenantFromContext(ctx)
		pool, err := p.pool(ctx, id)
		if err != nil {
			op.WriteError(w, r, err, nil)
			return
		}
		ctx = context.WithValue(ctx, poolKey{}, pool)
		// Tokens name the issuer whatever the URL they were asked at.
		ctx = op.ContextWithIssuer(ctx, p.svc.Issuer(pool.ID))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// pool returns a pool, or a 404 oidc error.
func (p *Provider) pool(ctx context.Context, id string) (*behalf.UserPool, error) {
	if !behalf.IsPoolID(id) {
		return nil, op.NewStatusError(errInvalidRequest("Unknown user pool."), http.StatusNotFound)
	}
	pool, err := p.svc.DescribeUserPool(ctx, id)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, op.NewStatusError(errInvalidRequest("Unknown user pool."), http.StatusNotFound)
	}
	if err != nil {
		return nil, p.serverError(ctx, "describe user pool", err)
	}
	return pool, nil
}

// poolFrom returns the pool poolContext put on ctx.
func poolFrom(ctx context.Context) *behalf.UserPool {
	pool, _ := ctx.Value(poolKey{}).(*behalf.UserPool)
	return pool
}

// issuerPath is the path of a pool's issuer.
func (p *Provider) issuerPath(poolID string) string {
	u, err := url.Parse(p.svc.Issuer(poolID))
	if err != nil || u.Path == "" {
		return "/" + poolID
	}
	return u.Path
}

// base is the URL the pool's routes are served under for the request on
// ctx: the pool's domain when it came in on one (serveDomain), else the
// issuer. Links, redirects and discovery's endpoints are built from it.
func (p *Provider) base(ctx context.Context, poolID string) string {
	if d, ok := ctx.Value(domainKey{}).(domainRequest); ok {
		return d.base
	}
	return p.svc.Issuer(poolID)
}

// basePath is the path of base: "" on a domain (the routes are at its
// root), else the issuer's path. The login form posts to basePath+/login.
func (p *Provider) basePath(ctx context.Context, poolID string) string {
	if _, ok := ctx.Value(domainKey{}).(domainRequest); ok {
		return ""
	}
	return p.issuerPath(poolID)
}

// cookiePath is where the session cookie lives: the issuer's path, or "/"
// on a domain (its host is the pool's alone).
func (p *Provider) cookiePath(ctx context.Context, poolID string) string {
	if path := p.basePath(ctx, poolID); path != "" {
		return path
	}
	return "/"
}

// clock returns the current time in UTC.
func (p *Provider) clock() time.Time { return p.now().UTC() }
