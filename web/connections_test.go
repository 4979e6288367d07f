package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// connTestSealer seals by prefixing the context: enough to bind cookies to
// their purpose in these tests (not encryption).
type connTestSealer struct{}

func (connTestSealer) prefix(sc behalf.SealContext) []byte {
	return []byte(sc.Kind + "\x00" + sc.Key + "\x00" + sc.Field + "\x00")
}

func (s connTestSealer) Seal(_ context.Context, sc behalf.SealContext, plain []byte) (behalf.Sealed, error) {
	return append(s.prefix(sc), plain...), nil
}

func (s connTestSealer) Open(_ context.Context, sc behalf.SealContext, sealed behalf.Sealed) ([]byte, error) {
	p := s.prefix(sc)
	if !bytes.HasPrefix(sealed, p) {
		return nil, errors.New("wrong seal context")
	}
	return bytes.Clone(sealed[len(p):]), nil
}

// fakeConnections is a ConnectionService over a fixed list.
type fakeConnections struct {
	mu      sync.Mutex
	conns   []*behalf.Connection
	revoked []string // userKey + " " + id
	outcome string
}

func (f *fakeConnections) ListConnections(_ context.Context, userKey string) ([]*behalf.Connection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*behalf.Connection
	for _, c := range f.conns {
		if userKey == "" || c.UserKey == userKey {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeConnections) RevokeConnection(_ context.Context, userKey, id string) (*behalf.Revocation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.conns {
		if c.GrantID == id && (userKey == "" || c.UserKey == userKey) {
			f.conns = append(f.conns[:i], f.conns[i+1:]...)
			f.revoked = append(f.revoked, userKey+" "+id)
			rev := &behalf.Revocation{Connection: *c, Provider: c.ProviderLabel(), Outcome: f.outcome}
			if f.outcome == behalf.RevocationRefused {
				rev.Detail = "HTTP 400 invalid_request."
			}
			return rev, nil
		}
	}
	return nil, behalf.Errorf(behalf.ENOTFOUND, "No such grant.")
}

const (
	connTestPublic = "https://behalf.example"
	connTestIssuer = "https://behalf.example/us-east-1_Pool"
)

var (
	connAlice = behalf.User{Issuer: connTestIssuer, Subject: "alice-sub"}
	connBob   = behalf.User{Issuer: connTestIssuer, Subject: "bob-sub"}
	connCarol = behalf.User{Issuer: connTestIssuer, Subject: "carol-sub"}
)

type connTest struct {
	t       *testing.T
	page    *Connections
	svc     *fakeConnections
	clients []string // issuers Clients was asked for
}

func newConnTest(t *testing.T) *connTest {
	ct := &connTest{t: t, svc: &fakeConnections{outcome: behalf.RevocationConfirmed, conns: []*behalf.Connection{
		{GrantID: "g-drive", Workload: "drive-agent", UserKey: connAlice.Key(), ProviderName: "google-prod", ProviderVendor: behalf.VendorGoogle,
			Scopes: []string{"https://www.googleapis.com/auth/drive.readonly"}, CreatedAt: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
			LastUsedAt: time.Date(2025, 6, 2, 8, 30, 0, 0, time.UTC)},
		{GrantID: "g-bob", Workload: "drive-agent", UserKey: connBob.Key(), ProviderName: "google-prod", ProviderVendor: behalf.VendorGoogle},
	}}}
	ct.page = &Connections{
		Service: ct.svc,
		SignIn:  &SignIn{Sealer: connTestSealer{}, PublicURL: connTestPublic, Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Clients: func(_ context.Context, issuer string) (SignInClient, error) {
			ct.clients = append(ct.clients, issuer)
			return SignInClient{}, behalf.Errorf(behalf.ENOTFOUND, "none")
		},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return ct
}

// sessionCookie is the browser's sign-in cookie for u.
func (ct *connTest) sessionCookie(u behalf.User) *http.Cookie {
	ct.t.Helper()
	rec := httptest.NewRecorder()
	name := map[behalf.User]string{connAlice: "alice@example.com"}[u] // bob's ID token named him in no readable way
	if err := ct.page.SignIn.setSession(rec, httptest.NewRequest("GET", "/", nil), u, name); err != nil {
		ct.t.Fatal(err)
	}
	return rec.Result().Cookies()[0]
}

// do serves req with cookies and returns the response and body.
func (ct *connTest) do(req *http.Request, cookies ...*http.Cookie) (*http.Response, string) {
	ct.t.Helper()
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	ct.page.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// browserState is what a browser holds after loading the page.
type browserState struct {
	csrf       string       // the forms' token
	csrfCookie *http.Cookie // the browser's CSRF cookie
	session    *http.Cookie // the sign-in cookie
	body       string
}

func (b browserState) cookies() []*http.Cookie { return []*http.Cookie{b.csrfCookie, b.session} }

// open loads the page signed in as u.
func (ct *connTest) open(u behalf.User) browserState {
	ct.t.Helper()
	session := ct.sessionCookie(u)
	resp, body := ct.do(httptest.NewRequest("GET", behalf.ConnectionsPath+"?issuer="+url.QueryEscape(connTestIssuer), nil), session)
	if resp.StatusCode != http.StatusOK {
		ct.t.Fatalf("GET /connections: %d\n%s", resp.StatusCode, body)
	}
	m := csrfField.FindStringSubmatch(body)
	if m == nil || len(resp.Cookies()) != 1 || resp.Cookies()[0].Name != "__Host-"+csrfCookie {
		ct.t.Fatalf("no CSRF token on the page (cookies %v):\n%s", resp.Cookies(), body)
	}
	return browserState{csrf: m[1], csrfCookie: resp.Cookies()[0], session: session, body: body}
}

func revokeForm(issuer, csrf, grant string) *http.Request {
	form := url.Values{"issuer": {issuer}, "csrf": {csrf}, "grant": {grant}}
	req := httptest.NewRequest("POST", behalf.ConnectionsRevokePath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return req
}

// Ensure the page lists the signed-in user's grants only, accessibly,
// without scripts, with no-store and anti-framing headers.
func TestConnectionsPageList(t *testing.T) {
	ct := newConnTest(t)
	alice := ct.open(connAlice)
	body := alice.body
	for _, want := range []string{
		"<table>", `<th scope="col">Last used</th>`, `<th scope="row">drive-agent</th>`, "Google", "google-prod",
		"https://www.googleapis.com/auth/drive.readonly", `<time datetime="2025-06-01T12:00:00Z">1 Jun 2025, 12:00</time>`,
		`<time datetime="2025-06-02T08:30:00Z">`, "Never", `aria-label="Revoke drive-agent's access to Google"`,
		`<input type="hidden" name="grant" value="g-drive">`, "Signed in as <strong>alice@example.com</strong>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "g-bob") || strings.Contains(body, "<script") {
		t.Errorf("the page shows another user's grant or a script:\n%s", body)
	}
	// People are named as they know themselves, never by the opaque
	// subject or the issuer's URL.
	if strings.Contains(body, "alice-sub") || strings.Contains(body, connTestIssuer+"</") {
		t.Errorf("the page shows the subject or the issuer URL:\n%s", body)
	}
	if bob := ct.open(connBob).body; !strings.Contains(bob, `<p class="who">Signed in</p>`) || strings.Contains(bob, "bob-sub") {
		t.Errorf("a user without a readable name:\n%s", bob)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", behalf.ConnectionsPath+"?issuer="+url.QueryEscape(connTestIssuer), nil)
	for _, c := range alice.cookies() {
		req.AddCookie(c)
	}
	ct.page.ServeHTTP(rec, req)
	h := rec.Header()
	if h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "form-action 'self'") {
		t.Errorf("headers %v", h)
	}
}

// Ensure Revoke revokes the user's grant with a valid CSRF token and shows
// the outcome, and nothing is revoked without one.
func TestConnectionsPageRevoke(t *testing.T) {
	ct := newConnTest(t)
	alice, bob := ct.open(connAlice), ct.open(connBob)
	csrf, cookies := alice.csrf, alice.cookies()

	for name, tc := range map[string]struct {
		req     *http.Request
		cookies []*http.Cookie
		status  int
	}{
		"no csrf":        {revokeForm(connTestIssuer, "", "g-drive"), cookies, http.StatusForbidden},
		"forged csrf":    {revokeForm(connTestIssuer, "AAAA"+csrf[4:], "g-drive"), cookies, http.StatusForbidden},
		"bob's csrf":     {revokeForm(connTestIssuer, bob.csrf, "g-drive"), []*http.Cookie{bob.csrfCookie, alice.session}, http.StatusForbidden},
		"no csrf cookie": {revokeForm(connTestIssuer, csrf, "g-drive"), []*http.Cookie{alice.session}, http.StatusForbidden},
		"not signed in":  {revokeForm(connTestIssuer, csrf, "g-drive"), []*http.Cookie{alice.csrfCookie}, http.StatusUnauthorized},
		"other issuer":   {revokeForm("https://other.example", csrf, "g-drive"), cookies, http.StatusUnauthorized},
		"bad issuer":     {revokeForm("javascript:alert(1)", csrf, "g-drive"), cookies, http.StatusBadRequest},
		"cross-site": {func() *http.Request {
			r := revokeForm(connTestIssuer, csrf, "g-drive")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return r
		}(), cookies, http.StatusForbidden},
		"incomplete form":   {httptest.NewRequest("POST", behalf.ConnectionsRevokePath, nil), cookies, http.StatusBadRequest},
		"GET of the action": {httptest.NewRequest("GET", behalf.ConnectionsRevokePath, nil), cookies, http.StatusMethodNotAllowed},
	} {
		resp, body := ct.do(tc.req, tc.cookies...)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d\n%s", name, resp.StatusCode, tc.status, body)
		}
	}
	if len(ct.svc.revoked) != 0 {
		t.Fatalf("revoked without a valid form: %q", ct.svc.revoked)
	}
	// Bob cannot revoke alice's grant with his own valid form.
	if body := ct.postThenGet(revokeForm(connTestIssuer, bob.csrf, "g-drive"), bob.cookies()); !strings.Contains(body, "no longer exists") {
		t.Errorf("bob revoking alice's grant:\n%s", body)
	}

	body := ct.postThenGet(revokeForm(connTestIssuer, csrf, "g-drive"), cookies)
	if !strings.Contains(body, `<p class="status ok" role="status">Revoked. Google confirmed the token is revoked.</p>`) ||
		!strings.Contains(body, "No agent has access to any of your accounts") {
		t.Errorf("revoke:\n%s", body)
	}
	if len(ct.svc.revoked) != 1 || ct.svc.revoked[0] != connAlice.Key()+" g-drive" {
		t.Errorf("revoked %q", ct.svc.revoked)
	}

	// A refusal is a warning, announced.
	ct.svc.conns = append(ct.svc.conns, &behalf.Connection{GrantID: "g-2", Workload: "mail-agent", UserKey: connAlice.Key(), ProviderName: "mail"})
	ct.svc.outcome = behalf.RevocationRefused
	if body := ct.postThenGet(revokeForm(connTestIssuer, csrf, "g-2"), cookies); !strings.Contains(body, `<p class="status warn" role="alert">Revoked in Behalf; the provider refused: HTTP 400 invalid_request.</p>`) {
		t.Errorf("refused revocation:\n%s", body)
	}
}

// postThenGet posts req as a browser with cookies, checks it is answered
// POST → 303 → GET of the list, follows the redirect with the cookies it
// set, and returns the list's body; a reload then shows no outcome, and
// no other user's browser can show it.
func (ct *connTest) postThenGet(req *http.Request, cookies []*http.Cookie) string {
	ct.t.Helper()
	resp, body := ct.do(req, cookies...)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || loc != behalf.ConnectionsPath+"?issuer="+url.QueryEscape(connTestIssuer) {
		ct.t.Fatalf("POST %s: %d to %q, want 303 to the list\n%s", req.URL.Path, resp.StatusCode, loc, body)
	}
	var flashCk *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, flashCookie) {
			flashCk = c
		}
	}
	if flashCk == nil || flashCk.Path != behalf.ConnectionsPath || !flashCk.HttpOnly {
		ct.t.Fatalf("no flash cookie for the outcome: %v", resp.Cookies())
	}
	// Another user's browser holding this cookie sees nothing of it.
	if _, other := ct.do(httptest.NewRequest("GET", loc, nil), ct.sessionCookie(connCarol), flashCk); strings.Contains(other, `class="status`) {
		ct.t.Errorf("another user's browser showed the outcome:\n%s", other)
	}
	resp, body = ct.do(httptest.NewRequest("GET", loc, nil), append(cookies, flashCk)...)
	if resp.StatusCode != http.StatusOK {
		ct.t.Fatalf("GET after the POST: %d\n%s", resp.StatusCode, body)
	}
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || (strings.HasSuffix(c.Name, flashCookie) && c.MaxAge < 0)
	}
	if !cleared {
		ct.t.Errorf("the GET did not delete the flash cookie: %v", resp.Cookies())
	}
	if _, again := ct.do(httptest.NewRequest("GET", loc, nil), cookies...); strings.Contains(again, `class="status`) {
		ct.t.Errorf("a reload shows the outcome again:\n%s", again)
	}
	return body
}

// Ensure sign-out forgets the browser's sign-in for the issuer and
// redirects (POST → redirect → GET) to a page that says so; that page
// says so only to a browser that is signed out.
func TestConnectionsPageSignOut(t *testing.T) {
	ct := newConnTest(t)
	alice := ct.open(connAlice)
	form := url.Values{"issuer": {connTestIssuer}, "csrf": {alice.csrf}}
	req := httptest.NewRequest("POST", behalf.ConnectionsSignOutPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := ct.do(req, alice.cookies()...)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || loc != behalf.ConnectionsSignOutPath+"?issuer="+url.QueryEscape(connTestIssuer) {
		t.Fatalf("sign out: %d → %q, want 303 to the signed-out page\n%s", resp.StatusCode, loc, body)
	}
	var cleared bool
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == "__Host-"+sessionCookieName(connTestIssuer) && c.MaxAge < 0)
	}
	if !cleared {
		t.Errorf("the session cookie was not cleared: %v", resp.Cookies())
	}
	resp, body = ct.do(httptest.NewRequest("GET", loc, nil), alice.csrfCookie)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "You are signed out") || !strings.Contains(body, `href="/connections?issuer=`) {
		t.Fatalf("GET %s: %d\n%s", loc, resp.StatusCode, body)
	}
	// Still signed in: the list, not a false "signed out".
	resp, _ = ct.do(httptest.NewRequest("GET", loc, nil), alice.cookies()...)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), behalf.ConnectionsPath+"?issuer=") {
		t.Errorf("GET %s signed in: %d → %q, want the list", loc, resp.StatusCode, resp.Header.Get("Location"))
	}
}

