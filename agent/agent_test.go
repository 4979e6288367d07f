package agent_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/behalf-dev/behalf/agent"
)

const (
	sessionURI = "urn:ietf:params:oauth:request_uri:abc123"
	authURL    = "https://identity.example/identities/oauth2/authorize?request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc123"
)

// fakeDP stands in for the data plane: it records each request body and
// answers with the reply function of its operation.
type fakeDP struct {
	t   *testing.T
	url string

	mu    sync.Mutex
	calls map[string][]map[string]any
	reply map[string]func(n int, body map[string]any) (status int, errType string, resp any)
}

func newFakeDP(t *testing.T) *fakeDP {
	f := &fakeDP{t: t, calls: map[string][]map[string]any{}, reply: map[string]func(int, map[string]any) (int, string, any){}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fakeDP) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		f.t.Errorf("%s: request not signed", r.URL.Path)
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("%s: body: %v", r.URL.Path, err)
	}
	f.mu.Lock()
	f.calls[r.URL.Path] = append(f.calls[r.URL.Path], body)
	n := len(f.calls[r.URL.Path])
	fn := f.reply[r.URL.Path]
	f.mu.Unlock()
	if fn == nil {
		f.t.Errorf("unexpected call %s", r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	status, errType, resp := fn(n, body)
	w.Header().Set("Content-Type", "application/json")
	if errType != "" {
		w.Header().Set("X-Amzn-ErrorType", errType)
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(resp)
}

func (f *fakeDP) on(path string, fn func(n int, body map[string]any) (int, string, any)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reply[path] = fn
}

func (f *fakeDP) requests(path string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.calls[path]...)
}

func (f *fakeDP) client() *agent.Client {
	return agent.NewClient(dp.New(dp.Options{
		BaseEndpoint: aws.String(f.url), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}))
}

const tokenPath = "/identities/oauth2/token"

func ok(v any) (int, string, any) { return http.StatusOK, "", v }

func inProgress() (int, string, any) {
	return ok(map[string]any{"authorizationUrl": authURL, "sessionUri": sessionURI, "sessionStatus": "IN_PROGRESS"})
}

func noDocker(t *testing.T) { t.Setenv("DOCKER_CONTAINER", "") }

// watCtx is a context as an App builds it for an invocation.
func watCtx(f *fakeDP) context.Context {
	ctx := agent.WithWorkloadAccessToken(context.Background(), "wat-1")
	ctx = agent.WithCallbackURL(ctx, "https://app.example/callback")
	return agent.WithClient(ctx, f.client())
}

func postJSON(t *testing.T, url, body string, headers map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("response %d %q is not a JSON object: %v", resp.StatusCode, b, err)
	}
	return resp, out
}

