package identity

// Attack tests of the security catalogue, played against DataPlane's
// exported methods on the harness (a temporary SQLite store and the
// Google stand-in on loopback), where the defences live. cmd/behalf's
// TestAttackTokenNeverInLogOrError still plays every attack against a
// real `behalf serve` through the official clients, and sweeps its log.

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
	"github.com/behalf-dev/behalf/internal/jwtforge"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/internal/safehttp"
)

// wantCode fails t unless err has code.
func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if behalf.ErrorCode(err) != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

// Ensure a leaked authorization URL gains nothing. The workload has no
// inbound identity provider and names its users by id, so bob's browser
// can consent with alice's link and the app completes as bob: that
// completion is refused and ends the session for good (FAILED, its token
// revoked at the provider, the refusal audited naming both users), so
// alice cannot complete it with bob's account either; the link is spent;
// bob's own flow still works.
func TestAttackLeakedAuthorizationURL(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	alice, bob := byID("alice"), byID("bob")
	s := f.start(alice)
	revoked := len(f.fp.Revoked())

	f.toApp(s, behalf.User{}) // bob's browser
	err := f.complete(f.root, s, bob)
	wantCode(t, err, behalf.EFORBIDDEN, "the app completes alice's session as bob")
	if res := f.poll(s.wat, s.uri); res.SessionStatus != "FAILED" || !res.AccessToken.IsZero() {
		t.Fatalf("alice's poll after the refused completion = %+v, want FAILED", res)
	}
	wantCode(t, f.complete(f.root, s, alice), behalf.EFORBIDDEN, "alice completes her session after the refusal")
	for _, u := range []behalf.User{alice, bob} {
		if tok := f.vaultToken(f.wat(u)); !tok.IsZero() {
			t.Fatalf("%s's vault holds a token after the refused binding", u.Key())
		}
	}
	if res := f.poll(s.wat, s.uri); res.SessionStatus != "FAILED" || !res.AccessToken.IsZero() {
		t.Fatalf("alice's poll after her attempt = %+v, want FAILED", res)
	}
	if n := len(f.fp.Revoked()) - revoked; n != 1 {
		t.Fatalf("the provider revoked %d tokens, want the discarded one once", n)
	}
	refused := f.sessionEvents(behalf.AuditBindingRefused, s)
	if len(refused) != 1 || refused[0].Workload != testWorkload || refused[0].UserKey != alice.Key() ||
		!strings.Contains(refused[0].Detail, bob.Key()) || !strings.Contains(refused[0].Detail, "revocation at the provider: CONFIRMED") {
		t.Fatalf("binding.refused events for the session: %+v, want one naming alice and bob and the revocation", refused)
	}
	if es := f.sessionEvents(behalf.AuditGrantBound, s); len(es) != 0 {
		t.Fatalf("grant.bound for the refused session: %+v", es)
	}
	_, err = f.dp.Consent().Authorize(context.Background(), s.requestURI, behalf.User{})
	wantCode(t, err, behalf.EINVALID, "the spent authorization URL")
	_, err = f.dp.Consent().AuthorizeTarget(context.Background(), s.requestURI)
	wantCode(t, err, behalf.EINVALID, "the spent authorization URL's target")
	if tok := f.connect(bob); tok.IsZero() {
		t.Fatal("bob's own flow gave no token")
	}
}

