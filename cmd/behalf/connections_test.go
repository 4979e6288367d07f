package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/chromedp/chromedp"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/browsertest"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
	"github.com/behalf-dev/behalf/sqlstore"
)

// connPassword is the connection tests' users' password.
const connPassword = "Corr3ct-Horse-Battery!"

// connEnv is the flow fixture (a Google stand-in, the workload
// drive-agent) plus a user pool whose users' access tokens mint the
// workload access tokens, so grants belong to pool users; an app that
// completes sessions with the user's JWT; and the pool's public client set
// as drive-agent's sign-in client, which the /connections page signs in
// with.
type connEnv struct {
	*flowFixture
	cog      *cip.Client
	pool     poolFixture
	issuer   string
	pageID   string // public client of Behalf's pages
	jwtApp   string // return URL of the app that binds with the user's JWT
	appJWT   atomic.Value
	jwtBound chan error
	subjects map[string]string
	jwtUsers sync.Map // access token → user name, for signing the consenting browser in
}

func newConnEnv(t *testing.T, s *testServer, google *fakeprovider.Server) *connEnv {
	t.Helper()
	ctx := context.Background()
	e := &connEnv{flowFixture: newFlowFixture(t, s, google), cog: s.cognito(t), jwtBound: make(chan error, 10), subjects: map[string]string{}}
	e.pool = newPoolFixture(t, ctx, e.cog, "people")
	e.issuer = s.URL + "/" + e.pool.poolID
	for _, u := range []string{"alice", "bob"} {
		e.pool.createUser(t, ctx, e.cog, u, connPassword)
		out, err := e.cog.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(e.pool.poolID), Username: aws.String(u)})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.UserAttributes {
			if aws.ToString(a.Name) == "sub" {
				e.subjects[u] = aws.ToString(a.Value)
			}
		}
	}
	client, err := e.cog.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(e.pool.poolID), ClientName: aws.String("behalf pages"),
		AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeCode}, AllowedOAuthScopes: []string{"openid"},
		AllowedOAuthFlowsUserPoolClient: true, SupportedIdentityProviders: []string{"COGNITO"},
		CallbackURLs: []string{s.URL + behalf.SignInCallbackPath},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.pageID = aws.ToString(client.UserPoolClient.ClientId)

	app := httptest.NewServer(http.HandlerFunc(e.jwtAppCallback))
	t.Cleanup(app.Close)
	e.jwtApp = app.URL + "/jwt-callback"
	if _, err := e.ctl.UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{
		Name: aws.String("drive-agent"), AllowedResourceOauth2ReturnUrls: []string{e.appURL, e.jwtApp},
	}); err != nil {
		t.Fatal(err)
	}
	if out, err := cliRun(t, s, "workload", "set-binding", "drive-agent", "--issuer", e.issuer, "--client-id", e.pageID); err != nil {
		t.Fatalf("workload set-binding: %v\n%s", err, out)
	}
	return e
}

// jwtAppCallback completes the session with the signed-in user's JWT.
func (e *connEnv) jwtAppCallback(w http.ResponseWriter, r *http.Request) {
	_, err := e.dp.CompleteResourceTokenAuth(r.Context(), &dp.CompleteResourceTokenAuthInput{
		SessionUri:     aws.String(r.URL.Query().Get("session_id")),
		UserIdentifier: &dptypes.UserIdentifierMemberUserToken{Value: e.appJWT.Load().(string)},
	})
	e.jwtBound <- err
	if err != nil {
		http.Error(w, "not bound", http.StatusForbidden)
		return
	}
	w.Write([]byte("bound"))
}

// userJWT signs user in at the pool as the agent's app does and returns
// their access token.
func (e *connEnv) userJWT(user string) string {
	e.t.Helper()
	jwt := aws.ToString(mustTokens(e.t)(e.pool.signIn(context.Background(), e.cog, user, connPassword)).AccessToken)
	e.jwtUsers.Store(jwt, user)
	return jwt
}

