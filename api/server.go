package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/internal/route"
)

// MaxBodyBytes is the largest request body Behalf reads.
const MaxBodyBytes = 1 << 20

// Authenticator checks a request's signature over its body.
type Authenticator interface {
	Verify(r *http.Request, body []byte) (behalf.Principal, error)
}

// Server serves the AgentCore Identity wire API.
type Server struct {
	Workloads       behalf.WorkloadService
	OAuth2Providers behalf.OAuth2ProviderService
	APIKeyProviders behalf.APIKeyProviderService
	TokenVaults     behalf.TokenVaultService
	DataPlane       behalf.DataPlaneService
	Runtimes        behalf.AgentRuntimeService
	// RuntimeSessions serves StopRuntimeSession (the Invocations gateway);
	// nil answers ResourceNotFoundException.
	RuntimeSessions RuntimeSessionStopper
	// Tags serves TagResource, UntagResource and ListTagsForResource.
	Tags behalf.TagService
	// Gateways serves the gateway control plane.
	Gateways behalf.GatewayService
	// ConsentPortals serves the consent-portal control plane;
	// ConsentPortalPage (web.Portal) the portals' pages at
	// /consent-portals/{id} (nil serves none).
	ConsentPortals    behalf.ConsentPortalService
	ConsentPortalPage http.Handler
	// GatewayMCP serves gateways' MCP endpoints at /gateways/{gatewayId}/mcp
	// and their protected-resource metadata at
	// /.well-known/oauth-protected-resource/gateways/{gatewayId}/mcp (a
	// *gateway.Handler, which authenticates by itself); nil serves none.
	GatewayMCP http.Handler
	Admin      behalf.AdminService
	// Browser serves the pages of the consent flow (package web).
	Browser http.Handler
	// BindPage serves Behalf's own session-binding page (web.Bind) at
	// GET and POST /identities/oauth2/bind and POST /identities/oauth2/bind/switch;
	// SignIn serves the browser sign-in's callback (web.SignIn) at GET
	// /identities/oauth2/signin/callback. Nil serves neither.
	BindPage http.Handler
	SignIn   http.Handler
	// Landing is the page a browser gets at GET / (web.Landing); an API
	// client there still gets UnknownOperationException.
	Landing http.Handler
	// Bindings sets workloads' inbound identity providers
	// (SetWorkloadBinding); PublicURL is shown in its answer.
	Bindings  behalf.WorkloadBindingService
	PublicURL string
	// Connections lists and revokes users' grants: for users with their
	// JWT (verified by Users) at /connections/api/grants, and for the root
	// key at ListGrants and RevokeGrant. ConnectionsPage (web.Connections)
	// serves the /connections page. Nil serves none of them.
	Connections     behalf.ConnectionService
	Users           UserVerifier
	ConnectionsPage http.Handler
	// UserPools serves the Cognito-compatible user-pool API (AWS JSON 1.1
	// on POST /, see cognito.go) and the pools' JWKS; nil serves neither.
	UserPools behalf.UserPoolService
	// ClientKeys publishes PRIVATE_KEY_JWT providers' public keys at GET
	// /identities/oauth2/providers/{providerID}/jwks.json; nil serves none.
	ClientKeys behalf.ClientKeyService
	// Invocations serves InvokeAgentRuntime, POST /runtimes/{runtime}/invocations
	// (an *agentruntime.Gateway, which authenticates by itself); nil serves none.
	Invocations http.Handler

	// Audit records every successful administrative change (audit.go);
	// nil records none.
	Audit AuditAppender

	Auth Authenticator
	// CognitoAuth verifies the signature of the Cognito administration
	// operations: it must accept only the signing name cognito-idp, as
	// Auth accepts only bedrock-agentcore.
	CognitoAuth Authenticator
	// Ready reports whether the server can serve (the database answers).
	Ready func(ctx context.Context) error
	Log   *slog.Logger
	// Front, when set, wraps the routes inside the request-id, logging and
	// Observe middleware: the user pools' hosted login (oidcop) and the
	// per-IP rate limits go there, so their requests are logged and counted.
	Front func(http.Handler) http.Handler
	// FrontRoutes names the requests Front serves itself (the hosted
	// login's, oidcop.Provider.Route), and is false for those it passes on
	// to the routes. Requests are named before anything else is done for
	// them: FrontRoutes first (Front shadows the routes), then the route
	// mounted for the request's pattern (see Handler).
	FrontRoutes func(*http.Request) (route.Route, bool)
	// Trace, when set, wraps everything but the naming: a server span per
	// request (observe.Tracing.Handler), named after the request's route.
	Trace func(http.Handler) http.Handler
	// Observe, when set, is told of every request once it is answered: its
	// route's name ("" when it has none), status, response header and
	// duration (package observe: metrics).
	Observe func(r *http.Request, op string, status int, h http.Header, elapsed time.Duration)

	// Region and Account appear in ARNs.
	Region  string
	Account string
}

