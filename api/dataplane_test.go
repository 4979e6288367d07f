package api

// Wire handling of the AgentCore operations, against fakes of the root
// service interfaces: request decoding, the principal handed to the
// services, answers, error shapes, the body limit and the root-only
// control plane. cmd/behalf checks the same wire through the official
// AWS clients against the real services.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// fakeDataPlane is a DataPlaneService that records its calls and answers
// what the test sets.
type fakeDataPlane struct {
	mu     sync.Mutex
	calls  []string
	caller behalf.Principal // of the latest call
	req    behalf.TokenRequest
	args   []string
	who    behalf.UserIdentifier
	result *behalf.TokenResult
	secret behalf.Secret
	err    error
	panic  bool
}

func (f *fakeDataPlane) record(ctx context.Context, op string, args ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op)
	f.caller, _ = behalf.PrincipalFrom(ctx)
	f.args = args
	if f.panic {
		panic("fake data plane panics")
	}
}

func (f *fakeDataPlane) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeDataPlane) WorkloadAccessToken(ctx context.Context, workload string) (behalf.Secret, error) {
	f.record(ctx, "WorkloadAccessToken", workload)
	return f.secret, f.err
}

func (f *fakeDataPlane) WorkloadAccessTokenForJWT(ctx context.Context, workload string, userToken behalf.Secret) (behalf.Secret, error) {
	f.record(ctx, "WorkloadAccessTokenForJWT", workload, userToken.Reveal())
	return f.secret, f.err
}

func (f *fakeDataPlane) WorkloadAccessTokenForUserID(ctx context.Context, workload, userID string) (behalf.Secret, error) {
	f.record(ctx, "WorkloadAccessTokenForUserID", workload, userID)
	return f.secret, f.err
}

func (f *fakeDataPlane) ResourceOAuth2Token(ctx context.Context, r behalf.TokenRequest) (*behalf.TokenResult, error) {
	f.record(ctx, "ResourceOAuth2Token")
	f.mu.Lock()
	f.req = r
	f.mu.Unlock()
	return f.result, f.err
}

func (f *fakeDataPlane) ResourceAPIKey(ctx context.Context, workloadToken behalf.Secret, provider string) (behalf.Secret, error) {
	f.record(ctx, "ResourceAPIKey", workloadToken.Reveal(), provider)
	return f.secret, f.err
}

func (f *fakeDataPlane) CompleteResourceTokenAuth(ctx context.Context, sessionURI string, who behalf.UserIdentifier) error {
	f.record(ctx, "CompleteResourceTokenAuth", sessionURI)
	f.mu.Lock()
	f.who = who
	f.mu.Unlock()
	return f.err
}

// fakeWorkloads is a WorkloadService that records CreateWorkload's input;
// its other methods are not served (nil interface).
type fakeWorkloads struct {
	behalf.WorkloadService
	mu    sync.Mutex
	input []behalf.WorkloadInput
}

func (f *fakeWorkloads) CreateWorkload(ctx context.Context, in behalf.WorkloadInput) (*behalf.WorkloadIdentity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.input = append(f.input, in)
	return &behalf.WorkloadIdentity{Name: in.Name, AllowedReturnURLs: in.AllowedReturnURLs}, nil
}

// keyAuth is an Authenticator that accepts every request as principal,
// or refuses it with err; it counts the requests it saw.
type keyAuth struct {
	principal behalf.Principal
	err       error
	mu        sync.Mutex
	seen      int
}

func (a *keyAuth) Verify(r *http.Request, body []byte) (behalf.Principal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen++
	return a.principal, a.err
}

var (
	rootCaller   = behalf.Principal{Name: behalf.RootPrincipal, AccessKeyID: "BHLFROOT"}
	scopedCaller = behalf.Principal{Name: behalf.WorkloadPrincipal("agent-1"), AccessKeyID: "BHLFSCOPED"}
)

// wireServer is a Server with the fake data plane and workloads, logging
// into a buffer.
type wireServer struct {
	*Server
	dp   *fakeDataPlane
	wl   *fakeWorkloads
	auth *keyAuth
	logs *bytes.Buffer
}

