package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/agentruntime"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/internal/ttlcache"
	"github.com/behalf-dev/behalf/jwtverify"
)

// The MCP endpoint, POST {public-url}/gateways/{gatewayId}/mcp: streamable
// HTTP in the SDK's stateless mode (each request is served on its own;
// tools are read from the store, so a target's change shows at once).
//
// Authorization follows the MCP specification. A CUSTOM_JWT gateway wants
// a bearer token its authorizer accepts: without one, or with one that does
// not verify (signature, issuer, expiry), whose aud is not an allowed
// audience, whose client_id is not an allowed client or whose custom claims
// do not match, the answer is 401 with
//
//	WWW-Authenticate: Bearer resource_metadata="{public-url}/.well-known/oauth-protected-resource/gateways/{id}/mcp"[, scope="…"][, error="invalid_token"]
//
// and a token with none of the allowed scopes gets 403 error="insufficient_scope".
// The RFC 9728 document there names the gateway URL as the resource and
// the authorizer's issuer as the authorization server. The client's token
// is never sent to a target: each call gets the target's own credential.

// Defaults of Handler.
const (
	DefaultCallTimeout      = 30 * time.Second
	DefaultMaxResponseBytes = 1 << 20
	// gatewayCacheTTL bounds how long a gateway's configuration is used
	// after an admin changed it.
	gatewayCacheTTL = 2 * time.Second
	// watRefreshMargin: a cached workload access token is replaced this
	// long before it expires.
	watRefreshMargin = 60 * time.Second
)

// Store reads gateways and their targets.
type Store interface {
	GetGateway(ctx context.Context, idOrName string) (*behalf.Gateway, error)
	ListGatewayTargets(ctx context.Context, gatewayID string, opt behalf.ListOptions) ([]*behalf.GatewayTarget, error)
}

// Handler serves gateways' MCP endpoints and their protected-resource
// metadata. Mount it at "/gateways/{gatewayId}/mcp" and "GET
// /.well-known/oauth-protected-resource/gateways/{gatewayId}/mcp". Set its
// fields before the first request.
type Handler struct {
	Store Store
	// Auth verifies bearer tokens as agent runtimes' authorizers do.
	Auth *agentruntime.Authorizer
	// WATs mints the gateway workload's access tokens, for the workload
	// itself or for the signed-in user.
	WATs agentruntime.WATMinter
	// DataPlane is the identity data plane, called in process: API keys,
	// client-credentials tokens and users' tokens from the vault.
	DataPlane behalf.DataPlaneService
	// PublicURL is Behalf's base URL, as in the gateways' URLs.
	PublicURL string
	// AllowPrivate and Resolver shape the transport to targets
	// (--allow-private-endpoints); Transport, when set, replaces it.
	AllowPrivate bool
	Resolver     *net.Resolver
	Transport    http.RoundTripper
	// CallTimeout bounds one call to a target; MaxResponseBytes its answer.
	CallTimeout      time.Duration
	MaxResponseBytes int64
	Log              *slog.Logger
	Now              func() time.Time

	once     sync.Once
	mcp      http.Handler
	client   *http.Client
	gateways ttlcache.Cache[string, *behalf.Gateway]
	targets  ttlcache.Cache[string, gatewayTargets] // by gateway id, for gatewayCacheTTL
	servers  ttlcache.Cache[string, cachedServer]   // by gateway id
	tools    ttlcache.Cache[string, []Tool]         // by target id and update time
	remote   ttlcache.Cache[string, remoteListing]
	wats     ttlcache.Cache[[32]byte, behalf.Secret]
}

func (h *Handler) init() {
	h.once.Do(func() {
		if h.Log == nil {
			h.Log = slog.New(slog.DiscardHandler)
		}
		if h.CallTimeout <= 0 {
			h.CallTimeout = DefaultCallTimeout
		}
		if h.MaxResponseBytes <= 0 {
			h.MaxResponseBytes = DefaultMaxResponseBytes
		}
		t := h.Transport
		if t == nil {
			t = safehttp.NewTransport(safehttp.Options{AllowPrivate: h.AllowPrivate, Resolver: h.Resolver})
		}
		h.client = &http.Client{Transport: t, Timeout: h.CallTimeout,
			// A redirect would carry the target's credential elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		h.mcp = mcp.NewStreamableHTTPHandler(h.server, &mcp.StreamableHTTPOptions{
			Stateless: true, JSONResponse: true, Logger: h.Log, MaxRequestBodyBytes: 1 << 20,
		})
	})
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// URL is the MCP endpoint of the gateway with id.
func (h *Handler) URL(id string) string {
	return strings.TrimSuffix(h.PublicURL, "/") + behalf.GatewayPath(id)
}

