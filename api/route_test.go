package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/route"
	"github.com/behalf-dev/behalf/ratelimit"
	"github.com/behalf-dev/behalf/userpool/oidcop"
	"github.com/behalf-dev/behalf/web"
)

// fullServer mounts every route the API has: each optional handler set.
func fullServer() *Server {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	return &Server{
		UserPools: struct{ behalf.UserPoolService }{}, Connections: struct{ behalf.ConnectionService }{}, Users: struct{ UserVerifier }{},
		Browser: page, BindPage: page, SignIn: page, ConnectionsPage: page, Invocations: page, ClientKeys: struct{ behalf.ClientKeyService }{}, Landing: page,
		Auth: allowAll{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// requestFor returns a request the pattern matches.
func requestFor(pattern string) *http.Request {
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		method, path = http.MethodGet, pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	for strings.Contains(path, "{") {
		i, j := strings.Index(path, "{"), strings.Index(path, "}")
		path = path[:i] + "x1" + path[j+1:]
	}
	return httptest.NewRequest(method, path, nil)
}

// Ensure every route the API mounts is named where it is mounted, with a
// name and an API family, and that the name a request gets is its own
// pattern's (issue 12, Shape 5: the rate limits and the metrics read the
// name instead of parsing paths).
func TestEveryRouteIsNamed(t *testing.T) {
	s := fullServer()
	m := s.router()
	want := len(s.routes()) + 2 /* health */ + 2 /* cognito */ + 6 /* connections */ + 1 /* invocations */ + 2 /* consent */ + 2 /* bind */ + 1 /* sign-in */ + 1 /* provider JWKS */ + 1 /* landing */
	if len(m.names) != want {
		t.Errorf("%d named patterns, want %d", len(m.names), want)
	}
	seen := map[string]string{}
	for pattern, name := range m.names {
		r := requestFor(pattern)
		if _, matched := m.mux.Handler(r); matched != pattern {
			t.Errorf("%s: a request for it %s %s matches %q", pattern, r.Method, r.URL.Path, matched)
			continue
		}
		r.Header.Set("X-Amz-Target", cognitoTargetPrefix+"InitiateAuth")
		rt := name(r)
		if rt.Name == "" || rt.Kind == route.None {
			t.Errorf("%s is named %+v", pattern, rt)
		}
		if other, dup := seen[rt.Name]; dup && rt.Name != "ConnectionsPage" {
			t.Errorf("%s and %s are both named %s", pattern, other, rt.Name)
		}
		seen[rt.Name] = pattern
	}
	for pattern, kind := range map[string]route.Kind{
		"GET /healthz": route.Health, "GET /readyz": route.Health,
		"POST /identities/oauth2/token": route.AWSJSON, "POST /runtimes/{runtime}/invocations": route.AWSJSON,
		"POST /{$}": route.Cognito, "OPTIONS /{$}": route.Cognito,
		"GET /identities/oauth2/authorize": route.HTML, behalf.BindPath: route.HTML, behalf.SignInCallbackPath: route.HTML,
		"GET " + behalf.ConnectionsPath: route.HTML, "GET " + behalf.ConnectionsAPIPath: route.AWSJSON,
		"GET /{$}": route.HTML,
	} {
		if rt := m.names[pattern](requestFor(pattern)); rt.Kind != kind {
			t.Errorf("%s is %s, want %s", pattern, rt.Kind, kind)
		}
	}

	// POST / is named by its operation; a target naming none is Cognito's, unnamed.
	cognito := m.names["POST /{$}"]
	for op := range s.cognitoOps() {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("X-Amz-Target", cognitoTargetPrefix+op)
		if rt := cognito(r); rt != (route.Route{Name: op, Kind: route.Cognito}) {
			t.Errorf("X-Amz-Target %s: %+v", op, rt)
		}
	}
	for _, target := range []string{"", "InitiateAuth", cognitoTargetPrefix + "FlyToTheMoon", "Other.InitiateAuth"} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("X-Amz-Target", target)
		if rt := cognito(r); rt != (route.Route{Kind: route.Cognito}) {
			t.Errorf("X-Amz-Target %q: %+v, want Cognito's, unnamed", target, rt)
		}
	}
}

// Ensure requests are named before Front sees them: by FrontRoutes for
// what Front serves, else by the pattern they match; the log line and
// Observe report the name, and an unknown route has none.
func TestRequestsNamedBeforeFront(t *testing.T) {
	s := fullServer()
	var logs strings.Builder
	s.Log = slog.New(slog.NewTextHandler(&logs, nil))
	var inFront, observed route.Route
	var observedOp string
	s.Front = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inFront, _ = route.Of(r)
			if r.URL.Path == "/p_1/login" {
				w.WriteHeader(http.StatusTooManyRequests) // refused before dispatch
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	s.FrontRoutes = func(r *http.Request) (route.Route, bool) {
		if strings.HasPrefix(r.URL.Path, "/p_1/") {
			return route.Route{Name: "HostedLogin", Kind: route.HTML}, true
		}
		return route.Route{}, false
	}
	s.Observe = func(r *http.Request, op string, status int, h http.Header, elapsed time.Duration) {
		observed, _ = route.Of(r)
		observedOp = op
	}
	h := s.Handler()
	for _, c := range []struct {
		method, path, target string
		want                 route.Route
	}{
		{"GET", "/p_1/login", "", route.Route{Name: "HostedLogin", Kind: route.HTML}},
		{"POST", "/identities/GetWorkloadAccessToken", "", route.Route{Name: "GetWorkloadAccessToken", Kind: route.AWSJSON}},
		{"POST", "/", cognitoTargetPrefix + "InitiateAuth", route.Route{Name: "InitiateAuth", Kind: route.Cognito}},
		{"GET", "/identities/oauth2/callback/google", "", route.Route{Name: "ConsentCallback", Kind: route.HTML}},
		{"HEAD", "/healthz", "", route.Route{Name: "Healthz", Kind: route.Health}},
		{"GET", "/nowhere", "", route.Route{}},
		{"POST", "/identities/oauth2/authorize", "", route.Route{}}, // 405
	} {
		inFront, observed, observedOp = route.Route{Name: "stale"}, route.Route{Name: "stale"}, "stale"
		logs.Reset()
		r := httptest.NewRequest(c.method, c.path, strings.NewReader("{}"))
		if c.target != "" {
			r.Header.Set("X-Amz-Target", c.target)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if inFront != c.want || observed != c.want || observedOp != c.want.Name {
			t.Errorf("%s %s: Front saw %+v, Observe %+v and %q; want %+v", c.method, c.path, inFront, observed, observedOp, c.want)
		}
		if !strings.Contains(logs.String(), " op="+c.want.Name+" ") && !(c.want.Name == "" && strings.Contains(logs.String(), ` op="" `)) {
			t.Errorf("%s %s: the log line does not name %q: %s", c.method, c.path, c.want.Name, logs.String())
		}
	}
}

// Ensure every route the per-IP limit lists (package ratelimit's policy,
// by name) is a route the API or the hosted login names: a name that
// drifted would silently stop limiting it.
func TestIPLimitedRoutesExist(t *testing.T) {
	s := fullServer()
	m := s.router()
	named := map[string]bool{}
	for _, name := range m.names {
		named[name(requestFor("GET /")).Name] = true
	}
	for op := range s.cognitoOps() {
		named[op] = true
	}
	for _, rt := range oidcop.Routes() {
		named[rt.Name] = true
	}
	for _, name := range ratelimit.IPLimitedRoutes() {
		if !named[name] {
			t.Errorf("the per-IP limit lists %s, which no route is named", name)
		}
	}
}

// Ensure GET / is a landing page for a browser (its Accept names
// text/html), and the AWS error for anything else, as before: an SDK
// client probing the root still gets UnknownOperationException.
func TestLandingForBrowsersOnly(t *testing.T) {
	s := fullServer()
	s.Landing = web.Landing{}
	h := s.Handler()
	for _, c := range []struct {
		method, accept string
		wantHTML       bool
	}{
		{"GET", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true}, // Chromium, Firefox
		{"GET", "TEXT/HTML", true},
		{"HEAD", "text/html", true},
		{"GET", "", false},
		{"GET", "application/json", false},
		{"GET", "*/*", false},
		{"GET", "text/htmlx", false},
		{"POST", "text/html", false}, // POST / is Cognito's
	} {
		r := httptest.NewRequest(c.method, "/", nil)
		if c.accept != "" {
			r.Header.Set("Accept", c.accept)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		isHTML := strings.HasPrefix(w.Header().Get("Content-Type"), "text/html")
		if isHTML != c.wantHTML || (c.wantHTML && w.Code != http.StatusOK) {
			t.Errorf("%s / Accept %q: %d %s, want HTML %v", c.method, c.accept, w.Code, w.Header().Get("Content-Type"), c.wantHTML)
		}
		if c.wantHTML && c.method == "GET" && !strings.Contains(w.Body.String(), `href="/connections"`) {
			t.Errorf("the landing page does not link to /connections:\n%s", w.Body.String())
		}
		if !c.wantHTML && c.method == "GET" && w.Header().Get("X-Amzn-ErrorType") != "UnknownOperationException" {
			t.Errorf("GET / Accept %q: %d %q, want UnknownOperationException", c.accept, w.Code, w.Body.String())
		}
	}
	// Other paths stay the AWS error, for browsers too.
	r := httptest.NewRequest("GET", "/nowhere", nil)
	r.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusNotFound || w.Header().Get("X-Amzn-ErrorType") != "UnknownOperationException" {
		t.Errorf("GET /nowhere: %d %s", w.Code, w.Body.String())
	}
}