// jwtWAT mints a workload access token for the user of jwt.
func (e *connEnv) jwtWAT(jwt string) string {
	e.t.Helper()
	out, err := e.dp.GetWorkloadAccessTokenForJWT(context.Background(), &dp.GetWorkloadAccessTokenForJWTInput{
		WorkloadName: aws.String("drive-agent"), UserToken: aws.String(jwt),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.WorkloadAccessToken)
}

// jwtTokenRequest asks for the WAT's user's token at provider, returning
// to the JWT app.
func (e *connEnv) jwtTokenRequest(wat, sessionURI, provider string) *dp.GetResourceOauth2TokenInput {
	in := e.tokenRequest(wat, sessionURI)
	in.ResourceOauth2ReturnUrl = aws.String(e.jwtApp)
	in.ResourceCredentialProviderName = aws.String(provider)
	return in
}

// connect runs the consent flow at the Drive provider for the user of jwt
// and returns the token the agent's poll receives.
func (e *connEnv) connect(jwt string) string {
	e.t.Helper()
	return e.connectTo(jwt, "google-drive-provider")
}

// connectTo is connect at provider.
func (e *connEnv) connectTo(jwt, provider string) string {
	e.t.Helper()
	ctx := context.Background()
	wat := e.jwtWAT(jwt)
	e.appJWT.Store(jwt)
	first, err := e.dp.GetResourceOauth2Token(ctx, e.jwtTokenRequest(wat, "", provider))
	if err != nil {
		e.t.Fatal(err)
	}
	if first.AuthorizationUrl == nil {
		e.t.Fatalf("first token request = %+v, want a consent", first)
	}
	// drive-agent signs its users in: the browser signs in as the JWT's user before consenting.
	user, _ := e.jwtUsers.Load(jwt)
	name, _ := user.(string)
	browseSigningIn(e.t, newBrowser(e.t), aws.ToString(first.AuthorizationUrl), name, connPassword)
	if err := <-e.jwtBound; err != nil {
		e.t.Fatalf("binding: %v", err)
	}
	poll, err := e.dp.GetResourceOauth2Token(ctx, e.jwtTokenRequest(wat, aws.ToString(first.SessionUri), provider))
	if err != nil || poll.AccessToken == nil {
		e.t.Fatalf("poll after binding = %+v, %v", poll, err)
	}
	return aws.ToString(poll.AccessToken)
}

// needsConsent reports whether the user of jwt's next token request starts
// a consent (and returns no token).
func (e *connEnv) needsConsent(jwt string) bool {
	e.t.Helper()
	out, err := e.dp.GetResourceOauth2Token(context.Background(), e.jwtTokenRequest(e.jwtWAT(jwt), "", "google-drive-provider"))
	if err != nil {
		e.t.Fatal(err)
	}
	return out.AccessToken == nil && strings.HasPrefix(aws.ToString(out.AuthorizationUrl), e.server.URL+"/identities/oauth2/authorize?request_uri=")
}

// driveWorks reports whether token is accepted by the Drive stand-in.
func driveWorks(t *testing.T, google *fakeprovider.Server, token string) bool {
	t.Helper()
	req, _ := http.NewRequest("GET", google.URL+fakeprovider.DriveFilesPath, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// apiGrant is a grant in the connections API's answers.
type apiGrant struct {
	ID                  string   `json:"id"`
	Workload            string   `json:"workloadName"`
	Provider            string   `json:"provider"`
	ProviderDisplayName string   `json:"providerDisplayName"`
	User                string   `json:"user"`
	Scopes              []string `json:"scopes"`
	CreatedTime         float64  `json:"createdTime"`
	LastUsedTime        *float64 `json:"lastUsedTime"`
	LastRefreshedTime   *float64 `json:"lastRefreshedTime"`
}

// connectionsCall calls the connections API with a bearer token ("" for
// none) and decodes the JSON answer into out.
func connectionsCall(t *testing.T, s *testServer, method, path, bearer string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, body %s", method, path, ct, b)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s %s: Cache-Control %q", method, path, resp.Header.Get("Cache-Control"))
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
	}
	return resp.StatusCode
}

// Ensure the connections API for apps: a user lists their grants with
// their JWT, sees no one else's, cannot revoke another's (404, not 403),
// and revoking deletes the grant, revokes the token at the provider, and
// makes the next token request start a consent; all of it audited.
func TestConnectionsAPI(t *testing.T) {
	isolateAWSEnv(t)
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) { testConnectionsAPI(t, dsn(t)) })
	}
}

