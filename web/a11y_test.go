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

	"github.com/chromedp/chromedp"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/browsertest"
	"github.com/behalf-dev/behalf/internal/pageframe"
)

// a11yBind is a BindService whose sessions end as their URI says: "done"
// binds, "again" was bound before, "wrong-user" and "other-browser" are
// refused, anything else is unknown.
type a11yBind struct{}

func (a11yBind) BindTarget(_ context.Context, uri string) (*behalf.BindTarget, error) {
	switch uri {
	case "done", "again", "wrong-user", "other-browser":
		return &behalf.BindTarget{SessionURI: uri, Workload: "drive-agent", Provider: "google-prod", UserIssuer: connTestIssuer,
			Inbound: behalf.WorkloadInbound{Issuer: connTestIssuer, ClientID: "c"}}, nil
	}
	return nil, behalf.Errorf(behalf.EINVALID, "This link has expired or was already used.")
}

func (a11yBind) BindInBrowser(_ context.Context, uri string, _ behalf.User, _ []behalf.Secret) (*behalf.BindResult, error) {
	switch uri {
	case "wrong-user":
		return nil, behalf.ErrBindWrongUser
	case "other-browser":
		return nil, behalf.ErrBindOtherBrowser
	}
	return &behalf.BindResult{Workload: "drive-agent", Provider: "Google", Account: "alice@gmail.com",
		Scopes: []string{"https://www.googleapis.com/auth/drive.readonly"}, RedirectURL: "https://app.example/done", AlreadyBound: uri == "again"}, nil
}

// a11yConsent is a ConsentService with one authorization URL, "wrong-user",
// started by someone else than the browser's user.
type a11yConsent struct{}

func (a11yConsent) AuthorizeTarget(_ context.Context, uri string) (*behalf.AuthorizeTarget, error) {
	if uri != "wrong-user" {
		return nil, behalf.Errorf(behalf.EINVALID, "This link has expired or was already used.")
	}
	return &behalf.AuthorizeTarget{Workload: "drive-agent", SignIn: &behalf.SignInProvider{Issuer: connTestIssuer, ClientID: "c"}}, nil
}

func (a11yConsent) Authorize(context.Context, string, behalf.User) (*behalf.Authorization, error) {
	return nil, behalf.ErrBindWrongUser
}

func (a11yConsent) Callback(context.Context, string, map[string][]string, []behalf.Secret) (string, error) {
	return "", behalf.Errorf(behalf.EINVALID, "The provider's answer does not match a sign-in in progress.")
}

// recordedPage is a page as a handler answered a request.
type recordedPage struct {
	status int
	header http.Header
	body   []byte
}

// record serves req with cookies by h.
func record(t *testing.T, h http.Handler, req *http.Request, cookies ...*http.Cookie) recordedPage {
	t.Helper()
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" || resp.StatusCode/100 == 3 {
		t.Fatalf("%s %s: %d %s, want a page\n%s", req.Method, req.URL, resp.StatusCode, ct, b)
	}
	resp.Header.Del("Set-Cookie")
	return recordedPage{resp.StatusCode, resp.Header, b}
}