// metadataURL is the RFC 9728 document of the gateway with id.
func (h *Handler) metadataURL(id string) string {
	return strings.TrimSuffix(h.PublicURL, "/") + "/.well-known/oauth-protected-resource" + behalf.GatewayPath(id)
}

// caller is who an MCP request acts for.
type caller struct {
	gw     *behalf.Gateway
	claims *jwtverify.Claims // nil for a NONE gateway
	token  string
	// userID, when set, is the user id to act as instead of the token's
	// user (an MCP-server target's listing as its AuthUserID).
	userID string
}

type callerKey struct{}

// ServeHTTP serves the MCP endpoint and the protected-resource metadata.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.init()
	ctx := r.Context()
	gw, err := h.gateway(ctx, r.PathValue("gatewayId"))
	if err != nil {
		writeJSONError(w, err)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/.well-known/") {
		h.serveMetadata(w, r, gw)
		return
	}
	c := &caller{gw: gw}
	if gw.Authorizer != nil {
		claims, token, status, challenge := h.authorize(r, gw)
		if status != 0 {
			w.Header().Set("WWW-Authenticate", challenge)
			writeJSONError(w, &behalf.Error{Code: codeOf(status), Message: http.StatusText(status)})
			return
		}
		c.claims, c.token = claims, token
	}
	h.mcp.ServeHTTP(w, r.WithContext(context.WithValue(ctx, callerKey{}, c)))
}

func codeOf(status int) string {
	switch status {
	case http.StatusForbidden:
		return behalf.EFORBIDDEN
	case http.StatusServiceUnavailable:
		return behalf.EUNAVAILABLE
	}
	return behalf.EUNAUTHORIZED
}

// gateway returns the gateway with id (cached for gatewayCacheTTL).
func (h *Handler) gateway(ctx context.Context, id string) (*behalf.Gateway, error) {
	if g, ok := h.gateways.Get(id, h.now()); ok {
		return g, nil
	}
	if !gatewayIDPattern.MatchString(id) {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "Gateway %s was not found.", clip(id, 120))
	}
	g, err := h.Store.GetGateway(ctx, id)
	if err != nil {
		if behalf.ErrorCode(err) == behalf.ENOTFOUND {
			return nil, behalf.Errorf(behalf.ENOTFOUND, "Gateway %s was not found.", id)
		}
		return nil, err
	}
	if g.ID != id {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "Gateway %s was not found.", id)
	}
	h.gateways.Put(id, g, h.now().Add(gatewayCacheTTL))
	return g, nil
}

// authorize checks r's bearer token against gw's authorizer. It returns
// the claims and token, or the status to answer and its challenge.
func (h *Handler) authorize(r *http.Request, gw *behalf.Gateway) (*jwtverify.Claims, string, int, string) {
	a := gw.Authorizer
	challenge := func(errCode, desc string) string {
		parts := []string{`resource_metadata="` + h.metadataURL(gw.ID) + `"`}
		if len(a.AllowedScopes) > 0 {
			parts = append(parts, `scope="`+strings.Join(a.AllowedScopes, " ")+`"`)
		}
		if errCode != "" {
			parts = append(parts, `error="`+errCode+`"`, `error_description="`+quoteSafe(desc)+`"`)
		}
		return "Bearer " + strings.Join(parts, ", ")
	}
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return nil, "", http.StatusUnauthorized, challenge("", "")
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	token = strings.TrimSpace(token)
	if len(values) != 1 || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, "", http.StatusUnauthorized, challenge("invalid_request", "Send one Authorization: Bearer <token> header.")
	}
	c, err := h.Auth.Verify(r.Context(), a.DiscoveryURL, token)
	if err != nil {
		if behalf.ErrorCode(err) == behalf.EUNAVAILABLE {
			return nil, "", http.StatusServiceUnavailable, challenge("", "")
		}
		return nil, "", http.StatusUnauthorized, challenge("invalid_token", behalf.ErrorMessage(err))
	}
	if len(a.AllowedAudience) > 0 && !slices.ContainsFunc(c.Audience, func(aud string) bool { return slices.Contains(a.AllowedAudience, aud) }) {
		return nil, "", http.StatusUnauthorized, challenge("invalid_token", "The token is not meant for this gateway (aud).")
	}
	if len(a.AllowedClients) > 0 && !slices.Contains(a.AllowedClients, c.ClientID) {
		return nil, "", http.StatusUnauthorized, challenge("invalid_token", "The token's client is not allowed by this gateway.")
	}
	for _, rule := range a.CustomClaims {
		if !agentruntime.ClaimMatches(rule, c.Raw[rule.Name]) {
			return nil, "", http.StatusUnauthorized, challenge("invalid_token", "The token's claim "+rule.Name+" is not allowed by this gateway.")
		}
	}
	if len(a.AllowedScopes) > 0 && !slices.ContainsFunc(c.Scope, func(s string) bool { return slices.Contains(a.AllowedScopes, s) }) {
		return nil, "", http.StatusForbidden, challenge("insufficient_scope", "The token has none of the scopes this gateway needs.")
	}
	return &c, token, 0, ""
}