func testConnectionsAPI(t *testing.T, database string) {
	google := fakeprovider.New(t, fakeprovider.Options{})
	s := startMain(t, serverOptions{database: database, args: []string{"--allow-private-endpoints"}})
	e := newConnEnv(t, s, google)
	aliceJWT, bobJWT := e.userJWT("alice"), e.userJWT("bob")
	token := e.connect(aliceJWT)
	if !driveWorks(t, google, token) {
		t.Fatal("the vaulted token does not work at Drive")
	}

	var list struct {
		Grants []apiGrant `json:"grants"`
	}
	if status := connectionsCall(t, s, "GET", behalf.ConnectionsAPIPath, aliceJWT, &list); status != http.StatusOK || len(list.Grants) != 1 {
		t.Fatalf("alice's grants: %d %+v", status, list)
	}
	g := list.Grants[0]
	if g.Workload != "drive-agent" || g.Provider != "google-drive-provider" || !slices.Contains(g.Scopes, driveScope) ||
		g.CreatedTime == 0 || g.LastUsedTime == nil || g.User != "" || g.ID == "" {
		t.Errorf("alice's grant %+v", g)
	}
	if status := connectionsCall(t, s, "GET", behalf.ConnectionsAPIPath, bobJWT, &list); status != http.StatusOK || len(list.Grants) != 0 {
		t.Fatalf("bob's grants: %d %+v", status, list)
	}

	var apiErr struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	for name, bearer := range map[string]string{"no token": "", "not a JWT": "not-a-jwt", "a WAT": e.jwtWAT(aliceJWT)} {
		if status := connectionsCall(t, s, "GET", behalf.ConnectionsAPIPath, bearer, &apiErr); status != http.StatusUnauthorized || apiErr.Type != "UnauthorizedException" || apiErr.Message == "" {
			t.Errorf("%s: %d %+v, want 401 UnauthorizedException", name, status, apiErr)
		}
	}
	// Another user's grant is not found, exactly like a missing one.
	status := connectionsCall(t, s, "DELETE", behalf.ConnectionsAPIPath+"/"+g.ID, bobJWT, &apiErr)
	notYours := apiErr
	if status != http.StatusNotFound || apiErr.Type != "ResourceNotFoundException" {
		t.Fatalf("bob revoking alice's grant: %d %+v", status, apiErr)
	}
	if status := connectionsCall(t, s, "DELETE", behalf.ConnectionsAPIPath+"/0123456789abcdef0123456789abcdef", aliceJWT, &apiErr); status != http.StatusNotFound || apiErr != notYours {
		t.Errorf("a missing grant: %d %+v, want the answer another user's grant got (%+v)", status, apiErr, notYours)
	}
	if len(google.Revoked()) != 0 || !driveWorks(t, google, token) {
		t.Fatal("a refused revocation reached the provider")
	}

	var rev struct {
		GrantID string   `json:"grantId"`
		Grant   apiGrant `json:"grant"`
		Outcome string   `json:"providerRevocation"`
		Message string   `json:"message"`
	}
	if status := connectionsCall(t, s, "DELETE", behalf.ConnectionsAPIPath+"/"+g.ID, aliceJWT, &rev); status != http.StatusOK {
		t.Fatalf("alice revoking her grant: %d %+v", status, rev)
	}
	if rev.GrantID != g.ID || rev.Outcome != behalf.RevocationConfirmed || rev.Message != "Revoked. google-drive-provider confirmed the token is revoked." || rev.Grant.Workload != "drive-agent" {
		t.Errorf("revocation %+v", rev)
	}
	if got := google.Revoked(); len(got) != 1 || got[0] == token {
		t.Errorf("the provider saw revocations of %d tokens, want the refresh token", len(got))
	}
	if driveWorks(t, google, token) {
		t.Error("the access token still works at Drive after the grant was revoked")
	}
	if !e.needsConsent(aliceJWT) {
		t.Error("the next token request does not start a new consent")
	}
	if status := connectionsCall(t, s, "GET", behalf.ConnectionsAPIPath, aliceJWT, &list); status != http.StatusOK || len(list.Grants) != 0 {
		t.Errorf("alice's grants after revoking: %d %+v", status, list)
	}
	out, err := cliRun(t, s, "audit", "list", "--kind", behalf.AuditGrantRevoked, "--output", "json")
	if err != nil || !strings.Contains(out, "grant="+g.ID+" provider=CONFIRMED") {
		t.Errorf("audit list: %v\n%s", err, out)
	}
}

