package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// fakePortal is one portal, "p-0123456789", of gateway workload gw-1.
type fakePortal struct {
	started []string // targetID + " " + user key
}

const portalTestID = "p-0123456789"

func (f *fakePortal) ConsentPortalPage(_ context.Context, id string) (*behalf.ConsentPortalPage, error) {
	if id != portalTestID {
		return nil, behalf.Errorf(behalf.ENOTFOUND, "no portal")
	}
	return &behalf.ConsentPortalPage{
		Portal: &behalf.ConsentPortal{ID: id, Name: "Tools", Description: "Connect your tools."}, GatewayName: "tools", Workload: "gw-1",
		SignIn: behalf.ConsentPortalSignIn{Issuer: connTestIssuer, ClientID: "c"},
		Targets: []behalf.ConsentPortalTarget{
			{ID: "DRIVE00000", Name: "drive", Provider: "google-prod", Scopes: []string{"drive.readonly"}, AuthorizationOrigin: "https://accounts.google.com"},
			{ID: "CAL0000000", Name: "calendar", Provider: "cal", AuthorizationOrigin: "https://accounts.google.com"},
		},
	}, nil
}

func (f *fakePortal) StartConsent(_ context.Context, portalID, targetID string, u behalf.User) (string, error) {
	f.started = append(f.started, targetID+" "+u.Key())
	return "https://behalf.example/identities/oauth2/authorize?request_uri=urn:x", nil
}

type portalTest struct {
	*connTest
	portal *Portal
	pages  *fakePortal
}

func newPortalTest(t *testing.T) *portalTest {
	ct := newConnTest(t)
	ct.svc.conns = []*behalf.Connection{
		{GrantID: "g-drive", Workload: "gw-1", UserKey: connAlice.Key(), ProviderName: "google-prod", ProviderVendor: behalf.VendorGoogle,
			Account: "alice@gmail.com", CreatedAt: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)},
		{GrantID: "g-other-agent", Workload: "other-agent", UserKey: connAlice.Key(), ProviderName: "cal"},
		{GrantID: "g-bob", Workload: "gw-1", UserKey: connBob.Key(), ProviderName: "cal"},
	}
	pt := &portalTest{connTest: ct, pages: &fakePortal{}}
	pt.portal = &Portal{Pages: pt.pages, Connections: ct.svc, SignIn: ct.page.SignIn, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return pt
}