// Ensure a browser that is not signed in is sent to the issuer's sign-in
// with the client Clients gives, returning to the page; and the issuer is
// found when the URL names none.
func TestConnectionsPageSignIn(t *testing.T) {
	ct := newConnTest(t)
	var idp *httptest.Server
	idp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": idp.URL, "authorization_endpoint": idp.URL + "/authorize", "token_endpoint": idp.URL + "/token",
			"jwks_uri": idp.URL + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	}))
	defer idp.Close()
	ct.page.Clients = func(_ context.Context, issuer string) (SignInClient, error) {
		ct.clients = append(ct.clients, issuer)
		return SignInClient{Issuer: idp.URL, ClientID: "page-client"}, nil
	}
	resp, body := ct.do(httptest.NewRequest("GET", behalf.ConnectionsPath, nil))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET without a sign-in: %d\n%s", resp.StatusCode, body)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(loc.String(), idp.URL+"/authorize?") || loc.Query().Get("client_id") != "page-client" ||
		loc.Query().Get("redirect_uri") != connTestPublic+SignInCallbackPath {
		t.Errorf("redirected to %s", loc)
	}
	if want := []string{"", idp.URL}; strings.Join(ct.clients, ",") != strings.Join(want, ",") {
		t.Errorf("Clients asked for %q, want %q", ct.clients, want)
	}
}

// Ensure the page says so when no sign-in provider is set up, and refuses
// a malformed issuer.
func TestConnectionsPageNoIssuer(t *testing.T) {
	ct := newConnTest(t)
	resp, body := ct.do(httptest.NewRequest("GET", behalf.ConnectionsPath, nil))
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "behalf workload set-binding") {
		t.Errorf("no issuer: %d\n%s", resp.StatusCode, body)
	}
	for _, q := range []string{"?issuer=javascript:alert(1)", "?issuer=" + url.QueryEscape(connTestIssuer) + "&issuer=x"} {
		if resp, body := ct.do(httptest.NewRequest("GET", behalf.ConnectionsPath+q, nil)); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d\n%s", q, resp.StatusCode, body)
		}
	}
	resp, body = ct.do(httptest.NewRequest("GET", behalf.ConnectionsPath+"?issuer="+url.QueryEscape("https://unknown.example"), nil))
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "does not sign in users of this identity provider") {
		t.Errorf("unknown issuer: %d\n%s", resp.StatusCode, body)
	}
}
