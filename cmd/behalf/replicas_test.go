package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/identity"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
	"github.com/behalf-dev/behalf/sandbox"
)

// Timing of TestReplicas. The provider's access tokens live StaleMargin +
// 6 s, so Behalf refreshes a grant 6 s after the provider issued its token
// (refreshWindow) and the token is still valid for a minute after that: a
// replica killed while refreshing blocks nobody (the others serve the
// current token until its lease runs out). Two refreshes of one grant less
// than refreshWindow apart can only be two replicas (or two requests)
// refreshing the same expiry window.
const (
	replicaTokenTTL = identity.StaleMargin + 6*time.Second
	refreshWindow   = replicaTokenTTL - identity.StaleMargin
	// replicaClockSlack absorbs wall-clock steps between the test's and
	// the replicas' readings (one machine, one clock).
	replicaClockSlack = 300 * time.Millisecond
	replicaRun        = 21 * time.Second // load phase
	replicaVictim     = 2                // the replica killed with SIGKILL
	replicaRouteHdr   = "X-Behalf-Test-Replica"
)

// Ensure any number of `behalf serve` processes share one PostgreSQL with
// no other coordination. Three replicas (subprocesses of the real binary,
// each with its own port and data directory, the same --kms key and root
// key) run behind a round-robin load balancer that is their public URL.
// Concurrent clients drive the consent flow across them (started on
// replica A, the browser's authorize leg on C and its provider callback on
// B, CompleteResourceTokenAuth on C, the poll back on A) and fetch tokens
// from every replica at once, so each expiry window has three replicas
// racing to refresh. Mid-run, sessions are left in flight on replica 2 at
// each stage of the flow (parkSessions), token calls stream to it, and it
// is killed with SIGKILL. At the end:
//
//   - no grant lost: every user who got a token or a binding gets a token
//     from each survivor, and the provider accepts it;
//   - no refresh done twice: the provider saw each grant's refresh token
//     refreshed at most once per refreshWindow, and never refused one;
//   - no session stuck: every session started is COMPLETED, or is
//     completed now on a survivor, or answers FAILED once expired (expiry
//     is brought forward in the database rather than waited for);
//   - no call to a survivor fails, ever (InternalServerException or other).
//
// It also checks bounds on staleness across replicas: a WAT minted by any
// replica is accepted by all (within signer.ReloadInterval at most), and a
// credential provider deleted on one replica is refused by another within
// identity.ConfigCacheTTL. About 30 s.
func TestReplicas(t *testing.T) {
	dsn := os.Getenv("BEHALF_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("BEHALF_TEST_POSTGRES_DSN is unset: TestReplicas runs three replicas on one PostgreSQL " +
			"(e.g. BEHALF_TEST_POSTGRES_DSN=postgres://postgres:postgres@127.0.0.1:5432/behalf_test?sslmode=disable)")
	}
	if testing.Short() {
		t.Skip("builds and runs three replicas; skipped with -short")
	}
	start := time.Now()
	bin := buildBehalf(t)
	database := freshPostgresSchema(t, dsn)
	t.Logf("built in %v", time.Since(start).Round(time.Millisecond))

	google, ledger := startCountingProvider(t, replicaTokenTTL)
	f := newReplicaFixture(t, google, ledger, database)
	f.startReplicas(t, bin, 3)
	t.Logf("3 replicas ready in %v", time.Since(start).Round(time.Millisecond))
	f.setup(t)
	f.checkWATsConverge(t)

	ctx := context.Background()
	var seeds sync.WaitGroup
	for i := range 9 {
		seeds.Add(1)
		go func() {
			defer seeds.Done()
			user := fmt.Sprintf("seed-%02d", i)
			if err := f.consent(ctx, user, i%3); err != nil {
				f.fail("seed consent for %s: %v", user, err)
			}
		}()
	}
	seeds.Wait()
	f.checkFailures(t)
	t.Logf("9 seed grants, each consent across three replicas, at %v", time.Since(start).Round(time.Millisecond))

	st := f.runLoad(replicaRun, 6*time.Second+rand.N(3*time.Second))
	t.Logf("load: %d token calls (%d tokens), %d consents started, %d bound; replica %d killed at %v into the run; "+
		"%d calls and consents failed as it died; %d refresh leases held just after the kill; %d unexpected errors",
		st.calls.Load(), st.tokens.Load(), st.consents.Load(), st.bound.Load(), replicaVictim, st.killedAt.Round(time.Millisecond),
		st.victimErrors.Load(), st.leased, st.errors.Load())
	for msg, n := range st.sample {
		t.Logf("  %4d × %s", n, msg)
	}
	f.checkFailures(t)

	f.resolveSessions(t)
	f.checkFailures(t)
	f.verifyGrants(t)
	f.checkFailures(t)
	f.checkRefreshes(t)
	f.checkDatabase(t)
	f.checkProviderDeletion(t)
	f.checkFailures(t)
	for _, r := range f.replicas {
		if r.idx != replicaVictim && strings.Contains(r.proc.log.String(), "panic") {
			t.Errorf("replica %d logged a panic:\n%s", r.idx, r.proc.log)
		}
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// refreshLedger records, per refresh token, when the code exchange that
// issued it and every refresh request using it reached the provider.
type refreshLedger struct {
	mu        sync.Mutex
	issued    map[string]time.Time
	refreshes map[string][]time.Time
	refused   []string // refresh requests the provider did not answer 200
}

// startCountingProvider starts the Google stand-in (package sandbox, as
// internal/fakeprovider does) behind a handler that fills a refreshLedger.
func startCountingProvider(t *testing.T, ttl time.Duration) (*fakeprovider.Server, *refreshLedger) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Options{URL: "http://" + ln.Addr().String(), AutoConsent: true, AccessTokenTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	l := &refreshLedger{issued: map[string]time.Time{}, refreshes: map[string][]time.Time{}}
	hs := &http.Server{Handler: l.wrap(sb.Handler()), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return &fakeprovider.Server{Server: sb}, l
}

func (l *refreshLedger) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != fakeprovider.TokenPath {
			next.ServeHTTP(w, r)
			return
		}
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())

		l.mu.Lock()
		defer l.mu.Unlock()
		switch form.Get("grant_type") {
		case "authorization_code":
			var tok struct {
				RefreshToken string `json:"refresh_token"`
			}
			if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &tok) == nil && tok.RefreshToken != "" {
				l.issued[tok.RefreshToken] = at
			}
		case "refresh_token":
			rt := form.Get("refresh_token")
			l.refreshes[rt] = append(l.refreshes[rt], at)
			if rec.Code != http.StatusOK {
				l.refused = append(l.refused, fmt.Sprintf("%d %s", rec.Code, strings.TrimSpace(rec.Body.String())))
			}
		}
	})
}