// Ensure the callback's state is checked: missing, empty, tampered,
// repeated or delivered to another provider's callback, it is refused
// and nothing reaches the provider's token endpoint; the right callback
// exchanges the code once and cannot be replayed; the session then binds.
func TestAttackCallbackState(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	carol := byID("carol")
	s := f.start(carol)
	a := f.authorize(s, behalf.User{})
	cb := f.consent(a)
	state := cb.Query().Get("state")
	other := f.addProvider("other", f.fp.Metadata())
	before := f.exchanges()
	refused := func(t *testing.T, providerID string, edit func(q url.Values)) {
		t.Helper()
		q := cb.Query()
		edit(q)
		if _, err := f.dp.Consent().Callback(context.Background(), providerID, q, []behalf.Secret{a.BrowserKey}); behalf.ErrorCode(err) != behalf.EINVALID {
			t.Fatalf("callback %v: %v, want EINVALID", q, err)
		}
		if n := f.exchanges() - before; n != 0 {
			t.Fatalf("the provider's token endpoint was called %d times", n)
		}
	}
	t.Run("MissingState", func(t *testing.T) { refused(t, f.p.ID, func(q url.Values) { q.Del("state") }) })
	t.Run("EmptyState", func(t *testing.T) { refused(t, f.p.ID, func(q url.Values) { q.Set("state", "") }) })
	t.Run("TamperedState", func(t *testing.T) {
		refused(t, f.p.ID, func(q url.Values) { q.Set("state", flip(state, len(state)/2)) })
		refused(t, f.p.ID, func(q url.Values) { q.Set("state", state+"x") })
	})
	t.Run("RepeatedState", func(t *testing.T) { refused(t, f.p.ID, func(q url.Values) { q["state"] = []string{state, state} }) })
	t.Run("OtherProviderPath", func(t *testing.T) { refused(t, other.ID, func(url.Values) {}) })
	t.Run("CorrectCallback", func(t *testing.T) {
		back, err := f.deliver(cb, a.BrowserKey)
		if err != nil || !strings.HasPrefix(back, testReturnURL+"?") {
			t.Fatalf("callback: %q, %v", back, err)
		}
		if n := f.exchanges() - before; n != 1 {
			t.Fatalf("code exchanges = %d, want exactly 1", n)
		}
		before = f.exchanges()
	})
	t.Run("ReplayedCallback", func(t *testing.T) { refused(t, f.p.ID, func(url.Values) {}) })
	t.Run("SessionStillBindsOnce", func(t *testing.T) {
		if err := f.complete(f.root, s, carol); err != nil {
			t.Fatalf("carol completes her session: %v", err)
		}
		if res := f.poll(s.wat, s.uri); res.AccessToken.IsZero() {
			t.Fatalf("carol's poll = %+v, want a token", res)
		}
	})
}

// flip changes the character at i to another base64url character.
func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// Ensure the provider's consent page forwarded to another browser binds
// nothing: its callback, without the key of the browser that opened the
// authorization URL, is refused before any code exchange, and the
// session fails, audited.
func TestAttackForwardedProviderURL(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	for name, keys := range map[string][]behalf.Secret{"NoKey": nil, "OtherKey": {"not-the-key"}} {
		t.Run(name, func(t *testing.T) {
			s := f.start(byID("alice"))
			a := f.authorize(s, behalf.User{})
			cb := f.consent(a) // in the victim's browser
			before := f.exchanges()
			if _, err := f.deliver(cb, keys...); behalf.ErrorCode(err) != behalf.EFORBIDDEN || !strings.Contains(behalf.ErrorMessage(err), "different browser") {
				t.Fatalf("the callback in another browser: %v, want EFORBIDDEN naming the browser", err)
			}
			if n := f.exchanges() - before; n != 0 {
				t.Fatalf("%d code exchanges for a forwarded consent, want none", n)
			}
			if res := f.poll(s.wat, s.uri); res.SessionStatus != "FAILED" {
				t.Fatalf("the session is %+v, want FAILED", res)
			}
			if _, err := f.deliver(cb, a.BrowserKey); behalf.ErrorCode(err) != behalf.EINVALID || f.exchanges() != before {
				t.Fatalf("the right browser after the refusal: %v, want EINVALID and no exchange", err)
			}
			if es := f.sessionEvents(behalf.AuditBindingRefused, s); len(es) != 1 || !strings.Contains(es[0].Detail, "did not open the authorization URL") {
				t.Fatalf("binding.refused events: %+v", es)
			}
		})
	}
}

