package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
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
	Admin           behalf.AdminService
	// Browser serves the pages of the consent flow (package web).
	Browser http.Handler
	// BindPage serves Behalf's own session-binding page (web.Bind) at
	// GET and POST /identities/oauth2/bind and POST /identities/oauth2/bind/switch;
	// SignIn serves the browser sign-in's callback (web.SignIn) at GET
	// /identities/oauth2/signin/callback. Nil serves neither.
	BindPage http.Handler
	SignIn   http.Handler
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
	// Observe, when set, is told of every request once it is answered: its
	// operation ("" outside the route table), status, response header and
	// duration (package observe: metrics, trace span names).
	Observe func(r *http.Request, op string, status int, h http.Header, elapsed time.Duration)

	// Region and Account appear in ARNs.
	Region  string
	Account string
}

type ctxKey int

const (
	opKey ctxKey = iota
	bodyKey
)

func opName(r *http.Request) string {
	s, _ := r.Context().Value(opKey).(string)
	return s
}

// operation is one AWS operation: it gets the verified request body and
// returns a success status and the response document.
type operation func(ctx context.Context, body []byte) (int, any, error)

// Handler returns the HTTP handler for every route.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.serveOperation(rt))
	}
	s.mountCognito(mux)
	s.mountConnections(mux)
	if s.Invocations != nil {
		mux.Handle("POST /runtimes/{runtime}/invocations", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if sw, ok := w.(*statusWriter); ok {
				sw.op = "InvokeAgentRuntime"
			}
			s.Invocations.ServeHTTP(w, r)
		}))
	}
	if s.ClientKeys != nil {
		mux.HandleFunc("GET "+behalf.ProviderJWKSPath("{providerID}"), s.handleProviderJWKS)
	}
	if s.Browser != nil {
		mux.Handle("GET /identities/oauth2/authorize", s.Browser)
		mux.Handle("GET /identities/oauth2/callback/{providerID}", s.Browser)
	}
	if s.BindPage != nil {
		mux.Handle(behalf.BindPath, s.BindPage)
		mux.Handle(behalf.BindPath+"/switch", s.BindPage)
	}
	if s.SignIn != nil {
		mux.Handle(behalf.SignInCallbackPath, s.SignIn)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-ErrorType", "UnknownOperationException")
		writeJSON(w, http.StatusNotFound, errorBody{Type: "UnknownOperationException", Message: "Unknown operation " + r.Method + " " + r.URL.Path + "."})
	})
	if s.Front != nil {
		return s.withRequestID(s.Front(mux))
	}
	return s.withRequestID(mux)
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
			s.Log.InfoContext(r.Context(), "request", "request_id", id, "method", r.Method, "path", r.URL.Path,
				"op", sw.op, "status", sw.status, "duration_ms", time.Since(start).Milliseconds())
			if s.Observe != nil {
				s.Observe(r, sw.op, sw.status, sw.Header(), time.Since(start))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// serveOperation reads the body (at most MaxBodyBytes), verifies the
// signature, runs op and writes its result or error.
func (s *Server) serveOperation(rt route) http.Handler {
	name, op := rt.name, rt.op
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sw, ok := w.(*statusWriter); ok {
			sw.op = name
		}
		markNoStore(w.Header(), name)
		r = r.WithContext(context.WithValue(r.Context(), opKey, name))
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
		ctx = context.WithValue(ctx, requestKey{}, r) // path and query bindings (agentruntime.go)
		status, out, err := op(ctx, body)
		if err != nil {
			writeError(w, r, s.Log, err)
			return
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, out)
	})
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
	status int
	op     string
}

// Unwrap lets http.ResponseController reach Flush and deadlines
// (invocations stream their answers).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