// replica is one `behalf serve` subprocess.
type replica struct {
	idx     int
	addr    string
	proc    *behalfProcess
	dp      *dp.Client
	ctl     *ctl.Client
	killing atomic.Bool // set just before SIGKILL: its calls may fail from then on
	dying   atomic.Bool // set once it is gone: no request is routed to it
}

// sessionRecord follows one authorization session through the flow.
type sessionRecord struct {
	uri, user, authURL string
	// Replica of each leg: start and poll on a, the authorize leg and
	// CompleteResourceTokenAuth on c, the provider callback on b.
	a, b, c int

	mu          sync.Mutex
	stage       string // started, authorize, authorized, called back, bound, returned
	callbackURL string // where the provider sent the browser
	// park, for sessions left in flight on the victim at the kill: the
	// stage where the flow stops (see parkSessions); "" once resumed.
	park string
	// jar is the user's one browser: the callback is accepted only from
	// the browser that opened the authorization URL.
	jar http.CookieJar
}

func (s *sessionRecord) parked() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.park
}

func (s *sessionRecord) setStage(stage string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stage = stage
}

func (s *sessionRecord) get() (stage, callbackURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stage, s.callbackURL
}

type replicaFixture struct {
	google   *fakeprovider.Server
	ledger   *refreshLedger
	database string
	kms      string
	keyID    string
	secret   string
	lb       *httptest.Server // the replicas' public URL
	appURL   string
	replicas []*replica
	rr       atomic.Uint64

	sessions sync.Map // session URI → *sessionRecord
	wats     sync.Map // user → workload access token

	mu        sync.Mutex
	committed map[string]bool // users with a grant: bound, or a token returned
	started   []*sessionRecord
	failures  []string
}

func newReplicaFixture(t *testing.T, google *fakeprovider.Server, ledger *refreshLedger, database string) *replicaFixture {
	t.Helper()
	key := make([]byte, 32)
	crand.Read(key)
	id, secret := identity.NewAccessKeyPair()
	f := &replicaFixture{
		google: google, ledger: ledger, database: database,
		kms:   "base64key://" + base64.URLEncoding.EncodeToString(key),
		keyID: id, secret: secret.Reveal(), committed: map[string]bool{},
	}
	f.lb = httptest.NewServer(http.HandlerFunc(f.balance))
	t.Cleanup(f.lb.Close)
	app := httptest.NewServer(http.HandlerFunc(f.appCallback))
	t.Cleanup(app.Close)
	f.appURL = app.URL + "/callback"
	return f
}

