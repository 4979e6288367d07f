package identity

// The three-legged flow, driven through DataPlane's exported methods as
// the API and the browser pages drive it, against the Google stand-in
// (internal/fakeprovider) on loopback and the harness's temporary SQLite
// store. The end-to-end test through the official AWS clients stays in
// cmd/behalf (TestThreeLeggedFlow).

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// driveScope is the scope the flow tests ask for.
const driveScope = fakeprovider.DriveScope + ".readonly"

// fakeUsers is a UserVerifier that knows users by token: token "jwt-"+key
// names the user whose Key() is key. Every user is in good standing.
type fakeUsers struct {
	mu    sync.Mutex
	users map[string]behalf.User
}

// token returns the JWT that names u.
func (f *fakeUsers) token(u behalf.User) behalf.Secret {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.users == nil {
		f.users = map[string]behalf.User{}
	}
	tok := "jwt-" + u.Key()
	f.users[tok] = u
	return behalf.Secret(tok)
}

func (f *fakeUsers) VerifyUserToken(ctx context.Context, token string) (UserToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[token]
	if !ok {
		return UserToken{}, behalf.Errorf(behalf.EUNAUTHORIZED, "The user token is invalid.")
	}
	return UserToken{User: u, Expiry: time.Now().Add(time.Hour)}, nil
}

func (f *fakeUsers) VerifyUser(ctx context.Context, token string) (behalf.User, time.Time, error) {
	u, err := f.VerifyUserToken(ctx, token)
	return u.User, u.Expiry, err
}

func (f *fakeUsers) CheckUser(context.Context, behalf.User, time.Time) error { return nil }

// flow is the harness with the Google stand-in as provider "drive" and
// users verified by fakeUsers.
type flow struct {
	*harness
	fp       *fakeprovider.Server
	p        *behalf.OAuth2Provider
	users    *fakeUsers
	callback string // the provider's redirect URI: Behalf's callback for p
}

func newFlow(t *testing.T, opts fakeprovider.Options) *flow {
	t.Helper()
	return newHarness(t).withFlow(opts)
}

// withFlow adds the Google stand-in to h as provider "drive".
func (h *harness) withFlow(opts fakeprovider.Options) *flow {
	h.t.Helper()
	fp := fakeprovider.New(h.t, opts)
	p := h.addProvider("drive", fp.Metadata())
	callback := (&Service{PublicURL: h.cfg.PublicURL}).CallbackURL(p)
	fp.RegisterClient("cid", "csecret", callback)
	users := &fakeUsers{}
	h.rebuild(func(c *Config) { c.Users = users })
	return &flow{harness: h, fp: fp, p: p, users: users, callback: callback}
}

// byID is a user the agent names by id (GetWorkloadAccessTokenForUserId).
func byID(id string) behalf.User { return behalf.User{Subject: id} }

// wat mints a WAT of testWorkload for u as the root key.
func (f *flow) wat(u behalf.User) behalf.Secret {
	f.t.Helper()
	return f.watAs(f.root, testWorkload, u)
}

// watAs mints a WAT of workload for u (zero: none) as the caller of ctx:
// by user id for a user of no issuer, else from the user's JWT.
func (f *flow) watAs(ctx context.Context, workload string, u behalf.User) behalf.Secret {
	f.t.Helper()
	var tok behalf.Secret
	var err error
	switch {
	case u.IsZero():
		tok, err = f.dp.WorkloadAccessToken(ctx, workload)
	case u.Issuer == "":
		tok, err = f.dp.WorkloadAccessTokenForUserID(ctx, workload, u.Subject)
	default:
		tok, err = f.dp.WorkloadAccessTokenForJWT(ctx, workload, f.users.token(u))
	}
	if err != nil {
		f.t.Fatalf("mint a WAT of %s for %q: %v", workload, u.Key(), err)
	}
	return tok
}

// request is the agent's GetResourceOauth2Token for Drive, returning to
// testReturnURL.
func (f *flow) request(wat behalf.Secret, sessionURI string) behalf.TokenRequest {
	return behalf.TokenRequest{
		WorkloadToken: wat, Provider: f.p.Name, Flow: behalf.FlowUserFederation, Scopes: []string{driveScope},
		ReturnURL: testReturnURL, SessionURI: sessionURI,
		CustomParameters: map[string]string{"access_type": "offline", "prompt": "consent"},
	}
}