// Ensure an invocation's context carries what the runtime sent in headers:
// the WAT (new header preferred, legacy accepted), session and request
// ids, the callback URL and only the allowlisted headers.
func TestInvocationContext(t *testing.T) {
	app := agent.NewApp(func(ctx context.Context, payload json.RawMessage) (any, error) {
		return map[string]any{
			"wat": agent.WorkloadAccessToken(ctx), "session": agent.SessionID(ctx), "request": agent.RequestID(ctx),
			"callback": agent.CallbackURL(ctx), "headers": agent.RequestHeaders(ctx), "payload": payload,
		}, nil
	})
	srv := httptest.NewServer(app)
	defer srv.Close()

	resp, out := postJSON(t, srv.URL+"/invocations", `{"prompt":"hi"}`, map[string]string{
		"X-Amz-Bedrock-AgentCore-Identity-WAT":              "new-wat",
		"WorkloadAccessToken":                               "legacy-wat",
		"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id":       "sess-1",
		"X-Amzn-Bedrock-AgentCore-Runtime-Request-Id":       "req-1",
		"OAuth2CallbackUrl":                                 "https://app.example/callback",
		"Authorization":                                     "Bearer user-jwt",
		"X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant":    "acme",
		"X-Amzn-Bedrock-AgentCore-Runtime-Something-Secret": "no",
		"X-Other": "no",
	})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if out["wat"] != "new-wat" || out["session"] != "sess-1" || out["request"] != "req-1" || out["callback"] != "https://app.example/callback" {
		t.Fatalf("context = %v", out)
	}
	if p, _ := out["payload"].(map[string]any); p["prompt"] != "hi" {
		t.Fatalf("payload = %v", out["payload"])
	}
	h, _ := out["headers"].(map[string]any)
	if len(h) != 2 || h["Authorization"] == nil || h["X-Amzn-Bedrock-Agentcore-Runtime-Custom-Tenant"] == nil {
		t.Fatalf("forwarded headers = %v", h)
	}
	if resp.Header.Get("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id") != "sess-1" {
		t.Fatalf("session id not echoed")
	}

	_, out = postJSON(t, srv.URL+"/invocations", `{}`, map[string]string{"WorkloadAccessToken": "legacy-wat"})
	if out["wat"] != "legacy-wat" || out["session"] != "" {
		t.Fatalf("legacy header: %v", out)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(out["request"].(string)) {
		t.Fatalf("generated request id %v", out["request"])
	}
}

// Ensure /ping reports Healthy, HealthyBusy while a task runs, and when
// the status last changed.
func TestPing(t *testing.T) {
	app := agent.NewApp(nil)
	srv := httptest.NewServer(app)
	defer srv.Close()
	ping := func() (string, float64) {
		resp, err := http.Get(srv.URL + "/ping")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("ping: %d %v", resp.StatusCode, err)
		}
		ts, ok := out["time_of_last_update"].(float64)
		if !ok || ts != float64(int64(ts)) || len(out) != 2 {
			t.Fatalf("ping body %v", out)
		}
		return out["status"].(string), ts
	}
	before := time.Now().Unix()
	if s, ts := ping(); s != "Healthy" || int64(ts) < before || int64(ts) > time.Now().Unix() {
		t.Fatalf("ping = %s %v", s, ts)
	}
	done := app.StartTask()
	if s, _ := ping(); s != "HealthyBusy" {
		t.Fatalf("busy ping = %s", s)
	}
	done()
	done()
	if s, _ := ping(); s != "Healthy" {
		t.Fatalf("ping after task = %s", s)
	}
	resp, _ := http.Post(srv.URL+"/ping", "application/json", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /ping = %d", resp.StatusCode)
	}
}

// Ensure malformed JSON is answered 400 Invalid JSON with details, a
// handler error 500 with its message, and unknown paths 404.
func TestInvocationErrors(t *testing.T) {
	type in struct {
		Prompt string `json:"prompt"`
	}
	app := agent.NewApp(agent.Typed(func(ctx context.Context, p in) (any, error) {
		if p.Prompt == "fail" {
			return nil, errors.New("model exploded")
		}
		return map[string]string{"echo": p.Prompt}, nil
	}))
	srv := httptest.NewServer(app)
	defer srv.Close()
	for _, body := range []string{`{"prompt":`, ``, `{"prompt": 42}`} {
		resp, out := postJSON(t, srv.URL+"/invocations", body, nil)
		if resp.StatusCode != 400 || out["error"] != "Invalid JSON" || out["details"] == "" || out["details"] == nil {
			t.Errorf("body %q: %d %v", body, resp.StatusCode, out)
		}
	}
	resp, out := postJSON(t, srv.URL+"/invocations", `{"prompt":"fail"}`, nil)
	if resp.StatusCode != 500 || out["error"] != "model exploded" || len(out) != 1 {
		t.Errorf("handler error: %d %v", resp.StatusCode, out)
	}
	resp, out = postJSON(t, srv.URL+"/invocations", `{"prompt":"yo"}`, nil)
	if resp.StatusCode != 200 || out["echo"] != "yo" {
		t.Errorf("typed: %d %v", resp.StatusCode, out)
	}
	resp, _ = postJSON(t, srv.URL+"/nope", `{}`, nil)
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
	r, _ := http.Get(srv.URL + "/invocations")
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /invocations: %d", r.StatusCode)
	}
}

