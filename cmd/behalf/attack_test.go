package main

// Attack tests: each attack* function plays one attack of the security
// catalogue (/work/shared/reference/security-tests.md) against a real
// `behalf serve` through the official clients, on SQLite.
// TestAttackTokenNeverInLogOrError runs every attack against one server
// and then sweeps the server log, every error the attacks received and
// every browser error page for the tokens they handled. The logic of each
// attack is tested where its defence lives, in identity/attack_test.go
// (and the control plane's refusal of scoped keys in api).

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf/internal/fakeprovider"
	"github.com/behalf-dev/behalf/internal/jwtforge"
	"github.com/behalf-dev/behalf/internal/randid"
)

const atkSessionPrefix = "urn:ietf:params:oauth:request_uri:"

// attackEnv is one server with the flow fixture, a shared clock, and the
// secrets and error bodies the attacks saw.
type attackEnv struct {
	clock  *testClock
	google *fakeprovider.Server
	s      *testServer
	f      *flowFixture

	// browser is the attack tests' default browser: it keeps cookies and
	// stops at every redirect.
	browser *http.Client

	mu      sync.Mutex
	secrets []atkSecret // values that must appear in no log and no error
	pages   []string    // bodies of browser error pages
}

type atkSecret struct{ kind, value string }

func newAttackEnv(t *testing.T) *attackEnv {
	t.Helper()
	clock := &testClock{}
	google := fakeprovider.New(t, fakeprovider.Options{Now: clock.Now})
	s := startMain(t, serverOptions{now: clock.Now, args: []string{"--allow-private-endpoints"}})
	return &attackEnv{clock: clock, google: google, s: s, f: newFlowFixture(t, s, google), browser: atkNoRedirect(t)}
}

// keep records a secret for the final sweep.
func (e *attackEnv) keep(kind, value string) {
	if value == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets = append(e.secrets, atkSecret{kind, value})
}

func (e *attackEnv) keepPage(body string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pages = append(e.pages, body)
}

// wat mints a WAT for user ("" for none) of workload with client c.
func (e *attackEnv) wat(t *testing.T, c *dp.Client, workload, user string) string {
	t.Helper()
	ctx := context.Background()
	var tok string
	if user == "" {
		out, err := c.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String(workload)})
		if err != nil {
			t.Fatalf("GetWorkloadAccessToken(%s): %v", workload, err)
		}
		tok = aws.ToString(out.WorkloadAccessToken)
	} else {
		out, err := c.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{WorkloadName: aws.String(workload), UserId: aws.String(user)})
		if err != nil {
			t.Fatalf("GetWorkloadAccessTokenForUserId(%s, %s): %v", workload, user, err)
		}
		tok = aws.ToString(out.WorkloadAccessToken)
	}
	e.keep("workload access token", tok)
	return tok
}

// start asks for a token with no session and expects a new session.
func (e *attackEnv) start(t *testing.T, c *dp.Client, wat string) (authURL, sessionURI string) {
	t.Helper()
	out, err := c.GetResourceOauth2Token(context.Background(), e.f.tokenRequest(wat, ""))
	if err != nil {
		t.Fatalf("start a session: %v", err)
	}
	if out.AccessToken != nil || out.SessionStatus != dptypes.SessionStatusInProgress || out.AuthorizationUrl == nil || out.SessionUri == nil {
		t.Fatalf("start a session: got %+v, want an authorization URL", out)
	}
	return aws.ToString(out.AuthorizationUrl), aws.ToString(out.SessionUri)
}

// poll asks for the token with sessionURI.
func (e *attackEnv) poll(t *testing.T, c *dp.Client, wat, sessionURI string) *dp.GetResourceOauth2TokenOutput {
	t.Helper()
	out, err := c.GetResourceOauth2Token(context.Background(), e.f.tokenRequest(wat, sessionURI))
	if err != nil {
		t.Fatalf("poll %s: %v", sessionURI, err)
	}
	e.keep("provider access token", aws.ToString(out.AccessToken))
	return out
}

// vaultToken asks for the token without a session: "" when the user must consent.
func (e *attackEnv) vaultToken(t *testing.T, c *dp.Client, wat string) string {
	t.Helper()
	out, err := c.GetResourceOauth2Token(context.Background(), e.f.tokenRequest(wat, ""))
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	if out.AccessToken == nil && out.AuthorizationUrl == nil {
		t.Fatalf("token request answered neither a token nor an authorization URL: %+v", out)
	}
	e.keep("provider access token", aws.ToString(out.AccessToken))
	return aws.ToString(out.AccessToken)
}

func (e *attackEnv) complete(c *dp.Client, sessionURI, user string) error {
	_, err := c.CompleteResourceTokenAuth(context.Background(), &dp.CompleteResourceTokenAuthInput{
		SessionUri: aws.String(sessionURI), UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: user},
	})
	return err
}

