package identity

// Behalf's own session binding: a workload that returns to
// {public-url}/identities/oauth2/bind and signs its users in with an
// inbound identity provider. These tests drive AuthorizeTarget,
// Authorize, Callback, BindTarget and BindInBrowser as package web's
// pages do; the pages themselves, in a real browser, are tested in
// cmd/behalf (TestBindInBrowser).

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// bindApp is the workload's BindRedirectURL: the done page links back there.
const bindApp = "https://app.example/agents/drive"

// bindFlow is a flow whose workload signs its users in at alice's and
// bob's issuer and lists Behalf's binding endpoint among its return URLs.
type bindFlow struct {
	*flow
	bindURL string
}

func newBindFlow(t *testing.T) *bindFlow {
	t.Helper()
	f := newFlow(t, fakeprovider.Options{})
	bindURL := f.cfg.PublicURL + behalf.BindPath
	if _, err := f.db.UpdateWorkload(context.Background(), testWorkload, func(w *behalf.WorkloadIdentity) error {
		w.AllowedReturnURLs = append(w.AllowedReturnURLs, bindURL)
		w.Inbound = behalf.WorkloadInbound{Issuer: alice.Issuer, ClientID: "page-client", BindRedirectURL: bindApp}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return &bindFlow{flow: f, bindURL: bindURL}
}

// start starts a session for u returning to the binding page.
func (b *bindFlow) start(u behalf.User, force bool) session {
	b.t.Helper()
	r := b.request(b.wat(u), "")
	r.ReturnURL, r.ForceAuthentication, r.Scopes = b.bindURL, force, []string{driveScope, "email"}
	return b.startAs(b.root, r)
}

// pollBind is the agent polling a session started by start.
func (b *bindFlow) pollBind(s session) *behalf.TokenResult {
	b.t.Helper()
	r := b.request(s.wat, s.uri)
	r.ReturnURL, r.Scopes = b.bindURL, []string{driveScope, "email"}
	return b.fetchAs(b.root, r)
}

// toBind runs the browser leg for a browser signed in as user and
// returns the browser's key, having checked it lands on the binding page.
func (b *bindFlow) toBind(s session, user behalf.User) behalf.Secret {
	b.t.Helper()
	a := b.authorize(s, user)
	back, err := b.deliver(b.consent(a), a.BrowserKey)
	if err != nil {
		b.t.Fatalf("callback: %v", err)
	}
	u, err := url.Parse(back)
	if err != nil || !strings.HasPrefix(back, b.bindURL+"?") || u.Query().Get("session_id") != s.uri {
		b.t.Fatalf("the callback sent the browser to %q, want the binding page with the session", back)
	}
	return a.BrowserKey
}

// Ensure the same user in the same browser goes sign-in → consent →
// bound: the authorization URL asks for the workload's sign-in provider,
// refuses a browser not signed in there, and the binding page binds the
// token for the user who started the flow, once (a second submit answers
// AlreadyBound); a second connection replaces the grant, audited.
func TestBindInBrowser(t *testing.T) {
	b := newBindFlow(t)
	ctx := context.Background()
	s := b.start(alice, false)

	target, err := b.dp.Consent().AuthorizeTarget(ctx, s.requestURI)
	if err != nil || target.Workload != testWorkload || target.SignIn == nil || target.SignIn.Issuer != alice.Issuer || target.SignIn.ClientID != "page-client" {
		t.Fatalf("AuthorizeTarget = %+v, %v; want the workload's sign-in provider", target, err)
	}
	before := b.authorizations()
	for name, u := range map[string]behalf.User{"NotSignedIn": {}, "OtherIssuer": {Issuer: "https://other.example", Subject: "alice"}} {
		if _, err := b.dp.Consent().Authorize(ctx, s.requestURI, u); behalf.ErrorCode(err) != behalf.EFORBIDDEN || !strings.Contains(behalf.ErrorMessage(err), "Sign in") {
			t.Fatalf("%s: Authorize = %v, want EFORBIDDEN asking to sign in", name, err)
		}
	}
	if b.authorizations() != before {
		t.Fatal("a browser not signed in reached the provider")
	}

	key := b.toBind(s, alice) // the URL was not spent by the refusals above
	bt, err := b.dp.Consent().BindTarget(ctx, s.uri)
	if err != nil || bt.Workload != testWorkload || bt.Provider != "drive" || bt.Completed || bt.Inbound.ClientID != "page-client" ||
		len(bt.Inbound.ClientSecret) != 0 || bt.UserIssuer != alice.Issuer || !slices.Contains(bt.Scopes, driveScope) {
		t.Fatalf("BindTarget = %+v, %v", bt, err)
	}
	res, err := b.dp.Consent().BindInBrowser(ctx, s.uri, alice, []behalf.Secret{key})
	if err != nil || res.AlreadyBound || res.Provider != "drive" || res.Workload != testWorkload || res.RedirectURL != bindApp ||
		res.Account != fakeprovider.DefaultUser {
		t.Fatalf("BindInBrowser = %+v, %v; want bound, naming the account %s", res, err, fakeprovider.DefaultUser)
	}
	if tok := b.pollBind(s).AccessToken; tok.IsZero() || !b.driveWorks(tok) {
		t.Fatal("the agent's poll has no working token after binding")
	}
	bound := b.sessionEvents(behalf.AuditGrantBound, s)
	if len(bound) != 1 || !strings.Contains(bound[0].Detail, fakeprovider.DefaultUser) || bound[0].UserKey != alice.Key() {
		t.Fatalf("grant.bound events for the session: %+v, want one naming the account", bound)
	}

	again, err := b.dp.Consent().BindInBrowser(ctx, s.uri, alice, nil) // a reload, even without the key
	if err != nil || !again.AlreadyBound || again.Account != fakeprovider.DefaultUser {
		t.Fatalf("BindInBrowser again = %+v, %v; want AlreadyBound", again, err)
	}
	if n := len(b.sessionEvents(behalf.AuditGrantBound, s)); n != 1 {
		t.Fatalf("%d grant.bound events after a reload, want 1", n)
	}
	if bt, err := b.dp.Consent().BindTarget(ctx, s.uri); err != nil || !bt.Completed {
		t.Fatalf("BindTarget of the bound session = %+v, %v", bt, err)
	}

	s2 := b.start(alice, true)
	key2 := b.toBind(s2, alice)
	if _, err := b.dp.Consent().BindInBrowser(ctx, s2.uri, alice, []behalf.Secret{key2}); err != nil {
		t.Fatal(err)
	}
	if replaced := b.sessionEvents(behalf.AuditGrantReplaced, s2); len(replaced) != 1 || !strings.Contains(replaced[0].Detail, fakeprovider.DefaultUser) {
		t.Fatalf("grant.replaced events for the second connection: %+v", replaced)
	}
	if conns, err := b.dp.Vault().ListConnections(ctx, alice.Key()); err != nil || len(conns) != 1 {
		t.Fatalf("alice's connections: %+v, %v; want the one replaced grant", conns, err)
	}
}

// Ensure every binding by the wrong user or browser binds nothing and
// ends the session for good (FAILED, its token revoked at the provider,
// binding.refused audited naming who was refused).
func TestBindRefusals(t *testing.T) {
	ctx := context.Background()
	refused := func(t *testing.T, b *bindFlow, s session, who string) {
		t.Helper()
		if res := b.pollBind(s); res.SessionStatus != "FAILED" || !res.AccessToken.IsZero() {
			t.Fatalf("the session after the refusal: %+v, want FAILED", res)
		}
		es := b.sessionEvents(behalf.AuditBindingRefused, s)
		if len(es) != 1 || es[0].UserKey != alice.Key() || !strings.Contains(es[0].Detail, who) {
			t.Fatalf("binding.refused events: %+v, want one for alice's session naming %q", es, who)
		}
		if conns, err := b.dp.Vault().ListConnections(ctx, ""); err != nil || len(conns) != 0 {
			t.Fatalf("grants after the refusal: %+v, %v", conns, err)
		}
	}

	// Bob's signed-in browser opens alice's link: nothing reaches the
	// provider; the link is spent for alice too.
	t.Run("LeakedURL", func(t *testing.T) {
		b := newBindFlow(t)
		s := b.start(alice, false)
		before := b.authorizations()
		if _, err := b.dp.Consent().Authorize(ctx, s.requestURI, bob); err != behalf.ErrBindWrongUser {
			t.Fatalf("bob on alice's link: %v, want ErrBindWrongUser", err)
		}
		if b.authorizations() != before {
			t.Fatal("bob's browser reached the provider")
		}
		refused(t, b, s, bob.Key())
		if _, err := b.dp.Consent().Authorize(ctx, s.requestURI, alice); behalf.ErrorCode(err) != behalf.EINVALID {
			t.Fatalf("alice on her link after bob's attempt: %v, want EINVALID", err)
		}
	})
	// The same with a session returning to the app, not the binding page.
	t.Run("AppReturnURL", func(t *testing.T) {
		b := newBindFlow(t)
		s := b.startAs(b.root, b.request(b.wat(alice), ""))
		if _, err := b.dp.Consent().Authorize(ctx, s.requestURI, bob); err != behalf.ErrBindWrongUser {
			t.Fatalf("bob on alice's app-return link: %v, want ErrBindWrongUser", err)
		}
		if res := b.poll(s.wat, s.uri); res.SessionStatus != "FAILED" {
			t.Fatalf("alice's poll: %+v, want FAILED", res)
		}
	})
	// Alice's browser reaches the binding page; the link goes to bob.
	t.Run("ForwardedBindLink", func(t *testing.T) {
		b := newBindFlow(t)
		s := b.start(alice, false)
		key := b.toBind(s, alice)
		revoked := len(b.fp.Revoked())
		if _, err := b.dp.Consent().BindInBrowser(ctx, s.uri, bob, nil); err != behalf.ErrBindWrongUser {
			t.Fatalf("bob on alice's binding link: %v, want ErrBindWrongUser", err)
		}
		if n := len(b.fp.Revoked()) - revoked; n != 1 {
			t.Fatalf("%d tokens revoked at the provider, want the pending one", n)
		}
		refused(t, b, s, bob.Key())
		if _, err := b.dp.Consent().BindInBrowser(ctx, s.uri, alice, []behalf.Secret{key}); behalf.ErrorCode(err) != behalf.EINVALID {
			t.Fatalf("alice after the refusal: %v, want EINVALID", err)
		}
	})
	// The binding link in another browser of alice's own: signed in, but
	// without the key of the browser that consented.
	t.Run("BindLinkOtherBrowser", func(t *testing.T) {
		b := newBindFlow(t)
		s := b.start(alice, false)
		key := b.toBind(s, alice)
		if _, err := b.dp.Consent().BindInBrowser(ctx, s.uri, alice, []behalf.Secret{"another-browser"}); err != behalf.ErrBindOtherBrowser {
			t.Fatalf("the binding link in another browser: %v, want ErrBindOtherBrowser", err)
		}
		refused(t, b, s, "did not open the authorization URL")
		if _, err := b.dp.Consent().BindInBrowser(ctx, s.uri, alice, []behalf.Secret{key}); behalf.ErrorCode(err) != behalf.EINVALID {
			t.Fatalf("the right browser after the refusal: %v, want EINVALID", err)
		}
	})
	// A user from an issuer the workload's sign-in provider cannot confirm.
	t.Run("Unprovable", func(t *testing.T) {
		b := newBindFlow(t)
		stranger := behalf.User{Issuer: "https://other-idp.example", Subject: "alice"}
		s := b.start(stranger, false)
		if _, err := b.dp.Consent().AuthorizeTarget(ctx, s.requestURI); behalf.ErrorCode(err) != behalf.EFORBIDDEN {
			t.Fatalf("AuthorizeTarget for a user the sign-in provider cannot confirm: %v, want EFORBIDDEN", err)
		}
		if res := b.pollBind(s); res.SessionStatus != "FAILED" {
			t.Fatalf("the session: %+v, want FAILED", res)
		}
	})
}

// Ensure the binding page serves only live sessions that return to it:
// an expired one is refused (the poll then ends it and revokes its
// token, audited once), one returning to the app is the app's to
// complete, and a workload without a sign-in provider is named.
func TestBindSessionChecks(t *testing.T) {
	ctx := context.Background()
	t.Run("Expired", func(t *testing.T) {
		b := newBindFlow(t)
		s := b.start(alice, false)
		key := b.toBind(s, alice)
		revoked := len(b.fp.Revoked())
		b.clock.Advance(SessionLifetime + time.Minute)
		if _, err := b.dp.Consent().BindInBrowser(ctx, s.uri, alice, []behalf.Secret{key}); behalf.ErrorCode(err) != behalf.EINVALID {
			t.Fatalf("an expired session's binding: %v, want EINVALID", err)
		}
		if res := b.pollBind(s); res.SessionStatus != "FAILED" {
			t.Fatalf("the expired session: %+v, want FAILED", res)
		}
		if n := len(b.fp.Revoked()) - revoked; n != 1 {
			t.Fatalf("%d tokens revoked for the expired session, want its pending one", n)
		}
		if es := b.sessionEvents(behalf.AuditSessionExpired, s); len(es) != 1 {
			t.Fatalf("session.expired events: %+v", es)
		}
	})
	t.Run("AppReturnURL", func(t *testing.T) {
		b := newBindFlow(t)
		s := b.startAs(b.root, b.request(b.wat(alice), ""))
		b.toApp(s, alice)
		if _, err := b.dp.Consent().BindTarget(ctx, s.uri); behalf.ErrorCode(err) != behalf.EINVALID || !strings.Contains(behalf.ErrorMessage(err), "agent's own app") {
			t.Fatalf("BindTarget of a session returning to the app: %v", err)
		}
		if err := b.complete(b.root, s, alice); err != nil {
			t.Fatalf("the app completes it: %v", err)
		}
	})
	t.Run("NoSignInProvider", func(t *testing.T) {
		b := newBindFlow(t)
		s := b.start(alice, false)
		key := b.toBind(s, alice)
		if _, err := b.db.UpdateWorkload(ctx, testWorkload, func(w *behalf.WorkloadIdentity) error {
			w.Inbound = behalf.WorkloadInbound{}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.dp.Consent().BindInBrowser(ctx, s.uri, alice, []behalf.Secret{key}); behalf.ErrorCode(err) != behalf.EINVALID || !strings.Contains(behalf.ErrorMessage(err), "set-binding") {
			t.Fatalf("binding for a workload without a sign-in provider: %v", err)
		}
	})
	t.Run("Malformed", func(t *testing.T) {
		b := newBindFlow(t)
		for _, uri := range []string{"", "https://evil.example", behalf.SessionURIPrefix + "nope"} {
			if _, err := b.dp.Consent().BindTarget(ctx, uri); behalf.ErrorCode(err) != behalf.EINVALID {
				t.Errorf("BindTarget(%q): %v, want EINVALID", uri, err)
			}
		}
	})
}
