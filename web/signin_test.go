package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/behalf-dev/behalf"
)

// signinSealer "seals" by prefixing the context (not encryption): enough to
// check that cookies are bound to their purpose.
type signinSealer struct{}

func (signinSealer) prefix(sc behalf.SealContext) []byte {
	return []byte(sc.Kind + "\x00" + sc.Key + "\x00" + sc.Field + "\x00")
}

func (s signinSealer) Seal(_ context.Context, sc behalf.SealContext, plain []byte) (behalf.Sealed, error) {
	return append(s.prefix(sc), plain...), nil
}

func (s signinSealer) Open(_ context.Context, sc behalf.SealContext, sealed behalf.Sealed) ([]byte, error) {
	p := s.prefix(sc)
	if !bytes.HasPrefix(sealed, p) {
		return nil, errors.New("wrong seal context")
	}
	return bytes.Clone(sealed[len(p):]), nil
}

// testOP is a minimal OpenID provider: discovery, keys, and a token
// endpoint that checks the code, PKCE and client, and signs an ID token.
type testOP struct {
	*httptest.Server
	key *rsa.PrivateKey

	mu        sync.Mutex
	challenge string // S256 challenge of the last authorization request
	nonce     string
	sub       string
	badNonce  bool
	lastForm  url.Values
}

func newTestOP(t *testing.T) *testOP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &testOP{key: key, sub: "user-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": op.URL, "authorization_endpoint": op.URL + "/authorize", "token_endpoint": op.URL + "/token",
			"jwks_uri": op.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		op.mu.Lock()
		defer op.mu.Unlock()
		op.lastForm = r.PostForm
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if r.PostForm.Get("code") != "good-code" || base64.RawURLEncoding.EncodeToString(sum[:]) != op.challenge {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		nonce := op.nonce
		if op.badNonce {
			nonce = "other"
		}
		claims, _ := json.Marshal(map[string]any{"iss": op.URL, "sub": op.sub, "aud": "client-1", "nonce": nonce,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: op.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		jws, _ := signer.Sign(claims)
		idt, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": idt})
	})
	op.Server = httptest.NewServer(mux)
	t.Cleanup(op.Close)
	return op
}

// authorize plays the provider's authorization endpoint on the URL Begin
// redirected to, and returns the state.
func (op *testOP) authorize(t *testing.T, loc string) string {
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, op.URL+"/authorize?") {
		t.Fatalf("Begin redirected to %q", loc)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" || q.Get("client_id") != "client-1" ||
		q.Get("nonce") == "" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "openid") ||
		q.Get("redirect_uri") != "https://behalf.example.com"+SignInCallbackPath {
		t.Fatalf("authorization request %v", q)
	}
	op.mu.Lock()
	op.challenge, op.nonce = q.Get("code_challenge"), q.Get("nonce")
	op.mu.Unlock()
	return q.Get("state")
}

// jar is a minimal cookie store keyed by name (paths ignored).
type jar map[string]*http.Cookie

func (j jar) take(resp *http.Response) {
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(j, c.Name)
		} else {
			j[c.Name] = c
		}
	}
}