// atkNoRedirect is a browser that keeps cookies and stops at every redirect.
func atkNoRedirect(t *testing.T) *http.Client {
	c := newBrowser(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// get fetches u with the env's browser and returns status, Location,
// Content-Type and body.
func (e *attackEnv) get(t *testing.T, u string) (status int, location, contentType, body string) {
	t.Helper()
	return e.getWith(t, e.browser, u)
}

// getWith is get with browser c.
func (e *attackEnv) getWith(t *testing.T, c *http.Client, u string) (status int, location, contentType, body string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 400 {
		e.keepPage(string(b))
	}
	return resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Content-Type"), string(b)
}

// wantBadRequestPage asserts a 400 HTML error page.
func (e *attackEnv) wantBadRequestPage(t *testing.T, u string) {
	t.Helper()
	status, loc, ct, body := e.get(t, u)
	if status != http.StatusBadRequest || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "Invalid request") {
		t.Fatalf("GET %s: %d %q Location=%q body=%.200q, want a 400 text/html \"Invalid request\" page", u, status, ct, loc, body)
	}
}

// toCallback plays the browser up to the provider's redirect back to
// Behalf, without following it: it returns Behalf's callback URL carrying
// the provider's code and state.
func (e *attackEnv) toCallback(t *testing.T, authURL string) *url.URL {
	t.Helper()
	status, loc, _, body := e.get(t, authURL)
	if status != http.StatusFound || !strings.HasPrefix(loc, e.google.URL+fakeprovider.AuthorizePath+"?") {
		t.Fatalf("GET authorization URL: %d Location=%q %.200q, want 302 to the provider", status, loc, body)
	}
	status, loc, _, body = e.get(t, loc)
	if status != http.StatusFound || !strings.HasPrefix(loc, e.f.callback+"?") {
		t.Fatalf("GET provider: %d Location=%q %.200q, want 302 to Behalf's callback", status, loc, body)
	}
	cb, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	if cb.Query().Get("code") == "" || cb.Query().Get("state") == "" {
		t.Fatalf("callback URL %s lacks code or state", loc)
	}
	e.keep("authorization code", cb.Query().Get("code"))
	return cb
}

// callbackToApp delivers the callback and expects the redirect to the app.
func (e *attackEnv) callbackToApp(t *testing.T, cb *url.URL, sessionURI string) {
	t.Helper()
	status, loc, _, body := e.get(t, cb.String())
	if status != http.StatusFound || !strings.HasPrefix(loc, e.f.appURL+"?") {
		t.Fatalf("callback: %d Location=%q %.200q, want 302 to the app", status, loc, body)
	}
	back, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Query().Get("session_id"); got != sessionURI {
		t.Fatalf("app redirect session_id=%q, want %q", got, sessionURI)
	}
	if back.Query().Get("error") != "" {
		t.Fatalf("app redirect carries error %q", back.Query().Get("error"))
	}
}

func (e *attackEnv) exchanges() int {
	_, n, _, _ := e.google.Counts()
	return n
}

// drainBound empties the app's binding channel.
func (e *attackEnv) drainBound() {
	for {
		select {
		case <-e.f.bound:
		default:
			return
		}
	}
}

func (e *attackEnv) waitBound(t *testing.T) error {
	t.Helper()
	select {
	case err := <-e.f.bound:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the app was never called back")
		return nil
	}
}

// rawPost sends a SigV4-signed JSON POST and decodes the JSON answer.
func (e *attackEnv) rawPost(t *testing.T, path, body, id, secret string, out any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(signedRequest(t, e.s, path, []byte(body), id, secret, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("POST %s: %d %q is not JSON: %v", path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

type atkAuditEvent struct {
	Kind      string `json:"kind"`
	Workload  string `json:"workloadName"`
	User      string `json:"user"`
	SessionID string `json:"sessionId"`
	Actor     string `json:"actor"`
	Detail    string `json:"detail"`
}

func (e *attackEnv) audit(t *testing.T, kind string) []atkAuditEvent {
	t.Helper()
	var out struct {
		Events []atkAuditEvent `json:"events"`
	}
	if code := e.rawPost(t, "/behalf/ListAuditEvents", `{"kind":"`+kind+`"}`, e.s.KeyID, e.s.Secret, &out); code != 200 {
		t.Fatalf("ListAuditEvents: status %d", code)
	}
	return out.Events
}

// atkAs asserts err is (or wraps) a T and returns it.
func atkAs[T error](t *testing.T, err error, what string) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("%s: err=%v, want %T", what, err, target)
	}
	return target
}

func atkValidation(t *testing.T, err error, field, what string) *dptypes.ValidationException {
	t.Helper()
	ve := atkAs[*dptypes.ValidationException](t, err, what)
	for _, f := range ve.FieldList {
		if aws.ToString(f.Name) == field {
			return ve
		}
	}
	var names []string
	for _, f := range ve.FieldList {
		names = append(names, aws.ToString(f.Name))
	}
	t.Fatalf("%s: ValidationException %q names %v, want %s", what, ve.ErrorMessage(), names, field)
	return nil
}

// assertNoLeaks checks that no kept secret is in the server log, in an
// error response the SDK clients received, or in a browser error page.
func (e *attackEnv) assertNoLeaks(t *testing.T, wantAccessTokens bool) {
	t.Helper()
	e.mu.Lock()
	secrets, pages := append([]atkSecret(nil), e.secrets...), append([]string(nil), e.pages...)
	e.mu.Unlock()
	log := e.s.Log.String()
	errs := errorBodies(e.s.Captured.String())
	n := 0
	for _, s := range secrets {
		if s.kind == "provider access token" {
			n++
		}
		if strings.Contains(log, s.value) {
			t.Errorf("a %s (%.12s…) is in the server log", s.kind, s.value)
		}
		for _, b := range errs {
			if strings.Contains(b, s.value) {
				t.Errorf("a %s (%.12s…) is in an error response: %.300s", s.kind, s.value, b)
			}
		}
		for _, p := range pages {
			if strings.Contains(p, s.value) {
				t.Errorf("a %s (%.12s…) is in a browser error page", s.kind, s.value)
			}
		}
	}
	if wantAccessTokens && n == 0 {
		t.Error("the attacks collected no provider access token: the sweep checked nothing")
	}
}

var capturedStatus = regexp.MustCompile(`^(\d{3}) \S*$`)

// errorBodies returns the bodies of error responses in a capture buffer
// (see capture: "status type\nbody\n" per response).
func errorBodies(captured string) []string {
	lines := strings.Split(captured, "\n")
	var out []string
	for i := 0; i+1 < len(lines); i++ {
		m := capturedStatus.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		if code, _ := strconv.Atoi(m[1]); code >= 400 {
			out = append(out, lines[i+1])
			i++
		}
	}
	return out
}

// ---------------------------------------------------------------------
// 1. Leaked authorization URL completed by another user. The workload has
// no inbound identity provider and the agent names its user by id, so no
// sign-in can stop bob from consenting (see TestBindInBrowser for that):
// what must hold is that the first refused binding ends the session for
// good, so alice, who knows her session URI, cannot complete it with the
// token of bob's account.

func attackLeakedAuthorizationURL(t *testing.T, e *attackEnv) {
	c := e.f.dp
	authURL, sessionURI := e.start(t, c, e.wat(t, c, "drive-agent", "alice"))
	t.Run("URLDoesNotRevealSession", func(t *testing.T) {
		u, err := url.Parse(authURL)
		if err != nil {
			t.Fatal(err)
		}
		ref := u.Query().Get("request_uri")
		id := strings.TrimPrefix(sessionURI, atkSessionPrefix)
		if ref == "" || ref == sessionURI || strings.Contains(authURL, id) {
			t.Fatalf("the authorization URL %s names the session %s", authURL, sessionURI)
		}
		// The session URI in its place is no authorization URL.
		e.wantBadRequestPage(t, e.s.URL+"/identities/oauth2/authorize?request_uri="+url.QueryEscape(sessionURI))
	})

	// Bob's browser consents with alice's link; the app completes as bob.
	e.drainBound()
	e.f.appUser.Store("bob")
	revokedBefore := len(e.google.Revoked())
	resp, err := newBrowser(t).Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	bindErr := e.waitBound(t)
	e.f.appUser.Store("alice")
	t.Run("CompletionAsBobDenied", func(t *testing.T) {
		if bindErr == nil {
			t.Fatal("CompleteResourceTokenAuth as bob for alice's session succeeded")
		}
		atkAs[*dptypes.AccessDeniedException](t, bindErr, "complete as bob")
	})
	t.Run("SessionFailed", func(t *testing.T) {
		out := e.poll(t, c, e.wat(t, c, "drive-agent", "alice"), sessionURI)
		if out.AccessToken != nil || out.SessionStatus != dptypes.SessionStatusFailed {
			t.Fatalf("alice's poll after the refused binding = %+v, want FAILED without a token", out)
		}
	})
	t.Run("AliceCannotComplete", func(t *testing.T) {
		err := e.complete(c, sessionURI, "alice")
		if err == nil {
			t.Fatal("alice completed her session after bob's refused binding: she would hold bob's account")
		}
		atkAs[*dptypes.AccessDeniedException](t, err, "complete as alice after the refusal")
		for _, user := range []string{"alice", "bob"} {
			if tok := e.vaultToken(t, c, e.wat(t, c, "drive-agent", user)); tok != "" {
				t.Fatalf("%s's vault holds a token after the refused binding", user)
			}
		}
		out := e.poll(t, c, e.wat(t, c, "drive-agent", "alice"), sessionURI)
		if out.AccessToken != nil || out.SessionStatus != dptypes.SessionStatusFailed {
			t.Fatalf("alice's poll after her attempt = %+v, want FAILED", out)
		}
	})
	t.Run("TokenRevoked", func(t *testing.T) {
		if got := e.google.Revoked(); len(got) != revokedBefore+1 {
			t.Fatalf("the provider revoked %d tokens, want the discarded token revoked once", len(got)-revokedBefore)
		}
	})
	t.Run("Audited", func(t *testing.T) {
		id := strings.TrimPrefix(sessionURI, atkSessionPrefix)
		var refused []atkAuditEvent
		for _, ev := range e.audit(t, "binding.refused") {
			if ev.SessionID == id {
				refused = append(refused, ev)
			}
		}
		if len(refused) != 1 || refused[0].Workload != "drive-agent" || !strings.Contains(refused[0].Detail, "bob") ||
			!strings.Contains(refused[0].User, "alice") || !strings.Contains(refused[0].Detail, "revocation at the provider: CONFIRMED") {
			t.Fatalf("binding.refused events for the session: %+v, want one naming alice and bob and the revocation", refused)
		}
		for _, ev := range e.audit(t, "grant.bound") {
			if ev.SessionID == id {
				t.Fatalf("grant.bound for the refused session: %+v", ev)
			}
		}
	})
	t.Run("SpentURL", func(t *testing.T) { e.wantBadRequestPage(t, authURL) })
	t.Run("BobsOwnFlowWorks", func(t *testing.T) {
		e.f.appUser.Store("bob")
		defer e.f.appUser.Store("alice")
		if tok := e.f.consent(e.wat(t, c, "drive-agent", "bob")); tok == "" {
			t.Fatal("bob's own flow gave no token")
		}
	})
}

// ---------------------------------------------------------------------
// 2. Callback state attacks.

func attackCallbackState(t *testing.T, e *attackEnv) {
	ctx, c := context.Background(), e.f.dp
	wat := e.wat(t, c, "drive-agent", "carol")
	authURL, sessionURI := e.start(t, c, wat)
	cb := e.toCallback(t, authURL)
	state := cb.Query().Get("state")
	with := func(base string, edit func(q url.Values)) string {
		q := cb.Query()
		edit(q)
		return base + "?" + q.Encode()
	}
	before := e.exchanges()
	noExchange := func(t *testing.T) {
		t.Helper()
		if n := e.exchanges(); n != before {
			t.Fatalf("the provider's token endpoint was called %d times", n-before)
		}
	}

	t.Run("MissingState", func(t *testing.T) {
		e.wantBadRequestPage(t, with(e.f.callback, func(q url.Values) { q.Del("state") }))
		noExchange(t)
	})
	t.Run("EmptyState", func(t *testing.T) {
		e.wantBadRequestPage(t, with(e.f.callback, func(q url.Values) { q.Set("state", "") }))
		noExchange(t)
	})
	t.Run("TamperedState", func(t *testing.T) {
		e.wantBadRequestPage(t, with(e.f.callback, func(q url.Values) { q.Set("state", atkFlip(state, len(state)/2)) }))
		e.wantBadRequestPage(t, with(e.f.callback, func(q url.Values) { q.Set("state", state+"x") }))
		noExchange(t)
	})
	t.Run("RepeatedState", func(t *testing.T) {
		e.wantBadRequestPage(t, with(e.f.callback, func(q url.Values) { q["state"] = []string{state, state} }))
		noExchange(t)
	})
	t.Run("OtherProviderPath", func(t *testing.T) {
		out, err := e.f.ctl.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
			Name: aws.String("other-provider"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
			Oauth2ProviderConfigInput: customDiscovery(e.google.URL+fakeprovider.DiscoveryPath, ""),
		})
		if err != nil {
			t.Fatal(err)
		}
		other := aws.ToString(out.CallbackUrl)
		if other == e.f.callback {
			t.Fatal("two providers share a callback URL")
		}
		e.wantBadRequestPage(t, other+"?"+cb.RawQuery)
		noExchange(t)
	})
	t.Run("CorrectCallback", func(t *testing.T) {
		e.callbackToApp(t, cb, sessionURI)
		if n := e.exchanges(); n != before+1 {
			t.Fatalf("code exchanges = %d, want exactly 1", n-before)
		}
		before = e.exchanges()
	})
	t.Run("ReplayedCallback", func(t *testing.T) {
		e.wantBadRequestPage(t, cb.String())
		noExchange(t)
	})
	t.Run("SessionStillBindsOnce", func(t *testing.T) {
		if err := e.complete(c, sessionURI, "carol"); err != nil {
			t.Fatalf("carol completes her session: %v", err)
		}
		if out := e.poll(t, c, wat, sessionURI); out.AccessToken == nil {
			t.Fatalf("carol's poll = %+v, want a token", out)
		}
	})
}

// atkFlip changes the character at i to another base64url character.
func atkFlip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// ---------------------------------------------------------------------
// 3. The authorization URL is single use.

func attackAuthorizationURLSingleUse(t *testing.T, e *attackEnv) {
	c := e.f.dp
	wat := e.wat(t, c, "drive-agent", "dave")
	authURL, sessionURI := e.start(t, c, wat)
	status, loc, _, _ := e.get(t, authURL)
	if status != http.StatusFound || !strings.HasPrefix(loc, e.google.URL) {
		t.Fatalf("first GET: %d %s, want 302 to the provider", status, loc)
	}
	t.Run("SecondGet", func(t *testing.T) { e.wantBadRequestPage(t, authURL) })
	t.Run("UnknownRequestURI", func(t *testing.T) {
		e.wantBadRequestPage(t, e.s.URL+"/identities/oauth2/authorize?request_uri="+url.QueryEscape(atkSessionPrefix+randid.Alnum(32)))
	})
	t.Run("RepeatedRequestURI", func(t *testing.T) {
		_, other := e.start(t, c, wat)
		status, _, _, _ := e.get(t, e.s.URL+"/identities/oauth2/authorize?request_uri="+url.QueryEscape(other)+"&request_uri="+url.QueryEscape(sessionURI))
		if status != http.StatusBadRequest {
			t.Fatalf("two request_uri: status %d, want 400", status)
		}
	})
}

// ---------------------------------------------------------------------
// 4. Return URL variants.

func attackReturnURLVariants(t *testing.T, e *attackEnv) {
	ctx, c := context.Background(), e.f.dp
	app, err := url.Parse(e.f.appURL)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(app.Port())
	otherPort := port + 1
	if otherPort > 65535 {
		otherPort = port - 1
	}
	const named = "http://app.example.test/callback"
	if _, err := e.f.ctl.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
		Name: aws.String("named-host-agent"), AllowedResourceOauth2ReturnUrls: []string{named},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.f.ctl.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("no-return-agent")}); err != nil {
		t.Fatal(err)
	}
	try := func(workload, returnURL string) error {
		in := e.f.tokenRequest(e.wat(t, c, workload, "erin"), "")
		in.ResourceOauth2ReturnUrl = aws.String(returnURL)
		_, err := c.GetResourceOauth2Token(ctx, in)
		return err
	}
	// Controls: the registered URLs are accepted.
	if err := try("drive-agent", e.f.appURL); err != nil {
		t.Fatalf("the registered return URL was refused: %v", err)
	}
	if err := try("named-host-agent", named); err != nil {
		t.Fatalf("the registered named-host return URL was refused: %v", err)
	}
	hostPort := app.Host
	for _, tc := range []struct{ name, workload, url string }{
		{"TrailingSlash", "drive-agent", e.f.appURL + "/"},
		{"OtherPort", "drive-agent", "http://" + net.JoinHostPort(app.Hostname(), strconv.Itoa(otherPort)) + "/callback"},
		{"LocalhostForLoopback", "drive-agent", "http://localhost:" + app.Port() + "/callback"},
		{"UpperCaseScheme", "drive-agent", "HTTP://" + hostPort + "/callback"},
		{"UpperCaseHost", "named-host-agent", "http://APP.EXAMPLE.TEST/callback"},
		{"UpperCasePath", "drive-agent", "http://" + hostPort + "/CALLBACK"},
		{"DotDotSegment", "drive-agent", e.f.appURL + "/../callback"},
		{"EncodedPath", "drive-agent", "http://" + hostPort + "/%63allback"},
		{"Userinfo", "drive-agent", "http://evil@" + hostPort + "/callback"},
		{"HostAsUserinfo", "drive-agent", "http://" + hostPort + "@evil.example/callback"},
		{"SchemeRelative", "drive-agent", "//" + hostPort + "/callback"},
		{"AddedQuery", "drive-agent", e.f.appURL + "?x=1"},
		{"EmptyQuery", "drive-agent", e.f.appURL + "?"},
		{"AddedFragment", "drive-agent", e.f.appURL + "#x"},
		{"Https", "drive-agent", "https://" + hostPort + "/callback"},
		{"Empty", "drive-agent", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			atkValidation(t, try(tc.workload, tc.url), "resourceOauth2ReturnUrl", tc.url)
		})
	}
	t.Run("WorkloadWithoutReturnURLs", func(t *testing.T) {
		ve := atkValidation(t, try("no-return-agent", e.f.appURL), "resourceOauth2ReturnUrl", "no-return-agent")
		if !strings.Contains(ve.ErrorMessage(), "You must register") {
			t.Fatalf("message %q, want \"You must register...\"", ve.ErrorMessage())
		}
	})
}