// startReplicas starts every replica at once on the empty database (they
// race to create the first data key and WAT signing key; the losers must
// use the winner's) and waits until each answers /readyz.
func (f *replicaFixture) startReplicas(t *testing.T, bin string, n int) {
	t.Helper()
	f.replicas = make([]*replica, n)
	for i := range n {
		f.replicas[i] = &replica{idx: i, addr: freeLoopbackAddr(t)}
	}
	var wg sync.WaitGroup
	for _, r := range f.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.proc = f.startReplica(t, bin, r.addr)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, r := range f.replicas {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32
		hc := &http.Client{Transport: tr}
		creds := credentials.NewStaticCredentialsProvider(f.keyID, f.secret, "")
		r.dp = dp.New(dp.Options{BaseEndpoint: aws.String("http://" + r.addr), Region: "us-east-1", RetryMaxAttempts: 1, Credentials: creds, HTTPClient: hc})
		r.ctl = ctl.New(ctl.Options{BaseEndpoint: aws.String("http://" + r.addr), Region: "us-east-1", RetryMaxAttempts: 1, Credentials: creds, HTTPClient: hc})
	}
}

// startReplica runs `behalf serve` on addr with its own data directory,
// the shared database, --kms key and public URL, and the root key from the
// environment, and waits until /readyz answers 200.
func (f *replicaFixture) startReplica(t *testing.T, bin, addr string) *behalfProcess {
	p, err := runBehalf(t, bin, addr, "/readyz", 30*time.Second,
		[]string{"BEHALF_ROOT_ACCESS_KEY_ID=" + f.keyID, "BEHALF_ROOT_SECRET_ACCESS_KEY=" + f.secret},
		"--data-dir", t.TempDir(), "--database", f.database, "--kms", f.kms, "--public-url", f.lb.URL, "--allow-private-endpoints")
	if err != nil {
		t.Error(err)
	}
	return p
}

// alive returns replica i, or the next one not killed.
func (f *replicaFixture) alive(i int) *replica {
	for k := range len(f.replicas) {
		r := f.replicas[(i+k)%len(f.replicas)]
		if !r.dying.Load() {
			return r
		}
	}
	panic("no replica alive")
}

// balance is the load balancer in front of the replicas: it sends a
// request to the replica named by the X-Behalf-Test-Replica header (the
// test's browser sets it to pick each leg's replica), else round-robin,
// skipping the killed replica as a health-checking balancer would.
func (f *replicaFixture) balance(w http.ResponseWriter, r *http.Request) {
	i := int(f.rr.Add(1))
	if h := r.Header.Get(replicaRouteHdr); h != "" {
		fmt.Sscan(h, &i)
	}
	target := f.alive(i)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&url.URL{Scheme: "http", Host: target.addr})
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Del(replicaRouteHdr)
		},
		ErrorLog: nil,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, fmt.Sprintf("replica %d: %v", target.idx, err), http.StatusBadGateway)
		},
	}
	proxy.ServeHTTP(w, r)
}

func (f *replicaFixture) fail(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, fmt.Sprintf(format, args...))
}

func (f *replicaFixture) checkFailures(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.failures) > 0 {
		n := len(f.failures)
		if n > 40 {
			f.failures = append(f.failures[:40], fmt.Sprintf("… and %d more", n-40))
		}
		t.Fatalf("%d failures:\n%s", n, strings.Join(f.failures, "\n"))
	}
}

func (f *replicaFixture) commit(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.committed[user] = true
}

func (f *replicaFixture) committedUsers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for u := range f.committed {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// setup creates the provider and the workload on replica 0; the other
// replicas read them from the database.
func (f *replicaFixture) setup(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	out, err := f.replicas[0].ctl.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("google-drive-provider"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: customDiscovery(f.google.URL+fakeprovider.DiscoveryPath, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	if cb := aws.ToString(out.CallbackUrl); !strings.HasPrefix(cb, f.lb.URL+"/") {
		t.Fatalf("callback URL %q is not under the shared public URL %s", cb, f.lb.URL)
	}
	f.google.RegisterClient("cid", "csecret", aws.ToString(out.CallbackUrl))
	if _, err := f.replicas[1].ctl.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
		Name: aws.String("drive-agent"), AllowedResourceOauth2ReturnUrls: []string{f.appURL},
	}); err != nil {
		t.Fatal(err)
	}
}

// checkWATsConverge mints a WAT on each replica and checks every replica
// accepts each of them at once: replicas started together store one WAT
// signing key and all sign with it (signer.CreateFirstSigningKey), so no
// verifier meets an unknown kid. The database holds that one key.
func (f *replicaFixture) checkWATsConverge(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, minter := range f.replicas {
		out, err := minter.dp.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{
			WorkloadName: aws.String("drive-agent"), UserId: aws.String(fmt.Sprintf("probe-%d", minter.idx)),
		})
		if err != nil {
			t.Fatalf("WAT from replica %d: %v", minter.idx, err)
		}
		wat := aws.ToString(out.WorkloadAccessToken)
		for _, r := range f.replicas {
			if _, err := r.dp.GetResourceOauth2Token(ctx, f.request(wat, "")); err != nil {
				t.Errorf("replica %d refuses a WAT minted by replica %d: %v", r.idx, minter.idx, err)
			}
		}
	}
	db, err := sql.Open("pgx", f.database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var keys, active int
	if err := db.QueryRow("SELECT count(*), count(*) FILTER (WHERE active) FROM signing_keys WHERE key_use = 'wat'").Scan(&keys, &active); err != nil {
		t.Fatal(err)
	}
	if keys != 1 || active != 1 {
		t.Errorf("replicas started together left %d WAT signing keys (%d active); want 1", keys, active)
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Log("every replica accepts every replica's WATs at once; one WAT signing key")
}

func (f *replicaFixture) request(wat, sessionURI string) *dp.GetResourceOauth2TokenInput {
	in := &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken: aws.String(wat), ResourceCredentialProviderName: aws.String("google-drive-provider"),
		Scopes: []string{driveScope}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation,
		ResourceOauth2ReturnUrl: aws.String(f.appURL), CustomParameters: map[string]string{"access_type": "offline", "prompt": "consent"},
	}
	if sessionURI != "" {
		in.SessionUri = aws.String(sessionURI)
	}
	return in
}

// wat returns user's workload access token, minted on replica i.
func (f *replicaFixture) wat(ctx context.Context, user string, i int) (string, error) {
	if v, ok := f.wats.Load(user); ok {
		return v.(string), nil
	}
	out, err := f.alive(i).dp.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{
		WorkloadName: aws.String("drive-agent"), UserId: aws.String(user),
	})
	if err != nil {
		return "", err
	}
	f.wats.Store(user, aws.ToString(out.WorkloadAccessToken))
	return aws.ToString(out.WorkloadAccessToken), nil
}