// fetchAs runs r as the caller of ctx and fails on an error.
func (f *flow) fetchAs(ctx context.Context, r behalf.TokenRequest) *behalf.TokenResult {
	f.t.Helper()
	res, err := f.dp.ResourceOAuth2Token(ctx, r)
	if err != nil {
		f.t.Fatalf("ResourceOAuth2Token: %v", err)
	}
	return res
}

// vaultToken is the token the vault gives wat's user, "" when they must consent.
func (f *flow) vaultToken(wat behalf.Secret) behalf.Secret {
	f.t.Helper()
	res := f.fetchAs(f.root, f.request(wat, ""))
	if res.AccessToken.IsZero() && res.AuthorizationURL == "" {
		f.t.Fatalf("token request answered neither a token nor a consent: %+v", res)
	}
	return res.AccessToken
}

// poll is the agent polling its session.
func (f *flow) poll(wat behalf.Secret, sessionURI string) *behalf.TokenResult {
	f.t.Helper()
	return f.fetchAs(f.root, f.request(wat, sessionURI))
}

// session is one started authorization session.
type session struct {
	wat        behalf.Secret
	authURL    string
	requestURI string // the authorization URL's request_uri
	uri        string // the session URI the agent polls with
}

func (s session) id() string { return strings.TrimPrefix(s.uri, behalf.SessionURIPrefix) }

// start asks for a token wat's user does not have, as the caller of ctx.
func (f *flow) startAs(ctx context.Context, r behalf.TokenRequest) session {
	f.t.Helper()
	res := f.fetchAs(ctx, r)
	prefix := f.cfg.PublicURL + "/identities/oauth2/authorize?request_uri="
	if !res.AccessToken.IsZero() || res.SessionStatus != "IN_PROGRESS" || !strings.HasPrefix(res.AuthorizationURL, prefix) ||
		!strings.HasPrefix(res.SessionURI, behalf.SessionURIPrefix) {
		f.t.Fatalf("start a session: %+v, want an authorization URL and a session URI", res)
	}
	u, err := url.Parse(res.AuthorizationURL)
	if err != nil {
		f.t.Fatal(err)
	}
	return session{wat: r.WorkloadToken, authURL: res.AuthorizationURL, requestURI: u.Query().Get("request_uri"), uri: res.SessionURI}
}

func (f *flow) start(u behalf.User) session {
	f.t.Helper()
	return f.startAs(f.root, f.request(f.wat(u), ""))
}

// authorize is a browser signed in as user (zero: not signed in) opening
// the authorization URL: it must be sent to the provider.
func (f *flow) authorize(s session, user behalf.User) *behalf.Authorization {
	f.t.Helper()
	a, err := f.dp.Consent().Authorize(context.Background(), s.requestURI, user)
	if err != nil {
		f.t.Fatalf("Authorize: %v", err)
	}
	if !strings.HasPrefix(a.RedirectURL, f.fp.URL+fakeprovider.AuthorizePath+"?") || a.BrowserKey.IsZero() {
		f.t.Fatalf("Authorize sent the browser to %q (browser key set: %v), want the provider", a.RedirectURL, !a.BrowserKey.IsZero())
	}
	return a
}

// consent is the user consenting at the provider: it returns Behalf's
// callback URL with the code and state.
func (f *flow) consent(a *behalf.Authorization) *url.URL {
	f.t.Helper()
	cb, err := f.fp.Authorize(context.Background(), a.RedirectURL)
	if err != nil {
		f.t.Fatal(err)
	}
	if !strings.HasPrefix(cb.String(), f.callback+"?") || cb.Query().Get("code") == "" || cb.Query().Get("state") == "" {
		f.t.Fatalf("the provider redirected to %s, want Behalf's callback with code and state", cb)
	}
	return cb
}

// deliver is the provider's redirect arriving at Behalf's callback in a
// browser holding keys.
func (f *flow) deliver(cb *url.URL, keys ...behalf.Secret) (string, error) {
	return f.dp.Consent().Callback(context.Background(), f.p.ID, cb.Query(), keys)
}

// toApp runs a session's browser leg in one browser, signed in as user,
// and returns the app URL Behalf sends it back to.
func (f *flow) toApp(s session, user behalf.User) string {
	f.t.Helper()
	a := f.authorize(s, user)
	back, err := f.deliver(f.consent(a), a.BrowserKey)
	if err != nil {
		f.t.Fatalf("callback: %v", err)
	}
	return back
}