// Ensure the authorization URL is single use, and unknown or malformed
// request URIs are refused the same way.
func TestAttackAuthorizationURLSingleUse(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	s := f.start(byID("dave"))
	f.authorize(s, behalf.User{})
	ctx := context.Background()
	// The answer for a link that was never usable, which every other must match.
	_, unknown := f.dp.Consent().Authorize(ctx, behalf.SessionURIPrefix+randid.Alnum(32), behalf.User{})
	wantCode(t, unknown, behalf.EINVALID, "an unknown authorization URL")
	for name, ref := range map[string]string{
		"SecondUse":  s.requestURI,
		"Unknown":    behalf.SessionURIPrefix + randid.Alnum(32),
		"NotAURN":    "https://evil.example/",
		"TooLong":    behalf.SessionURIPrefix + strings.Repeat("a", 1100),
		"Empty":      "",
		"BadSymbols": behalf.SessionURIPrefix + "a b",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.dp.Consent().Authorize(ctx, ref, behalf.User{})
			wantCode(t, err, behalf.EINVALID, "Authorize")
			if behalf.ErrorMessage(err) != behalf.ErrorMessage(unknown) {
				t.Errorf("message %q, want %q, the one answer for every unusable link", behalf.ErrorMessage(err), behalf.ErrorMessage(unknown))
			}
			_, err = f.dp.Consent().AuthorizeTarget(ctx, ref)
			wantCode(t, err, behalf.EINVALID, "AuthorizeTarget")
		})
	}
}