// quoteSafe keeps s printable ASCII without quotes or backslashes, for a
// quoted-string of WWW-Authenticate.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return ' '
		}
		return r
	}, s)
}

// serveMetadata serves the RFC 9728 protected-resource metadata.
func (h *Handler) serveMetadata(w http.ResponseWriter, r *http.Request, gw *behalf.Gateway) {
	if gw.Authorizer == nil {
		writeJSONError(w, behalf.Errorf(behalf.ENOTFOUND, "Gateway %s takes no authorization.", gw.ID))
		return
	}
	iss, err := h.Auth.Issuer(r.Context(), gw.Authorizer.DiscoveryURL)
	if err != nil {
		writeJSONError(w, err)
		return
	}
	doc := map[string]any{
		"resource":                 h.URL(gw.ID),
		"authorization_servers":    []string{iss},
		"bearer_methods_supported": []string{"header"},
		"resource_name":            gw.Name,
	}
	if len(gw.Authorizer.AllowedScopes) > 0 {
		doc["scopes_supported"] = gw.Authorizer.AllowedScopes
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "max-age=300")
	writeJSON(w, http.StatusOK, doc)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// writeJSONError answers err in AgentCore's error shape.
func writeJSONError(w http.ResponseWriter, err error) {
	status, typ := http.StatusInternalServerError, "InternalServerException"
	msg := "Internal error."
	switch behalf.ErrorCode(err) {
	case behalf.ENOTFOUND:
		status, typ, msg = http.StatusNotFound, "ResourceNotFoundException", behalf.ErrorMessage(err)
	case behalf.EUNAUTHORIZED:
		status, typ, msg = http.StatusUnauthorized, "UnauthorizedException", behalf.ErrorMessage(err)
	case behalf.EFORBIDDEN:
		status, typ, msg = http.StatusForbidden, "AccessDeniedException", behalf.ErrorMessage(err)
	case behalf.EUNAVAILABLE:
		status, typ, msg = http.StatusServiceUnavailable, "ServiceUnavailableException", behalf.ErrorMessage(err)
	}
	w.Header().Set("X-Amzn-ErrorType", typ)
	writeJSON(w, status, map[string]string{"__type": typ, "message": msg})
}

// cachedServer is a gateway's MCP server and the configuration it was
// built from (the gateway's and its targets' versions).
type cachedServer struct {
	gatewayUpdated time.Time
	targets        string // gatewayTargets.version
	server         *mcp.Server
}

// serverCacheTTL bounds how long a built server is used: an MCP-server
// target's remote tool list is fetched again (from its own cache) after it.
const serverCacheTTL = 30 * time.Second

// server returns the MCP server of a request's gateway: its tools, whose
// handlers act for the caller of each call (callerFrom). It is built once
// per version of the gateway and its targets, which are read at most every
// gatewayCacheTTL: a target an admin changed or deleted on any replica is
// served as it is now within that time.
func (h *Handler) server(r *http.Request) *mcp.Server {
	ctx := r.Context()
	c := callerFrom(ctx)
	if c == nil {
		return nil
	}
	ts, err := h.targetsOf(ctx, c.gw.ID)
	if err != nil {
		h.Log.ErrorContext(ctx, "gateway: list targets", "gateway", c.gw.ID, "err", err)
		return h.newServer(c.gw)
	}
	targets := ts.list
	if e, ok := h.servers.Get(c.gw.ID, h.now()); ok && e.gatewayUpdated.Equal(c.gw.UpdatedAt) && e.targets == ts.version {
		return e.server
	}
	s := h.newServer(c.gw)
	for _, t := range targets {
		if t.Kind == behalf.TargetMCPServer {
			h.addRemoteTools(ctx, s, c, t)
			continue
		}
		if t.Kind != behalf.TargetOpenAPI {
			continue
		}
		tools, err := h.toolsOf(ctx, t)
		if err != nil {
			h.Log.WarnContext(ctx, "gateway: target's tools", "gateway", c.gw.ID, "target", t.ID, "err", err)
			continue
		}
		for i := range tools {
			tool, target := &tools[i], t
			s.AddTool(&mcp.Tool{Name: target.Name + ToolSeparator + tool.Name, Description: tool.Description, InputSchema: tool.InputSchema},
				func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
					c := callerFrom(ctx)
					if c == nil || c.gw.ID != target.GatewayID {
						return toolError("no caller for this call"), nil
					}
					return h.call(ctx, c, target, tool, req)
				})
		}
	}
	h.servers.Put(c.gw.ID, cachedServer{c.gw.UpdatedAt, ts.version, s}, h.now().Add(serverCacheTTL))
	return s
}