// Ensure a streamed result reaches the client frame by frame: the first
// frame is read before the handler writes the second, and a stream error
// ends with an error frame.
func TestStreamingFlushesEachFrame(t *testing.T) {
	proceed := make(chan struct{})
	app := agent.NewApp(func(ctx context.Context, _ json.RawMessage) (any, error) {
		return agent.Stream(func(send func(any) error) error {
			if err := send(map[string]any{"n": 1}); err != nil {
				return err
			}
			select {
			case <-proceed:
			case <-time.After(10 * time.Second):
				return errors.New("the client never read the first frame")
			}
			if err := send("two"); err != nil {
				return err
			}
			return errors.New("stream broke")
		}), nil
	})
	srv := httptest.NewServer(app)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/invocations", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	rd := bufio.NewReader(resp.Body)
	frame := func() string {
		t.Helper()
		got := make(chan string, 1)
		go func() {
			var sb strings.Builder
			for {
				line, err := rd.ReadString('\n')
				sb.WriteString(line)
				if err != nil || line == "\n" {
					got <- sb.String()
					return
				}
			}
		}()
		select {
		case s := <-got:
			return s
		case <-time.After(5 * time.Second):
			t.Fatal("no frame within 5s: not flushed")
			return ""
		}
	}
	if f := frame(); f != "data: {\"n\":1}\n\n" {
		t.Fatalf("first frame %q", f)
	}
	close(proceed)
	if f := frame(); f != "data: \"two\"\n\n" {
		t.Fatalf("second frame %q", f)
	}
	f := frame()
	var last map[string]any
	if !strings.HasPrefix(f, "data: ") || json.Unmarshal([]byte(strings.TrimPrefix(f, "data: ")), &last) != nil ||
		last["error"] != "stream broke" || last["message"] != "An error occurred during streaming" || last["error_type"] == "" {
		t.Fatalf("error frame %q", f)
	}
	if rest, _ := io.ReadAll(rd); len(rest) != 0 {
		t.Fatalf("trailing %q", rest)
	}
}

// Ensure a vaulted token is returned at once, and that the request is
// built from the invocation: WAT, callback URL, and every option.
func TestAccessTokenImmediate(t *testing.T) {
	noDocker(t)
	f := newFakeDP(t)
	f.on(tokenPath, func(int, map[string]any) (int, string, any) { return ok(map[string]any{"accessToken": "ya29.token"}) })
	app := agent.NewApp(func(ctx context.Context, _ json.RawMessage) (any, error) {
		tok, err := agent.AccessToken(ctx, agent.TokenRequest{
			Provider: "google", Scopes: []string{"s1", "s2"}, ForceAuthentication: true, CustomState: "cs",
			CustomParameters: map[string]string{"access_type": "offline"}, Resources: []string{"r"}, Audiences: []string{"a"},
		})
		return map[string]string{"token": tok}, err
	})
	app.Client = f.client()
	srv := httptest.NewServer(app)
	defer srv.Close()
	resp, out := postJSON(t, srv.URL+"/invocations", `{}`, map[string]string{
		"X-Amz-Bedrock-AgentCore-Identity-WAT": "wat-1", "OAuth2CallbackUrl": "https://app.example/callback",
	})
	if resp.StatusCode != 200 || out["token"] != "ya29.token" {
		t.Fatalf("invocation: %d %v", resp.StatusCode, out)
	}
	reqs := f.requests(tokenPath)
	if len(reqs) != 1 {
		t.Fatalf("%d calls", len(reqs))
	}
	want := `{"audiences":["a"],"customParameters":{"access_type":"offline"},"customState":"cs","forceAuthentication":true,"oauth2Flow":"USER_FEDERATION","resourceCredentialProviderName":"google","resourceOauth2ReturnUrl":"https://app.example/callback","resources":["r"],"scopes":["s1","s2"],"workloadIdentityToken":"wat-1"}`
	if got, _ := json.Marshal(reqs[0]); string(got) != want {
		t.Fatalf("request\n got %s\nwant %s", got, want)
	}

	// M2M: no callback URL by default, scopes [] when nil.
	if _, err := agent.AccessToken(watCtx(f), agent.TokenRequest{Provider: "m2m", Flow: agent.FlowM2M}); err != nil {
		t.Fatal(err)
	}
	want = `{"oauth2Flow":"M2M","resourceCredentialProviderName":"m2m","scopes":[],"workloadIdentityToken":"wat-1"}`
	if got, _ := json.Marshal(f.requests(tokenPath)[1]); string(got) != want {
		t.Fatalf("M2M request\n got %s\nwant %s", got, want)
	}
}