// ---------------------------------------------------------------------
// 5. Expired sessions.

func attackExpiredSession(t *testing.T, e *attackEnv) {
	c := e.f.dp
	// A: never opened. B: consented at the provider, callback not yet
	// delivered. C: callback delivered (token held), not yet completed.
	authA, sessA := e.start(t, c, e.wat(t, c, "drive-agent", "frank-a"))
	authB, sessB := e.start(t, c, e.wat(t, c, "drive-agent", "frank-b"))
	cbB := e.toCallback(t, authB)
	authC, sessC := e.start(t, c, e.wat(t, c, "drive-agent", "frank-c"))
	e.callbackToApp(t, e.toCallback(t, authC), sessC)

	e.clock.Advance(11 * time.Minute)
	before := e.exchanges()

	t.Run("AuthorizeAfterExpiry", func(t *testing.T) { e.wantBadRequestPage(t, authA) })
	t.Run("PollAfterExpiry", func(t *testing.T) {
		for user, sess := range map[string]string{"frank-a": sessA, "frank-b": sessB, "frank-c": sessC} {
			out := e.poll(t, c, e.wat(t, c, "drive-agent", user), sess)
			if out.SessionStatus != dptypes.SessionStatusFailed || out.AccessToken != nil || out.AuthorizationUrl != nil {
				t.Errorf("%s: poll of an expired session = status %s token %v url %v, want FAILED", user, out.SessionStatus, out.AccessToken != nil, aws.ToString(out.AuthorizationUrl))
			}
		}
	})
	t.Run("CallbackAfterExpiry", func(t *testing.T) {
		e.wantBadRequestPage(t, cbB.String())
		if n := e.exchanges(); n != before {
			t.Fatalf("an expired session's callback exchanged the code (%d calls)", n-before)
		}
	})
	t.Run("CompleteAfterExpiry", func(t *testing.T) {
		for user, sess := range map[string]string{"frank-a": sessA, "frank-c": sessC} {
			err := e.complete(c, sess, user)
			if err == nil {
				t.Fatalf("%s completed an expired session", user)
			}
			atkAs[*dptypes.AccessDeniedException](t, err, user+" completes an expired session")
		}
		if tok := e.vaultToken(t, c, e.wat(t, c, "drive-agent", "frank-c")); tok != "" {
			t.Fatal("an expired session's token reached the vault")
		}
	})
}

