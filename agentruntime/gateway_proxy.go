package agentruntime

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"

	"github.com/behalf-dev/behalf"
)

// Forwarding builds the agent's request from scratch: only the headers
// listed here reach the agent, so whatever else the caller sent (its own
// WorkloadAccessToken, X-Amz-Bedrock-AgentCore-Identity-WAT,
// OAuth2CallbackUrl, user id, cookies, X-Forwarded-*) never does.

// passHeaders are forwarded as the caller sent them (InvokeAgentRuntime's
// content, tracing and MCP headers).
var passHeaders = []string{
	"Content-Type", "Accept",
	"X-Amzn-Trace-Id", "Traceparent", "Tracestate", "Baggage",
	"Mcp-Session-Id", "Mcp-Protocol-Version", "Mcp-Method", "Mcp-Name",
}

// hopHeaders are connection-level response headers never copied back.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// MsgAgentUnreachable is the one message for every failure to reach an
// agent (a refused address, a closed port, a timeout, a name that does not
// resolve, a TLS or connection error): distinct texts would let callers
// scan what answers where. The log keeps the cause.
const MsgAgentUnreachable = "The agent runtime's container could not be reached. Check that the agent at its containerUri is running."

// agentURL is where an invocation of rt goes: ContainerURI followed by the
// protocol's path (protocolConfiguration.path, else /invocations for HTTP
// and AGUI, /mcp for MCP, / for A2A).
func agentURL(rt *behalf.AgentRuntime) string {
	path := rt.ProtocolPath
	if path == "" {
		switch rt.Protocol {
		case behalf.ProtocolMCP:
			path = "/mcp"
		case behalf.ProtocolA2A:
			path = "/"
		default:
			path = "/invocations"
		}
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	base, _, _ := strings.Cut(rt.ContainerURI, "?")
	base, _, _ = strings.Cut(base, "#")
	return strings.TrimSuffix(base, "/") + path
}

// forward sends the invocation to the agent and streams the answer back.
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, inv *invocation) {
	ctx := r.Context()
	body := inv.body
	if body == nil {
		body = http.NoBody
		inv.length = 0
	}
	out, err := http.NewRequestWithContext(ctx, http.MethodPost, agentURL(inv.rt), body)
	if err != nil {
		g.Log.ErrorContext(ctx, "agent runtime: bad container URI", "runtime", inv.rt.ID, "err", err)
		g.writeError(w, r, runtimeClientError("The agent runtime's container URI is not usable.", err))
		return
	}
	out.ContentLength = inv.length
	out.Header = agentHeaders(r, inv)

	resp, err := g.transport.RoundTrip(out)
	if err != nil {
		switch {
		case inv.tooLarge != nil && inv.tooLarge.Load():
			g.writeError(w, r, g.errTooLarge())
		case ctx.Err() != nil:
			// The caller went away; nobody is left to answer.
		default:
			g.Log.WarnContext(ctx, "agent runtime unreachable", "runtime", inv.rt.ID, "session_id", inv.sessionID, "err", err)
			g.writeError(w, r, runtimeClientError(MsgAgentUnreachable, err))
		}
		return
	}
	defer resp.Body.Close()

	h := w.Header()
	for _, name := range connectionHeaders(resp.Header) {
		resp.Header.Del(name)
	}
	for name, values := range resp.Header {
		switch textproto.CanonicalMIMEHeaderKey(name) {
		case "X-Amzn-Requestid", "X-Amzn-Errortype":
			// Behalf's own; an agent's status passes through, its error shape does not.
			continue
		}
		h[name] = values
	}
	h.Set(HeaderSessionID, inv.sessionID)
	stream := streaming(resp)
	if !stream && bodyAllowed(resp.StatusCode) {
		// The agent's length, said to the caller too: a complete answer
		// is then sent before the request is logged (api's middleware).
		h.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	w.WriteHeader(resp.StatusCode)
	if err := copyAnswer(w, resp.Body, stream); err != nil {
		if errors.Is(err, errClientWrite) || ctx.Err() != nil {
			return
		}
		// The agent failed mid-answer: abort the response so the caller
		// sees a broken stream, not a complete short one.
		g.Log.WarnContext(ctx, "agent runtime failed mid-answer", "runtime", inv.rt.ID, "session_id", inv.sessionID, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// agentHeaders builds the headers the agent receives.
func agentHeaders(r *http.Request, inv *invocation) http.Header {
	h := make(http.Header, 12)
	for _, name := range passHeaders {
		if v := r.Header.Values(name); len(v) > 0 {
			h[name] = v
		}
	}
	h.Set(HeaderSessionID, inv.sessionID)
	h.Set(HeaderRequestID, inv.requestID)
	if !inv.wat.IsZero() {
		h.Set(HeaderWATLegacy, inv.wat.Reveal())
		h.Set(HeaderWAT, inv.wat.Reveal())
	}
	if inv.rt.CallbackURL != "" {
		h.Set(HeaderCallbackURL, inv.rt.CallbackURL)
	}
	for _, name := range inv.rt.HeaderAllowlist {
		switch {
		case strings.EqualFold(name, "Authorization"):
			// The inbound JWT, never a SigV4 signature.
			if inv.bearer {
				h["Authorization"] = r.Header.Values("Authorization")
			}
		case neverForwarded(name):
			// Behalf's own headers and connection headers, whatever the
			// allowlist says (the control plane refuses them too).
		default:
			if v := r.Header.Values(name); len(v) > 0 {
				h[textproto.CanonicalMIMEHeaderKey(name)] = v
			}
		}
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{"Behalf"}
	}
	return h
}

// neverForwarded reports whether an allowlisted header name is one the
// gateway sets itself or a connection-level header: x-amz-* (SigV4 and the
// WAT), x-amzn-* except the custom prefix (session, request and user ids),
// WorkloadAccessToken, OAuth2CallbackUrl and the headers net/http manages.
func neverForwarded(name string) bool {
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(lower, "x-amz-"):
		return true
	case strings.HasPrefix(lower, "x-amzn-"):
		return !hasPrefixFold(name, CustomHeaderPrefix)
	}
	switch lower {
	case "workloadaccesstoken", "oauth2callbackurl", "host", "content-length", "transfer-encoding",
		"connection", "keep-alive", "proxy-connection", "proxy-authorization", "upgrade", "te", "trailer", "expect",
		"content-type", "accept":
		return true
	}
	return false
}

// connectionHeaders lists the hop-by-hop headers of a response, including
// those its Connection header names.
func connectionHeaders(h http.Header) []string {
	names := append([]string(nil), hopHeaders...)
	for _, v := range h.Values("Connection") {
		for _, f := range strings.Split(v, ",") {
			if f = textproto.TrimString(f); f != "" {
				names = append(names, f)
			}
		}
	}
	return names
}

var errClientWrite = errors.New("write to the caller failed")

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// streaming reports whether an answer must be flushed as it arrives, as
// httputil.ReverseProxy decides: server-sent events, and bodies of unknown
// length (chunked). An answer of known length is buffered by net/http in
// the usual way (flushed when its buffer fills and at the end).
func streaming(resp *http.Response) bool {
	if resp.ContentLength < 0 {
		return true
	}
	ct, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(ct), "text/event-stream")
}

// bodyAllowed reports whether an answer of status may have a body (and a
// Content-Length): not 1xx, 204 or 304.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// copyAnswer copies the agent's answer to the caller; with flush, after
// every read, so that events and chunks arrive as the agent sends them.
// Memory stays one 32 KiB buffer whatever the answer's size.
func copyAnswer(w http.ResponseWriter, body io.Reader, flush bool) error {
	rc := http.NewResponseController(w)
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	buf := *bp
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return errClientWrite
			}
			if flush {
				if ferr := rc.Flush(); ferr != nil && !errors.Is(ferr, http.ErrNotSupported) {
					return errClientWrite
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// gatewayError is an error with its own AgentCore error shape.
type gatewayError struct {
	status int
	name   string
	msg    string
	cause  error
}

func (e *gatewayError) Error() string { return e.name + ": " + e.msg }
func (e *gatewayError) Unwrap() error { return e.cause }

// runtimeClientError is the 424 of an agent that cannot be reached.
func runtimeClientError(msg string, cause error) error {
	return &gatewayError{status: http.StatusFailedDependency, name: "RuntimeClientError", msg: msg, cause: cause}
}

// wireErrors maps behalf error codes to AgentCore's restJson1 errors.
var wireErrors = map[string]struct {
	status int
	name   string
}{
	behalf.EINVALID:        {http.StatusBadRequest, "ValidationException"},
	behalf.ENOTFOUND:       {http.StatusNotFound, "ResourceNotFoundException"},
	behalf.ECONFLICT:       {http.StatusConflict, "RetryableConflictException"},
	behalf.EUNAUTHORIZED:   {http.StatusUnauthorized, "UnauthorizedException"},
	behalf.EFORBIDDEN:      {http.StatusForbidden, "AccessDeniedException"},
	behalf.ETOOLARGE:       {http.StatusRequestEntityTooLarge, "ValidationException"},
	behalf.ETHROTTLED:      {http.StatusTooManyRequests, "ThrottlingException"},
	behalf.EUNAVAILABLE:    {http.StatusServiceUnavailable, "ServiceUnavailableException"},
	behalf.ENOTIMPLEMENTED: {http.StatusBadRequest, "ValidationException"},
	behalf.EINTERNAL:       {http.StatusInternalServerError, "InternalServerException"},
}

// writeError writes err in AgentCore's restJson1 error shape: status,
// X-Amzn-ErrorType and {"__type","message"}. Uncoded errors are logged and
// sent as "Internal error."; at debug level only once the caller went away.
func (g *Gateway) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var body struct {
		Type              string `json:"__type"`
		Message           string `json:"message"`
		Reason            string `json:"reason,omitempty"`
		RetryAfterSeconds int    `json:"retryAfterSeconds,omitempty"`
	}
	var ge *gatewayError
	status := http.StatusInternalServerError
	if errors.As(err, &ge) {
		status, body.Type, body.Message = ge.status, ge.name, ge.msg
	} else {
		we, ok := wireErrors[behalf.ErrorCode(err)]
		if !ok {
			we = wireErrors[behalf.EINTERNAL]
		}
		status, body.Type, body.Message = we.status, we.name, behalf.ErrorMessage(err)
		if we.name == "ValidationException" {
			body.Reason = "FieldValidationFailed"
		}
		if status >= 500 && r.Context().Err() != nil {
			// The caller went away: not a server error.
			g.Log.DebugContext(r.Context(), "agent runtime invocation: client gone", "err", err)
		} else if status == http.StatusInternalServerError {
			g.Log.ErrorContext(r.Context(), "agent runtime invocation: internal error", "err", err)
		} else if errors.Is(err, behalf.ErrStoreUnavailable) {
			g.Log.WarnContext(r.Context(), "agent runtime invocation: database unavailable", "err", err)
		}
	}
	h := w.Header()
	var ra behalf.RetryAfterError
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		body.RetryAfterSeconds = int(ra.RetryAfter().Seconds() + 0.999)
		h.Set("Retry-After", strconv.Itoa(body.RetryAfterSeconds))
	}
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		if err == errNoBearer {
			h.Set("WWW-Authenticate", "Bearer")
		}
	}
	h.Set("X-Amzn-ErrorType", body.Type)
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// requestID is the invocation's request id: the X-Amzn-RequestId the API
// server set on the response, else a new one.
func requestID(w http.ResponseWriter) string {
	if id := w.Header().Get("X-Amzn-RequestId"); id != "" {
		return id
	}
	id := newUUID()
	w.Header().Set("X-Amzn-RequestId", id)
	return id
}

// newSessionID returns a random session id (a UUID, 36 characters).
func newSessionID() string { return newUUID() }

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// bytesReader returns a reader over b, nil when b is empty.
func bytesReader(b []byte) io.Reader {
	if len(b) == 0 {
		return nil
	}
	return bytes.NewReader(b)
}
