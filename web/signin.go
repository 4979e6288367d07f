package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/cookieprefix"
	"github.com/behalf-dev/behalf/internal/pageframe"
	"github.com/behalf-dev/behalf/oauth"
)

// SignInCallbackPath is the redirect URI of every browser sign-in, under
// the public URL: register {public-url}/identities/oauth2/signin/callback
// as a callback URL of the client that signs users in (a user-pool app
// client, or a client at a registered issuer).
const SignInCallbackPath = "/identities/oauth2/signin/callback"

// Defaults of SignIn.
const (
	// DefaultSignInLifetime is how long a signed-in browser stays signed in.
	DefaultSignInLifetime = 15 * time.Minute
	// signInFlowLifetime bounds the round trip to the issuer.
	signInFlowLifetime = 10 * time.Minute
	csrfLifetime       = 30 * time.Minute
	maxCookieLen       = 3072
)

// Cookie names. A signed-in browser holds one session cookie per issuer,
// named signInCookiePrefix + a hash of the issuer (Path=/); a sign-in in
// progress holds one flow cookie per state (Path=SignInCallbackPath). They
// are not named behalf_session: the user pools' hosted login uses that name
// under /{poolId}.
const (
	signInCookiePrefix = "behalf_signin_"
	flowCookiePrefix   = "behalf_signin_flow_"
	csrfCookie         = "behalf_csrf"
)

// SignIn signs a browser's user in at an OpenID provider (a Behalf user
// pool, issuer {public-url}/{poolId}, or any registered issuer) with the
// authorization code flow, PKCE S256, state and nonce, verifies the ID
// token (go-oidc: issuer, audience = client ID, expiry, signature, nonce),
// and then holds the user (issuer + subject) in Behalf's own session
// cookie: sealed with the Sealer (authenticated encryption bound to the
// issuer, so it cannot be forged or moved to another issuer), HttpOnly,
// SameSite=Lax, Secure when the public URL is https, Path=/, and valid for
// Lifetime.
//
// Discovery, the token request and the issuer's keys are fetched over
// HTTP. URLs under PublicURL (Behalf's own user pools) are served in
// process by Local, so Behalf never calls its own public URL over the
// network (which may not be reachable from inside a deployment); every
// other URL goes through HTTPClient, which should be SSRF-guarded
// (safehttp).
//
// SignIn is an http.Handler: mount it at GET SignInCallbackPath.
type SignIn struct {
	Sealer behalf.Sealer
	// PublicURL is Behalf's external base URL, no trailing slash.
	PublicURL string
	// HTTPClient reaches registered issuers.
	HTTPClient *http.Client
	// Local serves the user pools' OIDC routes ({PublicURL}/{poolId}/…)
	// in process; nil sends those requests through HTTPClient as well.
	Local http.Handler
	Log   *slog.Logger
	// Now, when set, replaces the clock (tests).
	Now func() time.Time
	// Lifetime of the session cookie; zero means DefaultSignInLifetime.
	Lifetime time.Duration
	// Frame is the frame of the sign-in's own pages (its errors, the
	// "continue" page).
	Frame pageframe.Frame
}

// SignInClient is the relying party a browser signs in with.
type SignInClient struct {
	// Issuer is the OpenID provider's issuer URL (exactly as in its tokens).
	Issuer   string
	ClientID string
	// ClientSecret is empty for a public client.
	ClientSecret behalf.Secret
	// Scopes requested besides openid (optional).
	Scopes []string
}

// signInSession is the content of the session cookie.
type signInSession struct {
	Issuer  string `json:"i"`
	Subject string `json:"s"`
	// Name is how the page names the person (displayName of the ID
	// token's claims); "" when the token had none.
	Name    string `json:"n,omitempty"`
	Expires int64  `json:"e"` // Unix seconds
}

