package agentruntime

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/pooltoken"
)

// Ensure a valid bearer invocation reaches the agent with what the
// AgentCore HTTP contract delivers (WAT under both names, a generated
// session id, the request id, the callback URL, allowlisted headers) and
// nothing the caller forged, and that the answer comes back unchanged.
func TestGatewayJWTDelivers(t *testing.T) {
	h := newHarness(t)
	h.agent.setHandler(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.agent.record(r, body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Agent", "yes")
		w.Header().Set(HeaderSessionID, "agent-would-lie")
		w.Header().Set("X-Amzn-ErrorType", "Forged")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"ok":true}`))
	})
	tok := h.idp.token(t, h.idp.claims(h.clock.Now()))
	req := h.bearerRequest(tok, `{"prompt":"hi"}`)
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant", "acme")
	req.Header.Set("X-Team", "blue")
	req.Header.Set("X-Amzn-Bedrock-AgentCore-Runtime-Custom-Other", "not allowlisted")
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	// Forgeries: none of these may reach the agent as sent.
	req.Header.Set(HeaderWAT, "forged-wat")
	req.Header.Set(HeaderWATLegacy, "forged-wat")
	req.Header.Set(HeaderCallbackURL, "https://evil.example/steal")
	req.Header.Set(HeaderRequestID, "forged-request")
	req.Header.Set("Cookie", "session=secret")
	req.Header.Set("X-Forwarded-For", "10.0.0.1")

	resp, body := do(t, req)
	if resp.StatusCode != http.StatusCreated || string(body) != `{"ok":true}` {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Agent") != "yes" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("agent headers not passed back: %v", resp.Header)
	}
	if resp.Header.Get("X-Amzn-ErrorType") != "" {
		t.Errorf("agent's X-Amzn-ErrorType passed back")
	}
	got := h.agent.last(t)
	if got.path != "/invocations" || string(got.body) != `{"prompt":"hi"}` {
		t.Errorf("agent got %s %q", got.path, got.body)
	}
	sid := got.header.Get(HeaderSessionID)
	if len(sid) != 36 || resp.Header.Get(HeaderSessionID) != sid {
		t.Errorf("session id %q, echoed %q", sid, resp.Header.Get(HeaderSessionID))
	}
	want := "wat-1|jwt_agent-wl|" + h.idp.srv.URL + "|user-1"
	for _, name := range []string{HeaderWAT, HeaderWATLegacy} {
		if v := got.header.Values(name); len(v) != 1 || v[0] != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	checks := map[string]string{
		HeaderCallbackURL: "https://app.example/oauth2/callback",
		"Content-Type":    "application/json",
		"Accept":          "application/json, text/event-stream",
		"Authorization":   "Bearer " + tok, // allowlisted
		"X-Amzn-Bedrock-Agentcore-Runtime-Custom-Tenant": "acme",
		"X-Team":      "blue",
		"Traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"X-Amzn-Bedrock-Agentcore-Runtime-Custom-Other": "",
		"Cookie":          "",
		"X-Forwarded-For": "",
	}
	for name, v := range checks {
		if g := got.header.Values(name); strings.Join(g, ",") != v {
			t.Errorf("agent header %s = %q, want %q", name, g, v)
		}
	}
	if rid := got.header.Get(HeaderRequestID); rid == "" || rid == "forged-request" {
		t.Errorf("request id %q", rid)
	}
}

// Ensure a client's session id is checked and, when valid, used and echoed.
func TestGatewaySessionID(t *testing.T) {
	h := newHarness(t)
	tok := h.idp.token(t, h.idp.claims(h.clock.Now()))
	good := "session-0123456789abcdefghijklmnopqrstuvwxyz"
	req := h.bearerRequest(tok, `{}`)
	req.Header.Set(HeaderSessionID, good)
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK || resp.Header.Get(HeaderSessionID) != good || h.agent.last(t).header.Get(HeaderSessionID) != good {
		t.Fatalf("status %d %s, session %q", resp.StatusCode, body, resp.Header.Get(HeaderSessionID))
	}
	for name, bad := range map[string]string{
		"too short":   "short-session-id",
		"32 chars":    strings.Repeat("a", 32),
		"257 chars":   strings.Repeat("a", 257),
		"spaces":      "session with spaces in it that is long enough",
		"slash":       "session/0123456789abcdefghijklmnopqrstuvwxyz",
		"leading dot": ".session-0123456789abcdefghijklmnopqrstuvwxyz",
	} {
		req := h.bearerRequest(tok, `{}`)
		req.Header.Set(HeaderSessionID, bad)
		resp, body := do(t, req)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d %s", name, resp.StatusCode, body)
			continue
		}
		wantError(t, resp, body, http.StatusBadRequest, "ValidationException")
	}
	if n := h.agent.count(); n != 1 {
		t.Errorf("agent called %d times, want 1", n)
	}
}

// Ensure the authorizer refuses every token it should, with 401 for a
// missing or invalid token and 403 for claims it does not allow.
func TestGatewayJWTAttacks(t *testing.T) {
	h := newHarness(t)
	h.jwtRT.Authorizer = &behalf.JWTAuthorizer{
		DiscoveryURL:    h.idp.discoveryURL(),
		AllowedClients:  []string{"app-client", "other-client"},
		AllowedAudience: []string{"agents"},
		AllowedScopes:   []string{"agent:invoke", "agent:admin"},
		CustomClaims: []behalf.ClaimRule{
			{Name: "tenant", ValueType: behalf.ClaimString, Operator: behalf.ClaimEquals, Value: "acme"},
			{Name: "groups", ValueType: behalf.ClaimStringArray, Operator: behalf.ClaimContains, Value: "staff"},
			{Name: "groups", ValueType: behalf.ClaimStringArray, Operator: behalf.ClaimContainsAny, Values: []string{"beta", "alpha"}},
		},
	}
	now := h.clock.Now()
	with := func(change map[string]any) string {
		c := h.idp.claims(now)
		for k, v := range change {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return h.idp.token(t, c)
	}
	rogue := privateJWK(t, testRSA(1), "k1") // same kid, another key
	cases := []struct {
		name   string
		header string // the whole Authorization header; "" for none
		status int
	}{
		{"valid", "Bearer " + with(nil), 200},
		{"valid, aud as a string", "Bearer " + with(map[string]any{"aud": "agents"}), 200},
		{"no Authorization", "", 401},
		{"empty bearer", "Bearer ", 401},
		{"garbage", "Bearer not-a-jwt", 401},
		{"Basic", "Basic dXNlcjpwYXNz", 401},
		{"expired", "Bearer " + with(map[string]any{"exp": now.Add(-2 * time.Minute).Unix(), "iat": now.Add(-time.Hour).Unix()}), 401},
		{"no exp", "Bearer " + with(map[string]any{"exp": nil}), 401},
		{"not yet valid", "Bearer " + with(map[string]any{"nbf": now.Add(10 * time.Minute).Unix()}), 401},
		{"no subject", "Bearer " + with(map[string]any{"sub": nil}), 401},
		{"other issuer", "Bearer " + with(map[string]any{"iss": "https://evil.example"}), 401},
		{"forged signature", "Bearer " + signToken(t, rogue, h.idp.claims(now)), 401},
		{"alg none", "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(with(nil), ".")[1] + ".", 401},
		{"wrong client", "Bearer " + with(map[string]any{"client_id": "evil-client"}), 403},
		{"no client_id (an ID token)", "Bearer " + with(map[string]any{"client_id": nil}), 403},
		{"wrong audience", "Bearer " + with(map[string]any{"aud": []string{"billing"}}), 403},
		{"no audience", "Bearer " + with(map[string]any{"aud": nil}), 403},
		{"wrong scope", "Bearer " + with(map[string]any{"scope": "openid profile"}), 403},
		{"scope is a prefix", "Bearer " + with(map[string]any{"scope": "agent:invoke-not"}), 403},
		{"other scope allowed", "Bearer " + with(map[string]any{"scope": "agent:admin"}), 200},
		{"tenant mismatch", "Bearer " + with(map[string]any{"tenant": "evil"}), 403},
		{"tenant missing", "Bearer " + with(map[string]any{"tenant": nil}), 403},
		{"tenant as array", "Bearer " + with(map[string]any{"tenant": []string{"acme"}}), 403},
		{"groups lack staff", "Bearer " + with(map[string]any{"groups": []string{"beta"}}), 403},
		{"groups lack beta and alpha", "Bearer " + with(map[string]any{"groups": []string{"staff"}}), 403},
		{"groups as a string", "Bearer " + with(map[string]any{"groups": "staff beta"}), 403},
		{"groups with alpha", "Bearer " + with(map[string]any{"groups": []string{"alpha", "staff"}}), 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := h.request(h.jwtRT, `{}`)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			before := h.agent.count()
			resp, body := do(t, req)
			switch c.status {
			case 200:
				if resp.StatusCode != 200 {
					t.Fatalf("status %d %s", resp.StatusCode, body)
				}
				return
			case 401:
				wantError(t, resp, body, 401, "UnauthorizedException")
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
				}
			case 403:
				wantError(t, resp, body, 403, "AccessDeniedException")
			}
			if h.agent.count() != before {
				t.Error("a refused invocation reached the agent")
			}
		})
	}
}

// Ensure a runtime takes only its own authorization method, and that
// headers a bearer caller may not send are refused.
func TestGatewayMethodMismatch(t *testing.T) {
	h := newHarness(t)
	tok := h.idp.token(t, h.idp.claims(h.clock.Now()))

	// SigV4 (valid root signature) to the JWT runtime.
	req := h.request(h.jwtRT, `{}`)
	signV4(t, req, `{}`, "AKROOT")
	resp, body := do(t, req)
	if msg := wantError(t, resp, body, 403, "AccessDeniedException"); msg != MsgMethodMismatch {
		t.Errorf("message %q", msg)
	}
	// A bearer token to the SigV4 runtime.
	req = h.request(h.sigRT, `{}`)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, body = do(t, req)
	if msg := wantError(t, resp, body, 403, "AccessDeniedException"); msg != MsgMethodMismatch {
		t.Errorf("message %q", msg)
	}
	// A user id alongside a bearer token: the user is the token's.
	req = h.bearerRequest(tok, `{}`)
	req.Header.Set(HeaderUserID, "admin")
	resp, body = do(t, req)
	wantError(t, resp, body, 403, "AccessDeniedException")
	// Nothing at all to a SigV4 runtime.
	resp, body = do(t, h.request(h.sigRT, `{}`))
	wantError(t, resp, body, 403, "AccessDeniedException")
	if h.agent.count() != 0 {
		t.Error("a refused invocation reached the agent")
	}
}

// Ensure SigV4 invocations: keys that may act for the runtime's workload
// get through, with a user WAT when they name a user; others do not; the
// signature never reaches the agent, allowlisted or not.
func TestGatewaySigV4(t *testing.T) {
	h := newHarness(t)
	body := `{"prompt":"sigv4"}`

	req := h.sigv4Request("AKROOT", body)
	resp, got := do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("root: %d %s", resp.StatusCode, got)
	}
	rec := h.agent.last(t)
	if string(rec.body) != body || rec.header.Get(HeaderWAT) != "" || rec.header.Get(HeaderWATLegacy) != "" {
		t.Errorf("without a user id: body %q, WAT %q", rec.body, rec.header.Get(HeaderWAT))
	}
	if rec.header.Get("Authorization") != "" || rec.header.Get("X-Amz-Date") != "" {
		t.Errorf("the SigV4 signature reached the agent: %q", rec.header.Get("Authorization"))
	}
	if rec.header.Get(HeaderCallbackURL) != "" {
		t.Errorf("callback URL %q for a runtime without one", rec.header.Get(HeaderCallbackURL))
	}

	for _, key := range []string{"AKROOT", "AKSCOPED"} {
		req := h.request(h.sigRT, body)
		req.Header.Set(HeaderUserID, "alice@example.com")
		signV4(t, req, body, key)
		resp, got := do(t, req)
		if resp.StatusCode != 200 {
			t.Fatalf("%s with a user: %d %s", key, resp.StatusCode, got)
		}
		rec := h.agent.last(t)
		if w := rec.header.Get(HeaderWAT); !strings.HasSuffix(w, "|sigv4_agent-wl||alice@example.com") || rec.header.Get(HeaderWATLegacy) != w {
			t.Errorf("%s: WAT %q", key, w)
		}
		if rec.header.Get(HeaderUserID) != "" {
			t.Errorf("the user id header reached the agent")
		}
	}
	if n := h.minter.n.Load(); n != 1 {
		t.Errorf("%d mints for one user, want 1 (cached)", n)
	}

	before := h.agent.count()
	// A key scoped to another workload.
	resp, got = do(t, h.sigv4Request("AKOTHER", body))
	wantError(t, resp, got, 403, "AccessDeniedException")
	// An unknown key, a wrong secret, a body changed after signing.
	resp, got = do(t, h.sigv4Request("AKUNKNOWN", body))
	wantError(t, resp, got, 403, "AccessDeniedException")
	req = h.sigv4Request("AKROOT", body)
	req.Body, req.GetBody = io.NopCloser(strings.NewReader(`{"prompt":"evil"}`)), nil
	req.ContentLength = int64(len(`{"prompt":"evil"}`))
	resp, got = do(t, req)
	wantError(t, resp, got, 403, "AccessDeniedException")
	// A bad user id.
	req = h.request(h.sigRT, body)
	req.Header.Set(HeaderUserID, strings.Repeat("u", 129))
	signV4(t, req, body, "AKROOT")
	resp, got = do(t, req)
	wantError(t, resp, got, 400, "ValidationException")
	if h.agent.count() != before {
		t.Error("a refused invocation reached the agent")
	}
}

// Ensure runtimes are found by ARN and by id, and that other ARNs,
// accounts and qualifiers are not found.
func TestGatewayRuntimeLookup(t *testing.T) {
	h := newHarness(t)
	tok := h.idp.token(t, h.idp.claims(h.clock.Now()))
	send := func(u string) (*http.Response, []byte) {
		req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return do(t, req)
	}
	for _, u := range []string{
		invokeURL(h.srv.URL, arn(h.jwtRT)),
		h.srv.URL + "/runtimes/" + h.jwtRT.ID + "/invocations",
		h.srv.URL + "/runtimes/" + h.jwtRT.ID + "/invocations?qualifier=DEFAULT&accountId=" + testAccount,
	} {
		if resp, body := send(u); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", u, resp.StatusCode, body)
		}
	}
	for _, u := range []string{
		invokeURL(h.srv.URL, behalf.AgentRuntimeARN("eu-west-1", testAccount, h.jwtRT.ID)),
		invokeURL(h.srv.URL, behalf.AgentRuntimeARN(testRegion, "999999999999", h.jwtRT.ID)),
		invokeURL(h.srv.URL, behalf.AgentRuntimeARN(testRegion, testAccount, "missing-AbCdEf1234")),
		h.srv.URL + "/runtimes/" + h.jwtRT.ID + "/invocations?accountId=999999999999",
		h.srv.URL + "/runtimes/" + h.jwtRT.ID + "/invocations?qualifier=V2",
	} {
		resp, body := send(u)
		wantError(t, resp, body, 404, "ResourceNotFoundException")
	}
	resp, body := send(invokeURL(h.srv.URL, "arn:aws:iam::123456789012:role/x"))
	wantError(t, resp, body, 400, "ValidationException")
}

// Ensure an agent that is down is a 424 RuntimeClientError, and that an
// agent's own error statuses pass through.
func TestGatewayAgentDown(t *testing.T) {
	h := newHarness(t)
	tok := h.idp.token(t, h.idp.claims(h.clock.Now()))
	h.agent.setHandler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":"boom"}`))
	})
	resp, body := do(t, h.bearerRequest(tok, `{}`))
	if resp.StatusCode != 500 || string(body) != `{"error":"boom"}` {
		t.Errorf("agent error: %d %s", resp.StatusCode, body)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	h.jwtRT.ContainerURI = dead
	h.gw.runtimes.Clear() // forget the cached runtime
	resp, body = do(t, h.bearerRequest(tok, `{}`))
	if msg := wantError(t, resp, body, 424, "RuntimeClientError"); msg != MsgAgentUnreachable {
		t.Errorf("message %q, want %q", msg, MsgAgentUnreachable)
	}
}