// Ensure that when consent is needed, OnAuthURL is called once with the
// URL, then the session is polled (with sessionUri, never forcing) until
// the token arrives.
func TestAccessTokenPollsUntilToken(t *testing.T) {
	noDocker(t)
	f := newFakeDP(t)
	f.on(tokenPath, func(n int, _ map[string]any) (int, string, any) {
		if n < 4 {
			return inProgress()
		}
		return ok(map[string]any{"accessToken": "ya29.after-consent"})
	})
	var urls []string
	tok, err := agent.AccessToken(watCtx(f), agent.TokenRequest{
		Provider: "google", Scopes: []string{"s"}, ForceAuthentication: true, PollInterval: 5 * time.Millisecond,
		OnAuthURL: func(_ context.Context, u string) error {
			if n := len(f.requests(tokenPath)); n != 1 {
				t.Errorf("OnAuthURL called after %d calls, want 1", n)
			}
			urls = append(urls, u)
			return nil
		},
	})
	if err != nil || tok != "ya29.after-consent" {
		t.Fatalf("AccessToken = %q, %v", tok, err)
	}
	if len(urls) != 1 || urls[0] != authURL {
		t.Fatalf("OnAuthURL calls %v", urls)
	}
	reqs := f.requests(tokenPath)
	if len(reqs) != 4 {
		t.Fatalf("%d calls, want 4", len(reqs))
	}
	if reqs[0]["sessionUri"] != nil || reqs[0]["forceAuthentication"] != true {
		t.Fatalf("first call %v", reqs[0])
	}
	for _, r := range reqs[1:] {
		if r["sessionUri"] != sessionURI || r["forceAuthentication"] != false || r["resourceOauth2ReturnUrl"] != "https://app.example/callback" || r["workloadIdentityToken"] != "wat-1" {
			t.Fatalf("poll %v", r)
		}
	}
}

// Ensure an OnAuthURL error stops the flow before polling.
func TestAccessTokenOnAuthURLError(t *testing.T) {
	noDocker(t)
	f := newFakeDP(t)
	f.on(tokenPath, func(int, map[string]any) (int, string, any) { return inProgress() })
	boom := errors.New("cannot reach the user")
	_, err := agent.AccessToken(watCtx(f), agent.TokenRequest{Provider: "google", PollInterval: time.Millisecond,
		OnAuthURL: func(context.Context, string) error { return boom }})
	if !errors.Is(err, boom) || len(f.requests(tokenPath)) != 1 {
		t.Fatalf("err %v after %d calls", err, len(f.requests(tokenPath)))
	}
}

// Ensure a FAILED session stops polling with ErrAuthorizationFailed.
func TestAccessTokenFailedSession(t *testing.T) {
	noDocker(t)
	f := newFakeDP(t)
	f.on(tokenPath, func(n int, _ map[string]any) (int, string, any) {
		if n < 3 {
			return inProgress()
		}
		return ok(map[string]any{"sessionUri": sessionURI, "sessionStatus": "FAILED"})
	})
	_, err := agent.AccessToken(watCtx(f), agent.TokenRequest{Provider: "google", PollInterval: time.Millisecond})
	if !errors.Is(err, agent.ErrAuthorizationFailed) {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.requests(tokenPath)); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
}

// Ensure polling ends with ErrAuthorizationTimeout after PollTimeout.
func TestAccessTokenPollTimeout(t *testing.T) {
	noDocker(t)
	f := newFakeDP(t)
	f.on(tokenPath, func(int, map[string]any) (int, string, any) { return inProgress() })
	start := time.Now()
	_, err := agent.AccessToken(watCtx(f), agent.TokenRequest{Provider: "google", PollInterval: 10 * time.Millisecond, PollTimeout: 80 * time.Millisecond})
	if !errors.Is(err, agent.ErrAuthorizationTimeout) || !strings.Contains(err.Error(), "User may not have completed authorization") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d < 80*time.Millisecond || d > 5*time.Second {
		t.Fatalf("timed out after %v", d)
	}
	if n := len(f.requests(tokenPath)); n < 3 {
		t.Fatalf("only %d calls", n)
	}
}

