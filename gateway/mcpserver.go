package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
)

// MCP-server targets: the gateway is an MCP client of the remote server
// (the Go SDK's client over streamable HTTP, through the SSRF-guarded
// transport). Its tools are listed with the target's outbound credential
// and cached per target version (a target's UpdatedAt, which Create,
// Update and SynchronizeGatewayTargets move), and per user when the
// credential is the user's own; tools/call opens a session, calls the
// remote tool and closes it, bounded by CallTimeout and MaxResponseBytes.
// The MCP client's own token never reaches the remote server.

const (
	// maxRemoteTools bounds the tools one MCP-server target contributes.
	maxRemoteTools = 1000
	// remoteToolsTTL bounds how long a remote tool list is used.
	remoteToolsTTL = 10 * time.Minute
	// remoteFailureTTL is how long a failed listing is not tried again.
	remoteFailureTTL = 30 * time.Second
)

// toolNamePattern is what MCP allows in a tool name.
var toolNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// errTooLarge is a remote answer over MaxResponseBytes.
var errTooLarge = errors.New("behalf-gateway: answer over the size limit")

// credTransport adds a target's outbound credential to every request to
// the remote server, and bounds every answer's body.
type credTransport struct {
	base   http.RoundTripper
	cred   *behalf.GatewayCredential // nil: none
	secret behalf.Secret
	limit  int64
}

func (ct *credTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("Authorization")
	r.Header.Set("User-Agent", "behalf-gateway")
	if c := ct.cred; c != nil {
		switch {
		case c.Type == behalf.CredentialAPIKey && c.Location == behalf.APIKeyInQuery:
			q := r.URL.Query()
			q.Set(c.ParameterName, ct.secret.Reveal())
			r.URL.RawQuery = q.Encode()
		case c.Type == behalf.CredentialAPIKey:
			v := ct.secret.Reveal()
			if c.Prefix != "" {
				v = c.Prefix + " " + v
			}
			r.Header.Set(c.ParameterName, v)
		default:
			r.Header.Set("Authorization", "Bearer "+ct.secret.Reveal())
		}
	}
	resp, err := ct.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: ct.limit}
	return resp, nil
}

// limitedBody fails a read past its limit rather than truncating.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, errTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// credError is a failure to obtain a target's outbound credential.
type credError struct{ err error }

func (e *credError) Error() string { return e.err.Error() }
func (e *credError) Unwrap() error { return e.err }

// connect opens an MCP session with t's server, with t's credential for c.
// The credential's errors come back as a *credError.
func (h *Handler) connect(ctx context.Context, c *caller, t *behalf.GatewayTarget) (*mcp.ClientSession, error) {
	ct := &credTransport{base: h.client.Transport, limit: h.MaxResponseBytes}
	if len(t.Credentials) > 0 {
		cred := t.Credentials[0]
		secret, err := h.credential(ctx, c, cred)
		if err != nil {
			return nil, &credError{err}
		}
		ct.cred, ct.secret = &cred, secret
	}
	hc := &http.Client{Transport: ct, Timeout: h.CallTimeout, CheckRedirect: h.client.CheckRedirect}
	client := mcp.NewClient(&mcp.Implementation{Name: "behalf-gateway", Version: "1.0.0"}, nil)
	return client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: t.Endpoint, HTTPClient: hc,
		MaxRetries: -1, DisableStandaloneSSE: true}, nil)
}

// remoteError describes a failure to reach or use t's server.
func (h *Handler) remoteError(ctx context.Context, t *behalf.GatewayTarget, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("MCP server of target %s did not answer within %s.", t.Name, h.CallTimeout)
	// The SDK does not always wrap its transport's errors.
	case errors.Is(err, errTooLarge) || strings.Contains(err.Error(), errTooLarge.Error()):
		return fmt.Sprintf("MCP server of target %s answered more than %d bytes.", t.Name, h.MaxResponseBytes)
	}
	var (
		je *jsonrpc.Error
		se *safehttp.Error
	)
	switch {
	case errors.As(err, &je):
		return fmt.Sprintf("MCP server of target %s answered error %d: %s", t.Name, je.Code, clip(je.Message, 1000))
	case errors.As(err, &se):
		return fmt.Sprintf("MCP server of target %s could not be reached: %s", t.Name, clip(safehttp.Describe("the MCP server", err), 500))
	}
	// The SDK's own words: the HTTP status or the protocol's failure
	// (requests are built by the SDK: their URLs carry no credential).
	return fmt.Sprintf("MCP server of target %s failed: %s", t.Name, clip(err.Error(), 500))
}

// remoteToolsKey identifies a target version's tool list: its
// configuration and its last synchronization.
func remoteToolsKey(t *behalf.GatewayTarget) string {
	return t.GatewayID + "/" + t.ID + "@" + t.UpdatedAt.Format(time.RFC3339Nano) + "@" + t.SyncedAt.Format(time.RFC3339Nano)
}