// Ensure a return URL must equal one of the workload's allowed return URLs
// byte for byte, and a workload without any cannot start a session.
func TestAttackReturnURLVariants(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	svc := &Service{Store: f.db, Sealer: f.cfg.Sealer, Now: f.clock.Now}
	const named = "http://app.example.test/callback"
	for _, in := range []behalf.WorkloadInput{{Name: "named-host-agent", AllowedReturnURLs: []string{named}}, {Name: "no-return-agent"}} {
		if _, err := svc.CreateWorkload(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	try := func(workload, returnURL string) error {
		r := f.request(f.watAs(f.root, workload, byID("erin")), "")
		r.ReturnURL = returnURL
		_, err := f.dp.ResourceOAuth2Token(f.root, r)
		return err
	}
	if err := try(testWorkload, testReturnURL); err != nil {
		t.Fatalf("the registered return URL was refused: %v", err)
	}
	if err := try("named-host-agent", named); err != nil {
		t.Fatalf("the registered named-host return URL was refused: %v", err)
	}
	for _, tc := range []struct{ name, workload, url string }{
		{"TrailingSlash", testWorkload, testReturnURL + "/"},
		{"OtherPort", testWorkload, "https://app.example:8443/callback"},
		{"DefaultPort", testWorkload, "https://app.example:443/callback"},
		{"UpperCaseScheme", testWorkload, "HTTPS://app.example/callback"},
		{"UpperCaseHost", "named-host-agent", "http://APP.EXAMPLE.TEST/callback"},
		{"UpperCasePath", testWorkload, "https://app.example/CALLBACK"},
		{"DotDotSegment", testWorkload, testReturnURL + "/../callback"},
		{"EncodedPath", testWorkload, "https://app.example/%63allback"},
		{"Userinfo", testWorkload, "https://evil@app.example/callback"},
		{"HostAsUserinfo", testWorkload, "https://app.example@evil.example/callback"},
		{"SchemeRelative", testWorkload, "//app.example/callback"},
		{"AddedQuery", testWorkload, testReturnURL + "?x=1"},
		{"EmptyQuery", testWorkload, testReturnURL + "?"},
		{"AddedFragment", testWorkload, testReturnURL + "#x"},
		{"Http", testWorkload, "http://app.example/callback"},
		{"Empty", testWorkload, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := try(tc.workload, tc.url)
			if behalf.ErrorCode(err) != behalf.EINVALID || behalf.ErrorField(err) != "resourceOauth2ReturnUrl" {
				t.Fatalf("%q: %v, want EINVALID naming resourceOauth2ReturnUrl", tc.url, err)
			}
		})
	}
	t.Run("WorkloadWithoutReturnURLs", func(t *testing.T) {
		err := try("no-return-agent", testReturnURL)
		if behalf.ErrorField(err) != "resourceOauth2ReturnUrl" || !strings.Contains(behalf.ErrorMessage(err), "You must register") {
			t.Fatalf("%v, want \"You must register...\"", err)
		}
	})
}

// Ensure an expired session is dead at every step: its authorization URL,
// its callback (no code exchanged), its completion and its poll (FAILED);
// a session that expired holding a token has it revoked, once, audited.
func TestAttackExpiredSession(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	// A: never opened. B: consented at the provider, callback not yet
	// delivered. C: callback delivered (token held), not yet completed.
	users := map[string]behalf.User{"A": byID("frank-a"), "B": byID("frank-b"), "C": byID("frank-c")}
	sA, sB, sC := f.start(users["A"]), f.start(users["B"]), f.start(users["C"])
	aB := f.authorize(sB, behalf.User{})
	cbB := f.consent(aB)
	f.toApp(sC, behalf.User{})

	f.clock.Advance(SessionLifetime + time.Minute)
	before, revoked := f.exchanges(), len(f.fp.Revoked())
	ctx := context.Background()

	_, err := f.dp.Consent().Authorize(ctx, sA.requestURI, behalf.User{})
	wantCode(t, err, behalf.EINVALID, "the authorization URL after expiry")
	_, err = f.deliver(cbB, aB.BrowserKey)
	wantCode(t, err, behalf.EINVALID, "the callback after expiry")
	if n := f.exchanges() - before; n != 0 {
		t.Fatalf("an expired session's callback exchanged the code (%d calls)", n)
	}
	wantCode(t, f.complete(f.root, sA, users["A"]), behalf.EFORBIDDEN, "completing an expired session never opened")
	wantCode(t, f.complete(f.root, sC, users["C"]), behalf.EFORBIDDEN, "completing an expired session holding a token")
	for name, s := range map[string]session{"A": sA, "B": sB, "C": sC} {
		if res := f.poll(s.wat, s.uri); res.SessionStatus != "FAILED" || !res.AccessToken.IsZero() || res.AuthorizationURL != "" {
			t.Errorf("%s: poll of an expired session = %+v, want FAILED", name, res)
		}
	}
	if tok := f.vaultToken(f.wat(users["C"])); !tok.IsZero() {
		t.Fatal("an expired session's token reached the vault")
	}
	if n := len(f.fp.Revoked()) - revoked; n != 1 {
		t.Fatalf("%d tokens revoked, want C's pending token once", n)
	}
	if es := f.sessionEvents(behalf.AuditSessionExpired, sC); len(es) != 1 {
		t.Fatalf("session.expired events for C: %+v, want 1", es)
	}
	if n, err := f.dp.Consent().ExpireSessions(ctx, 10); err != nil || n != 0 {
		t.Fatalf("the sweeper after the poll ended the session: %d, %v; want nothing left", n, err)
	}
}

// Ensure a key scoped to one workload acts for that workload only: it
// cannot mint WATs of another, use another's WATs, or complete another's
// session (which stays its owner's to complete), and its own WATs never
// read another workload's tokens.
func TestAttackScopedKey(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	ctx := context.Background()
	svc := &Service{Store: f.db, Sealer: f.cfg.Sealer, Now: f.clock.Now}
	if _, err := svc.CreateWorkload(ctx, behalf.WorkloadInput{Name: "other-agent", AllowedReturnURLs: []string{testReturnURL}}); err != nil {
		t.Fatal(err)
	}
	scoped := behalf.WithPrincipal(ctx, behalf.Principal{Name: behalf.WorkloadPrincipal(testWorkload), AccessKeyID: "BHLFSCOPED"})
	grace := byID("grace")
	denied := func(t *testing.T, err error, what string) {
		t.Helper()
		if behalf.ErrorCode(err) != behalf.EFORBIDDEN || !strings.Contains(behalf.ErrorMessage(err), "BHLFSCOPED") {
			t.Fatalf("%s with a key scoped to %s: %v, want EFORBIDDEN naming the key", what, testWorkload, err)
		}
	}

	t.Run("OwnWorkloadWorks", func(t *testing.T) {
		f.startAs(scoped, f.request(f.watAs(scoped, testWorkload, grace), ""))
	})
	t.Run("NoCallerIdentity", func(t *testing.T) {
		_, err := f.dp.WorkloadAccessTokenForUserID(ctx, testWorkload, "grace")
		wantCode(t, err, behalf.EFORBIDDEN, "minting without a caller")
	})
	t.Run("MintForOtherWorkload", func(t *testing.T) {
		_, err := f.dp.WorkloadAccessTokenForUserID(scoped, "other-agent", "grace")
		denied(t, err, "GetWorkloadAccessTokenForUserId(other-agent)")
		_, err = f.dp.WorkloadAccessToken(scoped, "other-agent")
		denied(t, err, "GetWorkloadAccessToken(other-agent)")
		_, err = f.dp.WorkloadAccessTokenForJWT(scoped, "other-agent", f.users.token(alice))
		denied(t, err, "GetWorkloadAccessTokenForJWT(other-agent)")
	})
	otherWAT := f.watAs(f.root, "other-agent", grace)
	t.Run("UseOtherWorkloadsWAT", func(t *testing.T) {
		_, err := f.dp.ResourceOAuth2Token(scoped, f.request(otherWAT, ""))
		denied(t, err, "GetResourceOauth2Token with other-agent's WAT")
		_, err = f.dp.ResourceAPIKey(scoped, otherWAT, "some-api-key")
		denied(t, err, "GetResourceApiKey with other-agent's WAT")
	})
	t.Run("CompleteOtherWorkloadsSession", func(t *testing.T) {
		s := f.startAs(f.root, f.request(otherWAT, ""))
		f.toApp(s, behalf.User{})
		denied(t, f.complete(scoped, s, grace), "CompleteResourceTokenAuth of other-agent's session")
		if es := f.sessionEvents(behalf.AuditBindingRefused, s); len(es) != 0 {
			t.Fatalf("the refused attempt ended the session: %+v", es)
		}
		if err := f.complete(f.root, s, grace); err != nil {
			t.Fatalf("root completes other-agent's session after the refused attempt: %v", err)
		}
		res := f.poll(otherWAT, s.uri)
		if res.AccessToken.IsZero() {
			t.Fatalf("poll = %+v, want a token", res)
		}
		own := f.fetchAs(scoped, f.request(f.watAs(scoped, testWorkload, grace), ""))
		if !own.AccessToken.IsZero() {
			t.Fatal("the scoped key's own WAT read a token of another workload")
		}
	})
}

// Ensure USER_FEDERATION refuses a WAT that names no user.
func TestAttackWATWithoutUser(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	_, err := f.dp.ResourceOAuth2Token(f.root, f.request(f.wat(behalf.User{}), ""))
	if behalf.ErrorCode(err) != behalf.EINVALID || behalf.ErrorField(err) != "workloadIdentityToken" {
		t.Fatalf("USER_FEDERATION with a user-less WAT: %v, want EINVALID naming workloadIdentityToken", err)
	}
}

// Ensure tampered, unsigned, re-signed, foreign and expired WATs are
// refused as unauthorized, without echoing the token.
func TestAttackTamperedWAT(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	wat := f.wat(byID("heidi")).Reveal()
	f.startAs(f.root, f.request(behalf.Secret(wat), "")) // control: the genuine WAT works
	parts := strings.Split(wat, ".")
	if len(parts) != 3 {
		t.Fatalf("WAT has %d parts", len(parts))
	}
	var header, payload map[string]any
	jwtDecode(t, parts[0], &header)
	jwtDecode(t, parts[1], &payload)
	if payload["user_sub"] != "heidi" || payload["sub"] != testWorkload {
		t.Fatalf("WAT payload %v", payload)
	}
	substituted := jwtforge.With(payload, map[string]any{"user_sub": "mallory"})
	extended := jwtforge.With(payload, map[string]any{"exp": f.clock.Now().Add(24 * time.Hour).Unix()})
	otherWorkload := jwtforge.With(payload, map[string]any{"sub": "other-agent"})
	foreign := newHarness(t) // another Behalf: the same issuer URL, another key
	foreignWAT, err := foreign.dp.WorkloadAccessTokenForUserID(foreign.root, testWorkload, "heidi")
	if err != nil {
		t.Fatal(err)
	}
	unauthorized := func(t *testing.T, tok string) {
		t.Helper()
		_, err := f.dp.ResourceOAuth2Token(f.root, f.request(behalf.Secret(tok), ""))
		if behalf.ErrorCode(err) != behalf.EUNAUTHORIZED {
			t.Fatalf("the forged WAT: %v, want EUNAUTHORIZED", err)
		}
		if msg := behalf.ErrorMessage(err); strings.Contains(msg, parts[1]) || strings.Contains(msg, parts[2]) {
			t.Fatalf("the error echoes the token: %q", msg)
		}
	}
	for _, tc := range []struct{ name, token string }{
		{"FlippedSignature", parts[0] + "." + parts[1] + "." + flip(parts[2], 10)},
		{"FlippedPayload", parts[0] + "." + flip(parts[1], len(parts[1])/2) + "." + parts[2]},
		{"OtherUserSameSignature", parts[0] + "." + jwtforge.Segment(substituted) + "." + parts[2]},
		{"LongerExpirySameSignature", parts[0] + "." + jwtforge.Segment(extended) + "." + parts[2]},
		{"OtherWorkloadSameSignature", parts[0] + "." + jwtforge.Segment(otherWorkload) + "." + parts[2]},
		{"NoSignature", parts[0] + "." + parts[1] + "."},
		{"AlgNone", jwtforge.Segment(map[string]any{"alg": "none"}) + "." + parts[1] + "."},
		{"AlgNoneTyp", jwtforge.Segment(map[string]any{"alg": "none", "typ": "JWT"}) + "." + parts[1] + "."},
		{"AlgNoneCase", jwtforge.Segment(map[string]any{"alg": "None"}) + "." + parts[1] + "."},
		{"AlgNoneOtherUser", jwtforge.Segment(map[string]any{"alg": "none"}) + "." + jwtforge.Segment(substituted) + "."},
		{"AlgHS256WithHeaderKid", jwtforge.HS256(jwtforge.With(header, map[string]any{"alg": "HS256"}), payload, []byte(""))},
		{"TwoParts", parts[0] + "." + parts[1]},
		{"FourParts", wat + "." + parts[2]},
		{"Garbage", "not-a-token"},
		{"AnotherBehalfsWAT", foreignWAT.Reveal()},
	} {
		t.Run(tc.name, func(t *testing.T) { unauthorized(t, tc.token) })
	}
	t.Run("Expired", func(t *testing.T) {
		fresh := f.wat(byID("heidi"))
		f.startAs(f.root, f.request(fresh, "")) // verified, and cached
		f.clock.Advance(MaxWATLifetime + time.Minute)
		unauthorized(t, fresh.Reveal())
	})
}

// Ensure GetWorkloadAccessTokenForJWT, with the real trusted-issuer
// verifier, refuses every forged or untrusted user JWT (alg none,
// HS256 with the issuer's public key, another key, an embedded JWK or a
// jku, expired or without expiry, Behalf's own WAT) without echoing
// token content, and accepts a token the trusted issuer signed.
func TestAttackForJWTForgedTokens(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	client := safehttp.NewClient(safehttp.Options{AllowPrivate: true})
	h.rebuild(func(c *Config) { c.Users = NewTrustedIssuers(h.db, client, nil) })
	idp, key := jwtforge.Issuer(t)
	admin := &Admin{Store: h.db, Sealer: h.cfg.Sealer, HTTPClient: client, Now: h.clock.Now}
	if ti, err := admin.CreateIssuer(ctx, idp.URL+"/.well-known/openid-configuration", nil); err != nil || ti.Issuer != idp.URL {
		t.Fatalf("CreateIssuer: %+v, %v", ti, err)
	}
	now := time.Now() // user JWTs are checked against real time
	claims := func(iss, sub string) map[string]any {
		return jwtforge.Claims(iss, sub, now)
	}
	forJWT := func(tok string) (behalf.Secret, error) {
		return h.dp.WorkloadAccessTokenForJWT(h.root, testWorkload, behalf.Secret(tok))
	}

	good := jwtforge.RS256(map[string]any{"alg": "RS256", "kid": "k1", "typ": "JWT"}, claims(idp.URL, "user-ok"), key)
	if _, err := forJWT(good); err != nil {
		t.Fatalf("a genuine token of the trusted issuer was refused: %v", err)
	}

	attacks, err := jwtforge.Forgeries(idp.URL, h.cfg.PublicURL, key, now)
	if err != nil {
		t.Fatal(err)
	}
	watTok, err := h.dp.WorkloadAccessTokenForUserID(h.root, testWorkload, "mallory-wat")
	if err != nil {
		t.Fatal(err)
	}
	attacks = append(attacks, jwtforge.Forgery{Name: "BehalfsOwnWAT", Token: watTok.Reveal()})

	for _, a := range attacks {
		t.Run(a.Name, func(t *testing.T) {
			_, err := forJWT(a.Token)
			if code := behalf.ErrorCode(err); code != behalf.EUNAUTHORIZED && code != behalf.EINVALID {
				t.Fatalf("err=%v, want EUNAUTHORIZED or EINVALID", err)
			}
			msg := behalf.ErrorMessage(err)
			for _, seg := range append(strings.Split(a.Token, "."), a.Secrets...) {
				if len(seg) >= 8 && strings.Contains(msg, seg) {
					t.Fatalf("the error echoes token content or a secret (%.16s…): %s", seg, msg)
				}
			}
		})
	}
}

// Ensure a session binds once: completing it again, as its user or anyone
// else, is refused and changes nothing; of concurrent completions exactly
// one succeeds, and one grant.bound is audited.
func TestAttackDoubleCompletion(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	ivan, mallory := byID("ivan"), byID("mallory")
	s := f.start(ivan)
	f.toApp(s, behalf.User{})
	if err := f.complete(f.root, s, ivan); err != nil {
		t.Fatal(err)
	}
	token := f.poll(s.wat, s.uri).AccessToken
	if token.IsZero() {
		t.Fatal("no token after binding")
	}

	t.Run("SecondCompletion", func(t *testing.T) {
		for _, u := range []behalf.User{ivan, mallory} {
			err := f.complete(f.root, s, u)
			if behalf.ErrorCode(err) != behalf.EFORBIDDEN || behalf.ErrorMessage(err) != "Invalid or expired session" {
				t.Fatalf("a second completion as %s: %v, want EFORBIDDEN \"Invalid or expired session\"", u.Key(), err)
			}
		}
		if got := f.vaultToken(f.wat(ivan)); got != token {
			t.Fatal("ivan's vault changed after the second completions")
		}
		if got := f.vaultToken(f.wat(mallory)); !got.IsZero() {
			t.Fatal("mallory got ivan's token")
		}
	})
	t.Run("ConcurrentCompletion", func(t *testing.T) {
		judy := byID("judy")
		s := f.start(judy)
		f.toApp(s, behalf.User{})
		const n = 8
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() { defer wg.Done(); errs <- f.complete(f.root, s, judy) }()
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			if err == nil {
				ok++
			} else if behalf.ErrorCode(err) != behalf.EFORBIDDEN {
				t.Errorf("a concurrent completion failed with %v, want EFORBIDDEN", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent completions succeeded, want exactly 1", ok, n)
		}
		if es := f.sessionEvents(behalf.AuditGrantBound, s); len(es) != 1 {
			t.Fatalf("%d grant.bound events for the session, want 1", len(es))
		}
		if res := f.poll(s.wat, s.uri); res.AccessToken.IsZero() {
			t.Fatalf("judy's poll = %+v, want a token", res)
		}
	})
}

// jwtDecode decodes one segment of a compact JWS into v, or fails t.
func jwtDecode(t *testing.T, seg string, v any) {
	t.Helper()
	if err := jwtforge.DecodeSegment(seg, v); err != nil {
		t.Fatal(err)
	}
}
