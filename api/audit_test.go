package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/agentruntime"
	"github.com/behalf-dev/behalf/identity"
	"github.com/behalf-dev/behalf/seal"
	"github.com/behalf-dev/behalf/sqlstore"
	"github.com/behalf-dev/behalf/userpool"
)

// Ensure every operation declares whether it is an administrative change
// (audited), a read, or an agent's or user's own call, and that the
// declaration agrees with what the operation is: a data-plane route is an
// agent's call, an unsigned Cognito operation a user's, a Get/List/Describe
// only reads, and a change names the resource it acts on from its own
// pattern's path values.
func TestEveryOperationIsClassified(t *testing.T) {
	s := fullServer()
	readName := regexp.MustCompile(`^(Get|List|Describe|Admin(Get|List))`)
	check := func(api, name string, e effect, pattern string) {
		t.Helper()
		switch e.kind {
		case unclassified:
			t.Errorf("%s %s: no effect declared", api, name)
		case effectChanges:
			if readName.MatchString(name) {
				t.Errorf("%s %s is declared a change", api, name)
			}
			if len(e.resource) == 0 {
				t.Errorf("%s %s: a change that names no resource", api, name)
			}
			for _, p := range e.resource {
				if p.from == fromPathValue && !strings.Contains(pattern, "{"+p.name+"}") {
					t.Errorf("%s %s: resource path value %q is not in %q", api, name, p.name, pattern)
				}
				if p.name == "" || p.from == 0 {
					t.Errorf("%s %s: resource part %+v", api, name, p)
				}
			}
		case effectReads:
			if !readName.MatchString(name) {
				t.Errorf("%s %s is declared a read", api, name)
			}
		}
	}
	for _, rt := range s.routes() {
		check("restJson1", rt.name, rt.effect, rt.pattern)
		if rt.dataPlane != (rt.effect.kind == effectUserCall) {
			t.Errorf("restJson1 %s: data plane %v, effect %d", rt.name, rt.dataPlane, rt.effect.kind)
		}
	}
	signIns := map[string]bool{"AdminInitiateAuth": true, "AdminRespondToAuthChallenge": true}
	for name, op := range s.cognitoOps() {
		check("cognito-idp", name, op.effect, "")
		if (op.anonymous || signIns[name]) != (op.effect.kind == effectUserCall) {
			t.Errorf("cognito-idp %s: anonymous %v, effect %d", name, op.anonymous, op.effect.kind)
		}
	}
}

// auditHarness is the API on real services over a temporary SQLite
// store, which is also its audit log; every request is signed by whoever
// auth says.
type auditHarness struct {
	*wireServer
	db *sqlstore.DB
}

func newAuditHarness(t *testing.T) *auditHarness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "behalf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keeper, err := seal.OpenKeeper(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keeper.Close() })
	sealer := seal.New(keeper, db, seal.Options{})
	svc := &identity.Service{Store: db, Sealer: sealer, PublicURL: "https://behalf.example"}
	logs := &bytes.Buffer{}
	auth := &keyAuth{principal: rootCaller}
	w := &wireServer{auth: auth, logs: logs, Server: &Server{
		Workloads: svc, OAuth2Providers: svc, APIKeyProviders: svc,
		Runtimes:  &agentruntime.Service{Store: db, AllowPrivate: true},
		UserPools: &userpool.Service{Store: db, Sealer: sealer, PublicURL: "https://behalf.example", HashParams: userpool.HashParams{Memory: 64, Time: 1, Threads: 1}},
		Admin:     &identity.Admin{Store: db, Sealer: sealer},
		Auth:      auth, CognitoAuth: auth, Audit: db,
		Log: slog.New(slog.NewTextHandler(logs, nil)), Region: "us-east-1", Account: "123456789012",
	}}
	return &auditHarness{wireServer: w, db: db}
}

// call sends a restJson1 request and fails t unless it answers want.
func (h *auditHarness) call(t *testing.T, want int, method, path, body string) wireAnswer {
	t.Helper()
	a := h.do(t, httptest.NewRequest(method, path, strings.NewReader(body)))
	if a.status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, a.status, a.raw, want)
	}
	return a
}

// cognito calls a cognito-idp operation and fails t unless it answers
// want.
func (h *auditHarness) cognito(t *testing.T, want int, op, body string) map[string]any {
	t.Helper()
	resp, m := cognitoCall(t, h.Server, op, body)
	if resp.StatusCode != want {
		t.Fatalf("%s: %d %v, want %d", op, resp.StatusCode, m, want)
	}
	return m
}