// opName is the name of r's route (see Handler), for log lines.
func opName(r *http.Request) string {
	rt, _ := route.Of(r)
	return rt.Name
}

// operation is one AWS operation: it gets the request (for its path and
// query bindings) and its verified body, and returns a success status and
// the response document.
type operation func(ctx context.Context, req *http.Request, body []byte) (int, any, error)

// Handler returns the HTTP handler for every route. Each route is named
// where it is mounted (route.Route: its name and API family), and every
// request is named once, before anything else is done for it: the rate
// limits and bounds in Front read the name, the log line, Observe and the
// trace span report it.
func (s *Server) Handler() http.Handler {
	rt := s.router()
	var h http.Handler = rt.mux
	if s.Front != nil {
		h = s.Front(h)
	}
	h = s.withRequestID(h)
	if s.Trace != nil {
		h = s.Trace(h)
	}
	return s.named(h, rt)
}

// router is the API's mux with the route mounted at each of its patterns.
type router struct {
	mux *http.ServeMux
	// names name the requests each pattern matches: most by a fixed
	// route, cognito-idp's POST / by its X-Amz-Target.
	names map[string]func(*http.Request) route.Route
}

// handle mounts h at pattern as the route rt.
func (m *router) handle(pattern string, rt route.Route, h http.Handler) {
	m.handleNamed(pattern, func(*http.Request) route.Route { return rt }, h)
}

// handleNamed mounts h at pattern, whose requests name names.
func (m *router) handleNamed(pattern string, name func(*http.Request) route.Route, h http.Handler) {
	m.mux.Handle(pattern, h)
	m.names[pattern] = name
}

// router mounts every route s serves.
func (s *Server) router() *router {
	m := &router{mux: http.NewServeMux(), names: map[string]func(*http.Request) route.Route{}}
	m.handle("GET /healthz", route.Route{Name: "Healthz", Kind: route.Health}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	}))
	m.handle("GET /readyz", route.Route{Name: "Readyz", Kind: route.Health}, http.HandlerFunc(s.handleReady))
	for _, rt := range s.routes() {
		m.handle(rt.pattern, route.Route{Name: rt.name, Kind: route.AWSJSON}, s.serveOperation(rt))
	}
	s.mountCognito(m)
	s.mountConnections(m)
	if s.Invocations != nil {
		m.handle("POST /runtimes/{runtime}/invocations", route.Route{Name: "InvokeAgentRuntime", Kind: route.AWSJSON}, s.Invocations)
	}
	if s.GatewayMCP != nil {
		m.handle(behalf.GatewayPath("{gatewayId}"), route.Route{Name: "GatewayMCP", Kind: route.AWSJSON}, s.GatewayMCP)
		m.handle("GET /.well-known/oauth-protected-resource"+behalf.GatewayPath("{gatewayId}"),
			route.Route{Name: "GatewayResourceMetadata", Kind: route.AWSJSON}, s.GatewayMCP)
	}
	if s.ClientKeys != nil {
		m.handle("GET "+behalf.ProviderJWKSPath("{providerID}"), route.Route{Name: "GetProviderJWKS", Kind: route.AWSJSON}, http.HandlerFunc(s.handleProviderJWKS))
	}
	if s.Browser != nil {
		m.handle("GET /identities/oauth2/authorize", route.Route{Name: "ConsentAuthorize", Kind: route.HTML}, s.Browser)
		m.handle("GET /identities/oauth2/callback/{providerID}", route.Route{Name: "ConsentCallback", Kind: route.HTML}, s.Browser)
	}
	if s.ConsentPortalPage != nil {
		m.handle("/consent-portals/{portalId}", route.Route{Name: "ConsentPortalPage", Kind: route.HTML}, s.ConsentPortalPage)
		m.handle("/consent-portals/{portalId}/{action}", route.Route{Name: "ConsentPortalPage", Kind: route.HTML}, s.ConsentPortalPage)
	}
	if s.BindPage != nil {
		m.handle(behalf.BindPath, route.Route{Name: "BindPage", Kind: route.HTML}, s.BindPage)
		m.handle(behalf.BindPath+"/switch", route.Route{Name: "BindPageSwitch", Kind: route.HTML}, s.BindPage)
	}
	if s.SignIn != nil {
		m.handle(behalf.SignInCallbackPath, route.Route{Name: "SignInCallback", Kind: route.HTML}, s.SignIn)
	}
	// Anything else: unnamed.
	m.mux.HandleFunc("/", unknownOperation)
	if s.Landing != nil {
		m.handle("GET /{$}", route.Route{Name: "LandingPage", Kind: route.HTML}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !acceptsHTML(r) {
				unknownOperation(w, r)
				return
			}
			s.Landing.ServeHTTP(w, r)
		}))
	}
	return m
}

// unknownOperation answers a request no route serves, as AWS does.
func unknownOperation(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-ErrorType", "UnknownOperationException")
	writeJSON(w, http.StatusNotFound, errorBody{Type: "UnknownOperationException", Message: "Unknown operation " + r.Method + " " + r.URL.Path + "."})
}