func (pt *portalTest) serve(req *http.Request, cookies ...*http.Cookie) (*http.Response, string) {
	pt.t.Helper()
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	pt.portal.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (pt *portalTest) open(u behalf.User) browserState {
	pt.t.Helper()
	session := pt.sessionCookie(u)
	resp, body := pt.serve(httptest.NewRequest("GET", "/consent-portals/"+portalTestID, nil), session)
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || len(resp.Cookies()) != 1 {
		pt.t.Fatalf("GET the portal: %d, cookies %v\n%s", resp.StatusCode, resp.Cookies(), body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://accounts.google.com") || strings.Count(csp, "accounts.google.com") != 1 {
		pt.t.Errorf("CSP %q: Connect must be allowed to reach the provider's origin, once", csp)
	}
	return browserState{csrf: m[1], csrfCookie: resp.Cookies()[0], session: session, body: body}
}

func portalForm(action string, v url.Values) *http.Request {
	req := httptest.NewRequest("POST", "/consent-portals/"+portalTestID+"/"+action, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return req
}

// Ensure the portal lists the gateway's consent targets with the signed-in
// user's connections to them (never another user's or agent's grants),
// and Connect starts the consent for that user only with a valid form.
func TestPortalPageConnect(t *testing.T) {
	pt := newPortalTest(t)
	alice := pt.open(connAlice)
	for _, want := range []string{"<h1>Tools</h1>", "Connect your tools.", `<th scope="row">drive`, "<strong>Connected</strong> to",
		"alice@gmail.com", `aria-label="Disconnect drive"`, `value="g-drive"`, `aria-label="Connect calendar"`, "Signed in as <strong>alice@example.com</strong>"} {
		if !strings.Contains(alice.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(alice.body, "g-other-agent") || strings.Contains(alice.body, "g-bob") || strings.Contains(alice.body, "<script") {
		t.Errorf("the page shows another agent's or user's grant, or a script:\n%s", alice.body)
	}

	// A form without the page's token starts nothing.
	resp, _ := pt.serve(portalForm("connect", url.Values{"csrf": {"forged"}, "target": {"CAL0000000"}}), alice.cookies()...)
	if resp.StatusCode != http.StatusForbidden || len(pt.pages.started) != 0 {
		t.Fatalf("forged form: %d, started %v", resp.StatusCode, pt.pages.started)
	}
	// Bob's token is no use in alice's browser, nor alice's in bob's.
	bob := pt.open(connBob)
	resp, _ = pt.serve(portalForm("connect", url.Values{"csrf": {bob.csrf}, "target": {"CAL0000000"}}), alice.cookies()...)
	if resp.StatusCode != http.StatusForbidden || len(pt.pages.started) != 0 {
		t.Fatalf("another user's token: %d, started %v", resp.StatusCode, pt.pages.started)
	}
	resp, _ = pt.serve(portalForm("connect", url.Values{"csrf": {alice.csrf}, "target": {"CAL0000000"}}), alice.cookies()...)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://behalf.example/identities/oauth2/authorize?request_uri=urn:x" {
		t.Fatalf("Connect: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if len(pt.pages.started) != 1 || pt.pages.started[0] != "CAL0000000 "+connAlice.Key() {
		t.Errorf("started %v", pt.pages.started)
	}
	// A target the portal does not list starts nothing.
	resp, _ = pt.serve(portalForm("connect", url.Values{"csrf": {alice.csrf}, "target": {"NOTES00000"}}), alice.cookies()...)
	if resp.StatusCode != http.StatusSeeOther || len(pt.pages.started) != 1 {
		t.Errorf("unknown target: %d, started %v", resp.StatusCode, pt.pages.started)
	}
}

// Ensure Disconnect revokes the user's grant for the portal's gateway
// only, and shows the outcome once (POST → redirect → GET).
func TestPortalPageDisconnect(t *testing.T) {
	pt := newPortalTest(t)
	alice := pt.open(connAlice)
	for _, grant := range []string{"g-bob", "g-other-agent"} {
		resp, _ := pt.serve(portalForm("disconnect", url.Values{"csrf": {alice.csrf}, "grant": {grant}}), alice.cookies()...)
		if resp.StatusCode != http.StatusSeeOther || len(pt.svc.revoked) != 0 {
			t.Fatalf("disconnecting %s: %d, revoked %v", grant, resp.StatusCode, pt.svc.revoked)
		}
	}
	resp, _ := pt.serve(portalForm("disconnect", url.Values{"csrf": {alice.csrf}, "grant": {"g-drive"}}), alice.cookies()...)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/consent-portals/"+portalTestID {
		t.Fatalf("Disconnect: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if len(pt.svc.revoked) != 1 || pt.svc.revoked[0] != connAlice.Key()+" g-drive" {
		t.Fatalf("revoked %v", pt.svc.revoked)
	}
	var flashC *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-"+flashCookie || strings.HasSuffix(c.Name, flashCookie) {
			flashC = c
		}
	}
	if flashC == nil {
		t.Fatalf("no outcome cookie: %v", resp.Cookies())
	}
	_, body := pt.serve(httptest.NewRequest("GET", "/consent-portals/"+portalTestID, nil), alice.session, flashC)
	if !strings.Contains(body, `class="status ok"`) || !strings.Contains(body, `aria-label="Connect drive"`) {
		t.Errorf("after disconnecting:\n%s", body)
	}
	// Bob's browser cannot be shown alice's outcome.
	_, body = pt.serve(httptest.NewRequest("GET", "/consent-portals/"+portalTestID, nil), pt.sessionCookie(connBob), flashC)
	if strings.Contains(body, `class="status`) {
		t.Errorf("bob sees alice's outcome:\n%s", body)
	}
}

// Ensure unknown portals, actions and methods answer pages, not errors.
func TestPortalPageRefusals(t *testing.T) {
	pt := newPortalTest(t)
	alice := pt.sessionCookie(connAlice)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/consent-portals/nope-0123456789", http.StatusNotFound},
		{"POST", "/consent-portals/" + portalTestID, http.StatusMethodNotAllowed},
		{"GET", "/consent-portals/" + portalTestID + "/connect", http.StatusMethodNotAllowed},
		{"POST", "/consent-portals/" + portalTestID + "/other", http.StatusMethodNotAllowed},
	} {
		resp, body := pt.serve(httptest.NewRequest(tc.method, tc.path, nil), alice)
		if resp.StatusCode != tc.status || !strings.Contains(body, "<h1>") {
			t.Errorf("%s %s: %d, want %d\n%s", tc.method, tc.path, resp.StatusCode, tc.status, body)
		}
	}
	// Signed out: nothing changes.
	resp, _ := pt.serve(portalForm("disconnect", url.Values{"csrf": {"x"}, "grant": {"g-drive"}}))
	if resp.StatusCode != http.StatusUnauthorized || len(pt.svc.revoked) != 0 {
		t.Errorf("signed out: %d, revoked %v", resp.StatusCode, pt.svc.revoked)
	}
}

// Fuzz the portal's routing and forms with any path, method and body: it
// answers a page, and without the page's token it starts and revokes
// nothing.
func FuzzPortalRequest(f *testing.F) {
	f.Add("POST", portalTestID+"/connect", "csrf=x&target=CAL0000000")
	f.Add("POST", portalTestID+"/disconnect", "grant=g-drive&grant=g-drive")
	f.Add("GET", portalTestID+"/../connect", "")
	f.Add("POST", "%2e%2e/x/connect", "csrf=%zz")
	f.Fuzz(func(t *testing.T, method, rest, body string) {
		if method != "GET" && method != "POST" && method != "HEAD" {
			method = "POST"
		}
		pt := newPortalTest(t)
		u, err := url.Parse("/consent-portals/" + rest)
		if err != nil {
			return
		}
		req := httptest.NewRequest(method, "/", strings.NewReader(body))
		req.URL = u
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, _ := pt.serve(req, pt.sessionCookie(connAlice))
		if resp.StatusCode >= 500 || len(pt.pages.started) != 0 || len(pt.svc.revoked) != 0 {
			t.Fatalf("%s %q %q: %d, started %v, revoked %v", method, rest, body, resp.StatusCode, pt.pages.started, pt.svc.revoked)
		}
	})
}