// Ensure the admin CLI lists any user's grants (by user id, by issuer and
// subject, by user key, or all) and revokes one at the provider.
func TestGrantCLI(t *testing.T) {
	isolateAWSEnv(t)
	google := fakeprovider.New(t, fakeprovider.Options{})
	s := startMain(t, serverOptions{args: []string{"--allow-private-endpoints"}})
	e := newConnEnv(t, s, google)
	e.appUser.Store("carol")
	userIDToken := e.consent(e.wat("carol")) // a user asserted by the app's user id
	aliceJWT := e.userJWT("alice")
	e.connect(aliceJWT)

	grants := func(args ...string) []apiGrant {
		t.Helper()
		out, err := cliRun(t, s, append([]string{"grant", "list", "--output", "json"}, args...)...)
		if err != nil {
			t.Fatalf("grant list %q: %v\n%s", args, err, out)
		}
		var list struct {
			Grants []apiGrant `json:"grants"`
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("grant list output: %v\n%s", err, out)
		}
		return list.Grants
	}
	all := grants()
	if len(all) != 2 {
		t.Fatalf("every grant: %+v", all)
	}
	carol := grants("--user-id", "carol")
	if len(carol) != 1 || carol[0].User != (behalf.User{Subject: "carol"}).Key() || carol[0].Provider != "google-drive-provider" {
		t.Fatalf("carol's grants: %+v", carol)
	}
	alice := grants("--issuer", e.issuer, "--subject", e.subjects["alice"])
	if len(alice) != 1 || alice[0].ID == carol[0].ID {
		t.Fatalf("alice's grants: %+v", alice)
	}
	if byKey := grants("--user", alice[0].User); len(byKey) != 1 || byKey[0].ID != alice[0].ID {
		t.Errorf("alice's grants by key: %+v", byKey)
	}
	if none := grants("--user-id", "nobody"); len(none) != 0 {
		t.Errorf("nobody's grants: %+v", none)
	}
	if out, err := cliRun(t, s, "grant", "list", "--user-id", "carol", "--issuer", e.issuer); err == nil {
		t.Errorf("grant list naming two users succeeded:\n%s", out)
	}
	text, err := cliRun(t, s, "grant", "list")
	if err != nil || !strings.Contains(text, carol[0].ID) || !strings.Contains(text, "LAST USED") || !strings.Contains(text, "drive-agent") {
		t.Errorf("grant list (text): %v\n%s", err, text)
	}
	// The USER column names users as people read them: carol's user id,
	// alice's subject at her pool, never the storage key ("42:http://…").
	aliceAt := e.subjects["alice"] + " at " + strings.TrimPrefix(e.issuer, "http://")
	if !strings.Contains(text, aliceAt) || !regexp.MustCompile(`(?m)\scarol\s`).MatchString(text) || regexp.MustCompile(`\s\d+:(http|carol)`).MatchString(text) {
		t.Errorf("grant list's USER column: want %q and carol, no storage keys\n%s", aliceAt, text)
	}

	out, err := cliRun(t, s, "grant", "revoke", carol[0].ID)
	if err != nil || !strings.Contains(out, "Revoked. google-drive-provider confirmed the token is revoked.") || !strings.Contains(out, "Deleted grant "+carol[0].ID) {
		t.Fatalf("grant revoke: %v\n%s", err, out)
	}
	if len(google.Revoked()) != 1 || driveWorks(t, google, userIDToken) {
		t.Errorf("after grant revoke: the provider saw %d revocations; the token works: %v", len(google.Revoked()), driveWorks(t, google, userIDToken))
	}
	if next, err := e.dp.GetResourceOauth2Token(context.Background(), e.tokenRequest(e.wat("carol"), "")); err != nil || next.AccessToken != nil || next.AuthorizationUrl == nil {
		t.Errorf("carol's next token request: %+v, %v; want a consent", next, err)
	}
	if out, err := cliRun(t, s, "grant", "revoke", carol[0].ID); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("revoking again: %v\n%s", err, out)
	}
	if left := grants(); len(left) != 1 || left[0].ID != alice[0].ID {
		t.Errorf("grants left: %+v", left)
	}
	out, err = cliRun(t, s, "audit", "list", "--kind", behalf.AuditGrantRevoked)
	if err != nil || !strings.Contains(out, "grant.revoked") || !strings.Contains(out, carol[0].ID) {
		t.Errorf("audit list: %v\n%s", err, out)
	}
	// A scoped key may not use the admin operations.
	if status, body := signedPostAs(t, s, "/behalf/ListGrants", `{}`, e.scopedKey()); status != http.StatusForbidden {
		t.Errorf("ListGrants with a workload's key: %d %s", status, body)
	}
}