// browser is a user's browser: it goes through the load balancer, naming
// the replica for each of Behalf's legs.
func (f *replicaFixture) browser(rec *sessionRecord) *http.Client {
	rec.mu.Lock()
	if rec.jar == nil {
		rec.jar, _ = cookiejar.New(nil)
	}
	jar := rec.jar
	rec.mu.Unlock()
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &legRouter{f: f, rec: rec}}
}

type legRouter struct {
	f   *replicaFixture
	rec *sessionRecord
}

func (l *legRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	switch {
	case strings.HasPrefix(req.URL.Path, "/identities/oauth2/authorize"):
		req.Header.Set(replicaRouteHdr, fmt.Sprint(l.rec.c))
		l.rec.setStage("authorize")
	case strings.HasPrefix(req.URL.Path, "/identities/oauth2/callback/"):
		req.Header.Set(replicaRouteHdr, fmt.Sprint(l.rec.b))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && req.URL.Path == fakeprovider.AuthorizePath && resp.StatusCode == http.StatusFound {
		l.rec.mu.Lock()
		l.rec.stage, l.rec.callbackURL = "authorized", resp.Header.Get("Location")
		l.rec.mu.Unlock()
	}
	return resp, err
}

// appCallback is the app at the workload's return URL: it binds the
// session as the user who started it, on the session's replica C.
func (f *replicaFixture) appCallback(w http.ResponseWriter, r *http.Request) {
	uri := r.URL.Query().Get("session_id")
	v, ok := f.sessions.Load(uri)
	if !ok {
		http.Error(w, "unknown session", http.StatusBadRequest)
		return
	}
	rec := v.(*sessionRecord)
	rec.setStage("called back")
	if rec.parked() == "called back" {
		w.Write([]byte("parked: the app binds after the kill"))
		return
	}
	c := f.alive(rec.c)
	_, err := c.dp.CompleteResourceTokenAuth(r.Context(), &dp.CompleteResourceTokenAuthInput{
		SessionUri: aws.String(uri), UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: rec.user},
	})
	if err != nil {
		if isInternal(err) {
			f.fail("CompleteResourceTokenAuth for %s on replica %d: %v", rec.user, c.idx, err)
		}
		http.Error(w, "not bound: "+err.Error(), http.StatusForbidden)
		return
	}
	rec.setStage("bound")
	f.commit(rec.user)
	w.Write([]byte("bound"))
}

// consent runs the three-legged flow for user across replicas: started on
// a, authorize on a+2, provider callback on a+1, binding on a+2, poll on a.
func (f *replicaFixture) consent(ctx context.Context, user string, a int) error {
	return f.consentTo(ctx, user, a, "")
}