// Ensure cancelling the context stops polling.
func TestAccessTokenContextCancel(t *testing.T) {
	noDocker(t)
	f := newFakeDP(t)
	ctx, cancel := context.WithCancel(watCtx(f))
	defer cancel()
	f.on(tokenPath, func(n int, _ map[string]any) (int, string, any) {
		if n == 3 {
			cancel()
		}
		return inProgress()
	})
	done := make(chan error, 1)
	go func() {
		_, err := agent.AccessToken(ctx, agent.TokenRequest{Provider: "google", PollInterval: 5 * time.Millisecond})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("AccessToken did not return after cancel")
	}
	if n := len(f.requests(tokenPath)); n > 4 {
		t.Fatalf("%d calls after cancel", n)
	}
}

// Ensure ReturnAuthURL answers with *AuthRequiredError at once, and that
// SessionURI resumes the session.
func TestAccessTokenReturnAuthURL(t *testing.T) {
	noDocker(t)
	f := newFakeDP(t)
	f.on(tokenPath, func(int, map[string]any) (int, string, any) { return inProgress() })
	_, err := agent.AccessToken(watCtx(f), agent.TokenRequest{Provider: "google", ReturnAuthURL: true,
		OnAuthURL: func(context.Context, string) error { t.Error("OnAuthURL called"); return nil }})
	are, ok := errors.AsType[*agent.AuthRequiredError](err)
	if !ok || are.URL != authURL || are.SessionURI != sessionURI {
		t.Fatalf("err = %#v", err)
	}
	if strings.Contains(err.Error(), "request_uri") {
		t.Fatalf("error text leaks the URL: %v", err)
	}
	if n := len(f.requests(tokenPath)); n != 1 {
		t.Fatalf("%d calls", n)
	}
	agent.AccessToken(watCtx(f), agent.TokenRequest{Provider: "google", ReturnAuthURL: true, SessionURI: are.SessionURI})
	if r := f.requests(tokenPath)[1]; r["sessionUri"] != sessionURI {
		t.Fatalf("resume request %v", r)
	}
}

// Ensure APIKey calls GetResourceApiKey with the WAT.
func TestAPIKey(t *testing.T) {
	noDocker(t)
	f := newFakeDP(t)
	f.on("/identities/api-key", func(int, map[string]any) (int, string, any) { return ok(map[string]any{"apiKey": "sk-1"}) })
	key, err := agent.APIKey(watCtx(f), "openai")
	if err != nil || key != "sk-1" {
		t.Fatalf("APIKey = %q, %v", key, err)
	}
	if r := f.requests("/identities/api-key")[0]; r["workloadIdentityToken"] != "wat-1" || r["resourceCredentialProviderName"] != "openai" {
		t.Fatalf("request %v", r)
	}
}