// events returns every audit event, oldest first.
func (h *auditHarness) events(t *testing.T) []*behalf.AuditEvent {
	t.Helper()
	es, err := h.db.ListAudit(t.Context(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

// Ensure each successful administrative change through the API (issue
// 15: workload, provider, runtime, user pool and user create, update and
// delete; access keys) leaves one admin.<Op> event naming the signing
// access key and the resource, a generated id read from the answer; that
// reads, refused and failed operations leave none; and that no secret the
// requests or answers carried (client secrets, API keys, passwords, secret
// access keys) is in any event.
func TestAdminActionsAudited(t *testing.T) {
	h := newAuditHarness(t)
	const (
		clientSecret  = "oauth2-client-secret-7f3a9c"
		clientSecret2 = "oauth2-client-secret-rotated-51d0"
		apiKey        = "sk-live-api-key-0b8e2d"
		apiKey2       = "sk-live-api-key-rotated-c4e1"
		tempPassword  = "Temp-Passw0rd!e9a"
		password      = "Perm-Passw0rd!3c7"
	)
	secrets := []string{clientSecret, clientSecret2, apiKey, apiKey2, tempPassword, password}
	type want struct{ kind, resource string }
	var wants []want
	expect := func(op, resource string) { wants = append(wants, want{behalf.AuditAdminPrefix + op, resource}) }

	// Workloads: create, read, a refused duplicate, update, delete.
	h.call(t, 201, "POST", "/identities/CreateWorkloadIdentity", `{"name":"wl-audit"}`)
	expect("CreateWorkloadIdentity", "wl-audit")
	h.call(t, 200, "POST", "/identities/GetWorkloadIdentity", `{"name":"wl-audit"}`)
	h.call(t, 200, "POST", "/identities/ListWorkloadIdentities", `{}`)
	h.call(t, 409, "POST", "/identities/CreateWorkloadIdentity", `{"name":"wl-audit"}`)
	h.call(t, 400, "POST", "/identities/CreateWorkloadIdentity", `{"name":"no spaces allowed"}`)
	h.call(t, 200, "POST", "/identities/UpdateWorkloadIdentity", `{"name":"wl-audit","allowedResourceOauth2ReturnUrls":["https://app.example/cb"]}`)
	expect("UpdateWorkloadIdentity", "wl-audit")

	// A key scoped to a workload is refused the control plane: no event.
	h.auth.principal = scopedCaller
	h.call(t, 403, "POST", "/identities/DeleteWorkloadIdentity", `{"name":"wl-audit"}`)
	h.auth.principal = rootCaller
	h.call(t, 204, "POST", "/identities/DeleteWorkloadIdentity", `{"name":"wl-audit"}`)
	expect("DeleteWorkloadIdentity", "wl-audit")
	h.call(t, 404, "POST", "/identities/DeleteWorkloadIdentity", `{"name":"wl-audit"}`)

	// Credential providers, each created and updated with a secret.
	h.call(t, 201, "POST", "/identities/CreateOauth2CredentialProvider", `{"name":"google-audit","credentialProviderVendor":"GoogleOauth2",
		"oauth2ProviderConfigInput":{"googleOauth2ProviderConfig":{"clientId":"cid","clientSecret":"`+clientSecret+`"}}}`)
	expect("CreateOauth2CredentialProvider", "google-audit")
	h.call(t, 200, "POST", "/identities/GetOauth2CredentialProvider", `{"name":"google-audit"}`)
	h.call(t, 200, "POST", "/identities/UpdateOauth2CredentialProvider", `{"name":"google-audit","credentialProviderVendor":"GoogleOauth2",
		"oauth2ProviderConfigInput":{"googleOauth2ProviderConfig":{"clientId":"cid","clientSecret":"`+clientSecret2+`"}}}`)
	expect("UpdateOauth2CredentialProvider", "google-audit")
	h.call(t, 204, "POST", "/identities/DeleteOauth2CredentialProvider", `{"name":"google-audit"}`)
	expect("DeleteOauth2CredentialProvider", "google-audit")
	h.call(t, 201, "POST", "/identities/CreateApiKeyCredentialProvider", `{"name":"search-audit","apiKey":"`+apiKey+`"}`)
	expect("CreateApiKeyCredentialProvider", "search-audit")
	h.call(t, 200, "POST", "/identities/UpdateApiKeyCredentialProvider", `{"name":"search-audit","apiKey":"`+apiKey2+`"}`)
	expect("UpdateApiKeyCredentialProvider", "search-audit")
	h.call(t, 204, "POST", "/identities/DeleteApiKeyCredentialProvider", `{"name":"search-audit"}`)
	expect("DeleteApiKeyCredentialProvider", "search-audit")

	// A runtime: its id is generated, so read from the answer.
	rt := h.call(t, 202, "PUT", "/runtimes/", `{"agentRuntimeName":"rtaudit","roleArn":"arn:aws:iam::123456789012:role/r",
		"agentRuntimeArtifact":{"containerConfiguration":{"containerUri":"http://127.0.0.1:9/"}},"networkConfiguration":{"networkMode":"PUBLIC"}}`)
	id, _ := rt.body["agentRuntimeId"].(string)
	if !strings.HasPrefix(id, "rtaudit-") {
		t.Fatalf("CreateAgentRuntime answered %s", rt.raw)
	}
	expect("CreateAgentRuntime", id)
	h.call(t, 200, "GET", "/runtimes/"+id+"/", "")
	h.call(t, 202, "PUT", "/runtimes/"+id+"/", `{"roleArn":"arn:aws:iam::123456789012:role/r",
		"agentRuntimeArtifact":{"containerConfiguration":{"containerUri":"http://127.0.0.1:10/"}},"networkConfiguration":{"networkMode":"PUBLIC"}}`)
	expect("UpdateAgentRuntime", id)
	h.call(t, 202, "DELETE", "/runtimes/"+id+"/", "")
	expect("DeleteAgentRuntime", id)
	h.call(t, 404, "DELETE", "/runtimes/"+id+"/", "")

	// An access key: its secret is in the answer, never in the event.
	k := h.call(t, 201, "POST", "/behalf/CreateAccessKey", `{}`)
	keyID, _ := k.body["accessKeyId"].(string)
	keySecret, _ := k.body["secretAccessKey"].(string)
	if keyID == "" || keySecret == "" {
		t.Fatalf("CreateAccessKey answered %s", k.raw)
	}
	secrets = append(secrets, keySecret)
	expect("CreateAccessKey", keyID)
	h.call(t, 200, "POST", "/behalf/ListAccessKeys", `{}`)
	h.call(t, 204, "POST", "/behalf/DeleteAccessKey", `{"accessKeyId":"`+keyID+`"}`)
	expect("DeleteAccessKey", keyID)

	// A user pool, an app client with a secret, a user.
	pool := h.cognito(t, 200, "CreateUserPool", `{"PoolName":"audit-pool"}`)
	poolID, _ := pool["UserPool"].(map[string]any)["Id"].(string)
	if poolID == "" {
		t.Fatalf("CreateUserPool answered %v", pool)
	}
	expect("CreateUserPool", poolID)
	h.cognito(t, 200, "DescribeUserPool", `{"UserPoolId":"`+poolID+`"}`)
	h.cognito(t, 200, "UpdateUserPool", `{"UserPoolId":"`+poolID+`","UserPoolTags":{"team":"a"}}`)
	expect("UpdateUserPool", poolID)
	client := h.cognito(t, 200, "CreateUserPoolClient", `{"UserPoolId":"`+poolID+`","ClientName":"web","GenerateSecret":true}`)
	c, _ := client["UserPoolClient"].(map[string]any)
	clientID, _ := c["ClientId"].(string)
	appSecret, _ := c["ClientSecret"].(string)
	if clientID == "" || appSecret == "" {
		t.Fatalf("CreateUserPoolClient answered %v", client)
	}
	secrets = append(secrets, appSecret)
	expect("CreateUserPoolClient", poolID+"/"+clientID)
	h.cognito(t, 200, "AdminCreateUser", `{"UserPoolId":"`+poolID+`","Username":"alice","TemporaryPassword":"`+tempPassword+`","MessageAction":"SUPPRESS"}`)
	expect("AdminCreateUser", poolID+"/alice")
	h.cognito(t, 400, "AdminCreateUser", `{"UserPoolId":"`+poolID+`","Username":"alice","TemporaryPassword":"`+tempPassword+`","MessageAction":"SUPPRESS"}`)
	h.cognito(t, 400, "AdminCreateUser", `{"UserPoolId":"us-east-1_Nope","Username":"bob"}`)
	h.cognito(t, 200, "AdminGetUser", `{"UserPoolId":"`+poolID+`","Username":"alice"}`)
	h.cognito(t, 200, "ListUsers", `{"UserPoolId":"`+poolID+`"}`)
	h.cognito(t, 200, "AdminSetUserPassword", `{"UserPoolId":"`+poolID+`","Username":"alice","Password":"`+password+`","Permanent":true}`)
	expect("AdminSetUserPassword", poolID+"/alice")
	h.cognito(t, 200, "AdminDisableUser", `{"UserPoolId":"`+poolID+`","Username":"alice"}`)
	expect("AdminDisableUser", poolID+"/alice")
	// A user's own (unsigned) call is not an administrative action.
	h.cognito(t, 400, "InitiateAuth", `{"ClientId":"`+clientID+`","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"alice","PASSWORD":"`+password+`"}}`)
	h.cognito(t, 200, "AdminDeleteUser", `{"UserPoolId":"`+poolID+`","Username":"alice"}`)
	expect("AdminDeleteUser", poolID+"/alice")
	h.cognito(t, 200, "DeleteUserPoolClient", `{"UserPoolId":"`+poolID+`","ClientId":"`+clientID+`"}`)
	expect("DeleteUserPoolClient", poolID+"/"+clientID)
	h.cognito(t, 200, "DeleteUserPool", `{"UserPoolId":"`+poolID+`"}`)
	expect("DeleteUserPool", poolID)

	events := h.events(t)
	var got []want
	for _, e := range events {
		got = append(got, want{e.Kind, e.Resource})
		if e.Actor != rootCaller.AccessKeyID {
			t.Errorf("%s %s: actor %q, want %q", e.Kind, e.Resource, e.Actor, rootCaller.AccessKeyID)
		}
		if e.Time.IsZero() || !strings.HasPrefix(e.Detail, "request ") || len(e.Detail) <= len("request ") {
			t.Errorf("%s %s: time %v, detail %q", e.Kind, e.Resource, e.Time, e.Detail)
		}
		for _, secret := range secrets {
			if strings.Contains(fmt.Sprintf("%#v", *e), secret) {
				t.Errorf("event %s holds the secret %q: %+v", e.Kind, secret, *e)
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(wants) {
		t.Fatalf("audit events:\n got %v\nwant %v", got, wants)
	}

	// The resource filter finds a user's whole history.
	es, err := h.db.QueryAudit(t.Context(), behalf.AuditQuery{Resource: poolID + "/alice"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range es {
		kinds = append(kinds, e.Kind)
	}
	if w := "admin.AdminDeleteUser admin.AdminDisableUser admin.AdminSetUserPassword admin.AdminCreateUser"; strings.Join(kinds, " ") != w {
		t.Errorf("events of %s/alice, newest first: %v, want %s", poolID, kinds, w)
	}
}

// failingAudit is an audit log that cannot be written.
type failingAudit struct{ calls int }

func (f *failingAudit) AppendAudit(ctx context.Context, e *behalf.AuditEvent) error {
	f.calls++
	return errors.New("disk full")
}

// Ensure an audit log that cannot be written does not fail the change
// (it is made): the failure is logged as an error naming the event.
func TestAdminAuditFailureIsLogged(t *testing.T) {
	w := newWireServer(rootCaller)
	audit := &failingAudit{}
	w.Audit = audit
	a := w.post(t, "/identities/CreateWorkloadIdentity", `{"name":"wl-1"}`)
	if a.status != http.StatusCreated || audit.calls != 1 {
		t.Fatalf("answer %d %s after %d audit writes", a.status, a.raw, audit.calls)
	}
	if l := w.logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "kind=admin.CreateWorkloadIdentity") ||
		!strings.Contains(l, "resource=wl-1") || !strings.Contains(l, "disk full") {
		t.Fatalf("log:\n%s", l)
	}
}

// FuzzResourceOf: a request body of any shape yields a resource without
// panicking, only from the members named (a body that is no JSON object,
// none of it).
func FuzzResourceOf(f *testing.F) {
	for _, s := range []string{`{"UserPoolId":"p","Username":"u"}`, `{"UserPoolId":{"x":1},"Username":7}`, `[]`, `{`, `null`, `{"UserPoolId":"p","Password":"secret"}`, `{"UserPoolId":"p"} {}`} {
		f.Add(s)
	}
	e := changes(fromBody("UserPoolId"), fromBody("Username"), fromOut("User.Username"))
	r := httptest.NewRequest("POST", "/", nil)
	f.Fuzz(func(t *testing.T, body string) {
		res := e.resourceOf(r, []byte(body), map[string]any{"User": map[string]any{"Username": "out"}})
		var m map[string]any
		if json.Unmarshal([]byte(body), &m) != nil && res != "out" {
			t.Fatalf("resource %q from a body that is no JSON object, %q", res, body)
		}
		if strings.Contains(res, "secret") && !strings.Contains(fmt.Sprint(m["UserPoolId"], m["Username"]), "secret") {
			t.Fatalf("resource %q holds a member not named, from %q", res, body)
		}
	})
}
