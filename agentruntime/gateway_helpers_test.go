package agentruntime

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/sigv4"
)

// Test fixtures of the gateway: an OpenID provider, an agent, fake
// runtimes and a counting WAT minter, wired to a Gateway on a ServeMux.

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
)

// testIdP is an OpenID provider: discovery document, JWKS, RS256 tokens.
type testIdP struct {
	srv       *httptest.Server
	key       jwk.Key
	discovery atomic.Int64
	down      atomic.Bool
}

var (
	rsaOnce sync.Once
	rsaKeys [2]*rsa.PrivateKey
)

func testRSA(i int) *rsa.PrivateKey {
	rsaOnce.Do(func() {
		for i := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[i] = k
		}
	})
	return rsaKeys[i]
}

func privateJWK(t testing.TB, raw *rsa.PrivateKey, kid string) jwk.Key {
	t.Helper()
	k, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Set(jwk.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	return k
}

func newTestIdP(t testing.TB) *testIdP {
	t.Helper()
	p := &testIdP{key: privateJWK(t, testRSA(0), "k1")}
	pub, err := jwk.PublicKeyOf(p.key)
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	set.AddKey(pub)
	jwks, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.discovery.Add(1)
		if p.down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) })
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *testIdP) discoveryURL() string { return p.srv.URL + "/.well-known/openid-configuration" }

// claims returns a valid access token's claims; tests change them.
func (p *testIdP) claims(now time.Time) map[string]any {
	return map[string]any{
		"iss": p.srv.URL, "sub": "user-1", "client_id": "app-client", "aud": []string{"agents"},
		"scope": "openid agent:invoke", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"groups": []string{"staff", "beta"}, "tenant": "acme",
	}
}

func signToken(t testing.TB, key jwk.Key, claims map[string]any) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		if v == nil {
			continue
		}
		if err := tok.Set(k, v); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), key))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (p *testIdP) token(t testing.TB, claims map[string]any) string {
	return signToken(t, p.key, claims)
}

// testAgent is an agent: it records what it receives and answers with
// handle (default: echo the body as JSON).
type testAgent struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []*recorded
	handle http.HandlerFunc
}

type recorded struct {
	path   string
	header http.Header
	body   []byte
}

func newTestAgent(t testing.TB) *testAgent {
	a := &testAgent{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		h := a.handle
		a.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		a.record(r, body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, `{"echo":%q}`, body)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *testAgent) setHandler(h http.HandlerFunc) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.handle = h
}

func (a *testAgent) record(r *http.Request, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, &recorded{path: r.URL.Path, header: r.Header.Clone(), body: body})
}

func (a *testAgent) last(t testing.TB) *recorded {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.got) == 0 {
		t.Fatal("the agent received nothing")
	}
	return a.got[len(a.got)-1]
}

func (a *testAgent) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.got)
}

// fakeRuntimes is a RuntimeGetter over a map.
type fakeRuntimes struct {
	mu   sync.Mutex
	m    map[string]*behalf.AgentRuntime
	gets atomic.Int64
}

func (f *fakeRuntimes) GetAgentRuntime(ctx context.Context, id string) (*behalf.AgentRuntime, error) {
	f.gets.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if rt, ok := f.m[id]; ok {
		return rt, nil
	}
	return nil, behalf.Errorf(behalf.ENOTFOUND, "no runtime %s", id)
}

func (f *fakeRuntimes) put(rt *behalf.AgentRuntime) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*behalf.AgentRuntime{}
	}
	f.m[rt.ID] = rt
}

// countingMinter mints fake WATs naming workload and user, and counts.
type countingMinter struct {
	n   atomic.Int64
	now func() time.Time
	// issued is the userIssued of the last mint.
	issued atomic.Pointer[time.Time]
}

