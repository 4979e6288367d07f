package api

// Wire handling of the connections API for apps (bearer JWT) and of the
// root's ListGrants and RevokeGrant, against fakes of ConnectionService
// and the user verifier. cmd/behalf's TestConnectionsAPI runs the same
// API end to end against the real vault and a user pool.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// fakeConnections is a ConnectionService with a fixed list of grants; it
// records the user key and id it was asked for.
type fakeConnections struct {
	mu      sync.Mutex
	conns   []*behalf.Connection
	listFor []string
	revoked []string // userKey + " " + id
}

func (f *fakeConnections) ListConnections(ctx context.Context, userKey string) ([]*behalf.Connection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listFor = append(f.listFor, userKey)
	var out []*behalf.Connection
	for _, c := range f.conns {
		if userKey == "" || c.UserKey == userKey {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeConnections) RevokeConnection(ctx context.Context, userKey, id string) (*behalf.Revocation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, userKey+" "+id)
	for _, c := range f.conns {
		if c.GrantID == id && (userKey == "" || c.UserKey == userKey) {
			return &behalf.Revocation{Connection: *c, Provider: c.ProviderName, Outcome: behalf.RevocationConfirmed}, nil
		}
	}
	return nil, behalf.Errorf(behalf.ENOTFOUND, "No such grant.")
}

// bearerUsers is a UserVerifier knowing one token per user.
type bearerUsers map[string]behalf.User

func (b bearerUsers) VerifyUser(ctx context.Context, token string) (behalf.User, time.Time, error) {
	u, ok := b[token]
	if !ok {
		return behalf.User{}, time.Time{}, behalf.Errorf(behalf.EUNAUTHORIZED, "The user token is invalid or has expired.")
	}
	return u, time.Now().Add(time.Hour), nil
}

var (
	connAlice = behalf.User{Issuer: "https://idp.example", Subject: "alice"}
	connBob   = behalf.User{Issuer: "https://idp.example", Subject: "bob"}
)

func newConnServer() (*wireServer, *fakeConnections) {
	w := newWireServer(rootCaller)
	created := time.Date(2025, 6, 1, 12, 0, 0, 250e6, time.UTC)
	fc := &fakeConnections{conns: []*behalf.Connection{
		{GrantID: "g-alice", Workload: "agent-1", UserKey: connAlice.Key(), ProviderID: "p-1", ProviderName: "google-drive", ProviderVendor: behalf.VendorGoogle,
			Scopes: []string{"drive"}, Account: "alice@example.com", CreatedAt: created, LastUsedAt: created.Add(time.Hour)},
		{GrantID: "g-bob", Workload: "agent-1", UserKey: connBob.Key(), ProviderID: "p-2", CreatedAt: created},
	}}
	w.Connections = fc
	w.Users = bearerUsers{"alice-jwt": connAlice, "bob-jwt": connBob, "nobody-jwt": {}}
	return w, fc
}

// userCall calls the connections API with a bearer token ("" for none).
func (w *wireServer) userCall(t *testing.T, method, path, bearer string) wireAnswer {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", bearer)
	}
	a := w.do(t, req)
	if a.header.Get("Content-Type") != "application/json" || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s %s: Content-Type %q, Cache-Control %q", method, path, a.header.Get("Content-Type"), a.header.Get("Cache-Control"))
	}
	return a
}