// consentTo runs the flow up to park (see parkSessions), or to the end.
func (f *replicaFixture) consentTo(ctx context.Context, user string, a int, park string) error {
	n := len(f.replicas)
	rec := &sessionRecord{user: user, a: a % n, b: (a + 1) % n, c: (a + 2) % n, stage: "started", park: park}
	wat, err := f.wat(ctx, user, rec.a)
	if err != nil {
		return err
	}
	first, err := f.alive(rec.a).dp.GetResourceOauth2Token(ctx, f.request(wat, ""))
	if err != nil {
		return err
	}
	if first.AuthorizationUrl == nil || first.SessionUri == nil {
		return fmt.Errorf("first call for new user %s = %+v", user, first)
	}
	rec.uri, rec.authURL = aws.ToString(first.SessionUri), aws.ToString(first.AuthorizationUrl)
	if !strings.HasPrefix(rec.authURL, f.lb.URL+"/") {
		return fmt.Errorf("authorization URL %q is not under the public URL %s", rec.authURL, f.lb.URL)
	}
	f.sessions.Store(rec.uri, rec)
	f.mu.Lock()
	f.started = append(f.started, rec)
	f.mu.Unlock()
	switch park {
	case "started":
		return nil
	case "authorized", "abandoned": // the browser stops before Behalf's callback
		browser := f.browser(rec)
		browser.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.Path, "/identities/oauth2/callback/") {
				return http.ErrUseLastResponse
			}
			return nil
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, rec.authURL, nil)
		resp, err := browser.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if stage, cb := rec.get(); stage != "authorized" || cb == "" {
			return fmt.Errorf("parking at authorized: the browser stopped at %s (%d)", resp.Request.URL, resp.StatusCode)
		}
		return nil
	}
	if err := f.browse(ctx, rec, rec.authURL); err != nil {
		return err
	}
	if park == "called back" {
		return nil
	}
	return f.poll(ctx, rec, wat)
}

// parkedOutcome is how resolveSessions must end each kind of parked
// session.
var parkedOutcome = map[string]string{
	"started":     "browser sent again",
	"authorized":  "callback sent again",
	"called back": "bound on a survivor",
	"abandoned":   "expired, FAILED (authorized)",
}

// parkSessions leaves sessions in flight on the victim, two of each kind,
// for resolveSessions to finish on the survivors after the kill: started
// on the victim with the browser not yet there; the authorize leg served
// by the victim, the provider's redirect back not yet followed; the
// provider's callback served by the victim (the token waits with the
// session), the app not yet binding; and one the user abandoned after the
// authorize leg, which only expiry ends.
func (f *replicaFixture) parkSessions(ctx context.Context) error {
	n := len(f.replicas)
	legs := map[string]int{ // a such that the parked leg is the victim's
		"started":     replicaVictim,
		"authorized":  (replicaVictim + n - 2) % n,
		"abandoned":   (replicaVictim + n - 2) % n,
		"called back": (replicaVictim + n - 1) % n,
	}
	for _, park := range slices.Sorted(maps.Keys(legs)) {
		for i := range 2 {
			user := fmt.Sprintf("parked-%s-%d", strings.ReplaceAll(park, " ", "-"), i)
			if err := f.consentTo(ctx, user, legs[park], park); err != nil {
				return fmt.Errorf("%s: %w", user, err)
			}
		}
	}
	return nil
}