// ---------------------------------------------------------------------
// 6. A key scoped to one workload.

func attackScopedKey(t *testing.T, e *attackEnv) {
	ctx, root := context.Background(), e.f.dp
	if _, err := e.f.ctl.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
		Name: aws.String("other-agent"), AllowedResourceOauth2ReturnUrls: []string{e.f.appURL},
	}); err != nil {
		t.Fatal(err)
	}
	var key struct {
		ID     string `json:"accessKeyId"`
		Secret string `json:"secretAccessKey"`
	}
	if code := e.rawPost(t, "/behalf/CreateAccessKey", `{"workloadName":"drive-agent"}`, e.s.KeyID, e.s.Secret, &key); code != http.StatusCreated || key.ID == "" || key.Secret == "" {
		t.Fatalf("CreateAccessKey: %d %+v", code, key.ID)
	}
	e.keep("scoped secret access key", key.Secret)
	scoped := e.s.dataPlane(t, key.ID, key.Secret)
	denied := func(t *testing.T, err error, what string) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s succeeded with a key scoped to drive-agent", what)
		}
		atkAs[*dptypes.AccessDeniedException](t, err, what)
	}

	t.Run("OwnWorkloadWorks", func(t *testing.T) {
		e.start(t, scoped, e.wat(t, scoped, "drive-agent", "grace"))
	})
	t.Run("MintForOtherWorkload", func(t *testing.T) {
		_, err := scoped.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{WorkloadName: aws.String("other-agent"), UserId: aws.String("grace")})
		denied(t, err, "GetWorkloadAccessTokenForUserId(other-agent)")
		_, err = scoped.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("other-agent")})
		denied(t, err, "GetWorkloadAccessToken(other-agent)")
		_, err = scoped.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("other-agent"), UserToken: aws.String("a.b.c")})
		denied(t, err, "GetWorkloadAccessTokenForJWT(other-agent)")
	})
	otherWAT := e.wat(t, root, "other-agent", "grace")
	t.Run("UseOtherWorkloadsWAT", func(t *testing.T) {
		_, err := scoped.GetResourceOauth2Token(ctx, e.f.tokenRequest(otherWAT, ""))
		denied(t, err, "GetResourceOauth2Token with other-agent's WAT")
	})
	t.Run("ControlPlane", func(t *testing.T) {
		_, err := e.s.clientWith(t, key.ID, key.Secret).ListWorkloadIdentities(ctx, &ctl.ListWorkloadIdentitiesInput{})
		var ade *types.AccessDeniedException
		if !errors.As(err, &ade) {
			t.Fatalf("ListWorkloadIdentities with a scoped key: %v, want AccessDeniedException", err)
		}
		_, err = e.s.clientWith(t, key.ID, key.Secret).UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{
			Name: aws.String("drive-agent"), AllowedResourceOauth2ReturnUrls: []string{"https://evil.example/cb"}})
		if !errors.As(err, &ade) {
			t.Fatalf("UpdateWorkloadIdentity of its own workload with a scoped key: %v, want AccessDeniedException", err)
		}
		for _, op := range []string{"CreateAccessKey", "ListAuditEvents", "ListAccessKeys"} {
			var body struct {
				Type string `json:"__type"`
			}
			if code := e.rawPost(t, "/behalf/"+op, `{}`, key.ID, key.Secret, &body); code != http.StatusForbidden || body.Type != "AccessDeniedException" {
				t.Fatalf("%s with a scoped key: %d %s, want 403 AccessDeniedException", op, code, body.Type)
			}
		}
	})
	t.Run("CompleteOtherWorkloadsSession", func(t *testing.T) {
		authURL, sessionURI := e.start(t, root, otherWAT)
		e.callbackToApp(t, e.toCallback(t, authURL), sessionURI)
		denied(t, e.complete(scoped, sessionURI, "grace"), "CompleteResourceTokenAuth of other-agent's session")
		// The refused attempt leaves the session to its owner.
		if err := e.complete(root, sessionURI, "grace"); err != nil {
			t.Fatalf("root completes other-agent's session after the refused attempt: %v", err)
		}
		out := e.poll(t, root, otherWAT, sessionURI)
		if out.AccessToken == nil {
			t.Fatalf("poll = %+v, want a token", out)
		}
		// ... and the scoped key cannot read it through its own WAT either.
		if tok := e.vaultToken(t, scoped, e.wat(t, scoped, "drive-agent", "grace")); tok == aws.ToString(out.AccessToken) {
			t.Fatal("drive-agent's key read other-agent's vaulted token")
		}
	})
}

