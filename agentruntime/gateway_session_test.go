package agentruntime

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// sessionHarness is two gateways (two replicas) over one SQLite store, with
// a SigV4 runtime whose versions reach two different agents.
type sessionHarness struct {
	*gatewayHarness
	db     *sqlstore.DB
	svc    *Service
	other  *testAgent // the agent of even versions; h.agent serves odd ones
	rt     *behalf.AgentRuntime
	second *Gateway
}

func newSessionHarness(t *testing.T) *sessionHarness {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "behalf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &sessionHarness{db: db, other: newTestAgent(t)}
	h.gatewayHarness = newHarness(t, func(g *Gateway, _ *httptest.Server) {
		g.Runtimes, g.Versions, g.SessionStore = db, db, db
	})
	h.svc = &Service{Store: db, AllowPrivate: true, Now: h.clock.Now}
	h.rt, err = h.svc.CreateAgentRuntime(t.Context(), behalf.AgentRuntimeInput{
		Name: "sess_agent", ContainerURI: h.agent.srv.URL, IdleSessionTimeout: 60, MaxLifetime: 600,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.second = &Gateway{Runtimes: db, Versions: db, SessionStore: db, WATs: h.gw.WATs, SigV4: h.gw.SigV4,
		AllowPrivate: true, Region: testRegion, Account: testAccount, Now: h.clock.Now}
	return h
}

// update makes a new version of the runtime, on the agent of its parity,
// and lets the gateways' runtime caches expire.
func (h *sessionHarness) update() string {
	h.t.Helper()
	cur, err := h.svc.GetAgentRuntime(h.t.Context(), h.rt.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	uri := h.other.srv.URL
	if cur.Version == "2" || cur.Version == "4" {
		uri = h.agent.srv.URL
	}
	up, err := h.svc.UpdateAgentRuntime(h.t.Context(), h.rt.ID, behalf.AgentRuntimeInput{ContainerURI: uri, IdleSessionTimeout: 60, MaxLifetime: 600})
	if err != nil {
		h.t.Fatal(err)
	}
	h.clock.Advance(RuntimeCacheTTL + time.Second)
	return up.Version
}

// invoke calls the runtime on qualifier with session id (none if "") and
// returns which agent answered: "odd" or "even".
func (h *sessionHarness) invoke(qualifier, session string) string {
	h.t.Helper()
	before, beforeOther := h.agent.count(), h.other.count()
	resp, body := h.send(qualifier, session, "AKROOT")
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("invoke %s %s: %d %s", qualifier, session, resp.StatusCode, body)
	}
	switch {
	case h.agent.count() == before+1 && h.other.count() == beforeOther:
		return "odd"
	case h.other.count() == beforeOther+1 && h.agent.count() == before:
		return "even"
	}
	h.t.Fatal("no agent (or both) answered")
	return ""
}

func (h *sessionHarness) send(qualifier, session, key string) (*http.Response, []byte) {
	u := strings.Replace(invokeURL(h.srv.URL, arn(h.rt)), "qualifier=DEFAULT", "qualifier="+qualifier, 1)
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader("{}"))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if session != "" {
		req.Header.Set(HeaderSessionID, session)
	}
	signV4(h.t, req, "{}", key)
	return do(h.t, req)
}

func (h *sessionHarness) stop(g *Gateway, qualifier, session string) error {
	return g.StopRuntimeSession(h.t.Context(), behalf.Principal{Name: behalf.RootPrincipal}, arn(h.rt), qualifier, session)
}

const (
	sessA = "session-a-0123456789012345678901234567"
	sessB = "session-b-0123456789012345678901234567"
	sessC = "session-c-0123456789012345678901234567"
)

func TestGatewayEndpointsAndSessions(t *testing.T) {
	h := newSessionHarness(t)
	ctx := t.Context()
	if v := h.update(); v != "2" { // version 2: the even agent
		t.Fatalf("version %s", v)
	}
	if _, err := h.svc.CreateAgentRuntimeEndpoint(ctx, behalf.AgentRuntimeEndpointInput{RuntimeID: h.rt.ID, Name: "prod", Version: "1"}); err != nil {
		t.Fatal(err)
	}

	// The qualifier picks the endpoint, and so the version.
	if got := h.invoke("DEFAULT", ""); got != "even" {
		t.Fatalf("DEFAULT reached the %s agent", got)
	}
	if got := h.invoke("prod", ""); got != "odd" {
		t.Fatalf("prod reached the %s agent", got)
	}
	resp, body := h.send("nope", "", "AKROOT")
	wantError(t, resp, body, http.StatusNotFound, "ResourceNotFoundException")
	// Invocations without a session id leave no session behind.
	if err := h.gw.FlushSessions(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := h.db.DeleteExpiredRuntimeSessions(ctx, h.clock.Now().Add(24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("sessionless invocations left %d sessions (%v)", n, err)
	}

	// A session stays on the version it started on.
	if got := h.invoke("DEFAULT", sessA); got != "even" {
		t.Fatalf("session A started on the %s agent", got)
	}
	h.update() // version 3: odd
	if got := h.invoke("DEFAULT", sessA); got != "even" {
		t.Fatalf("session A moved to the %s agent after an update", got)
	}
	if got := h.invoke("DEFAULT", sessB); got != "odd" {
		t.Fatalf("a new session reached the %s agent", got)
	}

	// StopRuntimeSession ends it: the next invocation starts over on the
	// current version.
	if err := h.stop(h.gw, "", sessA); err != nil {
		t.Fatal(err)
	}
	if got := h.invoke("DEFAULT", sessA); got != "odd" {
		t.Fatalf("stopped session A came back on the %s agent", got)
	}
	if err := h.stop(h.gw, "DEFAULT", sessA); err != nil {
		t.Fatal(err)
	}
	if err := h.stop(h.gw, "", sessA); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("stopping twice: %v", err)
	}
	if err := h.stop(h.gw, "", sessC); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("stopping an unknown session: %v", err)
	}
	if err := h.stop(h.gw, "prod", sessB); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("stopping a session on another endpoint: %v", err)
	}
	if err := h.stop(h.gw, "nope", sessB); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("stopping on an unknown endpoint: %v", err)
	}
	if err := h.stop(h.gw, "", "short"); behalf.ErrorCode(err) != behalf.EINVALID {
		t.Fatalf("stopping a malformed id: %v", err)
	}
	other := behalf.Principal{Name: "workload/someone-else"}
	if err := h.gw.StopRuntimeSession(ctx, other, arn(h.rt), "", sessB); behalf.ErrorCode(err) != behalf.EFORBIDDEN {
		t.Fatalf("a key of another workload stopped a session: %v", err)
	}

	// Another replica: it knows session B once it is written, and stops it
	// for both.
	if err := h.stop(h.second, "", sessB); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("the other replica knew session B before it was written: %v", err)
	}
	if err := h.gw.FlushSessions(ctx); err != nil {
		t.Fatal(err)
	}
	h.update() // version 4: even
	if got := h.invoke("DEFAULT", sessB); got != "odd" {
		t.Fatalf("session B moved to the %s agent", got)
	}
	if err := h.gw.FlushSessions(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.stop(h.second, "", sessB); err != nil {
		t.Fatalf("the other replica could not stop session B: %v", err)
	}
	h.clock.Advance(RuntimeCacheTTL + time.Second)
	if got := h.invoke("DEFAULT", sessB); got != "even" {
		t.Fatalf("session B stopped on another replica still reached the %s agent", got)
	}

	// Idle sessions end.
	if got := h.invoke("DEFAULT", sessC); got != "even" {
		t.Fatalf("session C started on the %s agent", got)
	}
	if err := h.gw.FlushSessions(ctx); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(61 * time.Second)
	if err := h.stop(h.gw, "", sessC); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("stopping an idle-expired session: %v", err)
	}
	if n, err := h.db.DeleteExpiredRuntimeSessions(ctx, h.clock.Now()); err != nil || n == 0 {
		t.Fatalf("DeleteExpiredRuntimeSessions = %d, %v", n, err)
	}
}