// scopedKey creates an access key scoped to drive-agent.
func (e *connEnv) scopedKey() [2]string {
	e.t.Helper()
	out, err := cliRun(e.t, e.server, "access-key", "create", "--workload", "drive-agent", "--output", "json")
	if err != nil {
		e.t.Fatalf("key create: %v\n%s", err, out)
	}
	var k struct {
		ID     string `json:"accessKeyId"`
		Secret string `json:"secretAccessKey"`
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		e.t.Fatal(err)
	}
	return [2]string{k.ID, k.Secret}
}

// signedPostAs is signedPost with another key.
func signedPostAs(t *testing.T, s *testServer, path, body string, key [2]string) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(signedRequest(t, s, path, []byte(body), key[0], key[1], time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Ensure token fetches are audited per grant and hour, not per call: a
// stopped server has flushed one grant.fetched event with the count and
// the grant's last use.
func TestConnectionsFetchAudit(t *testing.T) {
	isolateAWSEnv(t)
	dir := t.TempDir()
	var grantID string
	t.Run("serve", func(t *testing.T) {
		google := fakeprovider.New(t, fakeprovider.Options{})
		s := startMain(t, serverOptions{dataDir: dir, args: []string{"--allow-private-endpoints"}})
		f := newFlowFixture(t, s, google)
		f.consent(f.wat("alice")) // the poll's fetch is the first
		for range 6 {
			out, err := f.dp.GetResourceOauth2Token(context.Background(), f.tokenRequest(f.wat("alice"), ""))
			if err != nil || out.AccessToken == nil {
				t.Fatalf("fetch: %+v, %v", out, err)
			}
		}
		out, err := cliRun(t, s, "grant", "list", "--user-id", "alice", "--output", "json")
		var list struct {
			Grants []apiGrant `json:"grants"`
		}
		if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list.Grants) != 1 || list.Grants[0].LastUsedTime == nil {
			t.Fatalf("grant list: %v\n%s", err, out)
		}
		grantID = list.Grants[0].ID
		// Not flushed yet (every minute): no event per call.
		if out, err := cliRun(t, s, "audit", "list", "--kind", behalf.AuditGrantFetched, "--output", "json"); err != nil || strings.Contains(out, "grant.fetched") {
			t.Errorf("fetch events before any flush: %v\n%s", err, out)
		}
	}) // the server stops here, flushing
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "behalf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	es, err := db.ListAudit(ctx, behalf.AuditGrantFetched, 0)
	if err != nil {
		t.Fatal(err)
	}
	// One event for the test's hour (two if the hour turned meanwhile).
	total := 0
	for _, e := range es {
		var n int
		var hour string
		if _, err := fmt.Sscanf(e.Detail, "count=%d hour=%s grant=", &n, &hour); err != nil || !strings.HasSuffix(e.Detail, " grant="+grantID) ||
			e.Workload != "drive-agent" || e.UserKey != (behalf.User{Subject: "alice"}).Key() {
			t.Errorf("fetch event %+v (%v)", e, err)
		}
		if h, err := time.Parse(time.RFC3339, hour); err != nil || !h.Equal(h.Truncate(time.Hour)) || time.Since(h) > 2*time.Hour {
			t.Errorf("fetch event hour %q: %v", hour, err)
		}
		total += n
	}
	if total != 7 || len(es) == 0 || len(es) > 2 {
		t.Fatalf("%d fetch events counting %d fetches after shutdown, want one counting 7: %+v", len(es), total, es)
	}
	g, err := db.GetGrantByID(ctx, grantID)
	if err != nil || g.LastUsedAt.IsZero() || time.Since(g.LastUsedAt) > time.Minute {
		t.Fatalf("stored grant: %+v, %v; want its last use", g, err)
	}
}

// connScreenshot takes the page's screenshot (see screenshot).
func connScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	screenshot(t, ctx, name)
}

