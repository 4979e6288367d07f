package agentruntime

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/behalf-dev/behalf/internal/fakedns"
	"github.com/behalf-dev/behalf/internal/safehttp"
)

// Ensure the SSRF guard's connect-time check covers the agents: a
// containerUri whose host name resolves to a loopback address is refused
// before any connection unless private addresses are allowed (then it
// works), and every failure to reach an agent (that refusal, a closed
// port, a TLS handshake or DNS timeout, an unknown name) answers the same
// text, so the gateway is no port scanner.
func TestGatewayUpstreamGuard(t *testing.T) {
	port := func(srv string) string { _, p, _ := net.SplitHostPort(srv); return p }
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := port(closed.Addr().String())
	closed.Close()
	// A port that accepts and never speaks: a TLS handshake times out.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	dns := fakedns.New(map[string][]string{
		"agent.behalf.test":  {"127.0.0.1"},
		"meta.behalf.test":   {"169.254.169.254"},
		"hang.behalf.test":   nil, // the lookup never answers
		"silent.behalf.test": {"127.0.0.1"},
	})
	const timeout = 300 * time.Millisecond

	var agentPort string
	strict := newHarness(t, func(g *Gateway, _ *httptest.Server) {
		g.AllowPrivate, g.Resolver = false, dns.NetResolver()
	})
	agentPort = port(strict.agent.srv.Listener.Addr().String())
	allowed := newHarness(t, func(g *Gateway, _ *httptest.Server) {
		g.Transport = safehttp.NewTransport(safehttp.Options{AllowPrivate: true, Resolver: dns.NetResolver(), Timeout: timeout})
	})
	allowed.agent = strict.agent // one agent: count what reaches it
	invoke := func(h *gatewayHarness, uri string) (*http.Response, []byte) {
		t.Helper()
		h.sigRT.ContainerURI = uri
		h.gw.runtimes.Clear()
		return do(t, h.sigv4Request("AKROOT", `{}`))
	}

	for _, tc := range []struct {
		name string
		h    *gatewayHarness
		uri  string
	}{
		{"name resolving to loopback", strict, "http://agent.behalf.test:" + agentPort},
		{"https name resolving to loopback", strict, "https://agent.behalf.test:" + agentPort},
		{"name resolving to link-local", strict, "https://meta.behalf.test"},
		{"literal loopback", strict, "http://127.0.0.1:" + agentPort},
		{"closed port", allowed, "http://agent.behalf.test:" + closedPort},
		{"TLS handshake timeout", allowed, "https://silent.behalf.test:" + port(silent.Addr().String())},
		{"DNS timeout", allowed, "http://hang.behalf.test:" + agentPort},
		{"unknown name", allowed, "http://nowhere.behalf.test:" + agentPort},
	} {
		start := time.Now()
		resp, body := invoke(tc.h, tc.uri)
		if msg := wantError(t, resp, body, http.StatusFailedDependency, "RuntimeClientError"); msg != MsgAgentUnreachable {
			t.Errorf("%s: message %q, want %q", tc.name, msg, MsgAgentUnreachable)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %v", tc.name, d)
		}
	}
	if n := strict.agent.count(); n != 0 {
		t.Fatalf("the agent received %d requests through the guard", n)
	}

	// Allowed, the same name reaches the agent.
	resp, body := invoke(allowed, "http://agent.behalf.test:"+agentPort)
	if resp.StatusCode != http.StatusOK || strict.agent.count() != 1 {
		t.Fatalf("private allowed: %d %s, agent saw %d requests", resp.StatusCode, body, strict.agent.count())
	}
}