// Ensure that without a WAT the SDK mints one from .agentcore.json, says
// how to create the file when it is missing, and in a container asks for
// the user-id header instead.
func TestLocalDevelopmentFallback(t *testing.T) {
	noDocker(t)
	f := newFakeDP(t)
	f.on("/identities/GetWorkloadAccessTokenForUserId", func(int, map[string]any) (int, string, any) {
		return ok(map[string]any{"workloadAccessToken": "local-wat"})
	})
	f.on(tokenPath, func(int, map[string]any) (int, string, any) { return ok(map[string]any{"accessToken": "tok"}) })
	dir := t.TempDir()
	c := f.client()
	c.LocalConfigPath = filepath.Join(dir, ".agentcore.json")
	ctx := agent.WithClient(context.Background(), c)

	_, err := agent.AccessToken(ctx, agent.TokenRequest{Provider: "google"})
	if !errors.Is(err, agent.ErrNoWorkloadAccessToken) || !strings.Contains(err.Error(), c.LocalConfigPath) ||
		!strings.Contains(err.Error(), `"workload_identity_name"`) || !strings.Contains(err.Error(), `"user_id"`) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := os.Stat(c.LocalConfigPath); err == nil {
		t.Fatal("the SDK created the file")
	}

	os.WriteFile(c.LocalConfigPath, []byte(`{"workload_identity_name":"my-agent","user_id":"dev-user"}`), 0o600)
	tok, err := agent.AccessToken(ctx, agent.TokenRequest{Provider: "google"})
	if err != nil || tok != "tok" {
		t.Fatalf("AccessToken = %q, %v", tok, err)
	}
	if r := f.requests("/identities/GetWorkloadAccessTokenForUserId")[0]; r["workloadName"] != "my-agent" || r["userId"] != "dev-user" {
		t.Fatalf("mint request %v", r)
	}
	if r := f.requests(tokenPath)[0]; r["workloadIdentityToken"] != "local-wat" {
		t.Fatalf("token request %v", r)
	}

	os.WriteFile(c.LocalConfigPath, []byte(`{"workload_identity_name":"my-agent"}`), 0o600)
	if _, err := agent.AccessToken(ctx, agent.TokenRequest{Provider: "google"}); !errors.Is(err, agent.ErrNoWorkloadAccessToken) || !strings.Contains(err.Error(), "user_id") {
		t.Fatalf("incomplete file: %v", err)
	}

	t.Setenv("DOCKER_CONTAINER", "1")
	if _, err := agent.AccessToken(ctx, agent.TokenRequest{Provider: "google"}); !errors.Is(err, agent.ErrNoWorkloadAccessToken) || !strings.Contains(err.Error(), "X-Amzn-Bedrock-AgentCore-Runtime-User-Id") {
		t.Fatalf("in a container: %v", err)
	}
	if n := len(f.requests("/identities/GetWorkloadAccessTokenForUserId")); n != 1 {
		t.Fatalf("%d mints", n)
	}
}

