package agentruntime

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/internal/ttlcache"
	"github.com/behalf-dev/behalf/pooltoken"
)

// The invocation gateway serves InvokeAgentRuntime,
//
//	POST /runtimes/{URL-encoded runtime ARN, or runtime id}/invocations?qualifier=DEFAULT
//
// authenticating the caller the way the runtime asks (a bearer JWT checked
// against its customJWTAuthorizer, or SigV4), and forwards the request to
// the running agent at {containerUri}{protocol path} with what the
// AgentCore Runtime HTTP contract delivers: the workload access token (in
// WorkloadAccessToken and X-Amz-Bedrock-AgentCore-Identity-WAT), the
// session and request ids, the OAuth2 callback URL and the allowlisted
// headers. The answer streams back unbuffered.

// Header names of InvokeAgentRuntime and of the AgentCore Runtime HTTP
// contract (what the agent receives).
const (
	HeaderSessionID   = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
	HeaderRequestID   = "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"
	HeaderUserID      = "X-Amzn-Bedrock-AgentCore-Runtime-User-Id"
	HeaderWAT         = "X-Amz-Bedrock-AgentCore-Identity-WAT"
	HeaderWATLegacy   = "WorkloadAccessToken"
	HeaderCallbackURL = "OAuth2CallbackUrl"
	// CustomHeaderPrefix starts the custom headers a runtime may allowlist.
	CustomHeaderPrefix = "X-Amzn-Bedrock-AgentCore-Runtime-Custom-"
)

// Limits and lifetimes of the gateway.
const (
	// DefaultMaxBodyBytes bounds an invocation's request body when
	// Gateway.MaxBodyBytes is zero. AgentCore allows 100 MB; Behalf keeps
	// SigV4 bodies in memory to hash them, so it defaults to 10 MiB.
	DefaultMaxBodyBytes = 10 << 20
	// MaxCustomHeaderBytes bounds one allowlisted custom header's value.
	MaxCustomHeaderBytes = 4 << 10
	// WATRefreshMargin: a cached workload access token is replaced this
	// long before it expires (AgentCore refuses tokens about to expire).
	WATRefreshMargin = 60 * time.Second
	// RuntimeCacheTTL bounds how long an invocation may use a runtime's
	// configuration after an admin changed or deleted it.
	RuntimeCacheTTL = 2 * time.Second
	// DiscoveryCacheTTL is how long a JWT authorizer's discovery document
	// (issuer and jwks_uri) is used before it is fetched again; a failed
	// fetch is retried after DiscoveryRetry.
	DiscoveryCacheTTL = time.Hour
	DiscoveryRetry    = 10 * time.Second
	// PoolKeysTTL is how long the keys of one of Behalf's user pools are
	// used before they are read again (a deleted pool's tokens stop
	// verifying within it).
	PoolKeysTTL = 5 * time.Second
)