// acceptsHTML reports whether r is a browser's navigation: its Accept
// header names text/html (SDK clients never do).
func acceptsHTML(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(mt), "text/html") {
				return true
			}
		}
	}
	return false
}

// named puts each request's route in its context before next sees it:
// FrontRoutes' when Front serves it, else the one mounted at the pattern
// the mux matches; a request neither names has none.
func (s *Server) named(next http.Handler, m *router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.FrontRoutes != nil {
			if rt, ok := s.FrontRoutes(r); ok {
				next.ServeHTTP(w, route.With(r, rt))
				return
			}
		}
		if _, pattern := m.mux.Handler(r); m.names[pattern] != nil {
			r = route.With(r, m.names[pattern](r))
		}
		next.ServeHTTP(w, r)
	})
}

type requestIDKey struct{}

// RequestID returns the id of the request whose context ctx is (the
// X-Amzn-RequestId answered), or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.Ready != nil {
		if err := s.Ready(ctx); err != nil {
			s.Log.WarnContext(ctx, "not ready", "err", err)
			http.Error(w, "database unavailable\n", http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ready\n"))
}

func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := randid.Hex(16)
		w.Header().Set("X-Amzn-RequestId", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p) // a streamed answer was cut short: let net/http abort the connection
				}
				s.Log.ErrorContext(r.Context(), "panic", "request_id", id, "panic", p)
				writeError(sw, r, s.Log, errors.New("panic in handler"))
			}
			op := opName(r)
			status := sw.status
			if clientGone(r) && (!sw.wrote || status >= 500) {
				// Answered for no one, or not at all: the client's doing,
				// not a server error.
				status = StatusClientClosed
			}
			elapsed := time.Since(start)
			sw.sendIfComplete()
			s.logRequest(r, id, op, status, elapsed)
			if s.Observe != nil {
				s.Observe(r, op, status, sw.Header(), elapsed)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// logRequest logs the INFO line "request" that every answered request
// gets. It is what s.Log.InfoContext would log, built without the
// caller's program counter (no handler of Behalf logs the source) and
// without boxing each value: one line per request is a share of its cost.
func (s *Server) logRequest(r *http.Request, id, op string, status int, elapsed time.Duration) {
	ctx := r.Context()
	h := s.Log.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("op", op), slog.Int("status", status), slog.Int64("duration_ms", elapsed.Milliseconds()))
	_ = h.Handle(ctx, rec)
}

// serveOperation reads the body (at most MaxBodyBytes), verifies the
// signature, runs op and writes its result or error.
func (s *Server) serveOperation(rt restRoute) http.Handler {
	name, op := rt.name, rt.op
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		markNoStore(w.Header(), name)
		body, err := readBody(w, r)
		if err != nil {
			writeError(w, r, s.Log, err)
			return
		}
		p, err := s.Auth.Verify(r, body)
		if err != nil {
			writeError(w, r, s.Log, err)
			return
		}
		if !rt.dataPlane && !p.IsRoot() {
			writeError(w, r, s.Log, behalf.Errorf(behalf.EFORBIDDEN, "The access key %s may not call %s; it is scoped to one workload's data plane.", p.AccessKeyID, name))
			return
		}
		ctx := behalf.WithPrincipal(r.Context(), p)
		status, out, err := op(ctx, r, body)
		if err != nil {
			writeError(w, r, s.Log, err)
			return
		}
		s.audit(ctx, r, name, rt.effect, body, out)
		if h, ok := out.(headerSetter); ok {
			h.setHeaders(w.Header())
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		if h, ok := out.(withHeaders); ok {
			for k, v := range h.header {
				w.Header().Set(k, v)
			}
			out = h.body
		}
		writeJSON(w, status, out)
	})
}

// headerSetter is an operation's answer that sends headers besides its
// body.
type headerSetter interface {
	setHeaders(h http.Header)
}

var errTooLarge = behalf.Errorf(behalf.ETOOLARGE, "The request body is larger than 1 MiB.")

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, &parseError{msg: "The request body could not be read."}
	}
	return body, nil
}

type statusWriter struct {
	http.ResponseWriter
	status  int
	wrote   bool  // WriteHeader or Write was called
	written int64 // body bytes written
}

// Unwrap lets http.ResponseController reach Flush and deadlines
// (invocations stream their answers).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) WriteHeader(code int) {
	w.status, w.wrote = code, true
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

// sendIfComplete flushes the answer to the client when it is complete:
// its header was written with a Content-Length that the body written
// matches. The caller then has its whole answer while the request is
// logged and counted, off the latency it sees. Any other answer (no
// Content-Length, a short body) is left for net/http to finish as usual.
func (w *statusWriter) sendIfComplete() {
	if !w.wrote {
		return
	}
	cl := w.Header().Get("Content-Length")
	if cl == "" || cl != strconv.FormatInt(w.written, 10) {
		return
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}