// ---------------------------------------------------------------------
// 7. A WAT without a user on USER_FEDERATION.

func attackWATWithoutUser(t *testing.T, e *attackEnv) {
	c := e.f.dp
	wat := e.wat(t, c, "drive-agent", "")
	_, err := c.GetResourceOauth2Token(context.Background(), e.f.tokenRequest(wat, ""))
	atkValidation(t, err, "workloadIdentityToken", "USER_FEDERATION with a user-less WAT")
}

// ---------------------------------------------------------------------
// 8. Tampered, unsigned and expired WATs.

func attackTamperedWAT(t *testing.T, e *attackEnv) {
	ctx, c := context.Background(), e.f.dp
	wat := e.wat(t, c, "drive-agent", "heidi")
	e.start(t, c, wat) // control: the genuine WAT works
	parts := strings.Split(wat, ".")
	if len(parts) != 3 {
		t.Fatalf("WAT has %d parts", len(parts))
	}
	var header, payload map[string]any
	jwtDecode(t, parts[0], &header)
	jwtDecode(t, parts[1], &payload)
	if payload["user_sub"] != "heidi" || payload["sub"] != "drive-agent" {
		t.Fatalf("WAT payload %v", payload)
	}
	substituted := jwtforge.With(payload, map[string]any{"user_sub": "mallory"})
	extended := jwtforge.With(payload, map[string]any{"exp": time.Now().Add(24 * time.Hour).Unix()})
	unauthorized := func(t *testing.T, tok string) {
		t.Helper()
		_, err := c.GetResourceOauth2Token(ctx, e.f.tokenRequest(tok, ""))
		if err == nil {
			t.Fatal("the forged WAT was accepted")
		}
		ue := atkAs[*dptypes.UnauthorizedException](t, err, "forged WAT")
		if strings.Contains(ue.ErrorMessage(), parts[1]) || strings.Contains(ue.ErrorMessage(), parts[2]) {
			t.Fatalf("the error echoes the token: %q", ue.ErrorMessage())
		}
	}
	for _, tc := range []struct{ name, token string }{
		{"FlippedSignature", parts[0] + "." + parts[1] + "." + atkFlip(parts[2], 10)},
		{"FlippedPayload", parts[0] + "." + atkFlip(parts[1], len(parts[1])/2) + "." + parts[2]},
		{"OtherUserSameSignature", parts[0] + "." + jwtforge.Segment(substituted) + "." + parts[2]},
		{"LongerExpirySameSignature", parts[0] + "." + jwtforge.Segment(extended) + "." + parts[2]},
		{"NoSignature", parts[0] + "." + parts[1] + "."},
		{"AlgNone", jwtforge.Segment(map[string]any{"alg": "none"}) + "." + parts[1] + "."},
		{"AlgNoneTyp", jwtforge.Segment(map[string]any{"alg": "none", "typ": "JWT"}) + "." + parts[1] + "."},
		{"AlgNoneCase", jwtforge.Segment(map[string]any{"alg": "None"}) + "." + parts[1] + "."},
		{"AlgNoneOtherUser", jwtforge.Segment(map[string]any{"alg": "none"}) + "." + jwtforge.Segment(substituted) + "."},
		{"AlgHS256WithHeaderKid", jwtforge.HS256(jwtforge.With(header, map[string]any{"alg": "HS256"}), payload, []byte(""))},
		{"TwoParts", parts[0] + "." + parts[1]},
		{"FourParts", wat + "." + parts[2]},
		{"Garbage", "not-a-token"},
	} {
		t.Run(tc.name, func(t *testing.T) { unauthorized(t, tc.token) })
	}
	t.Run("Expired", func(t *testing.T) {
		fresh := e.wat(t, c, "drive-agent", "heidi")
		e.start(t, c, fresh)
		e.clock.Advance(61 * time.Minute)
		unauthorized(t, fresh)
	})
}