// Ensure a user lists their own grants with their JWT: their user key is
// what the service is asked for; times are epoch seconds; the user field
// and tokens are absent; an empty list is [].
func TestConnectionsAPIList(t *testing.T) {
	w, fc := newConnServer()
	a := w.userCall(t, http.MethodGet, behalf.ConnectionsAPIPath, "Bearer alice-jwt")
	grants, _ := a.body["grants"].([]any)
	if a.status != http.StatusOK || len(grants) != 1 || fc.listFor[0] != connAlice.Key() {
		t.Fatalf("alice's list: %d %s (asked for %q)", a.status, a.raw, fc.listFor)
	}
	g := grants[0].(map[string]any)
	want := map[string]any{
		"id": "g-alice", "workloadName": "agent-1", "provider": "google-drive", "providerDisplayName": "Google",
		"credentialProviderVendor": behalf.VendorGoogle, "scopes": []any{"drive"}, "account": "alice@example.com",
		"createdTime": 1748779200.25, "lastUsedTime": 1748782800.25,
	}
	for k, v := range want {
		if got := g[k]; !equalJSON(got, v) {
			t.Errorf("grant %s = %v, want %v", k, got, v)
		}
	}
	for _, k := range []string{"user", "lastRefreshedTime"} {
		if _, ok := g[k]; ok {
			t.Errorf("a user's grant carries %q: %s", k, a.raw)
		}
	}
	if !strings.Contains(a.raw, `"createdTime":1748779200.250`) {
		t.Errorf("createdTime is not epoch seconds with milliseconds: %s", a.raw)
	}
	fc.conns = nil
	if a := w.userCall(t, http.MethodGet, behalf.ConnectionsAPIPath, "bearer bob-jwt"); a.status != http.StatusOK || !strings.Contains(a.raw, `"grants":[]`) {
		t.Fatalf("an empty list (lower-case scheme): %d %s", a.status, a.raw)
	}
}

// equalJSON reports whether a and b encode to the same JSON.
func equalJSON(a, b any) bool {
	ab, aerr := json.Marshal(a)
	bb, berr := json.Marshal(b)
	return aerr == nil && berr == nil && string(ab) == string(bb)
}