// Ensure every page of package web has no accessibility violation
// (axe-core, WCAG 2 A/AA and best practices) on a desktop and on a 360 px
// phone, in each of its states: the landing page; the connections page
// listing a grant, after a revoke, signed out and without a sign-in
// provider; a consent portal; the binding page done, already done,
// refused (another user, another browser), declined by the provider and
// with a link that cannot be used; the sign-in's and the consent
// endpoint's error pages; all in the frame of an operator with a logo.
// Each page is rendered by its real handler (as the browser's
// request would be answered, cookies included) and shown to Chromium
// with its headers (the Content-Security-Policy forbids scripts: axe is
// injected by the DevTools protocol, as an extension would).
func TestPagesAccessible(t *testing.T) {
	browsertest.RequireAxe(t)
	// The server shows the pages as rendered below, and the operator's logo.
	rendered := map[string]recordedPage{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/logo.svg" {
			w.Header().Set("Content-Type", "image/svg+xml")
			io.WriteString(w, browsertest.LogoSVG)
			return
		}
		p, ok := rendered[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		for k, v := range p.header {
			w.Header()[k] = v
		}
		w.WriteHeader(p.status)
		w.Write(p.body)
	}))
	t.Cleanup(srv.Close)
	frame, err := pageframe.New("Example Labs", srv.URL+"/logo.svg", connTestPublic)
	if err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pt := newPortalTest(t)
	ct := pt.connTest
	ct.page.Frame, ct.page.SignIn.Frame, pt.portal.Frame = frame, frame, frame
	ct.svc.conns = append(ct.svc.conns, &behalf.Connection{GrantID: "g-slack", Workload: "slack-agent", UserKey: connAlice.Key(), ProviderName: "slack"})
	alice := ct.open(connAlice)
	connectionsURL := behalf.ConnectionsPath + "?issuer=" + url.QueryEscape(connTestIssuer)
	bind := &Bind{Service: a11yBind{}, SignIn: ct.page.SignIn, Log: log, Frame: frame}
	consent := &Consent{Service: a11yConsent{}, SignIn: ct.page.SignIn, Log: log, Frame: frame}
	noProvider := &Connections{Service: ct.svc, SignIn: ct.page.SignIn, Log: log, Frame: frame,
		Clients: func(context.Context, string) (SignInClient, error) {
			return SignInClient{}, behalf.Errorf(behalf.ENOTFOUND, "none")
		}}
	get := func(path string) *http.Request { return httptest.NewRequest("GET", path, nil) }
	bindURL := func(session string) string { return behalf.BindPath + "?session_id=" + session }

	pages := []struct {
		name string
		page func() recordedPage
	}{
		{"landing", func() recordedPage {
			return record(t, Landing{DocsURL: "https://github.com/behalf-dev/behalf#readme", Frame: frame}, get("/"))
		}},
		{"connections, a grant listed", func() recordedPage { return record(t, ct.page, get(connectionsURL), alice.cookies()...) }},
		{"connections, after a revoke", func() recordedPage {
			body := ct.postThenGet(revokeForm(connTestIssuer, alice.csrf, "g-drive"), alice.cookies())
			return recordedPage{http.StatusOK, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, []byte(body)}
		}},
		{"connections, signed out", func() recordedPage {
			form := url.Values{"issuer": {connTestIssuer}, "csrf": {alice.csrf}}
			req := httptest.NewRequest("POST", behalf.ConnectionsSignOutPath, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			for _, c := range alice.cookies() {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			ct.page.ServeHTTP(rec, req) // POST → 303 → GET
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("sign out: %d\n%s", rec.Code, rec.Body)
			}
			return record(t, ct.page, get(rec.Header().Get("Location"))) // the sign-in cookie is gone
		}},
		{"connections, no sign-in provider", func() recordedPage { return record(t, noProvider, get(behalf.ConnectionsPath)) }},
		{"consent portal", func() recordedPage {
			return record(t, pt.portal, get("/consent-portals/"+portalTestID), pt.open(connAlice).cookies()...)
		}},
		{"bind, done", func() recordedPage { return record(t, bind, get(bindURL("done")), ct.sessionCookie(connAlice)) }},
		{"bind, already done", func() recordedPage { return record(t, bind, get(bindURL("again")), ct.sessionCookie(connAlice)) }},
		{"bind, another user", func() recordedPage { return record(t, bind, get(bindURL("wrong-user")), ct.sessionCookie(connAlice)) }},
		{"bind, another browser", func() recordedPage {
			return record(t, bind, get(bindURL("other-browser")), ct.sessionCookie(connAlice))
		}},
		{"bind, declined at the provider", func() recordedPage { return record(t, bind, get(bindURL("x")+"&error=access_denied")) }},
		{"bind, unusable link", func() recordedPage { return record(t, bind, get(bindURL("expired"))) }},
		{"sign-in, not completed", func() recordedPage { return record(t, ct.page.SignIn, get(SignInCallbackPath)) }},
		{"consent, unusable link", func() recordedPage {
			return record(t, consent, get("/identities/oauth2/authorize?request_uri=expired"))
		}},
		{"consent, another user", func() recordedPage {
			return record(t, consent, get("/identities/oauth2/authorize?request_uri=wrong-user"), ct.sessionCookie(connAlice))
		}},
	}
	for i, p := range pages {
		rendered["/"+string(rune('a'+i))] = p.page()
	}

	browser := browsertest.New(t)
	for i, p := range pages {
		browsertest.Do(t, browser, chromedp.Navigate(srv.URL+"/"+string(rune('a'+i))))
		browsertest.CheckAccessible(t, browser, p.name)
	}
}