// displayName is how a person is named to themselves on Behalf's pages:
// the ID token's email, else preferred_username, else name, else Cognito's
// cognito:username; "" when it has none of them (the page then names no
// one rather than show an opaque subject).
func displayName(claims map[string]any) string {
	for _, k := range []string{"email", "preferred_username", "name", "cognito:username"} {
		if v, ok := claims[k].(string); ok && strings.TrimSpace(v) != "" && len(v) <= 256 {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// signInFlow is the content of a flow cookie.
type signInFlow struct {
	Issuer       string   `json:"i"`
	ClientID     string   `json:"c"`
	ClientSecret string   `json:"k,omitempty"`
	Verifier     string   `json:"v"`
	Nonce        string   `json:"n"`
	ReturnTo     string   `json:"r"`
	Scopes       []string `json:"sc,omitempty"`
	Expires      int64    `json:"e"`
}

func (s *SignIn) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *SignIn) lifetime() time.Duration {
	if s.Lifetime > 0 {
		return s.Lifetime
	}
	return DefaultSignInLifetime
}

func (s *SignIn) secure() bool { return strings.HasPrefix(s.PublicURL, "https://") }

// CallbackURL is the redirect URI to register at the issuer's client.
func (s *SignIn) CallbackURL() string { return s.PublicURL + SignInCallbackPath }

// User returns the user this browser is signed in as at issuer, if it
// holds a valid, unexpired session cookie for it.
func (s *SignIn) User(r *http.Request, issuer string) (behalf.User, bool) {
	c, err := s.readCookie(r, sessionCookieName(issuer), "/")
	if err != nil || len(c.Value) > maxCookieLen {
		return behalf.User{}, false
	}
	var sess signInSession
	if !s.open(r.Context(), sessionSeal(issuer), c.Value, &sess) {
		return behalf.User{}, false
	}
	if sess.Issuer != issuer || sess.Subject == "" || s.now().Unix() >= sess.Expires {
		return behalf.User{}, false
	}
	return behalf.User{Issuer: sess.Issuer, Subject: sess.Subject}, true
}

// DisplayName returns how to name the person this browser is signed in as
// at issuer (see displayName), or "" when it is not signed in there or
// their ID token named them in no way a person would recognise.
func (s *SignIn) DisplayName(r *http.Request, issuer string) string {
	c, err := s.readCookie(r, sessionCookieName(issuer), "/")
	if err != nil || len(c.Value) > maxCookieLen {
		return ""
	}
	var sess signInSession
	if !s.open(r.Context(), sessionSeal(issuer), c.Value, &sess) || sess.Issuer != issuer || s.now().Unix() >= sess.Expires {
		return ""
	}
	return sess.Name
}

// SignOut deletes the browser's session cookie for issuer.
func (s *SignIn) SignOut(w http.ResponseWriter, issuer string) {
	http.SetCookie(w, s.cookie(sessionCookieName(issuer), "", "/", -1, http.SameSiteLaxMode))
}

// Begin starts a sign-in at c.Issuer and redirects the browser there; once
// signed in, the browser comes back to returnTo, which must be a path on
// Behalf ("/…", not "//…"): anything else is refused (no open redirects).
// It returns an error, having written nothing, when returnTo is not local
// or the issuer cannot be discovered.
func (s *SignIn) Begin(w http.ResponseWriter, r *http.Request, c SignInClient, returnTo string) error {
	if !LocalPath(returnTo) {
		return behalf.Errorf(behalf.EINVALID, "The sign-in return path is not a local path.")
	}
	if c.Issuer == "" || c.ClientID == "" {
		return behalf.Errorf(behalf.EINVALID, "No identity provider is configured for this sign-in.")
	}
	ctx := r.Context()
	p, err := s.provider(ctx, c.Issuer)
	if err != nil {
		return err
	}
	state, verifier, nonce := random256(), oauth2.GenerateVerifier(), random256()
	flow := signInFlow{
		Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: c.ClientSecret.Reveal(),
		Verifier: verifier, Nonce: nonce, ReturnTo: returnTo, Scopes: c.Scopes,
		Expires: s.now().Add(signInFlowLifetime).Unix(),
	}
	v, err := s.seal(ctx, flowSeal(state), flow)
	if err != nil {
		return err
	}
	target := s.oauth2Config(p, flow).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	setPageHeaders(w, s.Frame)
	http.SetCookie(w, s.cookie(flowCookieName(state), v, SignInCallbackPath, int(signInFlowLifetime/time.Second), http.SameSiteLaxMode))
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// ServeHTTP serves the sign-in callback: GET SignInCallbackPath?code&state.
func (s *SignIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w, s.Frame)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.fail(w, r, http.StatusMethodNotAllowed, "This address only answers GET.")
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" || len(q["state"]) != 1 || len(state) > 256 {
		s.fail(w, r, http.StatusBadRequest, "The sign-in response has no state.")
		return
	}
	name := flowCookieName(state)
	ck, err := s.readCookie(r, name, SignInCallbackPath)
	var flow signInFlow
	if err != nil || len(ck.Value) > maxCookieLen || !s.open(r.Context(), flowSeal(state), ck.Value, &flow) {
		s.fail(w, r, http.StatusBadRequest, "This sign-in was not started in this browser, or was already finished.")
		return
	}
	// Single use: the flow cookie goes whatever happens next.
	http.SetCookie(w, s.cookie(name, "", SignInCallbackPath, -1, http.SameSiteLaxMode))
	if s.now().Unix() >= flow.Expires {
		s.fail(w, r, http.StatusBadRequest, "This sign-in took too long and has expired. Please start again.")
		return
	}
	if e := q.Get("error"); e != "" {
		s.fail(w, r, http.StatusBadRequest, "The identity provider did not sign you in ("+truncate(e, 64)+").")
		return
	}
	code := q.Get("code")
	if code == "" || len(q["code"]) != 1 {
		s.fail(w, r, http.StatusBadRequest, "The sign-in response has no code.")
		return
	}
	user, name, err := s.finish(r.Context(), flow, code)
	if err != nil {
		logOr(s.Log).WarnContext(r.Context(), "browser sign-in failed", "issuer", flow.Issuer, "err", err)
		s.fail(w, r, http.StatusBadRequest, "The identity provider's answer could not be verified. Please try again.")
		return
	}
	if err := s.setSession(w, r, user, name); err != nil {
		logOr(s.Log).ErrorContext(r.Context(), "seal sign-in session", "err", err)
		s.fail(w, r, http.StatusInternalServerError, "Something went wrong. Please try again.")
		return
	}
	if !LocalPath(flow.ReturnTo) { // sealed by Begin, which checked it; never leave Behalf
		flow.ReturnTo = "/"
	}
	continuePage(w, s.Frame, flow.ReturnTo)
}

// continuePage sends the browser on to a local path with a page rather
// than a redirect. A sign-in ends in the issuer's login form, whose
// Content-Security-Policy (form-action) covers every redirect that follows
// the form's submission; the next hop may go to a credential provider on
// another origin, which the browser would then block. The page's refresh
// starts a new navigation instead.
func continuePage(w http.ResponseWriter, f pageframe.Frame, path string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	continueTmpl.Execute(w, struct {
		Frame pageframe.Frame
		Path  string
	}{f, path})
}

var continueTmpl = pageframe.Parse("continue", `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={{.Path}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signed in · {{.Frame.ProductName}}</title>
<style>{{template "frame-style"}}
body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}</style>
</head>
<body>{{template "frame-header" .Frame}}<main><h1>Signed in</h1><p>You are signed in. <a href="{{.Path}}">Continue</a></p></main>{{template "frame-footer" .Frame}}</body>
</html>
`)

// finish exchanges the code and verifies the ID token.
func (s *SignIn) finish(ctx context.Context, flow signInFlow, code string) (behalf.User, string, error) {
	ctx = oidc.ClientContext(ctx, s.client())
	p, err := s.provider(ctx, flow.Issuer)
	if err != nil {
		return behalf.User{}, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tok, err := s.oauth2Config(p, flow).Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		// The provider's answer may echo the request: redact its secrets before it is logged.
		return behalf.User{}, "", oauth.TokenRequestError("exchange code", err, flow.ClientID, flow.ClientSecret, code, flow.Verifier)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return behalf.User{}, "", errors.New("no id_token in the token response")
	}
	idt, err := p.VerifierContext(ctx, &oidc.Config{ClientID: flow.ClientID, Now: s.now}).Verify(ctx, raw)
	if err != nil {
		return behalf.User{}, "", fmt.Errorf("verify id_token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return behalf.User{}, "", errors.New("id_token nonce does not match")
	}
	if idt.Subject == "" {
		return behalf.User{}, "", errors.New("id_token has no subject")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return behalf.User{}, "", fmt.Errorf("id_token claims: %w", err)
	}
	return behalf.User{Issuer: idt.Issuer, Subject: idt.Subject}, displayName(claims), nil
}

func (s *SignIn) setSession(w http.ResponseWriter, r *http.Request, u behalf.User, name string) error {
	v, err := s.seal(r.Context(), sessionSeal(u.Issuer), signInSession{Issuer: u.Issuer, Subject: u.Subject, Name: name, Expires: s.now().Add(s.lifetime()).Unix()})
	if err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(sessionCookieName(u.Issuer), v, "/", int(s.lifetime()/time.Second), http.SameSiteLaxMode))
	return nil
}

func (s *SignIn) oauth2Config(p *oidc.Provider, flow signInFlow) *oauth2.Config {
	scopes := append([]string{oidc.ScopeOpenID}, flow.Scopes...)
	ep := p.Endpoint()
	if flow.ClientSecret == "" {
		ep.AuthStyle = oauth2.AuthStyleInParams // a public client sends only client_id
	}
	return &oauth2.Config{ClientID: flow.ClientID, ClientSecret: flow.ClientSecret, Endpoint: ep, RedirectURL: s.CallbackURL(), Scopes: scopes}
}

// provider discovers issuer (go-oidc checks the document's issuer).
func (s *SignIn) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, s.client()), 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, behalf.Errorf(behalf.EUNAVAILABLE, "The identity provider %s could not be reached: %v", issuer, err)
	}
	// NewProvider keeps ctx's client for the keys, not its deadline.
	return p, nil
}