func newWireServer(caller behalf.Principal) *wireServer {
	logs := &bytes.Buffer{}
	w := &wireServer{dp: &fakeDataPlane{}, wl: &fakeWorkloads{}, auth: &keyAuth{principal: caller}, logs: logs}
	w.Server = &Server{DataPlane: w.dp, Workloads: w.wl, Auth: w.auth, Log: slog.New(slog.NewTextHandler(logs, nil)), Region: "us-east-1", Account: "123456789012"}
	return w
}

// wireAnswer is a response: status, headers and the decoded JSON body.
type wireAnswer struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// post sends a JSON POST to the server's handler.
func (w *wireServer) post(t *testing.T, path, body string) wireAnswer {
	t.Helper()
	return w.do(t, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
}

func (w *wireServer) do(t *testing.T, req *http.Request) wireAnswer {
	t.Helper()
	rec := httptest.NewRecorder()
	w.Handler().ServeHTTP(rec, req)
	a := wireAnswer{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if a.raw != "" {
		if err := json.Unmarshal(rec.Body.Bytes(), &a.body); err != nil {
			t.Fatalf("%s %s: %d %q is not a JSON object: %v", req.Method, req.URL.Path, rec.Code, a.raw, err)
		}
	}
	return a
}

// wantError checks an AWS restJson1 error answer.
func (a wireAnswer) wantError(t *testing.T, status int, typ string) {
	t.Helper()
	if a.status != status || a.header.Get("X-Amzn-ErrorType") != typ || a.body["__type"] != typ || a.body["message"] == "" ||
		a.header.Get("Content-Type") != "application/json" {
		t.Fatalf("answer %d %s %s, want %d %s", a.status, a.header.Get("X-Amzn-ErrorType"), a.raw, status, typ)
	}
	if a.header.Get("X-Amzn-RequestId") == "" {
		t.Errorf("error answer without X-Amzn-RequestId")
	}
}

// Ensure GetResourceOauth2Token decodes every request field into the
// TokenRequest, runs as the caller's principal, answers only the fields
// set, and is marked no-store.
func TestGetResourceOauth2TokenWire(t *testing.T) {
	w := newWireServer(scopedCaller)
	w.dp.result = &behalf.TokenResult{AuthorizationURL: "https://behalf.example/identities/oauth2/authorize?request_uri=x",
		SessionURI: "urn:ietf:params:oauth:request_uri:abc", SessionStatus: "IN_PROGRESS"}
	a := w.post(t, "/identities/oauth2/token", `{
		"workloadIdentityToken":"wat-1","resourceCredentialProviderName":"google","scopes":["a","b"],
		"oauth2Flow":"USER_FEDERATION","sessionUri":"urn:ietf:params:oauth:request_uri:abc",
		"resourceOauth2ReturnUrl":"https://app.example/cb","forceAuthentication":true,"customState":"st",
		"customParameters":{"access_type":"offline"},"resources":["https://api.example"],"audiences":["aud-1"]}`)
	if a.status != http.StatusOK {
		t.Fatalf("answer %d %s", a.status, a.raw)
	}
	r := w.dp.req
	if r.WorkloadToken != "wat-1" || r.Provider != "google" || strings.Join(r.Scopes, ",") != "a,b" || r.Flow != behalf.FlowUserFederation ||
		r.SessionURI != "urn:ietf:params:oauth:request_uri:abc" || r.ReturnURL != "https://app.example/cb" || !r.ForceAuthentication ||
		r.CustomState != "st" || r.CustomParameters["access_type"] != "offline" || strings.Join(r.Resources, ",") != "https://api.example" ||
		strings.Join(r.Audiences, ",") != "aud-1" {
		t.Fatalf("TokenRequest %+v", r)
	}
	if w.dp.caller != scopedCaller {
		t.Fatalf("the service ran as %+v, want the caller %+v", w.dp.caller, scopedCaller)
	}
	if len(a.body) != 3 || a.body["authorizationUrl"] != w.dp.result.AuthorizationURL || a.body["sessionUri"] != w.dp.result.SessionURI ||
		a.body["sessionStatus"] != "IN_PROGRESS" {
		t.Fatalf("answer %s, want the session's three fields only", a.raw)
	}
	if a.header.Get("Cache-Control") != "no-store" || a.header.Get("Pragma") != "no-cache" {
		t.Fatalf("Cache-Control %q, Pragma %q; want no-store", a.header.Get("Cache-Control"), a.header.Get("Pragma"))
	}

	w.dp.result = &behalf.TokenResult{AccessToken: "ya29.token"}
	if a := w.post(t, "/identities/oauth2/token", `{}`); a.status != http.StatusOK || len(a.body) != 1 || a.body["accessToken"] != "ya29.token" {
		t.Fatalf("a vault hit's answer: %d %s", a.status, a.raw)
	}
}

// Ensure the other data-plane operations decode their fields and answer
// their documented shapes.
func TestDataPlaneOperationsWire(t *testing.T) {
	w := newWireServer(rootCaller)
	w.dp.secret = "secret-1"
	for _, tc := range []struct {
		path, body, op string
		args           []string
		field          string
	}{
		{"/identities/GetWorkloadAccessToken", `{"workloadName":"agent-1"}`, "WorkloadAccessToken", []string{"agent-1"}, "workloadAccessToken"},
		{"/identities/GetWorkloadAccessTokenForJWT", `{"workloadName":"agent-1","userToken":"a.b.c"}`, "WorkloadAccessTokenForJWT", []string{"agent-1", "a.b.c"}, "workloadAccessToken"},
		{"/identities/GetWorkloadAccessTokenForUserId", `{"workloadName":"agent-1","userId":"alice"}`, "WorkloadAccessTokenForUserID", []string{"agent-1", "alice"}, "workloadAccessToken"},
		{"/identities/api-key", `{"workloadIdentityToken":"wat-1","resourceCredentialProviderName":"serp"}`, "ResourceAPIKey", []string{"wat-1", "serp"}, "apiKey"},
	} {
		t.Run(tc.op, func(t *testing.T) {
			a := w.post(t, tc.path, tc.body)
			calls := w.dp.called()
			if a.status != http.StatusOK || len(a.body) != 1 || a.body[tc.field] != "secret-1" {
				t.Fatalf("answer %d %s, want {%q: the secret}", a.status, a.raw, tc.field)
			}
			if calls[len(calls)-1] != tc.op || strings.Join(w.dp.args, "|") != strings.Join(tc.args, "|") {
				t.Fatalf("called %s%q, want %s%q", calls[len(calls)-1], w.dp.args, tc.op, tc.args)
			}
			if a.header.Get("Cache-Control") != "no-store" {
				t.Errorf("a token answer without Cache-Control: no-store")
			}
		})
	}
	t.Run("CompleteResourceTokenAuth", func(t *testing.T) {
		for body, want := range map[string]behalf.UserIdentifier{
			`{"sessionUri":"urn:s","userIdentifier":{"userId":"alice"}}`:    {UserID: "alice"},
			`{"sessionUri":"urn:s","userIdentifier":{"userToken":"a.b.c"}}`: {UserToken: "a.b.c"},
		} {
			a := w.post(t, "/identities/CompleteResourceTokenAuth", body)
			if a.status != http.StatusOK || a.raw != "{}\n" || w.dp.args[0] != "urn:s" || w.dp.who != want {
				t.Fatalf("%s: %d %q, user %+v", body, a.status, a.raw, w.dp.who)
			}
			if a.header.Get("Cache-Control") == "no-store" {
				t.Errorf("CompleteResourceTokenAuth's answer holds no secret, yet is marked no-store")
			}
		}
	})
}

// Ensure a body that cannot be decoded is a ValidationException with
// reason CannotParse that names the problem in words (never Go's error
// text), and the service is not called; an empty body is {}.
func TestRequestDecodingErrors(t *testing.T) {
	w := newWireServer(rootCaller)
	for _, tc := range []struct{ name, body, message string }{
		{"BadJSON", `{"name":`, "The request body is truncated JSON."},
		{"Syntax", `{"name" "x"}`, "The request body is not valid JSON (at byte 9)."},
		{"WrongType", `{"name":42}`, "Field name has the wrong type: expected string."},
		{"UnknownField", `{"name":"abc","colour":"red"}`, `Unknown field "colour".`},
		{"TrailingData", `{"name":"abc"} {"name":"def"}`, "The request body must hold exactly one JSON object."},
		{"NotAnObject", `["abc"]`, "Field  has the wrong type: expected api.workloadIn."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := w.post(t, "/identities/CreateWorkloadIdentity", tc.body)
			a.wantError(t, http.StatusBadRequest, "ValidationException")
			if a.body["reason"] != "CannotParse" || a.body["fieldList"] != nil {
				t.Fatalf("reason %v, fieldList %v; want CannotParse and no field", a.body["reason"], a.body["fieldList"])
			}
			if msg, _ := a.body["message"].(string); strings.Contains(msg, "json:") || strings.Contains(msg, "goroutine") ||
				(tc.name != "NotAnObject" && msg != tc.message) {
				t.Fatalf("message %q, want %q", msg, tc.message)
			}
		})
	}
	if len(w.wl.input) != 0 {
		t.Fatalf("undecodable requests reached the service: %+v", w.wl.input)
	}
	if a := w.post(t, "/identities/CreateWorkloadIdentity", ""); a.status != http.StatusCreated || len(w.wl.input) != 1 || w.wl.input[0].Name != "" {
		t.Fatalf("an empty body: %d %s, input %+v; want it decoded as {}", a.status, a.raw, w.wl.input)
	}
	if a := w.post(t, "/identities/CreateWorkloadIdentity", `{"name":"agent-1","allowedResourceOauth2ReturnUrls":["https://a.example/cb"],"tags":{"k":"v"}}`); a.status != http.StatusCreated ||
		a.body["name"] != "agent-1" || a.body["workloadIdentityArn"] != "arn:aws:bedrock-agentcore:us-east-1:123456789012:workload-identity-directory/default/workload-identity/agent-1" {
		t.Fatalf("CreateWorkloadIdentity: %d %s", a.status, a.raw)
	}
	if in := w.wl.input[1]; in.Name != "agent-1" || in.AllowedReturnURLs[0] != "https://a.example/cb" || in.Tags["k"] != "v" {
		t.Fatalf("WorkloadInput %+v", in)
	}
}

// Ensure each error code of the services maps to its AWS error: status,
// X-Amzn-ErrorType and __type; a validation error names its field; a
// retryable one says when, rounded up; an uncoded one is a 500 that
// shows nothing of the cause and logs it.
func TestWireErrorShapes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		typ    string
	}{
		{"Invalid", behalf.Invalid("scopes", "Each scope must be 1 to 128 characters."), 400, "ValidationException"},
		{"NotFound", behalf.Errorf(behalf.ENOTFOUND, "No such provider."), 404, "ResourceNotFoundException"},
		{"Conflict", behalf.Errorf(behalf.ECONFLICT, "It exists."), 409, "ConflictException"},
		{"Unauthorized", behalf.Errorf(behalf.EUNAUTHORIZED, "The workload access token is invalid or has expired."), 401, "UnauthorizedException"},
		{"Forbidden", behalf.Errorf(behalf.EFORBIDDEN, "Invalid or expired session"), 403, "AccessDeniedException"},
		{"Throttled", behalf.Errorf(behalf.ETHROTTLED, "Slow down."), 429, "ThrottlingException"},
		{"Unavailable", &behalf.Error{Code: behalf.EUNAVAILABLE, Message: "The provider could not refresh the token; try again later.", Retry: 1500 * time.Millisecond}, 503, "ServiceUnavailableException"},
		{"NotImplemented", &behalf.Error{Code: behalf.ENOTIMPLEMENTED, Field: "kmsConfiguration", Message: "Not served."}, 400, "ValidationException"},
		{"Uncoded", errors.New("open grant g-1: cipher: message authentication failed"), 500, "InternalServerException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWireServer(rootCaller)
			w.dp.err = tc.err
			a := w.post(t, "/identities/oauth2/token", `{}`)
			a.wantError(t, tc.status, tc.typ)
			if want := behalf.ErrorMessage(tc.err); a.body["message"] != want {
				t.Fatalf("message %v, want %q", a.body["message"], want)
			}
			switch tc.name {
			case "Invalid":
				fl, _ := a.body["fieldList"].([]any)
				if a.body["reason"] != "FieldValidationFailed" || len(fl) != 1 || fl[0].(map[string]any)["name"] != "scopes" {
					t.Fatalf("reason %v, fieldList %v; want FieldValidationFailed naming scopes", a.body["reason"], a.body["fieldList"])
				}
			case "Unavailable":
				if a.header.Get("Retry-After") != "2" || a.body["retryAfterSeconds"] != float64(2) {
					t.Fatalf("Retry-After %q, retryAfterSeconds %v; want 2 (1.5 s rounded up)", a.header.Get("Retry-After"), a.body["retryAfterSeconds"])
				}
			case "Uncoded":
				if a.body["message"] != "Internal error." || strings.Contains(a.raw, "cipher") {
					t.Fatalf("an internal error shows its cause: %s", a.raw)
				}
				if !strings.Contains(w.logs.String(), "level=ERROR") || !strings.Contains(w.logs.String(), "op=GetResourceOauth2Token") ||
					!strings.Contains(w.logs.String(), "cipher") {
					t.Fatalf("the internal error was not logged with its cause and operation:\n%s", w.logs)
				}
			}
			if tc.name != "Unavailable" && a.header.Get("Retry-After") != "" {
				t.Errorf("Retry-After %q on a %s", a.header.Get("Retry-After"), tc.typ)
			}
		})
	}
}