// Ensure requests without a verifiable user JWT are 401
// UnauthorizedException with a Bearer challenge, and reach no service.
func TestConnectionsAPIUnauthorized(t *testing.T) {
	w, fc := newConnServer()
	for name, header := range map[string]string{
		"NoHeader":    "",
		"Basic":       "Basic YWxpY2U6cHc=",
		"EmptyBearer": "Bearer ",
		"NoToken":     "Bearer",
		"Unknown":     "Bearer forged.jwt.value",
		"NoUser":      "Bearer nobody-jwt",
		"TooLong":     "Bearer " + strings.Repeat("a", 131073),
	} {
		t.Run(name, func(t *testing.T) {
			for _, req := range []struct{ method, path string }{{http.MethodGet, behalf.ConnectionsAPIPath}, {http.MethodDelete, behalf.ConnectionsAPIPath + "/g-alice"}} {
				a := w.userCall(t, req.method, req.path, header)
				a.wantError(t, http.StatusUnauthorized, "UnauthorizedException")
				if !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer ") {
					t.Errorf("WWW-Authenticate %q", a.header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	if len(fc.listFor) != 0 || len(fc.revoked) != 0 {
		t.Fatalf("unauthenticated calls reached the service: %v %v", fc.listFor, fc.revoked)
	}
}

// Ensure a user revokes their own grant by id, and another user's grant
// is 404 exactly like a missing one.
func TestConnectionsAPIRevoke(t *testing.T) {
	w, fc := newConnServer()
	missing := w.userCall(t, http.MethodDelete, behalf.ConnectionsAPIPath+"/no-such-grant", "Bearer bob-jwt")
	missing.wantError(t, http.StatusNotFound, "ResourceNotFoundException")
	notYours := w.userCall(t, http.MethodDelete, behalf.ConnectionsAPIPath+"/g-alice", "Bearer bob-jwt")
	notYours.wantError(t, http.StatusNotFound, "ResourceNotFoundException")
	if notYours.body["message"] != missing.body["message"] {
		t.Fatalf("another user's grant %s, a missing one %s: want the same answer", notYours.raw, missing.raw)
	}
	a := w.userCall(t, http.MethodDelete, behalf.ConnectionsAPIPath+"/g-alice", "Bearer alice-jwt")
	grant, _ := a.body["grant"].(map[string]any)
	if a.status != http.StatusOK || a.body["grantId"] != "g-alice" || a.body["providerRevocation"] != behalf.RevocationConfirmed ||
		a.body["message"] != "Revoked. google-drive confirmed the token is revoked." || grant["workloadName"] != "agent-1" || grant["user"] != nil {
		t.Fatalf("alice revoking her grant: %d %s", a.status, a.raw)
	}
	want := []string{connBob.Key() + " no-such-grant", connBob.Key() + " g-alice", connAlice.Key() + " g-alice"}
	if strings.Join(fc.revoked, "|") != strings.Join(want, "|") {
		t.Fatalf("RevokeConnection calls %q, want %q", fc.revoked, want)
	}
}

// Ensure the root's ListGrants names the user one way (user key, issuer
// and subject, or user id; none for everyone), answers each grant's user,
// and RevokeGrant revokes any user's grant.
func TestListGrantsAndRevokeGrant(t *testing.T) {
	w, fc := newConnServer()
	for body, key := range map[string]string{
		`{}`:                                 "",
		`{"user":"` + connAlice.Key() + `"}`: connAlice.Key(),
		`{"issuer":"https://idp.example","subject":"bob"}`: connBob.Key(),
		`{"userId":"carol"}`: behalf.User{Subject: "carol"}.Key(),
	} {
		fc.listFor = nil
		a := w.post(t, "/behalf/ListGrants", body)
		if a.status != http.StatusOK || len(fc.listFor) != 1 || fc.listFor[0] != key {
			t.Fatalf("ListGrants %s: %d %s, asked for %q; want %q", body, a.status, a.raw, fc.listFor, key)
		}
	}
	a := w.post(t, "/behalf/ListGrants", `{}`)
	grants, _ := a.body["grants"].([]any)
	if len(grants) != 2 || grants[0].(map[string]any)["user"] != connAlice.Key() {
		t.Fatalf("every grant: %s, want each with its user", a.raw)
	}
	for body, field := range map[string]string{
		`{"user":"x","userId":"y"}`:                   "user",
		`{"userId":"y","issuer":"https://i.example"}`: "user",
		`{"issuer":"https://idp.example"}`:            "subject",
		`{"subject":"bob"}`:                           "subject",
	} {
		a := w.post(t, "/behalf/ListGrants", body)
		a.wantError(t, http.StatusBadRequest, "ValidationException")
		if fl, _ := a.body["fieldList"].([]any); len(fl) != 1 || fl[0].(map[string]any)["name"] != field {
			t.Errorf("ListGrants %s: %s, want a ValidationException naming %s", body, a.raw, field)
		}
	}

	a = w.post(t, "/behalf/RevokeGrant", `{"grantId":"g-bob"}`)
	if grant, _ := a.body["grant"].(map[string]any); a.status != http.StatusOK || grant["user"] != connBob.Key() || fc.revoked[len(fc.revoked)-1] != " g-bob" {
		t.Fatalf("RevokeGrant: %d %s (calls %q)", a.status, a.raw, fc.revoked)
	}
	w.post(t, "/behalf/RevokeGrant", `{"grantId":"nope"}`).wantError(t, http.StatusNotFound, "ResourceNotFoundException")
}

// Ensure a server without a connection service serves no connections API
// and refuses ListGrants and RevokeGrant plainly.
func TestConnectionsNotServed(t *testing.T) {
	w := newWireServer(rootCaller)
	req := httptest.NewRequest(http.MethodGet, behalf.ConnectionsAPIPath, nil)
	req.Header.Set("Authorization", "Bearer alice-jwt")
	w.do(t, req).wantError(t, http.StatusNotFound, "UnknownOperationException")
	for _, op := range []string{"ListGrants", "RevokeGrant"} {
		a := w.post(t, "/behalf/"+op, `{}`)
		a.wantError(t, http.StatusBadRequest, "ValidationException")
		if !strings.Contains(a.raw, "does not serve "+op) {
			t.Errorf("%s: %s", op, a.raw)
		}
	}
}