// complete is the app completing a session as user.
func (f *flow) complete(ctx context.Context, s session, user behalf.User) error {
	who := behalf.UserIdentifier{UserID: user.Subject}
	if user.Issuer != "" {
		who = behalf.UserIdentifier{UserToken: f.users.token(user)}
	}
	return f.dp.CompleteResourceTokenAuth(ctx, s.uri, who)
}

// connect runs the whole flow for u and returns the token the agent's
// poll receives.
func (f *flow) connect(u behalf.User) behalf.Secret {
	f.t.Helper()
	s := f.start(u)
	f.toApp(s, behalf.User{})
	if err := f.complete(f.root, s, u); err != nil {
		f.t.Fatalf("complete as %s: %v", u.Key(), err)
	}
	res := f.poll(s.wat, s.uri)
	if res.AccessToken.IsZero() {
		f.t.Fatalf("poll after completion = %+v, want the token", res)
	}
	return res.AccessToken
}

// sessionEvents returns the audit events of kind for session s.
func (f *flow) sessionEvents(kind string, s session) []*behalf.AuditEvent {
	f.t.Helper()
	var out []*behalf.AuditEvent
	for _, e := range f.events(kind) {
		if e.SessionID == s.id() {
			out = append(out, e)
		}
	}
	return out
}

func (f *flow) exchanges() int {
	_, n, _, _ := f.fp.Counts()
	return n
}

func (f *flow) authorizations() int {
	n, _, _, _ := f.fp.Counts()
	return n
}