// Ensure the callback handler completes the session as the signed-in user
// and shows clear pages for every failure.
func TestCallbackHandler(t *testing.T) {
	f := newFakeDP(t)
	const completePath = "/identities/CompleteResourceTokenAuth"
	f.on(completePath, func(_ int, body map[string]any) (int, string, any) {
		if body["sessionUri"] != sessionURI {
			return http.StatusForbidden, "AccessDeniedException", map[string]any{"message": "Invalid or expired session"}
		}
		return ok(map[string]any{})
	})
	user := "alice"
	h := agent.CallbackHandler(f.client(), func(r *http.Request) (types.UserIdentifier, error) {
		if user == "" {
			return nil, errors.New("no session cookie")
		}
		return agent.UserID(user), nil
	})
	var location string
	get := func(query string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/callback"+query, nil))
		if location = rec.Header().Get("Location"); rec.Code == http.StatusSeeOther {
			return rec.Code, ""
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		return rec.Code, rec.Body.String()
	}
	if code, _ := get("?session_id=" + sessionURI); code != 303 || !strings.HasPrefix(location, "?") {
		t.Fatalf("completed: %d to %q, want 303 to the result page", code, location)
	}
	if code, body := get(location); code != 200 || !strings.Contains(body, "Authorization complete — you can return to the agent") {
		t.Fatalf("success page %d %s", code, body)
	}
	if r := f.requests(completePath)[0]; r["userIdentifier"].(map[string]any)["userId"] != "alice" {
		t.Fatalf("complete request %v", r)
	}
	if code, body := get("?session_id=urn:ietf:params:oauth:request_uri:other"); code != 403 || !strings.Contains(body, "another user") {
		t.Fatalf("denied page %d %s", code, body)
	}
	if code, _ := get(""); code != 400 {
		t.Fatalf("no session id: %d", code)
	}
	if code, body := get("?error=access_denied&error_description=%3Cb%3Eno%3C/b%3E"); code != 400 || !strings.Contains(body, "&lt;b&gt;no") {
		t.Fatalf("provider error page %d %s", code, body)
	}
	user = ""
	if code, body := get("?session_id=" + sessionURI); code != 401 || !strings.Contains(body, "no session cookie") {
		t.Fatalf("not signed in %d %s", code, body)
	}
	if n := len(f.requests(completePath)); n != 2 {
		t.Fatalf("%d complete calls", n)
	}
}

// Ensure the callback completes a session once and answers POST/redirect/GET
// style: a 303 to a result page that a reload shows again without a
// second CompleteResourceTokenAuth, and the provider's redirect opened
// again (Back, a second click) shows the completion, not a failure. A
// result link the handler did not complete shows no success.
func TestCallbackHandlerReload(t *testing.T) {
	f := newFakeDP(t)
	const completePath = "/identities/CompleteResourceTokenAuth"
	completed := map[any]bool{}
	f.on(completePath, func(_ int, body map[string]any) (int, string, any) {
		if completed[body["sessionUri"]] { // as Behalf and AgentCore answer a spent session
			return http.StatusForbidden, "AccessDeniedException", map[string]any{"message": "Invalid or expired session"}
		}
		completed[body["sessionUri"]] = true
		return ok(map[string]any{})
	})
	mux := http.NewServeMux()
	// The signed-in user is the request's "as" cookie (alice by default).
	mux.Handle("GET /callback", agent.CallbackHandler(f.client(), func(r *http.Request) (types.UserIdentifier, error) {
		if c, err := r.Cookie("as"); err == nil {
			return agent.UserID(c.Value), nil
		}
		return agent.UserID("alice"), nil
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	var redirects []string
	browser := &http.Client{CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		redirects = append(redirects, r.URL.String())
		return nil
	}}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	const success = "Authorization complete — you can return to the agent."
	callback := srv.URL + "/callback?" + url.Values{"session_id": {sessionURI}, "state": {"s"}}.Encode()
	resp, body := get(callback)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, success) || len(redirects) != 1 {
		t.Fatalf("callback: %d after redirects %q\n%s", resp.StatusCode, redirects, body)
	}
	result := resp.Request.URL.String()
	if !strings.HasPrefix(result, srv.URL+"/callback?") || result == callback {
		t.Fatalf("the result page is %s, want another GET of /callback", result)
	}
	for name, u := range map[string]string{"reload of the result page": result, "the provider's redirect again": callback} {
		resp, body := get(u)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, success) || strings.Contains(body, "not completed") {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, body)
		}
	}
	if n := len(f.requests(completePath)); n != 1 {
		t.Errorf("%d CompleteResourceTokenAuth calls, want 1", n)
	}
	// A result link for a session this handler did not complete shows no
	// success (and completes nothing).
	other := strings.Replace(result, url.QueryEscape(sessionURI), url.QueryEscape(sessionURI+"x"), 1)
	if resp, body := get(other); other == result || strings.Contains(body, success) || resp.StatusCode != http.StatusOK {
		t.Errorf("forged result link %s: %d\n%s", other, resp.StatusCode, body)
	}
	if n := len(f.requests(completePath)); n != 1 {
		t.Errorf("%d CompleteResourceTokenAuth calls, want 1", n)
	}
	// Another signed-in user opening alice's result link, or the
	// provider's redirect she followed, is not told of a success: the
	// redirect goes to the service, which refuses the spent session.
	for name, u := range map[string]string{"bob at alice's result page": result, "bob at alice's redirect": callback} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.AddCookie(&http.Cookie{Name: "as", Value: "bob"})
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), success) {
			t.Errorf("%s: %d, shows alice's success\n%s", name, resp.StatusCode, b)
		}
	}
}

// Ensure the default address is $PORT (else 8080) on loopback, and on all
// interfaces only in a runtime container.
func TestDefaultAddr(t *testing.T) {
	t.Setenv("DOCKER_CONTAINER", "")
	t.Setenv("PORT", "")
	if a := agent.DefaultAddr(); a != "127.0.0.1:8080" {
		t.Fatalf("default %q", a)
	}
	t.Setenv("PORT", "9123")
	if a := agent.DefaultAddr(); a != "127.0.0.1:9123" {
		t.Fatalf("with PORT %q", a)
	}
	t.Setenv("DOCKER_CONTAINER", "1")
	if a := agent.DefaultAddr(); a != "0.0.0.0:9123" {
		t.Fatalf("in a container %q", a)
	}
}