// Ensure a panicking operation answers 500 InternalServerException and is
// logged, and the server keeps serving.
func TestOperationPanic(t *testing.T) {
	w := newWireServer(rootCaller)
	w.dp.panic = true
	w.post(t, "/identities/GetWorkloadAccessToken", `{"workloadName":"agent-1"}`).wantError(t, 500, "InternalServerException")
	if !strings.Contains(w.logs.String(), "fake data plane panics") {
		t.Fatalf("the panic was not logged:\n%s", w.logs)
	}
	w.dp.panic, w.dp.secret = false, "wat"
	if a := w.post(t, "/identities/GetWorkloadAccessToken", `{"workloadName":"agent-1"}`); a.status != http.StatusOK {
		t.Fatalf("after a panic: %d %s", a.status, a.raw)
	}
}

// Ensure an over-long body is refused with 413 before it is read to its
// end or authenticated, whether it declares its length or is chunked.
func TestBodyLimit(t *testing.T) {
	w := newWireServer(rootCaller)
	big := bytes.Repeat([]byte("a"), MaxBodyBytes+1)
	declared := httptest.NewRequest(http.MethodPost, "/identities/CreateWorkloadIdentity", bytes.NewReader(big))
	chunked := httptest.NewRequest(http.MethodPost, "/identities/CreateWorkloadIdentity", io.MultiReader(bytes.NewReader(big)))
	chunked.ContentLength = -1
	for name, req := range map[string]*http.Request{"declared": declared, "chunked": chunked} {
		a := w.do(t, req)
		a.wantError(t, http.StatusRequestEntityTooLarge, "ValidationException")
		if a.body["message"] != "The request body is larger than 1 MiB." {
			t.Fatalf("%s: message %v", name, a.body["message"])
		}
	}
	if w.auth.seen != 0 || len(w.wl.input) != 0 {
		t.Fatalf("an over-long body was authenticated (%d) or served (%d)", w.auth.seen, len(w.wl.input))
	}
	exact := append(append([]byte(`{"name":"`), bytes.Repeat([]byte("a"), MaxBodyBytes-11)...), `"}`...)
	if a := w.do(t, httptest.NewRequest(http.MethodPost, "/identities/CreateWorkloadIdentity", bytes.NewReader(exact))); a.status != http.StatusCreated {
		t.Fatalf("a body of exactly %d bytes: %d", len(exact), a.status)
	}
}