// driveWorks reports whether token is accepted by the Drive stand-in.
func (f *flow) driveWorks(token behalf.Secret) bool {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.fp.URL+fakeprovider.DriveFilesPath, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Ensure the three-legged flow: the agent's first call starts a session
// whose authorization URL does not name it; the browser is sent to the
// provider with PKCE S256, state and the custom parameters; the callback
// exchanges the code once and returns to the app with session_id and the
// app's state; the app completes the session as the user who started it;
// the poll returns the token, which works at the provider; later calls
// are vault hits with no provider call; another user gets a consent.
func TestThreeLeggedFlow(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	alice := byID("alice")
	r := f.request(f.wat(alice), "")
	r.CustomState = "app-state-42"
	s := f.startAs(f.root, r)

	if s.requestURI == "" || s.requestURI == s.uri || strings.Contains(s.authURL, s.id()) {
		t.Fatalf("the authorization URL %s names the session %s", s.authURL, s.uri)
	}
	if _, err := f.dp.Consent().Authorize(context.Background(), s.uri, behalf.User{}); behalf.ErrorCode(err) != behalf.EINVALID {
		t.Fatalf("the session URI used as the authorization URL's request_uri: %v, want EINVALID", err)
	}
	if res := f.poll(s.wat, s.uri); res.SessionStatus != "IN_PROGRESS" || res.AuthorizationURL != s.authURL || !res.AccessToken.IsZero() {
		t.Fatalf("poll before consent = %+v, want IN_PROGRESS with the same authorization URL", res)
	}

	a := f.authorize(s, behalf.User{})
	provider, err := url.Parse(a.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	q := provider.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" ||
		q.Get("access_type") != "offline" || q.Get("redirect_uri") != f.callback || q.Get("client_id") != "cid" || !strings.Contains(q.Get("scope"), driveScope) {
		t.Fatalf("the provider's authorization URL: %v", q)
	}
	if strings.Contains(a.RedirectURL, "app-state-42") {
		t.Fatal("the app's customState reached the provider")
	}
	cb := f.consent(a)
	before := f.exchanges()
	back, err := f.deliver(cb, "some-other-key", a.BrowserKey)
	if err != nil {
		t.Fatalf("callback: %v", err)
	}
	if n := f.exchanges() - before; n != 1 {
		t.Fatalf("%d code exchanges, want 1", n)
	}
	u, err := url.Parse(back)
	if err != nil || !strings.HasPrefix(back, testReturnURL+"?") || u.Query().Get("session_id") != s.uri ||
		u.Query().Get("state") != "app-state-42" || u.Query().Has("error") {
		t.Fatalf("callback returned to %q, want the app with session_id and the app's state", back)
	}
	if res := f.poll(s.wat, s.uri); res.SessionStatus != "IN_PROGRESS" || !res.AccessToken.IsZero() {
		t.Fatalf("poll before completion = %+v, want IN_PROGRESS without a token", res)
	}

	if err := f.complete(f.root, s, alice); err != nil {
		t.Fatalf("complete as alice: %v", err)
	}
	res := f.poll(s.wat, s.uri)
	token := res.AccessToken
	if token.IsZero() {
		t.Fatalf("poll after completion = %+v, want the token", res)
	}
	if !f.driveWorks(token) {
		t.Fatal("the vaulted token does not work at the provider")
	}
	if es := f.sessionEvents(behalf.AuditGrantBound, s); len(es) != 1 || es[0].UserKey != alice.Key() || es[0].Workload != testWorkload {
		t.Fatalf("grant.bound events for the session: %+v", es)
	}

	_, exchanges, refreshes, _ := f.fp.Counts()
	for range 3 {
		if got := f.vaultToken(f.wat(alice)); got != token {
			t.Fatalf("vault hit = %q, want the bound token", got.Reveal())
		}
	}
	if _, e, r, _ := f.fp.Counts(); e != exchanges || r != refreshes {
		t.Fatalf("vault hits called the provider: exchanges %d→%d, refreshes %d→%d", exchanges, e, refreshes, r)
	}
	if conns, err := f.dp.Vault().ListConnections(context.Background(), alice.Key()); err != nil || len(conns) != 1 || conns[0].ProviderName != "drive" {
		t.Fatalf("alice's connections: %+v, %v", conns, err)
	}
	if got := f.vaultToken(f.wat(byID("bob"))); !got.IsZero() {
		t.Fatal("bob got alice's token")
	}
}

// Ensure a provider's error at the callback fails the session and returns
// to the app with the error, and no code is exchanged.
func TestFlowProviderDenies(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	s := f.start(byID("alice"))
	a := f.authorize(s, behalf.User{})
	f.fp.Deny(true)
	cb, err := f.fp.Authorize(context.Background(), a.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	before := f.exchanges()
	back, err := f.deliver(cb, a.BrowserKey)
	if err != nil {
		t.Fatalf("callback with the provider's error: %v", err)
	}
	u, _ := url.Parse(back)
	if u.Query().Get("error") != "access_denied" || u.Query().Get("session_id") != s.uri {
		t.Fatalf("returned to %q, want the app with error=access_denied", back)
	}
	if f.exchanges() != before {
		t.Fatal("a denied consent exchanged a code")
	}
	if res := f.poll(s.wat, s.uri); res.SessionStatus != "FAILED" || !res.AccessToken.IsZero() {
		t.Fatalf("poll = %+v, want FAILED", res)
	}
}

// Ensure deleting a workload identity or a provider deletes its grants: a
// workload or provider created again under the same name (the provider
// here even under the same id) never inherits the old one's tokens.
func TestDeleteDropsGrants(t *testing.T) {
	f := newFlow(t, fakeprovider.Options{})
	ctx := context.Background()
	svc := &Service{Store: f.db, Sealer: f.cfg.Sealer, Now: f.clock.Now}
	alice := byID("alice")
	f.connect(alice)

	if err := svc.DeleteWorkload(ctx, testWorkload); err != nil {
		t.Fatal(err)
	}
	if conns, err := f.dp.Vault().ListConnections(ctx, alice.Key()); err != nil || len(conns) != 0 {
		t.Fatalf("alice's connections after her workload was deleted: %+v, %v", conns, err)
	}
	if _, err := svc.CreateWorkload(ctx, behalf.WorkloadInput{Name: testWorkload, AllowedReturnURLs: []string{testReturnURL}}); err != nil {
		t.Fatal(err)
	}
	if tok := f.vaultToken(f.wat(alice)); !tok.IsZero() {
		t.Fatal("the re-created workload fetched the deleted one's token")
	}

	f.connect(alice)
	if err := svc.DeleteOAuth2Provider(ctx, f.p.Name); err != nil {
		t.Fatal(err)
	}
	if conns, err := f.dp.Vault().ListConnections(ctx, alice.Key()); err != nil || len(conns) != 0 {
		t.Fatalf("alice's connections after the provider was deleted: %+v, %v", conns, err)
	}
	f.addProvider(f.p.Name, f.fp.Metadata())
	if tok := f.vaultToken(f.wat(alice)); !tok.IsZero() {
		t.Fatal("the re-created provider fetched the deleted one's token")
	}
}
