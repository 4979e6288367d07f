package api

import (
	"context"
	"net/http"

	"github.com/behalf-dev/behalf"
)

// RuntimeSessionStopper ends runtime sessions (an *agentruntime.Gateway).
type RuntimeSessionStopper interface {
	// StopRuntimeSession ends session id of the runtime ident (an ARN or
	// id) on endpoint qualifier ("" for DEFAULT), for principal p.
	StopRuntimeSession(ctx context.Context, p behalf.Principal, ident, qualifier, id string) error
}

// headerSessionID carries StopRuntimeSession's runtimeSessionId, both ways.
const headerSessionID = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"

// withHeaders is a response document with response headers.
type withHeaders struct {
	header map[string]string
	body   any
}

// stopRuntimeSession serves StopRuntimeSession (data plane):
// POST /runtimes/{agentRuntimeArn}/stopruntimesession?qualifier=..., the
// session id in its header; 200 with the id in the same header.
func (s *Server) stopRuntimeSession(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		ClientToken string `json:"clientToken"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	ids := req.Header.Values(headerSessionID)
	if len(ids) != 1 || ids[0] == "" {
		return 0, nil, behalf.Invalid("runtimeSessionId", "Send the session id in one %s header.", headerSessionID)
	}
	if s.RuntimeSessions == nil {
		return 0, nil, behalf.Errorf(behalf.ENOTFOUND, "This server serves no agent runtimes.")
	}
	p, _ := behalf.PrincipalFrom(ctx)
	if err := s.RuntimeSessions.StopRuntimeSession(ctx, p, req.PathValue("agentRuntimeArn"), req.URL.Query().Get("qualifier"), ids[0]); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, withHeaders{header: map[string]string{headerSessionID: ids[0]}, body: struct{}{}}, nil
}