// Ensure the /connections page in a real browser: signing in at the
// pool's hosted login, the grant listed, Revoke clicked: the grant is
// gone, the provider stand-in saw the revocation, the next token request
// starts a new consent; the pages (and the landing page at /) have no
// accessibility violation (axe-core, with real grants: package web checks
// every page's states). Screenshots go to docs/screenshots/connections-*.png.
func TestConnectionsPage(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping: %s is not installed (%v); install Debian's chromium to run it", chromiumPath, err)
	}
	isolateAWSEnv(t)
	google := fakeprovider.New(t, fakeprovider.Options{})
	s := startMain(t, serverOptions{args: []string{"--allow-private-endpoints"}})
	e := newConnEnv(t, s, google)
	aliceJWT := e.userJWT("alice")
	token := e.connect(aliceJWT)
	e.addCalendar()
	e.connectTo(aliceJWT, "calendar-provider")
	e.appUser.Store("bob")
	e.consent(e.wat("bob")) // another user's grant (by user id), never shown to alice

	browser := newChromium(t)
	page := s.URL + behalf.ConnectionsPath + "?" + url.Values{"issuer": {e.issuer}}.Encode()
	chromeDo(t, browser, chromedp.EmulateViewport(1200, 800), chromedp.Navigate(page))
	chromeWaitURL(t, browser, e.issuer+"/login?")
	chromeDo(t, browser, chromeFillLogin("alice", connPassword))
	chromeWaitURL(t, browser, page)
	chromeDo(t, browser, chromedp.WaitVisible(chromedp.CSS("table")))
	if got := chromeText(t, browser, "h1"); got != "Your connections" {
		t.Errorf("heading %q", got)
	}
	if who := chromeText(t, browser, ".who"); who != "Signed in as alice" || strings.Contains(who, e.subjects["alice"]) {
		t.Errorf("signed in as %q, want alice's name, not her subject", who)
	}
	rows := chromeText(t, browser, "tbody")
	if !strings.Contains(rows, "drive-agent") || !strings.Contains(rows, "google-drive-provider") || !strings.Contains(rows, driveScope) {
		t.Errorf("the table shows %q", rows)
	}
	if n := chromeCount(t, browser, "tbody tr"); n != 2 {
		t.Fatalf("%d rows, want alice's two grants: %s", n, rows)
	}
	if html, _ := chromedp.Run(browser, chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, "<script") || strings.Contains(html, token) {
		t.Error("the page has a script or shows the token")
	}
	connScreenshot(t, browser, "connections-list.png")
	browsertest.CheckAccessible(t, browser, "connections, real grants listed")

	// On a 360 px phone the page fits: no horizontal scrolling.
	chromeDo(t, browser, chromedp.EmulateViewport(360, 740))
	width, err := chromedp.Run(browser, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if width > 360 {
		t.Errorf("the page is %d px wide on a 360 px phone", width)
	}
	connScreenshot(t, browser, "connections-phone.png")
	chromeDo(t, browser, chromedp.EmulateViewport(1200, 800))

	// The calendar provider has no revocation endpoint: the grant goes,
	// and the page says the provider could not be asked.
	chromeDo(t, browser, chromedp.Click(chromedp.CSS(`button[aria-label="Revoke drive-agent's access to calendar-provider"]`)))
	chromeWaitText(t, browser, ".status", "Revoked in Behalf. calendar-provider has no revocation endpoint; the grant was deleted from Behalf.")
	// POST → redirect → GET: the browser is on the list's address, and a
	// reload neither submits the form again nor repeats the outcome.
	chromeWaitURL(t, browser, page)
	if n := chromeCount(t, browser, "tbody tr"); n != 1 {
		t.Fatalf("%d rows after revoking the calendar grant, want 1", n)
	}
	if role := chromeAttr(t, browser, ".status", "role"); role != "alert" {
		t.Errorf("the warning's role is %q, want alert", role)
	}
	connScreenshot(t, browser, "connections-unsupported.png")
	chromeDo(t, browser, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table")))
	if n := chromeCount(t, browser, ".status"); n != 0 {
		t.Errorf("a reload shows the outcome again")
	}
	if len(google.Revoked()) != 0 {
		t.Fatal("a provider without a revocation endpoint was sent a revocation")
	}

	chromeDo(t, browser, chromedp.Click(chromedp.CSS(`button[aria-label="Revoke drive-agent's access to google-drive-provider"]`)))
	chromeWaitText(t, browser, ".status", "Revoked. google-drive-provider confirmed the token is revoked.")
	if body := chromeText(t, browser, "main"); !strings.Contains(body, "No agent has access to any of your accounts") {
		t.Errorf("after revoking, the page says %q", body)
	}
	connScreenshot(t, browser, "connections-revoked.png")

	if got := google.Revoked(); len(got) != 1 {
		t.Errorf("the provider saw %d revocations, want 1", len(got))
	}
	if driveWorks(t, google, token) {
		t.Error("the token still works at Drive")
	}
	if !e.needsConsent(aliceJWT) {
		t.Error("the next token request does not start a new consent")
	}
	var list struct {
		Grants []apiGrant `json:"grants"`
	}
	if out, err := cliRun(t, s, "grant", "list", "--output", "json"); err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list.Grants) != 1 {
		t.Errorf("grants left (bob's): %v\n%s", err, out)
	}

	// Signing out forgets the page's sign-in.
	chromeDo(t, browser, chromedp.Click(chromedp.CSS(`header button[type="submit"]`)))
	chromeWaitText(t, browser, ".status", "You are signed out of your connections page.")
	connScreenshot(t, browser, "connections-signed-out.png")
	browsertest.CheckAccessible(t, browser, "connections, signed out")

	// A browser at the server's root gets the landing page.
	chromeDo(t, browser, chromedp.Navigate(s.URL+"/"))
	chromeWaitText(t, browser, "h1", "Behalf")
	browsertest.CheckAccessible(t, browser, "landing")
}