// Ensure a workload access token is minted once per bearer token and
// reused until shortly before it expires, also under concurrency.
func TestGatewayWATCache(t *testing.T) {
	h := newHarness(t)
	now := h.clock.Now()
	claims := h.idp.claims(now)
	claims["exp"] = now.Add(10 * time.Minute).Unix()
	tok := h.idp.token(t, claims)
	watOf := func(tok string) string {
		t.Helper()
		resp, body := do(t, h.bearerRequest(tok, `{}`))
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		return h.agent.last(t).header.Get(HeaderWAT)
	}
	first := watOf(tok)
	if second := watOf(tok); second != first || h.minter.n.Load() != 1 {
		t.Fatalf("second invocation: WAT %q after %q, %d mints", second, first, h.minter.n.Load())
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := h.bearerRequest(tok, `{}`)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if n := h.minter.n.Load(); n != 1 {
		t.Fatalf("%d mints after concurrent invocations, want 1", n)
	}
	// Another token of the same user is another credential: its own WAT.
	claims["jti"] = "another"
	if other := watOf(h.idp.token(t, claims)); other == first || h.minter.n.Load() != 2 {
		t.Fatalf("another token: WAT %q, %d mints", other, h.minter.n.Load())
	}
	// Within WATRefreshMargin of the expiry, a new WAT.
	h.clock.Advance(10*time.Minute - WATRefreshMargin + time.Second)
	if third := watOf(tok); third == first || h.minter.n.Load() != 3 {
		t.Fatalf("near expiry: WAT %q, %d mints", third, h.minter.n.Load())
	}
	// A runtime whose workload identity is gone.
	h.jwtRT.Workload = "gone-workload"
	h.gw.runtimes.Clear()
	resp, body := do(t, h.bearerRequest(tok, `{}`))
	wantError(t, resp, body, 404, "ResourceNotFoundException")
}

// Ensure the discovery document is fetched once, and an identity provider
// that is down is a retryable 503, not a refusal of the caller.
func TestGatewayDiscovery(t *testing.T) {
	h := newHarness(t)
	tok := h.idp.token(t, h.idp.claims(h.clock.Now()))
	for range 3 {
		if resp, body := do(t, h.bearerRequest(tok, `{}`)); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	if n := h.idp.discovery.Load(); n != 1 {
		t.Errorf("discovery fetched %d times, want 1", n)
	}

	h2 := newHarness(t)
	h2.idp.down.Store(true)
	resp, body := do(t, h2.bearerRequest(h2.idp.token(t, h2.idp.claims(h2.clock.Now())), `{}`))
	wantError(t, resp, body, 503, "ServiceUnavailableException")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	h2.idp.down.Store(false)
	h2.clock.Advance(DiscoveryRetry + time.Second)
	if resp, body := do(t, h2.bearerRequest(h2.idp.token(t, h2.idp.claims(h2.clock.Now())), `{}`)); resp.StatusCode != 200 {
		t.Fatalf("after the provider came back: %d %s", resp.StatusCode, body)
	}
}

// Ensure bodies over the limit are refused, declared or streamed.
func TestGatewayBodyLimit(t *testing.T) {
	h := newHarness(t, func(g *Gateway, _ *httptest.Server) { g.MaxBodyBytes = 1024 })
	tok := h.idp.token(t, h.idp.claims(h.clock.Now()))
	big := strings.Repeat("x", 2048)
	resp, body := do(t, h.bearerRequest(tok, big))
	wantError(t, resp, body, 413, "ValidationException")
	// Streamed (no Content-Length).
	req := h.bearerRequest(tok, "")
	req.Body, req.ContentLength = io.NopCloser(strings.NewReader(big)), -1
	resp, body = do(t, req)
	wantError(t, resp, body, 413, "ValidationException")
	// SigV4 bodies are read whole.
	req = h.sigv4Request("AKROOT", big)
	resp, body = do(t, req)
	wantError(t, resp, body, 413, "ValidationException")
	// At the limit, fine.
	if resp, body := do(t, h.bearerRequest(tok, big[:1024])); resp.StatusCode != 200 {
		t.Fatalf("1024 bytes: %d %s", resp.StatusCode, body)
	}
}

// Ensure an SSE answer streams: its first event arrives while the agent is
// still answering, a 10 MB answer passes with constant memory, and the
// server's ReadTimeout does not cut a stream longer than it.
func TestGatewayStreaming(t *testing.T) {
	h := newHarness(t, func(_ *Gateway, s *httptest.Server) { s.Config.ReadTimeout = 500 * time.Millisecond })
	tok := h.idp.token(t, h.idp.claims(h.clock.Now()))
	testStream(t, func() *http.Request { return h.bearerRequest(tok, `{"stream":true}`) }, h.agent.setHandler, 10<<20, 3<<20)
}

// testStream runs the streaming checks against any gateway: newRequest
// builds an invocation, setAgent installs the agent's handler.
func testStream(t *testing.T, newRequest func() *http.Request, setAgent func(http.HandlerFunc), total, maxHeapGrowth int) {
	t.Helper()
	cont := make(chan struct{})
	finished := make(chan struct{})
	const first = "data: {\"event\":\"first\"}\n\n"
	setAgent(func(w http.ResponseWriter, r *http.Request) {
		defer close(finished)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		io.WriteString(w, first)
		rc.Flush()
		select {
		case <-cont:
		case <-r.Context().Done():
			return
		case <-time.After(10 * time.Second):
			return
		}
		// Outlive the server's ReadTimeout before the bulk.
		time.Sleep(700 * time.Millisecond)
		event := []byte("data: " + strings.Repeat("x", 32<<10-8) + "\n\n")
		for sent := 0; sent < total; sent += len(event) {
			if _, err := w.Write(event); err != nil {
				return
			}
			rc.Flush()
		}
		io.WriteString(w, "data: [DONE]\n\n")
	})
	req := newRequest()
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	line, err := br.ReadString('\n')
	if err != nil || line != first[:len(first)-1] {
		t.Fatalf("first line %q, %v", line, err)
	}
	select {
	case <-finished:
		t.Fatal("the agent finished before the first event arrived")
	default:
	}
	close(cont)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	buf := make([]byte, 32<<10)
	n, next := 0, 1<<20
	var tail []byte
	for {
		k, err := br.Read(buf)
		n += k
		if k > 0 {
			tail = append(tail[:0], buf[max(0, k-32):k]...)
		}
		if n >= next {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			next += 1 << 20
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", n, err)
		}
	}
	if n < total || !strings.HasSuffix(string(tail), "data: [DONE]\n\n") {
		t.Fatalf("read %d bytes, tail %q", n, tail)
	}
	growth := int64(peak) - int64(base)
	t.Logf("streamed %d bytes; heap in use grew by at most %d KiB", n, growth>>10)
	if growth > int64(maxHeapGrowth) {
		t.Errorf("heap in use grew by %d bytes while streaming %d, want < %d", growth, n, maxHeapGrowth)
	}
}

// Ensure an agent that dies mid-answer breaks the caller's stream rather
// than ending it cleanly.
func TestGatewayAgentFailsMidStream(t *testing.T) {
	h := newHarness(t)
	tok := h.idp.token(t, h.idp.claims(h.clock.Now()))
	h.agent.setHandler(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK) // chunked: only an abort tells the caller
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	resp, err := http.DefaultClient.Do(h.bearerRequest(tok, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("the caller read a clean answer %q", b)
	}
}

// Ensure protocol paths: MCP goes to /mcp, a configured path wins, and a
// container URI with a path keeps it.
func TestGatewayAgentURL(t *testing.T) {
	for _, c := range []struct {
		uri, protocol, path, want string
	}{
		{"http://a:8080", behalf.ProtocolHTTP, "", "http://a:8080/invocations"},
		{"http://a:8080/", "", "", "http://a:8080/invocations"},
		{"https://a/base", behalf.ProtocolAGUI, "", "https://a/base/invocations"},
		{"http://a:8000", behalf.ProtocolMCP, "", "http://a:8000/mcp"},
		{"http://a:9000", behalf.ProtocolA2A, "", "http://a:9000/"},
		{"http://a", behalf.ProtocolHTTP, "/custom/run", "http://a/custom/run"},
	} {
		rt := &behalf.AgentRuntime{ContainerURI: c.uri, Protocol: c.protocol, ProtocolPath: c.path}
		if got := agentURL(rt); got != c.want {
			t.Errorf("%+v: %s, want %s", c, got, c.want)
		}
	}
}

// Ensure the custom-claim matcher's semantics, type by type.
func TestClaimMatches(t *testing.T) {
	arr := func(s ...string) any {
		out := make([]any, len(s))
		for i, v := range s {
			out[i] = v
		}
		return out
	}
	for _, c := range []struct {
		rule behalf.ClaimRule
		v    any
		want bool
	}{
		{behalf.ClaimRule{ValueType: "STRING", Operator: "EQUALS", Value: "a"}, "a", true},
		{behalf.ClaimRule{ValueType: "STRING", Operator: "EQUALS", Value: "a"}, "A", false},
		{behalf.ClaimRule{ValueType: "STRING", Operator: "EQUALS", Value: "a"}, arr("a"), false},
		{behalf.ClaimRule{ValueType: "STRING", Operator: "EQUALS", Value: "1"}, 1.0, false},
		{behalf.ClaimRule{ValueType: "STRING", Operator: "CONTAINS_ANY", Values: []string{"a", "b"}}, "b", true},
		{behalf.ClaimRule{ValueType: "STRING_ARRAY", Operator: "CONTAINS", Value: "a"}, arr("b", "a"), true},
		{behalf.ClaimRule{ValueType: "STRING_ARRAY", Operator: "CONTAINS", Value: "a"}, "a", false},
		{behalf.ClaimRule{ValueType: "STRING_ARRAY", Operator: "CONTAINS", Value: "a"}, nil, false},
		{behalf.ClaimRule{ValueType: "STRING_ARRAY", Operator: "CONTAINS_ANY", Values: []string{"x", "a"}}, arr("a"), true},
		{behalf.ClaimRule{ValueType: "STRING_ARRAY", Operator: "CONTAINS_ANY", Values: []string{"x", "y"}}, arr("a"), false},
		{behalf.ClaimRule{ValueType: "STRING_ARRAY", Operator: "EQUALS", Value: "a"}, arr("a"), false},
		{behalf.ClaimRule{ValueType: "NUMBER", Operator: "EQUALS", Value: "a"}, "a", false},
	} {
		if got := claimMatches(c.rule, c.v); got != c.want {
			t.Errorf("%+v on %v: %v", c.rule, c.v, got)
		}
	}
}

// fakePools serves one user pool's key set until it is deleted.
type fakePools struct {
	jwks     []byte
	deleted  atomic.Bool
	reads    atomic.Int64
	disabled atomic.Bool // CheckTokenUser refuses every user
}

func (p *fakePools) CheckTokenUser(ctx context.Context, poolID, sub string, iat time.Time, raw map[string]any) error {
	if p.disabled.Load() {
		return behalf.Errorf(behalf.EUNAUTHORIZED, "The token's user is disabled, deleted or signed out.")
	}
	return nil
}

func (p *fakePools) JWKS(ctx context.Context, poolID string) ([]byte, error) {
	p.reads.Add(1)
	if poolID != "pool_1" || p.deleted.Load() {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "no pool %s", poolID)
	}
	return p.jwks, nil
}

// Ensure a runtime whose discoveryUrl is one of Behalf's user pools
// verifies the pool's tokens with its keys in process (no HTTP), that
// verifications are cached but end with the token's exp, and that a
// deleted pool's tokens stop working within PoolKeysTTL.
func TestGatewayUserPoolIssuer(t *testing.T) {
	pools := &fakePools{}
	h := newHarness(t, func(g *Gateway, _ *httptest.Server) {
		g.Pools = &pooltoken.Pools{Keys: pools, PublicURL: "https://behalf.example/"}
	})
	pub, err := jwk.PublicKeyOf(h.idp.key)
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	set.AddKey(pub)
	if pools.jwks, err = json.Marshal(set); err != nil {
		t.Fatal(err)
	}
	h.jwtRT.Authorizer = &behalf.JWTAuthorizer{DiscoveryURL: "https://behalf.example/pool_1/.well-known/openid-configuration", AllowedClients: []string{"app-client"}}
	now := h.clock.Now()
	claims := h.idp.claims(now)
	claims["iss"] = "https://behalf.example/pool_1"
	claims["exp"] = now.Add(2 * time.Minute).Unix()
	issued := time.Unix(now.Unix(), 123456000).UTC() // the pool's sub-second issue time
	claims["jti"] = behalf.NewTimeUUID(issued)       // as the pool's tokens carry it
	tok := h.idp.token(t, claims)
	for range 3 {
		if resp, body := do(t, h.bearerRequest(tok, `{}`)); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	if got := h.agent.last(t).header.Get(HeaderWAT); !strings.Contains(got, "|https://behalf.example/pool_1|user-1") {
		t.Errorf("WAT %q", got)
	}
	// The WAT is minted with the token's precise issue time, so the data
	// plane can refuse it once the user signs out after it.
	if got := h.minter.issued.Load(); got == nil || !got.Equal(issued) {
		t.Errorf("MintForRuntime got userIssued %v, want %v", got, issued)
	}
	if h.idp.discovery.Load() != 0 || pools.reads.Load() != 1 {
		t.Errorf("discovery fetched %d times, pool keys read %d times", h.idp.discovery.Load(), pools.reads.Load())
	}
	// The user is disabled: the cached verification does not keep the
	// token working.
	pools.disabled.Store(true)
	resp, body := do(t, h.bearerRequest(tok, `{}`))
	wantError(t, resp, body, 401, "UnauthorizedException")
	pools.disabled.Store(false)

	// A token of another pool (another issuer) is refused.
	other := h.idp.claims(now)
	other["iss"] = "https://behalf.example/pool_2"
	resp, body = do(t, h.bearerRequest(h.idp.token(t, other), `{}`))
	wantError(t, resp, body, 401, "UnauthorizedException")

	// Past its exp (and the verifier's 60 s of skew), the cached
	// verification is gone too.
	h.clock.Advance(3*time.Minute + time.Second)
	resp, body = do(t, h.bearerRequest(tok, `{}`))
	if msg := wantError(t, resp, body, 401, "UnauthorizedException"); !strings.Contains(msg, "expired") {
		t.Errorf("message %q", msg)
	}
	// The pool is deleted: its fresh tokens stop within PoolKeysTTL.
	claims["exp"] = h.clock.Now().Add(time.Hour).Unix()
	fresh := h.idp.token(t, claims)
	if resp, body := do(t, h.bearerRequest(fresh, `{}`)); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	pools.deleted.Store(true)
	h.clock.Advance(PoolKeysTTL + time.Second)
	resp, body = do(t, h.bearerRequest(fresh, `{}`))
	wantError(t, resp, body, 401, "UnauthorizedException")
}