// client routes requests under PublicURL to Local in process, others to HTTPClient.
func (s *SignIn) client() *http.Client {
	next := s.HTTPClient
	if next == nil {
		next = http.DefaultClient
	}
	if s.Local == nil || s.PublicURL == "" {
		return next
	}
	return &http.Client{Transport: localTransport{local: s.Local, prefix: s.PublicURL + "/", next: next}, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type localTransport struct {
	local  http.Handler
	prefix string
	next   *http.Client
}

func (t localTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.String(), t.prefix) {
		return t.next.Do(req)
	}
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:0"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.local.ServeHTTP(rec, in)
	return rec.Result(), nil
}

// CSRFToken returns a token for a form that posts action (a name of the
// form's purpose, e.g. "bind:"+sessionID), bound to this browser by a
// random HttpOnly, SameSite=Strict cookie it sets if missing. Put it in a
// hidden field; CheckCSRF verifies it.
func (s *SignIn) CSRFToken(w http.ResponseWriter, r *http.Request, action string) (string, error) {
	id := ""
	if c, err := s.readCookie(r, csrfCookie, "/"); err == nil && len(c.Value) == 43 {
		id = c.Value
	} else {
		id = random256()
		http.SetCookie(w, s.cookie(csrfCookie, id, "/", 0, http.SameSiteStrictMode))
	}
	return s.seal(r.Context(), csrfSeal(id, action), s.now().Add(csrfLifetime).Unix())
}

// CheckCSRF reports whether the request's form field "csrf" is a token
// CSRFToken made for action in this browser, not expired, and that the
// request is not cross-site (Sec-Fetch-Site or Origin, when sent).
func (s *SignIn) CheckCSRF(r *http.Request, action string) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" && !sameOrigin(o, s.PublicURL) {
		return false
	}
	c, err := s.readCookie(r, csrfCookie, "/")
	if err != nil || len(c.Value) != 43 {
		return false
	}
	tok := r.PostFormValue("csrf")
	if tok == "" || len(tok) > maxCookieLen {
		return false
	}
	var exp int64
	return s.open(r.Context(), csrfSeal(c.Value, action), tok, &exp) && s.now().Unix() < exp
}