// perUser reports whether t's credential is the signed-in user's token.
func perUser(t *behalf.GatewayTarget) bool {
	return len(t.Credentials) > 0 && t.Credentials[0].Type == behalf.CredentialOAuth &&
		t.Credentials[0].GrantType == behalf.GrantAuthorizationCode
}

// SyncTarget lists MCP-server target t's tools and caches them for t's
// version (Syncer). A target with the user's own OAuth token lists as the
// user t.AuthUserID; without that user's consent the answer is the URL
// where an admin consents for it.
func (h *Handler) SyncTarget(ctx context.Context, g *behalf.Gateway, t *behalf.GatewayTarget) (string, error) {
	h.init()
	_, err := h.remoteTools(ctx, g, t)
	var (
		ce *credError
		el *errElicit
	)
	switch {
	case errors.As(err, &el):
		return el.url, nil
	case errors.As(err, &ce):
		return "", behalf.Errorf(behalf.EUNAVAILABLE, "The credential for target %s could not be obtained: %s", t.Name, behalf.ErrorMessage(ce.err))
	case err != nil:
		return "", behalf.Errorf(behalf.EUNAVAILABLE, "%s", err.Error())
	}
	return "", nil
}

// remoteTools returns the tools of MCP-server target t, as the gateway
// lists them (names without the target's prefix), cached per target
// version. A target with the user's own OAuth token lists as the user
// t.AuthUserID, whom an admin consented for.
// A failed listing is kept remoteFailureTTL, so that a server that is down
// does not hold every request to the gateway for CallTimeout.
func (h *Handler) remoteTools(ctx context.Context, g *behalf.Gateway, t *behalf.GatewayTarget) ([]*mcp.Tool, error) {
	key := remoteToolsKey(t)
	if l, ok := h.remote.Get(key, h.now()); ok {
		return l.tools, l.err
	}
	tools, err := h.listRemote(ctx, g, t)
	ttl := remoteToolsTTL
	if err != nil {
		ttl = remoteFailureTTL
	}
	h.remote.Put(key, remoteListing{tools, err}, h.now().Add(ttl))
	return tools, err
}

// remoteListing is a cached tools/list of an MCP-server target.
type remoteListing struct {
	tools []*mcp.Tool
	err   error
}

// listRemote lists t's tools.
func (h *Handler) listRemote(ctx context.Context, g *behalf.Gateway, t *behalf.GatewayTarget) ([]*mcp.Tool, error) {
	ctx, cancel := context.WithTimeout(ctx, h.CallTimeout)
	defer cancel()
	lister := &caller{gw: g}
	if perUser(t) {
		if t.AuthUserID == "" {
			return nil, errors.New("the target has no user to list its tools as; synchronize it")
		}
		lister.userID = t.AuthUserID
	}
	s, err := h.connect(ctx, lister, t)
	if err != nil {
		var ce *credError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, errors.New(h.remoteError(ctx, t, err))
	}
	defer s.Close()
	var tools []*mcp.Tool
	for tool, err := range s.Tools(ctx, nil) {
		if err != nil {
			return nil, errors.New(h.remoteError(ctx, t, err))
		}
		if len(tools) == maxRemoteTools {
			break
		}
		if !toolNamePattern.MatchString(t.Name+ToolSeparator+tool.Name) || !objectSchema(tool.InputSchema) {
			h.Log.WarnContext(ctx, "gateway: remote tool skipped", "gateway", t.GatewayID, "target", t.ID, "tool", clip(tool.Name, 130))
			continue
		}
		tools = append(tools, &mcp.Tool{Name: tool.Name, Title: tool.Title, Description: tool.Description,
			InputSchema: tool.InputSchema, Annotations: tool.Annotations})
	}
	return tools, nil
}

// objectSchema reports whether schema is a JSON object of type "object",
// as MCP wants of an input schema.
func objectSchema(schema any) bool {
	m, ok := schema.(map[string]any)
	return ok && m["type"] == "object"
}

// callRemote runs one tools/call on t's server: the remote tool named
// name with the caller's arguments. A remote failure is a tool error.
func (h *Handler) callRemote(ctx context.Context, c *caller, t *behalf.GatewayTarget, name string, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var args any = map[string]any{}
	if raw := req.Params.Arguments; len(raw) > 0 && string(raw) != "null" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return toolError("The arguments must be a JSON object: %v", err), nil
		}
		args = json.RawMessage(raw)
	}
	ctx, cancel := context.WithTimeout(ctx, h.CallTimeout)
	defer cancel()
	s, err := h.connect(ctx, c, t)
	if err != nil {
		var ce *credError
		if errors.As(err, &ce) {
			return credentialFailure(ce.err, t, name)
		}
		return toolError("%s", h.remoteError(ctx, t, err)), nil
	}
	defer s.Close()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return toolError("%s", h.remoteError(ctx, t, err)), nil
	}
	return &mcp.CallToolResult{Content: res.Content, StructuredContent: res.StructuredContent, IsError: res.IsError}, nil
}