func (h *Handler) newServer(gw *behalf.Gateway) *mcp.Server {
	return mcp.NewServer(&mcp.Implementation{Name: "behalf-gateway", Version: "1.0.0"},
		&mcp.ServerOptions{Instructions: gw.Instructions, Logger: h.Log, Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}}})
}

// Forget drops what this handler keeps of gateway id (the gateway, its
// targets, its built server): the next request reads them again. The
// gateway Service calls it after every change it makes (Service.Changed).
func (h *Handler) Forget(id string) {
	h.gateways.Delete(id)
	h.targets.Delete(id)
	h.servers.Delete(id)
}

// callerFrom returns the caller ServeHTTP put in the request's context;
// the SDK runs each call's handler with that context.
func callerFrom(ctx context.Context) *caller {
	c, _ := ctx.Value(callerKey{}).(*caller)
	return c
}

// gatewayTargets are a gateway's targets as read, and their version.
type gatewayTargets struct {
	list    []*behalf.GatewayTarget
	version string // targetsVersion(list)
}

// targetsOf returns gateway id's targets, read (and their version named)
// at most every gatewayCacheTTL.
func (h *Handler) targetsOf(ctx context.Context, id string) (gatewayTargets, error) {
	if t, ok := h.targets.Get(id, h.now()); ok {
		return t, nil
	}
	list, err := h.Store.ListGatewayTargets(ctx, id, behalf.ListOptions{})
	if err != nil {
		return gatewayTargets{}, err
	}
	t := gatewayTargets{list, targetsVersion(list)}
	h.targets.Put(id, t, h.now().Add(gatewayCacheTTL))
	return t, nil
}

// targetsVersion names the targets' configuration a server is built from
// (with the gateway's UpdatedAt, which every gateway change moves).
func targetsVersion(targets []*behalf.GatewayTarget) string {
	var b strings.Builder
	for _, t := range targets {
		b.WriteString("\x00" + t.ID + "@" + t.UpdatedAt.Format(time.RFC3339Nano) + "/" + t.Status)
		if t.SyncedAt != (time.Time{}) {
			b.WriteString("/" + t.SyncedAt.Format(time.RFC3339Nano))
		}
	}
	return b.String()
}

// addRemoteTools adds MCP-server target t's tools to s. A target that is
// not READY or cannot be listed adds none.
func (h *Handler) addRemoteTools(ctx context.Context, s *mcp.Server, c *caller, t *behalf.GatewayTarget) {
	if t.Status != behalf.GatewayReady {
		return // waiting for consent, or its listing failed
	}
	tools, err := h.remoteTools(ctx, c.gw, t)
	if err != nil {
		h.Log.WarnContext(ctx, "gateway: MCP server's tools", "gateway", c.gw.ID, "target", t.ID, "err", clip(err.Error(), 300))
		return
	}
	for _, tool := range tools {
		name, target := tool.Name, t
		s.AddTool(&mcp.Tool{Name: t.Name + ToolSeparator + tool.Name, Title: tool.Title, Description: tool.Description,
			InputSchema: tool.InputSchema, Annotations: tool.Annotations},
			func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				c := callerFrom(ctx)
				if c == nil || c.gw.ID != target.GatewayID {
					return toolError("no caller for this call"), nil
				}
				return h.callRemote(ctx, c, target, name, req)
			})
	}
}