// browse opens u in rec's browser and expects to end at the app, bound.
func (f *replicaFixture) browse(ctx context.Context, rec *sessionRecord, u string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := f.browser(rec).Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("browser ended at %s: %d %s", resp.Request.URL, resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

// poll asks for the token with the session URI on replica a.
func (f *replicaFixture) poll(ctx context.Context, rec *sessionRecord, wat string) error {
	out, err := f.alive(rec.a).dp.GetResourceOauth2Token(ctx, f.request(wat, rec.uri))
	if err != nil {
		return err
	}
	if out.AccessToken == nil {
		return fmt.Errorf("poll after binding = %s", out.SessionStatus)
	}
	rec.setStage("returned")
	f.commit(rec.user)
	return nil
}

type replicaLoadStats struct {
	calls, tokens, consents, bound atomic.Int64
	victimErrors, errors           atomic.Int64
	killedAt                       time.Duration
	leased                         int // grants whose refresh lease was held at the kill

	mu     sync.Mutex
	sample map[string]int
}

func (st *replicaLoadStats) note(kind string, err error) {
	st.errors.Add(1)
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sample == nil {
		st.sample = map[string]int{}
	}
	st.sample[kind+": "+msg]++
}

func (f *replicaFixture) randomCommitted() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	users := make([]string, 0, len(f.committed))
	for u := range f.committed {
		users = append(users, u)
	}
	return users[rand.N(len(users))]
}

// runLoad runs token bursts (one user's token asked of every live replica
// at once) and new consents for d, and kills the victim after killAfter.
func (f *replicaFixture) runLoad(d, killAfter time.Duration) *replicaLoadStats {
	st := &replicaLoadStats{}
	ctx, cancel := context.WithCancel(context.Background())
	victim := f.replicas[replicaVictim]
	var killed atomic.Bool // the victim is gone: no leg can reach it
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				user := f.randomCommitted()
				wat, err := f.wat(ctx, user, rand.N(len(f.replicas)))
				if err != nil {
					if ctx.Err() == nil && !victim.killing.Load() {
						st.note("WAT", err)
						f.fail("WAT for %s: %v", user, err)
					}
					continue
				}
				var burst sync.WaitGroup
				for _, r := range f.replicas {
					if r.dying.Load() {
						continue
					}
					burst.Add(1)
					go func() {
						defer burst.Done()
						cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
						defer ccancel()
						st.calls.Add(1)
						out, err := r.dp.GetResourceOauth2Token(cctx, f.request(wat, ""))
						switch {
						case err != nil && r == victim && victim.killing.Load():
							st.victimErrors.Add(1)
						case err != nil:
							st.note(fmt.Sprintf("token on replica %d", r.idx), err)
							f.fail("GetResourceOauth2Token for %s on replica %d: %v", user, r.idx, err)
						case aws.ToString(out.AccessToken) == "":
							f.fail("committed user %s sent to consent by replica %d: %+v", user, r.idx, out)
						default:
							st.tokens.Add(1)
						}
					}()
				}
				burst.Wait()
				time.Sleep(time.Duration(20+rand.N(30)) * time.Millisecond)
			}
		}()
	}
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				user := fmt.Sprintf("w%d-%03d", w, i)
				st.consents.Add(1)
				afterKill := killed.Load()
				cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
				err := f.consent(cctx, user, w+i)
				ccancel()
				switch {
				case err == nil:
					st.bound.Add(1)
				case victim.killing.Load() && !afterKill:
					// Cut off by the kill, or by a leg sent to the victim as
					// it died: resolveSessions finishes these.
					st.victimErrors.Add(1)
				default:
					st.note("consent", err)
					f.fail("consent for %s: %v", user, err)
				}
				time.Sleep(time.Duration(50+rand.N(100)) * time.Millisecond)
			}
		}()
	}
	t0 := time.Now()
	time.Sleep(killAfter)
	if err := f.parkSessions(context.Background()); err != nil {
		f.fail("parking sessions on replica %d: %v", replicaVictim, err)
	}
	st.killedAt = time.Since(t0)
	// Kill it busy: token calls stream to it when SIGKILL lands. Kill
	// first, then stop routing to it: calls in flight and calls sent in
	// between fail, as they would through a real load balancer.
	stormCtx, stopStorm := context.WithCancel(context.Background())
	var storm sync.WaitGroup
	for range 6 {
		storm.Add(1)
		go func() {
			defer storm.Done()
			for stormCtx.Err() == nil {
				user := f.randomCommitted()
				wat, err := f.wat(stormCtx, user, 0)
				if err != nil {
					continue
				}
				cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
				st.calls.Add(1)
				out, err := victim.dp.GetResourceOauth2Token(cctx, f.request(wat, ""))
				ccancel()
				switch {
				case err != nil && victim.killing.Load():
					st.victimErrors.Add(1)
				case err != nil:
					f.fail("GetResourceOauth2Token for %s on replica %d: %v", user, victim.idx, err)
				case aws.ToString(out.AccessToken) == "":
					f.fail("committed user %s sent to consent by replica %d", user, victim.idx)
				default:
					st.tokens.Add(1)
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	victim.killing.Store(true)
	victim.proc.kill()
	stopStorm()
	storm.Wait()
	victim.dying.Store(true)
	killed.Store(true)
	st.leased = f.liveLeases()
	time.Sleep(d - killAfter)
	cancel()
	wg.Wait()
	return st
}

// liveLeases counts the grants whose refresh lease is held now.
func (f *replicaFixture) liveLeases() int {
	db, err := sql.Open("pgx", f.database)
	if err != nil {
		f.fail("open database: %v", err)
		return 0
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM grants WHERE refresh_lease > $1", time.Now().UnixMicro()).Scan(&n); err != nil {
		f.fail("count leases: %v", err)
	}
	return n
}

// resolveSessions brings every session started to an end on the survivors
// and counts how each ended.
func (f *replicaFixture) resolveSessions(t *testing.T) {
	t.Helper()
	db, err := sql.Open("pgx", f.database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f.mu.Lock()
	started := slices.Clone(f.started)
	f.mu.Unlock()
	outcomes := map[string]int{}
	var omu sync.Mutex
	sem := make(chan struct{}, 6)
	var wg sync.WaitGroup
	for _, rec := range started {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			park := rec.parked()
			how, err := f.resolve(ctx, db, rec)
			if err == nil && park != "" && how != parkedOutcome[park] {
				err = fmt.Errorf("parked at %s on the victim: ended %q, want %q", park, how, parkedOutcome[park])
			}
			if err != nil {
				stage, _ := rec.get()
				f.fail("session of %s (stage %q; legs %d/%d/%d): %v", rec.user, stage, rec.a, rec.b, rec.c, err)
				return
			}
			omu.Lock()
			outcomes[how]++
			omu.Unlock()
		}()
	}
	wg.Wait()
	t.Logf("%d sessions started: %v", len(started), outcomes)
}

// resolve ends one session: returns how it ended, or why it is stuck.
func (f *replicaFixture) resolve(ctx context.Context, db *sql.DB, rec *sessionRecord) (string, error) {
	stage, callbackURL := rec.get()
	if stage == "returned" {
		return "completed", nil
	}
	rec.mu.Lock()
	abandoned := rec.park == "abandoned"
	rec.park = "" // the app binds from now on
	rec.mu.Unlock()
	wat, err := f.wat(ctx, rec.user, 0)
	if err != nil {
		return "", err
	}
	status := func() (string, error) {
		out, err := f.alive(rec.a).dp.GetResourceOauth2Token(ctx, f.request(wat, rec.uri))
		if err != nil {
			return "", err
		}
		if out.AccessToken != nil {
			f.commit(rec.user)
			return "COMPLETED", nil
		}
		return string(out.SessionStatus), nil
	}
	s, err := status()
	if err != nil {
		return "", fmt.Errorf("poll: %w", err)
	}
	switch s {
	case "COMPLETED":
		return "completed before the kill, poll cut off", nil
	case "FAILED":
		return "", fmt.Errorf("FAILED before its expiry")
	}
	// IN_PROGRESS: finish it on a survivor, as far as its stage allows.
	complete := func() error {
		_, err := f.alive(rec.c).dp.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{
			SessionUri: aws.String(rec.uri), UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: rec.user},
		})
		return err
	}
	how := ""
	if err := complete(); err == nil { // the token waited for binding
		how = "bound on a survivor"
	} else if isInternal(err) {
		return "", err
	} else {
		switch stage {
		case "started", "authorize": // the browser may not have reached Behalf
			if err := f.browse(ctx, rec, rec.authURL); err == nil {
				how = "browser sent again"
			}
		case "authorized": // the provider's redirect back was cut off
			if !abandoned && callbackURL != "" && f.browse(ctx, rec, callbackURL) == nil {
				how = "callback sent again"
			}
		}
	}
	if s, err = status(); err != nil {
		return "", fmt.Errorf("poll after finishing: %w", err)
	}
	switch s {
	case "COMPLETED":
		if how == "" {
			how = "completed"
		}
		return how, nil
	case "FAILED": // e.g. a code the dead replica had redeemed: ended, not stuck
		return "FAILED when sent again (" + stage + ")", nil
	}
	// Cut off where only expiry ends it (the authorize link used, or the
	// code exchanged by the replica that died): bring expiry forward.
	var created, expires int64
	id := strings.TrimPrefix(rec.uri, behalf.SessionURIPrefix)
	if err := db.QueryRowContext(ctx, "SELECT created_at, expires_at FROM auth_sessions WHERE id = $1", id).Scan(&created, &expires); err != nil {
		return "", fmt.Errorf("read session: %w", err)
	}
	if life := time.Duration(expires-created) * time.Microsecond; life > identity.SessionLifetime {
		return "", fmt.Errorf("session expires %v after its start, more than SessionLifetime", life)
	}
	if _, err := db.ExecContext(ctx, "UPDATE auth_sessions SET expires_at = $1 WHERE id = $2", time.Now().Add(-time.Second).UnixMicro(), id); err != nil {
		return "", err
	}
	if s, err = status(); err != nil {
		return "", fmt.Errorf("poll after expiry: %w", err)
	}
	if s != "FAILED" {
		return "", fmt.Errorf("after expiry the poll answers %s, want FAILED", s)
	}
	// Not stuck for the user either: a new consent works.
	if err := f.consent(ctx, rec.user+"-again", rec.a); err != nil {
		return "", fmt.Errorf("new consent after the expired one: %w", err)
	}
	return "expired, FAILED (" + stage + ")", nil
}

// verifyGrants checks every committed user gets a token from each
// survivor, and the provider accepts it.
func (f *replicaFixture) verifyGrants(t *testing.T) {
	t.Helper()
	users := f.committedUsers()
	sem := make(chan struct{}, 6)
	var wg sync.WaitGroup
	var checked atomic.Int64
	for _, u := range users {
		for _, r := range f.replicas {
			if r.dying.Load() {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				if err := f.expectToken(ctx, r, u); err != nil {
					f.fail("grant of %s on replica %d: %v", u, r.idx, err)
				}
				checked.Add(1)
			}()
		}
	}
	wg.Wait()
	t.Logf("no grant lost: %d users' grants open on both survivors (%d checks)", len(users), checked.Load())
}

func (f *replicaFixture) expectToken(ctx context.Context, r *replica, user string) error {
	wat, err := f.wat(ctx, user, r.idx)
	if err != nil {
		return err
	}
	out, err := r.dp.GetResourceOauth2Token(ctx, f.request(wat, ""))
	if err != nil {
		return err
	}
	tok := aws.ToString(out.AccessToken)
	if tok == "" {
		return fmt.Errorf("sent to consent (%s) although bound", out.SessionStatus)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.google.URL+fakeprovider.DriveFilesPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the provider refused the token: %s", resp.Status)
	}
	return nil
}

// checkRefreshes checks the provider's ledger: each refresh token used at
// most once per refreshWindow, counted from its issue, and never refused.
func (f *replicaFixture) checkRefreshes(t *testing.T) {
	t.Helper()
	l := f.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.refused) > 0 {
		t.Errorf("the provider refused %d refreshes: %v", len(l.refused), l.refused)
	}
	total, grants, most := 0, 0, 0
	var doubles []string
	for rt, times := range l.refreshes {
		issued, ok := l.issued[rt]
		if !ok {
			t.Errorf("refresh with a refresh token the provider never issued")
			continue
		}
		times = slices.Clone(times)
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		prev := issued
		for i, at := range times {
			if gap := at.Sub(prev); gap < refreshWindow-replicaClockSlack {
				doubles = append(doubles, fmt.Sprintf("refresh %d of a grant %v after the previous token was issued (window %v)", i+1, gap.Round(time.Millisecond), refreshWindow))
			}
			prev = at
		}
		total += len(times)
		grants++
		most = max(most, len(times))
	}
	if len(doubles) > 0 {
		t.Errorf("%d refreshes done twice in one expiry window:\n%s", len(doubles), strings.Join(doubles, "\n"))
	}
	if grants < 9 {
		t.Errorf("only %d grants were refreshed; the seed grants alone should all have been", grants)
	}
	if len(doubles) == 0 {
		t.Logf("no refresh done twice: %d refreshes of %d grants (at most %d for one), each ≥ %v after the last", total, grants, most, refreshWindow-replicaClockSlack)
	}
}