func sameOrigin(origin, publicURL string) bool {
	u, err := url.Parse(publicURL)
	return err == nil && origin == u.Scheme+"://"+u.Host
}

// LocalPath reports whether p is a path on this host: it starts with one
// "/" and has no scheme, host, backslash or control character, so a
// redirect to it cannot leave Behalf.
func LocalPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || len(p) > 2048 {
		return false
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

// cookie returns an HttpOnly cookie; on https it is Secure and named with
// the prefix browsers enforce for its path (wireName). maxAge < 0 deletes it.
func (s *SignIn) cookie(name, value, path string, maxAge int, site http.SameSite) *http.Cookie {
	return &http.Cookie{Name: s.wireName(name, path), Value: value, Path: path, MaxAge: maxAge, HttpOnly: true, Secure: s.secure(), SameSite: site}
}

// wireName is the name on the wire of the cookie name set on path:
// "__Host-name" on https for path "/", "__Secure-name" for a narrower path.
func (s *SignIn) wireName(name, path string) string {
	return cookieprefix.Name(name, path, s.secure())
}

// readCookie returns the request's cookie name set on path.
func (s *SignIn) readCookie(r *http.Request, name, path string) (*http.Cookie, error) {
	return r.Cookie(s.wireName(name, path))
}

func (s *SignIn) seal(ctx context.Context, sc behalf.SealContext, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sealed, err := s.Sealer.Seal(ctx, sc, b)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

func (s *SignIn) open(ctx context.Context, sc behalf.SealContext, value string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(b) == 0 {
		return false
	}
	plain, err := s.Sealer.Open(ctx, sc, behalf.Sealed(b))
	if err != nil {
		return false
	}
	return json.Unmarshal(plain, v) == nil
}

func (s *SignIn) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	errorPage.Execute(w, errorData{Frame: s.Frame, Title: "Sign-in did not complete", Message: msg})
}

func sessionSeal(issuer string) behalf.SealContext {
	return behalf.SealContext{Kind: "web-signin-session", Key: issuer, Field: "cookie"}
}

func flowSeal(state string) behalf.SealContext {
	return behalf.SealContext{Kind: "web-signin-flow", Key: state, Field: "cookie"}
}

func csrfSeal(id, action string) behalf.SealContext {
	return behalf.SealContext{Kind: "web-csrf", Key: id, Field: action}
}

func sessionCookieName(issuer string) string { return signInCookiePrefix + shortHash(issuer) }
func flowCookieName(state string) string     { return flowCookiePrefix + shortHash(state) }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func random256() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