// toolsOf returns an OpenAPI target's tools, parsed once per version.
func (h *Handler) toolsOf(ctx context.Context, t *behalf.GatewayTarget) ([]Tool, error) {
	key := t.GatewayID + "/" + t.ID + "@" + t.UpdatedAt.Format(time.RFC3339Nano)
	if tools, ok := h.tools.Get(key, h.now()); ok {
		return tools, nil
	}
	// The document was checked when it was stored; the servers are checked
	// again (an admin may have narrowed --allow-private-endpoints since),
	// and the transport checks every address it connects to.
	tools, err := ParseOpenAPI(ctx, t.OpenAPI, safehttp.Options{AllowPrivate: h.AllowPrivate, Resolver: h.Resolver}, "openApiSchema")
	if err != nil {
		return nil, err
	}
	h.tools.Put(key, tools, h.now().Add(10*time.Minute))
	return tools, nil
}

// toolError is a tools/call answer that reports a failure to the model.
func toolError(format string, args ...any) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf(format, args...)}}}
}

// errElicit carries the URL elicitation a call needs.
type errElicit struct{ url string }

func (e *errElicit) Error() string { return "consent required" }

// credentialFailure answers a tools/call of t's tool whose credential
// could not be obtained: the URL elicitation the user's consent needs, or
// a tool error.
func credentialFailure(err error, t *behalf.GatewayTarget, tool string) (*mcp.CallToolResult, error) {
	var el *errElicit
	if errors.As(err, &el) {
		return nil, mcp.URLElicitationRequiredError([]*mcp.ElicitParams{{
			Mode: "url", ElicitationID: randid.Hex(16), URL: el.url,
			Message: fmt.Sprintf("Tool %s%s%s needs your consent at the provider %s: open this URL to authorize it, then call the tool again.", t.Name, ToolSeparator, tool, t.Credentials[0].Provider),
		}})
	}
	return toolError("The credential for target %s could not be obtained: %s", t.Name, behalf.ErrorMessage(err)), nil
}

// call runs one tools/call: the target's credential, then the operation.
func (h *Handler) call(ctx context.Context, c *caller, t *behalf.GatewayTarget, tool *Tool, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	args := map[string]any{}
	if raw := req.Params.Arguments; len(raw) > 0 && string(raw) != "null" {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&args); err != nil {
			return toolError("The arguments must be a JSON object: %v", err), nil
		}
	}
	u, header, body, err := tool.BuildRequest(args)
	if err != nil {
		return toolError("%v", err), nil
	}
	if len(t.Credentials) > 0 {
		cred := t.Credentials[0]
		secret, err := h.credential(ctx, c, cred)
		if err != nil {
			return credentialFailure(err, t, tool.Name)
		}
		switch {
		case cred.Type == behalf.CredentialAPIKey && cred.Location == behalf.APIKeyInQuery:
			q := u.Query()
			q.Set(cred.ParameterName, secret.Reveal())
			u.RawQuery = q.Encode()
		case cred.Type == behalf.CredentialAPIKey:
			v := secret.Reveal()
			if cred.Prefix != "" {
				v = cred.Prefix + " " + v
			}
			header[cred.ParameterName] = v
		default:
			header["Authorization"] = "Bearer " + secret.Reveal()
		}
	}
	callCtx, cancel := context.WithTimeout(ctx, h.CallTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	out, err := http.NewRequestWithContext(callCtx, tool.Method, u.String(), rd)
	if err != nil {
		return toolError("The operation's request could not be built: %v", err), nil
	}
	for k, v := range header {
		out.Header.Set(k, v)
	}
	if body != nil {
		out.Header.Set("Content-Type", "application/json")
	}
	out.Header.Set("Accept", "application/json")
	out.Header.Set("User-Agent", "behalf-gateway")
	resp, err := h.client.Do(out)
	if err != nil {
		if errors.Is(callCtx.Err(), context.DeadlineExceeded) {
			return toolError("Target %s did not answer within %s.", t.Name, h.CallTimeout), nil
		}
		return toolError("Target %s could not be reached: %s", t.Name, clip(safehttp.Describe("the target", err), 300)), nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, h.MaxResponseBytes+1))
	if err != nil {
		if errors.Is(callCtx.Err(), context.DeadlineExceeded) {
			return toolError("Target %s did not finish its answer within %s.", t.Name, h.CallTimeout), nil
		}
		return toolError("Target %s's answer could not be read: %v", t.Name, err), nil
	}
	if int64(len(data)) > h.MaxResponseBytes {
		return toolError("Target %s answered more than %d bytes.", t.Name, h.MaxResponseBytes), nil
	}
	if !utf8.Valid(data) {
		return toolError("Target %s answered %s with a body that is not UTF-8 text.", t.Name, resp.Status), nil
	}
	if resp.StatusCode >= 300 {
		return toolError("Target %s answered %s: %s", t.Name, resp.Status, clip(string(data), 2000)), nil
	}
	if ct := resp.Header.Get("Content-Type"); strings.Contains(ct, "json") && len(data) > 0 && !json.Valid(data) {
		return toolError("Target %s answered malformed JSON.", t.Name), nil
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(data)}}}, nil
}