// checkDatabase checks what the replicas left in PostgreSQL: every
// completed session's grant exists, every grant has a sealed token, and no
// refresh lease outlasts RefreshLease.
func (f *replicaFixture) checkDatabase(t *testing.T) {
	t.Helper()
	db, err := sql.Open("pgx", f.database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var orphans, empty, grants, leases int
	if err := db.QueryRow(`SELECT count(*) FROM auth_sessions s WHERE s.status = 'COMPLETED'
		AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.id = s.grant_id)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(*), count(*) FILTER (WHERE length(token) = 0) FROM grants").Scan(&grants, &empty); err != nil {
		t.Fatal(err)
	}
	limit := time.Now().Add(identity.RefreshLease).UnixMicro()
	if err := db.QueryRow("SELECT count(*) FROM grants WHERE refresh_lease > $1", limit).Scan(&leases); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 || empty != 0 || leases != 0 {
		t.Errorf("database: %d completed sessions without their grant, %d grants without a token, %d leases longer than RefreshLease", orphans, empty, leases)
	}
	if n := len(f.committedUsers()); grants < n {
		t.Errorf("database holds %d grants for %d users with a grant", grants, n)
	}
}

// checkProviderDeletion deletes the provider on one survivor and measures
// how long the other still serves tokens for it: at most ConfigCacheTTL
// (plus a request's time).
func (f *replicaFixture) checkProviderDeletion(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var survivors []*replica
	for _, r := range f.replicas {
		if !r.dying.Load() {
			survivors = append(survivors, r)
		}
	}
	deleter, other := survivors[0], survivors[1]
	user := f.committedUsers()[0]
	wat, err := f.wat(ctx, user, other.idx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.dp.GetResourceOauth2Token(ctx, f.request(wat, "")); err != nil {
		t.Fatal(err) // the provider is in other's cache now
	}
	if _, err := deleter.ctl.DeleteOauth2CredentialProvider(ctx, &ctl.DeleteOauth2CredentialProviderInput{Name: aws.String("google-drive-provider")}); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	bound := identity.ConfigCacheTTL + time.Second
	for {
		asked := time.Now()
		out, err := other.dp.GetResourceOauth2Token(ctx, f.request(wat, ""))
		if err != nil {
			var notFound *dptypes.ResourceNotFoundException
			var denied *dptypes.AccessDeniedException
			var invalid *dptypes.ValidationException
			if !errors.As(err, &notFound) && !errors.As(err, &denied) && !errors.As(err, &invalid) {
				t.Fatalf("after the provider's deletion replica %d answers %v", other.idx, err)
			}
			break
		}
		if out.AccessToken == nil {
			break
		}
		if stale := asked.Sub(deleted); stale > bound {
			t.Fatalf("replica %d still serves tokens of a provider deleted on replica %d %v before (bound %v)", other.idx, deleter.idx, stale.Round(time.Millisecond), identity.ConfigCacheTTL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("a provider deleted on replica %d is refused by replica %d after %v (documented bound %v)",
		deleter.idx, other.idx, time.Since(deleted).Round(time.Millisecond), identity.ConfigCacheTTL)
}