func (m *countingMinter) MintForRuntime(ctx context.Context, workload string, user behalf.User, _ behalf.Secret, userExpiry, userIssued time.Time) (behalf.Secret, time.Time, error) {
	if workload == "gone-workload" {
		return "", time.Time{}, behalf.Errorf(behalf.ENOTFOUND, "no workload")
	}
	m.issued.Store(&userIssued)
	n := m.n.Add(1)
	exp := m.now().Add(time.Hour)
	if !userExpiry.IsZero() && userExpiry.Before(exp) {
		exp = userExpiry
	}
	return behalf.Secret(fmt.Sprintf("wat-%d|%s|%s|%s", n, workload, user.Issuer, user.Subject)), exp, nil
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Access keys of the SigV4 tests.
var testKeys = map[string]struct{ secret, principal string }{
	"AKROOT":   {"root-secret", "root"},
	"AKSCOPED": {"scoped-secret", "workload/sigv4_agent-wl"},
	"AKOTHER":  {"other-secret", "workload/someone-else"},
}

// gatewayHarness is a Gateway mounted as the API server mounts it, in
// front of one agent, with a JWT runtime and a SigV4 runtime.
type gatewayHarness struct {
	t        testing.TB
	gw       *Gateway
	srv      *httptest.Server
	agent    *testAgent
	idp      *testIdP
	runtimes *fakeRuntimes
	minter   *countingMinter
	clock    *testClock
	jwtRT    *behalf.AgentRuntime
	sigRT    *behalf.AgentRuntime
}

func newHarness(t testing.TB, tweak ...func(*Gateway, *httptest.Server)) *gatewayHarness {
	t.Helper()
	h := &gatewayHarness{t: t, agent: newTestAgent(t), idp: newTestIdP(t), runtimes: &fakeRuntimes{}, clock: &testClock{t: time.Now()}}
	h.minter = &countingMinter{now: h.clock.Now}
	h.jwtRT = &behalf.AgentRuntime{
		ID: "jwt_agent-AbCdEf1234", Name: "jwt_agent", ContainerURI: h.agent.srv.URL, Protocol: behalf.ProtocolHTTP,
		Authorizer: &behalf.JWTAuthorizer{
			DiscoveryURL: h.idp.discoveryURL(), AllowedClients: []string{"app-client"},
		},
		HeaderAllowlist: []string{"Authorization", "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant", "X-Team"},
		Workload:        "jwt_agent-wl", CallbackURL: "https://app.example/oauth2/callback", Status: behalf.RuntimeReady,
	}
	h.sigRT = &behalf.AgentRuntime{
		ID: "sigv4_agent-AbCdEf1234", Name: "sigv4_agent", ContainerURI: h.agent.srv.URL + "/", Protocol: behalf.ProtocolHTTP,
		HeaderAllowlist: []string{"Authorization", "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant"},
		Workload:        "sigv4_agent-wl", Status: behalf.RuntimeReady,
	}
	h.runtimes.put(h.jwtRT)
	h.runtimes.put(h.sigRT)
	h.gw = &Gateway{
		Runtimes: h.runtimes, WATs: h.minter,
		SigV4: &sigv4.Verifier{Services: []string{"bedrock-agentcore"}, Lookup: func(ctx context.Context, id string) (behalf.Secret, string, error) {
			k, ok := testKeys[id]
			if !ok {
				return "", "", behalf.Errorf(behalf.ENOTFOUND, "no key")
			}
			return behalf.Secret(k.secret), k.principal, nil
		}},
		HTTPClient:   safehttp.NewClient(safehttp.Options{AllowPrivate: true}),
		AllowPrivate: true, // the agent is on loopback
		Region:       testRegion, Account: testAccount, Now: h.clock.Now,
	}
	mux := http.NewServeMux()
	mux.Handle("POST /runtimes/{runtime}/invocations", h.gw)
	h.srv = httptest.NewUnstartedServer(mux)
	for _, f := range tweak {
		f(h.gw, h.srv)
	}
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	return h
}

// arn returns a runtime's ARN.
func arn(rt *behalf.AgentRuntime) string {
	return behalf.AgentRuntimeARN(testRegion, testAccount, rt.ID)
}

// invokeURL is the InvokeAgentRuntime URL for an ARN or id, encoded as the
// SDKs encode it (every reserved character, ':' and '/' included).
func invokeURL(base, ident string) string {
	return base + "/runtimes/" + strings.ReplaceAll(url.QueryEscape(ident), "+", "%20") + "/invocations?qualifier=DEFAULT"
}

// request builds an invocation with a JSON body.
func (h *gatewayHarness) request(rt *behalf.AgentRuntime, body string) *http.Request {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, invokeURL(h.srv.URL, arn(rt)), strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

func (h *gatewayHarness) bearerRequest(token, body string) *http.Request {
	req := h.request(h.jwtRT, body)
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// signV4 signs req (whose body is body) with an access key.
func signV4(t testing.TB, req *http.Request, body, keyID string) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	k := testKeys[keyID]
	if k.secret == "" {
		k.secret = "unknown"
	}
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: k.secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "bedrock-agentcore", testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func (h *gatewayHarness) sigv4Request(keyID, body string) *http.Request {
	req := h.request(h.sigRT, body)
	signV4(h.t, req, body, keyID)
	return req
}

// do sends req and returns the response with its body read.
func do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// wantError checks an AgentCore restJson1 error and returns its message.
func wantError(t testing.TB, resp *http.Response, body []byte, status int, typ string) string {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d %s, want %d %s", resp.StatusCode, body, status, typ)
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if e.Type != typ || resp.Header.Get("X-Amzn-ErrorType") != typ {
		t.Fatalf("__type %q, X-Amzn-ErrorType %q, want %s (%s)", e.Type, resp.Header.Get("X-Amzn-ErrorType"), typ, e.Message)
	}
	if e.Message == "" || strings.Contains(e.Message, "behalf error") {
		t.Fatalf("message %q", e.Message)
	}
	return e.Message
}

// Ensure validSessionID accepts exactly what sessionIDPattern matches.
func TestValidSessionID(t *testing.T) {
	ids := []string{"", "a", strings.Repeat("a", 32), strings.Repeat("a", 33), strings.Repeat("a", 256), strings.Repeat("a", 257),
		"." + strings.Repeat("a", 32), "-" + strings.Repeat("a", 32), "0" + strings.Repeat(".:_-", 8), "Z" + strings.Repeat("a", 31) + "/",
		"a" + strings.Repeat("é", 20), "a" + strings.Repeat("b", 31) + "\n", "a" + strings.Repeat(" ", 32)}
	rng := mrand.New(mrand.NewPCG(3, 4))
	const alphabet = "aZ09._:-/ é\x00\n"
	for range 5000 {
		b := make([]byte, 30+rng.IntN(8))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		ids = append(ids, string(b))
	}
	for _, id := range ids {
		if got, want := validSessionID(id), sessionIDPattern.MatchString(id); got != want {
			t.Errorf("validSessionID(%q) = %v, the pattern says %v", id, got, want)
		}
	}
}