// credential obtains a target's outbound credential through the gateway's
// workload identity: the API key, a client-credentials token, or the
// signed-in user's token from the vault (an *errElicit when the user has
// not consented yet).
func (h *Handler) credential(ctx context.Context, c *caller, cred behalf.GatewayCredential) (behalf.Secret, error) {
	workload := c.gw.Workload
	// The data plane checks that its caller may act for the workload.
	dctx := behalf.WithPrincipal(ctx, behalf.Principal{AccessKeyID: "gateway/" + c.gw.ID, Name: behalf.WorkloadPrincipal(workload)})
	user := cred.Type == behalf.CredentialOAuth && cred.GrantType == behalf.GrantAuthorizationCode
	if user && c.claims == nil && c.userID == "" {
		return "", behalf.Errorf(behalf.EFORBIDDEN, "this tool acts for a signed-in user, and gateway %s has no authorizer to sign users in", c.gw.ID)
	}
	var (
		wat behalf.Secret
		err error
	)
	if user && c.userID != "" {
		wat, err = h.DataPlane.WorkloadAccessTokenForUserID(dctx, workload, c.userID)
	} else {
		wat, err = h.wat(ctx, workload, c, user)
	}
	if err != nil {
		return "", err
	}
	switch {
	case cred.Type == behalf.CredentialAPIKey:
		return h.DataPlane.ResourceAPIKey(dctx, wat, cred.Provider)
	case !user:
		res, err := h.DataPlane.ResourceOAuth2Token(dctx, behalf.TokenRequest{WorkloadToken: wat, Provider: cred.Provider,
			Scopes: cred.Scopes, Flow: behalf.FlowM2M, CustomParameters: cred.CustomParameters})
		if err != nil {
			return "", err
		}
		return res.AccessToken, nil
	}
	returnURL := cred.DefaultReturnURL
	if returnURL == "" {
		// Behalf's binding page: only the user's own browser, signed in
		// as them at the gateway workload's sign-in provider, completes it.
		returnURL = h.PublicURL + behalf.BindPath
	}
	res, err := h.DataPlane.ResourceOAuth2Token(dctx, behalf.TokenRequest{WorkloadToken: wat, Provider: cred.Provider,
		Scopes: cred.Scopes, Flow: behalf.FlowUserFederation, ReturnURL: returnURL, CustomParameters: cred.CustomParameters})
	if err != nil {
		return "", err
	}
	if res.AccessToken.IsZero() {
		if res.AuthorizationURL == "" {
			return "", behalf.Errorf(behalf.EUNAVAILABLE, "the authorization session %s", strings.ToLower(res.SessionStatus))
		}
		return "", &errElicit{url: res.AuthorizationURL}
	}
	return res.AccessToken, nil
}

// wat returns the gateway workload's access token, for the signed-in user
// when forUser, cached until shortly before it expires.
func (h *Handler) wat(ctx context.Context, workload string, c *caller, forUser bool) (behalf.Secret, error) {
	cred := "workload"
	if forUser {
		cred = "jwt\x00" + c.token
	}
	key := sha256.Sum256([]byte(workload + "\x00" + cred))
	if tok, ok := h.wats.Get(key, h.now()); ok {
		return tok, nil
	}
	var (
		tok behalf.Secret
		exp time.Time
		err error
	)
	if forUser {
		cl := c.claims
		tok, exp, err = h.WATs.MintForRuntime(ctx, workload, cl.User(), behalf.Secret(c.token), cl.Expiry, behalf.TokenIssuedAt(cl.IssuedAt, cl.Raw))
	} else {
		tok, exp, err = h.WATs.MintForRuntime(ctx, workload, behalf.User{}, "", time.Time{}, time.Time{})
	}
	if err != nil {
		return "", err
	}
	if refresh := exp.Add(-watRefreshMargin); h.now().Before(refresh) {
		h.wats.Put(key, tok, refresh)
	}
	return tok, nil
}
