package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/pageframe"
	"github.com/behalf-dev/behalf/internal/pageframe/pageframetest"
)

// fakeAgents names workloads from a map (identity.AgentNames reads the
// stores; identity tests it).
type fakeAgents map[string]string

func (f fakeAgents) AgentName(_ context.Context, workload string) string {
	if n, ok := f[workload]; ok {
		return n
	}
	return workload
}

// fakeBind is a BindService whose session belongs to alice and names the
// runtime's workload and a Google provider.
type fakeBind struct{}

const bindTestSession = "urn:ietf:params:oauth:request_uri:s1"

func (fakeBind) BindTarget(_ context.Context, sessionURI string) (*behalf.BindTarget, error) {
	if sessionURI != bindTestSession {
		return nil, behalf.Errorf(behalf.EINVALID, "Invalid request: no such session.")
	}
	return &behalf.BindTarget{SessionURI: sessionURI, Workload: "drive_agent-0lYFhaUuqp", Provider: "google-prod", ProviderVendor: behalf.VendorGoogle,
		Inbound: behalf.WorkloadInbound{Issuer: connTestIssuer, ClientID: "c"}, UserIssuer: connTestIssuer}, nil
}

func (fakeBind) BindInBrowser(_ context.Context, sessionURI string, user behalf.User, _ []behalf.Secret) (*behalf.BindResult, error) {
	if user != connAlice {
		return nil, behalf.ErrBindWrongUser
	}
	return &behalf.BindResult{Workload: "drive_agent-0lYFhaUuqp", Provider: "google-prod", ProviderVendor: behalf.VendorGoogle, Account: "alice@gmail.com"}, nil
}

func testFrame(t *testing.T) pageframe.Frame { return pageframetest.Frame(t, connTestPublic) }

// checkFrame fails t unless the page carries the frame of testFrame (see
// pageframetest.Check).
func checkFrame(t *testing.T, page string, resp *http.Response, body string) {
	t.Helper()
	pageframetest.Check(t, page, connTestPublic, resp, body)
}

func serve(h http.Handler, req *http.Request, cookies ...*http.Cookie) (*http.Response, string) {
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
}

// Ensure every page of package web carries the frame (operator's name and
// logo, the product's name, a link to the connections page) with the
// logo's origin, and nothing wider, allowed as an image source.
func TestPagesCarryTheFrame(t *testing.T) {
	frame := testFrame(t)
	ct := newConnTest(t)
	ct.page.Frame = frame
	ct.page.SignIn.Frame = frame
	session := ct.sessionCookie(connAlice)

	resp, body := serve(Landing{Frame: frame}, httptest.NewRequest("GET", "/", nil))
	checkFrame(t, "landing", resp, body)

	resp, body = ct.do(httptest.NewRequest("GET", behalf.ConnectionsPath+"?issuer="+connTestIssuer, nil), session)
	checkFrame(t, "connections", resp, body)

	bind := &Bind{Service: fakeBind{}, SignIn: ct.page.SignIn, Frame: frame}
	resp, body = serve(bind, httptest.NewRequest("GET", behalf.BindPath+"?session_id="+bindTestSession, nil), session)
	checkFrame(t, "bind done", resp, body)
	resp, body = serve(bind, httptest.NewRequest("GET", behalf.BindPath, nil))
	checkFrame(t, "bind error", resp, body)

	consent := &Consent{SignIn: ct.page.SignIn, Frame: frame}
	resp, body = serve(consent, httptest.NewRequest("GET", "/identities/oauth2/authorize", nil))
	checkFrame(t, "consent error", resp, body)

	resp, body = serve(ct.page.SignIn, httptest.NewRequest("GET", SignInCallbackPath, nil))
	checkFrame(t, "sign-in error", resp, body)
	rec := httptest.NewRecorder()
	continuePage(rec, frame, "/connections")
	if body := rec.Body.String(); !strings.Contains(body, `alt="Example &amp; &lt;Labs&gt;"`) || !strings.Contains(body, `content="0;url=/connections"`) {
		t.Errorf("the continue page:\n%s", body)
	}

	pt := newPortalTest(t)
	pt.portal.Frame = frame
	resp, body = pt.serve(httptest.NewRequest("GET", "/consent-portals/"+portalTestID, nil), pt.sessionCookie(connAlice))
	checkFrame(t, "portal", resp, body)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://accounts.google.com; img-src https://cdn.example.com") {
		t.Errorf("portal CSP %q", csp)
	}
}

// Ensure the binding page and the connections page name an agent runtime's
// workload by the runtime's name (AgentNames) and a provider by its
// vendor, never by the ids.
func TestPagesNameAgents(t *testing.T) {
	ct := newConnTest(t)
	agents := fakeAgents{"drive_agent-0lYFhaUuqp": "drive_agent"}
	bind := &Bind{Service: fakeBind{}, SignIn: ct.page.SignIn, Agents: agents}
	url := behalf.BindPath + "?session_id=" + bindTestSession
	resp, body := serve(bind, httptest.NewRequest("GET", url, nil), ct.sessionCookie(connAlice))
	for _, want := range []string{"<h1>Google is connected</h1>", "<dt>Agent</dt><dd>drive_agent</dd>", "<dt>Provider</dt><dd>Google</dd>", "Google: alice@gmail.com", "drive_agent can now use Google"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("the done page (%d) lacks %q:\n%s", resp.StatusCode, want, body)
		}
	}
	if strings.Contains(body, "0lYFhaUuqp") {
		t.Errorf("the done page shows the runtime's id:\n%s", body)
	}
	resp, body = serve(bind, httptest.NewRequest("GET", url, nil), ct.sessionCookie(connBob))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<dt>Agent</dt><dd>drive_agent</dd>") || strings.Contains(body, "0lYFhaUuqp") {
		t.Errorf("the refused page (%d):\n%s", resp.StatusCode, body)
	}

	ct.page.Agents = agents
	ct.svc.conns[0].Workload = "drive_agent-0lYFhaUuqp"
	body = ct.open(connAlice).body
	if !strings.Contains(body, `<th scope="row">drive_agent</th>`) || strings.Contains(body, "0lYFhaUuqp") {
		t.Errorf("the connections page does not name the runtime:\n%s", body)
	}
}