// chromeCount returns how many elements match sel.
func chromeCount(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
	if err != nil {
		t.Fatal(err)
	}
	return len(nodes)
}

// addCalendar adds the custom provider calendar-provider, by explicit
// metadata at the Google stand-in (so without a revocation endpoint, which
// AgentCore's metadata cannot express).
func (e *connEnv) addCalendar() {
	e.t.Helper()
	g := e.google
	out, err := e.ctl.CreateOauth2CredentialProvider(context.Background(), &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("calendar-provider"), CredentialProviderVendor: ctltypes.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: &ctltypes.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: ctltypes.CustomOauth2ProviderConfigInput{
			ClientId: aws.String("cid2"), ClientSecret: aws.String("csecret2"),
			OauthDiscovery: &ctltypes.Oauth2DiscoveryMemberAuthorizationServerMetadata{Value: ctltypes.Oauth2AuthorizationServerMetadata{
				Issuer: aws.String(g.URL), AuthorizationEndpoint: aws.String(g.URL + fakeprovider.AuthorizePath),
				TokenEndpoint: aws.String(g.URL + fakeprovider.TokenPath), ResponseTypes: []string{"code"},
			}},
		}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	g.RegisterClient("cid2", "csecret2", aws.ToString(out.CallbackUrl))
}

// chromeAttr returns the attribute name of the element sel.
func chromeAttr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		t.Fatal(err)
	}
	return v.Value
}