func (j jar) request(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for _, c := range j {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

func newTestSignIn(op *testOP, now func() time.Time) *SignIn {
	return &SignIn{Sealer: signinSealer{}, PublicURL: "https://behalf.example.com", HTTPClient: op.Client(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now}
}

// signIn runs Begin and the callback and returns the final response.
func signIn(t *testing.T, s *SignIn, op *testOP, j jar, client SignInClient, code string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := s.Begin(rec, j.request("GET", "/identities/oauth2/bind?session_id=x"), client, "/identities/oauth2/bind?session_id=x"); err != nil {
		t.Fatal(err)
	}
	j.take(rec.Result())
	state := op.authorize(t, rec.Header().Get("Location"))
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, j.request("GET", SignInCallbackPath+"?"+url.Values{"state": {state}, "code": {code}}.Encode()))
	j.take(rec.Result())
	return rec
}

func TestSignInFlow(t *testing.T) {
	op := newTestOP(t)
	now := time.Now()
	s := newTestSignIn(op, func() time.Time { return now })
	client := SignInClient{Issuer: op.URL, ClientID: "client-1", ClientSecret: "s3cret"}
	j := jar{}

	if _, ok := s.User(j.request("GET", "/"), op.URL); ok {
		t.Fatal("signed in before signing in")
	}
	rec := signIn(t, s, op, j, client, "good-code")
	// A page that refreshes to the return path, not a redirect: the next
	// hop may leave the origin, which the issuer's form-action would block.
	if body := rec.Body.String(); rec.Code != http.StatusOK || rec.Header().Get("Location") != "" ||
		!strings.Contains(body, `<meta http-equiv="refresh" content="0;url=/identities/oauth2/bind?session_id=x">`) {
		t.Fatalf("callback: %d %q\n%s", rec.Code, rec.Header().Get("Location"), body)
	}
	if op.lastForm.Get("code_verifier") == "" || op.lastForm.Get("redirect_uri") != s.CallbackURL() {
		t.Errorf("token request %v", op.lastForm)
	}
	u, ok := s.User(j.request("GET", "/"), op.URL)
	if !ok || u != (behalf.User{Issuer: op.URL, Subject: "user-1"}) {
		t.Fatalf("User = %+v, %v", u, ok)
	}
	c := j["__Host-"+sessionCookieName(op.URL)]
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != int(DefaultSignInLifetime/time.Second) {
		t.Fatalf("session cookie %+v", c)
	}
	for name := range j {
		if strings.HasPrefix(name, flowCookiePrefix) {
			t.Errorf("flow cookie %s left after the callback", name)
		}
	}
	// The cookie is good for its issuer only, and only for the lifetime.
	if _, ok := s.User(j.request("GET", "/"), "https://other.example.com"); ok {
		t.Error("the session counts at another issuer")
	}
	moved := jar{sessionCookieName("https://other.example.com"): {Name: sessionCookieName("https://other.example.com"), Value: c.Value}}
	if _, ok := s.User(moved.request("GET", "/"), "https://other.example.com"); ok {
		t.Error("a session cookie renamed for another issuer was accepted")
	}
	now = now.Add(DefaultSignInLifetime)
	if _, ok := s.User(j.request("GET", "/"), op.URL); ok {
		t.Error("the session outlived its lifetime")
	}
}

func TestSignInRefusals(t *testing.T) {
	op := newTestOP(t)
	now := time.Now()
	s := newTestSignIn(op, func() time.Time { return now })
	client := SignInClient{Issuer: op.URL, ClientID: "client-1"}

	t.Run("WrongNonce", func(t *testing.T) {
		op.badNonce = true
		defer func() { op.badNonce = false }()
		j := jar{}
		if rec := signIn(t, s, op, j, client, "good-code"); rec.Code != http.StatusBadRequest {
			t.Fatalf("callback with a wrong nonce: %d", rec.Code)
		}
		if _, ok := s.User(j.request("GET", "/"), op.URL); ok {
			t.Fatal("signed in with a wrong nonce")
		}
	})
	t.Run("BadCode", func(t *testing.T) {
		j := jar{}
		if rec := signIn(t, s, op, j, client, "bad-code"); rec.Code != http.StatusBadRequest {
			t.Fatalf("callback with a bad code: %d", rec.Code)
		}
	})
	t.Run("OtherBrowser", func(t *testing.T) {
		// The callback in a browser that did not begin the sign-in.
		rec := httptest.NewRecorder()
		if err := s.Begin(rec, httptest.NewRequest("GET", "/", nil), client, "/x"); err != nil {
			t.Fatal(err)
		}
		state := op.authorize(t, rec.Header().Get("Location"))
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", SignInCallbackPath+"?state="+url.QueryEscape(state)+"&code=good-code", nil))
		if rec.Code != http.StatusBadRequest || rec.Header().Get("Set-Cookie") != "" {
			t.Fatalf("callback without the flow cookie: %d %v", rec.Code, rec.Header())
		}
	})
	t.Run("Expired", func(t *testing.T) {
		j := jar{}
		rec := httptest.NewRecorder()
		s.Begin(rec, j.request("GET", "/"), client, "/x")
		j.take(rec.Result())
		state := op.authorize(t, rec.Header().Get("Location"))
		now = now.Add(signInFlowLifetime)
		defer func() { now = now.Add(-signInFlowLifetime) }()
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, j.request("GET", SignInCallbackPath+"?state="+url.QueryEscape(state)+"&code=good-code"))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "expired") {
			t.Fatalf("late callback: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("OpenRedirect", func(t *testing.T) {
		for _, back := range []string{"https://evil.example", "//evil.example/x", "/\\evil.example", "evil", "/ok\r\nx", ""} {
			rec := httptest.NewRecorder()
			if err := s.Begin(rec, httptest.NewRequest("GET", "/", nil), client, back); err == nil || rec.Code != http.StatusOK || len(rec.Header()) != 0 {
				t.Errorf("Begin(returnTo %q) = %v, wrote %d %v", back, err, rec.Code, rec.Header())
			}
		}
	})
	t.Run("ProviderError", func(t *testing.T) {
		j := jar{}
		rec := httptest.NewRecorder()
		s.Begin(rec, j.request("GET", "/"), client, "/x")
		j.take(rec.Result())
		state := op.authorize(t, rec.Header().Get("Location"))
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, j.request("GET", SignInCallbackPath+"?state="+url.QueryEscape(state)+"&error=access_denied"))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "access_denied") || strings.Contains(rec.Body.String(), state) {
			t.Fatalf("error callback: %d %s", rec.Code, rec.Body)
		}
	})
}

func TestLocalPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/identities/oauth2/bind?session_id=a": true, "/": true,
		"": false, "//evil": false, "/\\evil": false, "https://evil": false, "evil": false,
		"/a\\b": false, "/a\nb": false, "/\x00": false,
	} {
		if got := LocalPath(p); got != want {
			t.Errorf("LocalPath(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestCSRF(t *testing.T) {
	s := &SignIn{Sealer: signinSealer{}, PublicURL: "https://behalf.example.com", Now: time.Now}
	j := jar{}
	rec := httptest.NewRecorder()
	tok, err := s.CSRFToken(rec, j.request("GET", "/"), "bind:1")
	if err != nil {
		t.Fatal(err)
	}
	j.take(rec.Result())
	if c := j["__Host-"+csrfCookie]; c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode {
		t.Fatalf("CSRF cookie %+v", c)
	}
	post := func(j jar, form url.Values, header ...string) bool {
		r := httptest.NewRequest("POST", "/identities/oauth2/bind", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		for _, c := range j {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		return s.CheckCSRF(r, "bind:1")
	}
	if !post(j, url.Values{"csrf": {tok}}, "Origin", "https://behalf.example.com", "Sec-Fetch-Site", "same-origin") {
		t.Fatal("a good token was refused")
	}
	host := "__Host-" + csrfCookie
	other := jar{host: {Name: host, Value: strings.Repeat("A", 43)}}
	planted := jar{csrfCookie: {Name: csrfCookie, Value: j[host].Value}} // unprefixed, as plain http could set it
	for name, ok := range map[string]bool{
		"no token":       post(j, url.Values{}),
		"tampered token": post(j, url.Values{"csrf": {tok[:len(tok)-2] + "AA"}}),
		"other browser":  post(other, url.Values{"csrf": {tok}}),
		"no cookie":      post(jar{}, url.Values{"csrf": {tok}}),
		"unprefixed":     post(planted, url.Values{"csrf": {tok}}),
		"cross-site":     post(j, url.Values{"csrf": {tok}}, "Sec-Fetch-Site", "cross-site"),
		"other origin":   post(j, url.Values{"csrf": {tok}}, "Origin", "https://evil.example"),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
	r := httptest.NewRequest("POST", "/", strings.NewReader("csrf="+url.QueryEscape(tok)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: host, Value: j[host].Value})
	if s.CheckCSRF(r, "switch:1") {
		t.Error("a token for one action was accepted for another")
	}
}