// Session ids: AgentCore takes 33 to 256 characters; Behalf also limits
// them to characters that are safe in headers and logs.
var sessionIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{32,255}$`)

// MsgMethodMismatch is AgentCore's message for SigV4 sent to a JWT runtime
// or a bearer token sent to a SigV4 runtime.
const MsgMethodMismatch = "Authorization method mismatch. The agent is configured for a different authorization method than what was used in your request. " +
	"Check the agent's authorization configuration and ensure your request uses the matching method (OAuth or SigV4)"

// RuntimeGetter resolves the runtime an invocation names (the
// behalf.AgentRuntimeStore or behalf.AgentRuntimeService).
type RuntimeGetter interface {
	// GetAgentRuntime returns the runtime with id (or name), or ENOTFOUND.
	GetAgentRuntime(ctx context.Context, id string) (*behalf.AgentRuntime, error)
}

// WATMinter mints workload access tokens for runtimes' workloads without a
// caller principal (identity.WATs.MintForRuntime).
type WATMinter interface {
	// MintForRuntime returns a WAT for workload and user (zero: the
	// workload itself), expiring no later than userExpiry (if not zero),
	// and its expiry. userIssued is when the user's JWT was issued (zero
	// for none): the WAT stops working when a pool user signs out after it.
	// userToken is that JWT ("" for none): kept for the WAT's on-behalf-of
	// exchanges, as GetWorkloadAccessTokenForJWT keeps it.
	MintForRuntime(ctx context.Context, workload string, user behalf.User, userToken behalf.Secret, userExpiry, userIssued time.Time) (behalf.Secret, time.Time, error)
}

// Authenticator verifies a SigV4-signed request over its whole body
// (sigv4.Verifier, with the signing name bedrock-agentcore).
type Authenticator interface {
	Verify(r *http.Request, body []byte) (behalf.Principal, error)
}

// Gateway is the InvokeAgentRuntime handler. Mount it on
// "POST /runtimes/{runtime}/invocations" (it reads the path value
// "runtime"). Set its fields before the first request and do not change
// them afterwards; it is safe for concurrent use.
//
// For streaming to work, every ResponseWriter wrapper between the server
// and the Gateway must expose Flush (or Unwrap, for
// http.ResponseController), and a panic of http.ErrAbortHandler (an agent
// that fails mid-answer) must reach net/http.
type Gateway struct {
	// Runtimes resolves runtimes by id; answers are cached for
	// RuntimeCacheTTL.
	Runtimes RuntimeGetter
	// Versions resolves named endpoints (cached for RuntimeCacheTTL) and
	// older versions; nil serves only the DEFAULT endpoint.
	Versions VersionStore
	// SessionStore keeps runtime sessions for every replica (see
	// gateway_session.go; RunSessionFlusher writes them); nil keeps them
	// in this process only.
	SessionStore behalf.RuntimeSessionStore
	// WATs mints the workload access tokens handed to agents.
	WATs WATMinter
	// SigV4 verifies SigV4 invocations; principals "root" and
	// "workload/<the runtime's workload>" may invoke.
	SigV4 Authenticator
	// HTTPClient fetches JWT authorizers' discovery documents and key sets;
	// it should come from safehttp.NewClient (nil: one with default
	// options, which refuses private addresses).
	HTTPClient *http.Client
	// Pools lets authorizers whose discoveryUrl is one of Behalf's own
	// user pools ({PublicURL}/{poolId}/.well-known/openid-configuration)
	// verify tokens with the pool's keys in process, without HTTP, and
	// refuse tokens of users disabled or signed out since.
	Pools *pooltoken.Pools
	// Transport carries invocations to agents. Nil means DefaultTransport:
	// the SSRF guard's connect-time check on every connection.
	Transport http.RoundTripper
	// AllowPrivate lets the default transport connect to loopback, private
	// and link-local addresses (--allow-private-endpoints).
	AllowPrivate bool
	// Resolver, when set, resolves agents' host names for the default
	// transport (nil: the system's); its answers are checked like any.
	Resolver *net.Resolver
	// Region and Account must match those of a runtime ARN (and accountId).
	Region, Account string
	// MaxBodyBytes bounds request bodies; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	Log          *slog.Logger
	// Now is the clock for token caches and JWT times; nil means time.Now.
	Now func() time.Time

	once      sync.Once
	transport http.RoundTripper
	client    *http.Client
	auth      Authorizer
	runtimes  ttlcache.Cache[string, *behalf.AgentRuntime]
	versions  ttlcache.Cache[string, *behalf.AgentRuntime]
	endpoints ttlcache.Cache[string, string]
	sessions  sessionTable
	wats      watCache
}

func (g *Gateway) init() {
	g.once.Do(func() {
		g.transport = g.Transport
		if g.transport == nil {
			g.transport = g.DefaultTransport()
		}
		g.client = g.HTTPClient
		if g.client == nil {
			g.client = safehttp.NewClient(safehttp.Options{})
		}
		if g.Log == nil {
			g.Log = slog.New(slog.DiscardHandler)
		}
		g.auth = Authorizer{HTTPClient: g.client, Pools: g.Pools, Log: g.Log, Now: g.Now}
	})
}

// DefaultTransport returns the transport used when Transport is nil:
// safehttp's transport for proxied upstreams, so that every connection to
// an agent is checked where it is made. A runtime's containerUri was
// checked when the runtime was created, but its host name may resolve (or
// rebind) to a loopback, private or link-local address since; unless
// AllowPrivate, such an address is refused before connecting. No proxy
// from the environment, kept alive and pooled, no transparent
// decompression, and no overall timeout (agents may answer for minutes;
// the caller's context bounds a call).
func (g *Gateway) DefaultTransport() *http.Transport {
	return safehttp.NewTransport(safehttp.Options{AllowPrivate: g.AllowPrivate, Resolver: g.Resolver})
}

func (g *Gateway) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Gateway) maxBody() int64 {
	if g.MaxBodyBytes > 0 {
		return g.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

// invocation is an authorized request, ready to forward.
type invocation struct {
	rt        *behalf.AgentRuntime
	body      io.Reader    // the request body to send on
	length    int64        // its length, -1 if unknown
	tooLarge  *atomic.Bool // set when a streamed body passed the limit
	wat       behalf.Secret
	sessionID string
	generated bool    // the gateway made sessionID up
	target    *target // the endpoint, version and session reached
	requestID string
	bearer    bool // authenticated with a bearer JWT
}

// ServeHTTP serves one invocation.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.init()
	inv, err := g.authorize(w, r)
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	if !inv.generated {
		// A session id the gateway made up is known once the caller
		// sends it back: invocations without one cost no session.
		g.useSession(inv.target)
	}
	g.forward(w, r, inv)
}

// authorize resolves the runtime, authenticates the caller as the runtime
// asks, and gets the WAT to hand the agent.
func (g *Gateway) authorize(w http.ResponseWriter, r *http.Request) (*invocation, error) {
	ctx := r.Context()
	inv := &invocation{length: r.ContentLength, requestID: requestID(w)}
	sid, generated, err := sessionID(r)
	if err != nil {
		return nil, err
	}
	inv.sessionID, inv.generated = sid, generated
	if err := checkCustomHeaders(r); err != nil {
		return nil, err
	}
	if r.ContentLength > g.maxBody() {
		return nil, g.errTooLarge()
	}
	switch scheme, token := authScheme(r); scheme {
	case schemeSigV4:
		body, err := g.readBody(w, r)
		if err != nil {
			return nil, err
		}
		p, err := g.SigV4.Verify(r, body)
		if err != nil {
			return nil, err
		}
		rt, err := g.runtime(ctx, r, inv)
		if err != nil {
			return nil, err
		}
		if rt.Authorizer != nil {
			return nil, behalf.Errorf(behalf.EFORBIDDEN, "%s", MsgMethodMismatch)
		}
		if err := mayInvoke(p, rt); err != nil {
			return nil, err
		}
		inv.rt, inv.body, inv.length = rt, bytesReader(body), int64(len(body))
		if user, err := userID(r); err != nil {
			return nil, err
		} else if user != "" {
			inv.wat, err = g.wat(ctx, rt.Workload, "user\x00"+user, behalf.User{Subject: user}, "", time.Time{}, time.Time{})
			if err != nil {
				return nil, err
			}
		}
	case schemeBearer:
		rt, err := g.runtime(ctx, r, inv)
		if err != nil {
			return nil, err
		}
		if rt.Authorizer == nil {
			return nil, behalf.Errorf(behalf.EFORBIDDEN, "%s", MsgMethodMismatch)
		}
		claims, err := g.checkJWT(ctx, rt.Authorizer, token)
		if err != nil {
			return nil, err
		}
		if len(r.Header.Values(HeaderUserID)) > 0 {
			return nil, behalf.Errorf(behalf.EFORBIDDEN, "%s cannot be sent with a bearer token: the user is the token's subject.", HeaderUserID)
		}
		inv.rt, inv.bearer = rt, true
		inv.wat, err = g.wat(ctx, rt.Workload, "jwt\x00"+token, claims.User(), behalf.Secret(token), claims.Expiry, behalf.TokenIssuedAt(claims.IssuedAt, claims.Raw))
		if err != nil {
			return nil, err
		}
		inv.body, inv.tooLarge = g.streamBody(w, r)
	default:
		rt, err := g.runtime(ctx, r, inv)
		if err != nil {
			return nil, err
		}
		if rt.Authorizer != nil {
			if scheme == schemeNone {
				return nil, errNoBearer
			}
			return nil, unauthorized("The Authorization header must carry a bearer token (Authorization: Bearer <JWT>).")
		}
		// A SigV4 runtime: let the verifier word the refusal.
		_, err = g.SigV4.Verify(r, nil)
		if err == nil {
			err = behalf.Errorf(behalf.EFORBIDDEN, "Missing Authentication Token")
		}
		return nil, err
	}
	return inv, nil
}

// Authorization schemes.
const (
	schemeNone = iota
	schemeSigV4
	schemeBearer
	schemeOther
)

// authScheme classifies r's Authorization header and returns a bearer
// token. Several Authorization headers are refused by whichever check
// applies (the SigV4 verifier, or as an invalid bearer).
func authScheme(r *http.Request) (int, string) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 || strings.TrimSpace(values[0]) == "" {
		return schemeNone, ""
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	switch {
	case strings.EqualFold(scheme, "AWS4-HMAC-SHA256"):
		return schemeSigV4, ""
	case strings.EqualFold(scheme, "Bearer") && len(values) == 1:
		return schemeBearer, strings.TrimSpace(rest)
	}
	return schemeOther, ""
}

// mayInvoke reports whether a SigV4 principal may invoke rt: the root key,
// or a key scoped to the runtime's workload.
func mayInvoke(p behalf.Principal, rt *behalf.AgentRuntime) error {
	if p.MayActFor(rt.Workload) {
		return nil
	}
	return behalf.Errorf(behalf.EFORBIDDEN, "The access key %s may not invoke agent runtime %s.", p.AccessKeyID, rt.ID)
}

// runtime resolves the path's runtime (an ARN or an id), the endpoint its
// qualifier names and the invocation's session, and returns the runtime's
// configuration at the version they reach (inv.target).
func (g *Gateway) runtime(ctx context.Context, r *http.Request, inv *invocation) (*behalf.AgentRuntime, error) {
	ident := r.PathValue("runtime")
	q := r.URL.Query()
	id, err := g.runtimeID(ident, q.Get("accountId"))
	if err != nil {
		return nil, err
	}
	now := g.now()
	rt, ok := g.runtimes.Get(id, now)
	if !ok {
		rt, err = g.Runtimes.GetAgentRuntime(ctx, id)
		switch code := behalf.ErrorCode(err); {
		case code == behalf.ENOTFOUND || code == behalf.EINVALID:
			return nil, notFound(ident)
		case err != nil:
			return nil, err
		}
		if rt.Status != "" && rt.Status != behalf.RuntimeReady {
			return nil, behalf.Errorf(behalf.ECONFLICT, "Agent runtime %s is %s, not %s.", rt.ID, rt.Status, behalf.RuntimeReady)
		}
		g.runtimes.Put(id, rt, now.Add(RuntimeCacheTTL))
	}
	t, err := g.target(ctx, rt, qualifier(q), ident, inv.sessionID, inv.generated)
	if err != nil {
		return nil, err
	}
	inv.target = t
	return t.rt, nil
}

func notFound(ident string) error {
	return behalf.Errorf(behalf.ENOTFOUND, "Agent runtime %s was not found.", ident)
}

// sessionID returns the client's session id, checked, or a new one
// (generated).
func sessionID(r *http.Request) (id string, generated bool, err error) {
	values := r.Header.Values(HeaderSessionID)
	switch {
	case len(values) == 0:
		return newSessionID(), true, nil
	case len(values) > 1:
		return "", false, behalf.Invalid("runtimeSessionId", "Send one %s header.", HeaderSessionID)
	case !validSessionID(values[0]):
		return "", false, behalf.Invalid("runtimeSessionId", "%s must be 33 to 256 characters from A-Z, a-z, 0-9, '.', '_', ':' and '-', starting with a letter or digit.", HeaderSessionID)
	}
	return values[0], false, nil
}

// validSessionID reports whether id matches sessionIDPattern, without the
// regular expression (every invocation checks one).
func validSessionID(id string) bool {
	if len(id) < 33 || len(id) > 256 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || (c != '.' && c != '_' && c != ':' && c != '-')) {
			return false
		}
	}
	return true
}

// userID returns the SigV4 caller's X-Amzn-Bedrock-AgentCore-Runtime-User-Id.
func userID(r *http.Request) (string, error) {
	values := r.Header.Values(HeaderUserID)
	switch {
	case len(values) == 0:
		return "", nil
	case len(values) > 1:
		return "", behalf.Invalid("runtimeUserId", "Send one %s header.", HeaderUserID)
	case values[0] == "" || len([]rune(values[0])) > 128:
		return "", behalf.Invalid("runtimeUserId", "%s must be 1 to 128 characters long.", HeaderUserID)
	}
	return values[0], nil
}

// checkCustomHeaders bounds custom headers' values.
func checkCustomHeaders(r *http.Request) error {
	for name, values := range r.Header {
		if !hasPrefixFold(name, CustomHeaderPrefix) {
			continue
		}
		for _, v := range values {
			if len(v) > MaxCustomHeaderBytes {
				return behalf.Invalid(name, "Header %s is longer than %d bytes.", name, MaxCustomHeaderBytes)
			}
		}
	}
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// readBody reads a SigV4 request's whole body (its signature covers it).
func (g *Gateway) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.maxBody()))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, g.errTooLarge()
	}
	if err != nil {
		return nil, behalf.Invalid("payload", "The request body could not be read.")
	}
	return body, nil
}

// streamBody returns r's body, bounded, to stream to the agent; the flag
// is set if it passed the limit. (Once the body has been read, net/http
// lifts the connection's read deadline itself, so the server's ReadTimeout
// does not cut answers that stream for longer.)
func (g *Gateway) streamBody(w http.ResponseWriter, r *http.Request) (io.Reader, *atomic.Bool) {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b := &boundedBody{r: http.MaxBytesReader(w, r.Body, g.maxBody())}
	return b, &b.tooLarge
}

// boundedBody is a streamed request body that remembers passing the limit
// (the transport reads it on another goroutine).
type boundedBody struct {
	r        io.ReadCloser
	tooLarge atomic.Bool
}

func (b *boundedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	var mbe *http.MaxBytesError
	if err != nil && errors.As(err, &mbe) {
		b.tooLarge.Store(true)
	}
	return n, err
}

func (g *Gateway) errTooLarge() error {
	return behalf.Errorf(behalf.ETOOLARGE, "The request body is larger than %d bytes.", g.maxBody())
}