// Ensure unknown operations answer UnknownOperationException, and a
// refused signature stops the request before the service.
func TestUnknownOperationAndRefusedSignature(t *testing.T) {
	w := newWireServer(rootCaller)
	w.post(t, "/identities/FlyToTheMoon", `{}`).wantError(t, http.StatusNotFound, "UnknownOperationException")
	if a := w.do(t, httptest.NewRequest(http.MethodGet, "/identities/oauth2/token", nil)); a.body["__type"] != "UnknownOperationException" {
		t.Fatalf("GET of a POST operation: %d %s", a.status, a.raw)
	}
	w.auth.err = behalf.Errorf(behalf.EFORBIDDEN, "The security token included in the request is invalid.")
	w.post(t, "/identities/GetWorkloadAccessToken", `{"workloadName":"agent-1"}`).wantError(t, http.StatusForbidden, "AccessDeniedException")
	if calls := w.dp.called(); len(calls) != 0 {
		t.Fatalf("a refused signature reached the service: %v", calls)
	}
}

// concretePath turns a route pattern's path into a request path.
func concretePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.NewReplacer("{$}", "", "{agentRuntimeId}", "rt-1", "{endpointName}", "DEFAULT").Replace(path)
	return method, path
}

// Ensure a key scoped to one workload may call the data plane only:
// every other operation is AccessDeniedException naming the key and the
// operation, before any service runs; the data plane runs with the
// scoped principal, which the services check against the workload.
func TestScopedKeyControlPlane(t *testing.T) {
	w := newWireServer(scopedCaller)
	w.dp.secret, w.dp.result = "secret", &behalf.TokenResult{AccessToken: "tok"}
	s := w.Server
	var control, data int
	for _, rt := range s.routes() {
		method, path := concretePath(rt.pattern)
		a := w.do(t, httptest.NewRequest(method, path, strings.NewReader(`{}`)))
		if rt.dataPlane {
			data++
			if rt.name == "StopRuntimeSession" {
				// The gateway checks the key (agentruntime, cmd/behalf);
				// here it only must not be refused as control plane.
				if a.status == http.StatusForbidden {
					t.Errorf("%s with a scoped key: %d %s", rt.name, a.status, a.raw)
				}
				continue
			}
			if a.status != http.StatusOK || w.dp.caller != scopedCaller {
				t.Errorf("%s with a scoped key: %d %s, ran as %+v", rt.name, a.status, a.raw, w.dp.caller)
			}
			continue
		}
		control++
		if a.status != http.StatusForbidden || a.body["__type"] != "AccessDeniedException" ||
			!strings.Contains(a.raw, "BHLFSCOPED") || !strings.Contains(a.raw, rt.name) {
			t.Errorf("%s with a scoped key: %d %s, want 403 AccessDeniedException naming the key and the operation", rt.name, a.status, a.raw)
		}
	}
	if control < 30 || data != 7 || len(w.wl.input) != 0 {
		t.Fatalf("checked %d control-plane and %d data-plane operations; the control plane served %d", control, data, len(w.wl.input))
	}
}

// Ensure the answers that carry a token, an API key or a secret are
// marked no-store, errors included (the headers are set before the
// operation runs), and no other operation's are.
func TestNoStoreMarks(t *testing.T) {
	w := newWireServer(rootCaller)
	w.auth.err = behalf.Errorf(behalf.EUNAUTHORIZED, "No.")
	want := map[string]bool{
		"GetWorkloadAccessToken": true, "GetWorkloadAccessTokenForJWT": true, "GetWorkloadAccessTokenForUserId": true,
		"GetResourceOauth2Token": true, "GetResourceApiKey": true, "CreateAccessKey": true,
	}
	for _, rt := range w.routes() {
		method, path := concretePath(rt.pattern)
		a := w.do(t, httptest.NewRequest(method, path, strings.NewReader(`{}`)))
		got := a.header.Get("Cache-Control") == "no-store" && a.header.Get("Pragma") == "no-cache"
		if got != want[rt.name] {
			t.Errorf("%s: Cache-Control %q, Pragma %q; want no-store: %v", rt.name, a.header.Get("Cache-Control"), a.header.Get("Pragma"), want[rt.name])
		}
	}
}