// ---------------------------------------------------------------------
// 9. GetWorkloadAccessTokenForJWT with untrusted or forged JWTs.

func attackForJWTForgedTokens(t *testing.T, e *attackEnv) {
	ctx, c := context.Background(), e.f.dp
	idp, key := jwtforge.Issuer(t)
	var created struct {
		Issuer string `json:"issuer"`
	}
	if code := e.rawPost(t, "/behalf/CreateTrustedIssuer", `{"discoveryUrl":"`+idp.URL+`/.well-known/openid-configuration"}`, e.s.KeyID, e.s.Secret, &created); code != http.StatusCreated || created.Issuer != idp.URL {
		t.Fatalf("CreateTrustedIssuer: %d %+v", code, created)
	}
	now := time.Now()
	claims := func(iss, sub string) map[string]any {
		return jwtforge.Claims(iss, sub, now)
	}
	forJWT := func(tok string) error {
		_, err := c.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("drive-agent"), UserToken: aws.String(tok)})
		return err
	}

	// Control: a token the trusted issuer really signed is accepted.
	good := jwtforge.RS256(map[string]any{"alg": "RS256", "kid": "k1", "typ": "JWT"}, claims(idp.URL, "user-ok"), key)
	e.keep("user JWT", good)
	if err := forJWT(good); err != nil {
		t.Fatalf("a genuine token of the trusted issuer was refused: %v", err)
	}

	attacks, err := jwtforge.Forgeries(idp.URL, e.s.URL, key, now)
	if err != nil {
		t.Fatal(err)
	}
	watTok := e.wat(t, c, "drive-agent", "mallory-wat")
	attacks = append(attacks, jwtforge.Forgery{Name: "BehalfsOwnWAT", Token: watTok})

	for _, a := range attacks {
		t.Run(a.Name, func(t *testing.T) {
			for _, v := range a.Secrets {
				e.keep("forged user JWT content", v)
			}
			err := forJWT(a.Token)
			if err == nil {
				t.Fatal("the forged token was accepted")
			}
			var ue *dptypes.UnauthorizedException
			var ve *dptypes.ValidationException
			if !errors.As(err, &ue) && !errors.As(err, &ve) {
				t.Fatalf("err=%v, want UnauthorizedException or ValidationException", err)
			}
			msg := err.Error()
			for _, seg := range append(strings.Split(a.Token, "."), a.Secrets...) {
				if len(seg) >= 8 && strings.Contains(msg, seg) {
					t.Fatalf("the error echoes token content or a secret (%.16s…): %s", seg, msg)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------
// 10. Double and concurrent completion.

func attackDoubleCompletion(t *testing.T, e *attackEnv) {
	c := e.f.dp
	wat := e.wat(t, c, "drive-agent", "ivan")
	authURL, sessionURI := e.start(t, c, wat)
	e.drainBound()
	e.f.appUser.Store("ivan")
	defer e.f.appUser.Store("alice")
	resp, err := newBrowser(t).Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err := e.waitBound(t); err != nil {
		t.Fatalf("the app's binding as ivan: %v", err)
	}
	out := e.poll(t, c, wat, sessionURI)
	if out.AccessToken == nil {
		t.Fatalf("poll after binding = %+v", out)
	}
	token := aws.ToString(out.AccessToken)

	t.Run("SecondCompletion", func(t *testing.T) {
		for _, user := range []string{"ivan", "mallory"} {
			err := e.complete(c, sessionURI, user)
			if err == nil {
				t.Fatalf("a second completion as %s succeeded", user)
			}
			ade := atkAs[*dptypes.AccessDeniedException](t, err, "second completion as "+user)
			if !strings.Contains(ade.ErrorMessage(), "Invalid or expired session") {
				t.Fatalf("message %q, want \"Invalid or expired session\"", ade.ErrorMessage())
			}
		}
		if got := e.vaultToken(t, c, e.wat(t, c, "drive-agent", "ivan")); got != token {
			t.Fatalf("ivan's vault after the second completions = %q, want the bound token", got)
		}
		if got := e.vaultToken(t, c, e.wat(t, c, "drive-agent", "mallory")); got != "" {
			t.Fatal("mallory got ivan's token")
		}
	})
	t.Run("ConcurrentCompletion", func(t *testing.T) {
		wat := e.wat(t, c, "drive-agent", "judy")
		authURL, sessionURI := e.start(t, c, wat)
		e.callbackToApp(t, e.toCallback(t, authURL), sessionURI)
		const n = 8
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() { defer wg.Done(); errs <- e.complete(c, sessionURI, "judy") }()
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			if err == nil {
				ok++
				continue
			}
			var ade *dptypes.AccessDeniedException
			if !errors.As(err, &ade) {
				t.Errorf("a concurrent completion failed with %v, want AccessDeniedException", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent completions succeeded, want exactly 1", ok, n)
		}
		bound := 0
		for _, ev := range e.audit(t, "grant.bound") {
			if ev.SessionID == strings.TrimPrefix(sessionURI, atkSessionPrefix) {
				bound++
			}
		}
		if bound != 1 {
			t.Fatalf("%d grant.bound events for the session, want 1", bound)
		}
		if out := e.poll(t, c, wat, sessionURI); out.AccessToken == nil {
			t.Fatalf("judy's poll = %+v, want a token", out)
		}
	})
}

// ---------------------------------------------------------------------
// 11. No token in any log or error, after every attack on one server.

func TestAttackTokenNeverInLogOrError(t *testing.T) {
	e := newAttackEnv(t)
	for _, a := range []struct {
		name string
		fn   func(*testing.T, *attackEnv)
	}{
		{"LeakedAuthorizationURL", attackLeakedAuthorizationURL},
		{"CallbackState", attackCallbackState},
		{"AuthorizationURLSingleUse", attackAuthorizationURLSingleUse},
		{"ReturnURLVariants", attackReturnURLVariants},
		{"ExpiredSession", attackExpiredSession},
		{"ScopedKey", attackScopedKey},
		{"WATWithoutUser", attackWATWithoutUser},
		{"TamperedWAT", attackTamperedWAT},
		{"ForJWTForgedTokens", attackForJWTForgedTokens},
		{"DoubleCompletion", attackDoubleCompletion},
	} {
		t.Run(a.name, func(t *testing.T) { a.fn(t, e) })
	}
	t.Run("Sweep", func(t *testing.T) {
		e.assertNoLeaks(t, true)
		if t.Failed() {
			return
		}
		// Sanity: the sweep reads the real log.
		if !strings.Contains(e.s.Log.String(), "GetResourceOauth2Token") {
			t.Fatal("the server log does not record requests: the sweep is vacuous")
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
