// Package realidp runs a real, third-party OAuth 2.0 / OpenID Connect
// provider in-process on loopback, for end-to-end tests.
//
// The provider is zitadel/oidc v3's example OpenID Provider
// (github.com/zitadel/oidc/v3/example/server/exampleop and .../storage,
// Apache-2.0). This package is only a thin wrapper: it starts the example
// OP's router on an httptest server, registers confidential web clients in
// it through the example storage's own constructors, and drives the example
// login page the way a browser would. Nothing of the protocol is implemented
// here.
package realidp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// TestUser and TestPassword are the credentials of a user that exists in the
// example storage (storage.NewUserStore derives the user name's domain from
// the URL it is given; Start passes "http://localhost", so the user is
// always "test-user@localhost" whatever port the server listens on).
const (
	TestUser     = "test-user@localhost"
	TestPassword = "verysecure"
)

// userStoreURL only feeds the host name of TestUser; see TestUser.
const userStoreURL = "http://localhost"

// maxRedirects bounds the redirects Login follows per request, like a browser.
const maxRedirects = 10

// Server is zitadel/oidc's example OpenID Provider on loopback.
type Server struct {
	// Issuer is the OP's issuer identifier and base URL, e.g.
	// "http://127.0.0.1:41234" (no trailing slash).
	Issuer string
	// DiscoveryURL is Issuer + "/.well-known/openid-configuration".
	DiscoveryURL string

	host string // host:port of Issuer

	// gate serialises RegisterClient (writer) against request handling
	// (readers): the example storage reads its client map under a private
	// lock we cannot take, so writes to that map must not overlap requests.
	gate    sync.RWMutex
	clients map[string]*storage.Client // owned by the example storage
	// jwksURIs are the JWKS URLs of the clients that authenticate with
	// private_key_jwt (RegisterPrivateKeyJWTClient), under gate.
	jwksURIs map[string]string
}

// Start runs a fresh example OP (its own storage, users, RSA signing key and
// client list) on 127.0.0.1 at a random port. The server is closed by
// t.Cleanup.
//
// The example OP's request-logging middleware logs one line per request
// through slog's default logger; Start does not change the process-wide
// default logger.
func Start(t testing.TB) *Server {
	t.Helper()

	srv := httptest.NewUnstartedServer(nil) // listener already bound to 127.0.0.1:0
	issuer := "http://" + srv.Listener.Addr().String()
	s := &Server{
		Issuer:       issuer,
		DiscoveryURL: issuer + "/.well-known/openid-configuration",
		host:         srv.Listener.Addr().String(),
		clients:      map[string]*storage.Client{},
		jwksURIs:     map[string]string{},
	}

	// A per-server client map (NewStorageWithClients) instead of the
	// package-global one behind storage.NewStorage/storage.RegisterClients,
	// so that servers in parallel tests neither share nor race on clients.
	// The storage generates its own RSA-2048 signing key.
	st := &keyedStorage{Storage: storage.NewStorageWithClients(storage.NewUserStore(userStoreURL), s.clients), s: s}

	// nil logger: SetupServer would otherwise call slog.SetDefault.
	// wrapServer=false: the plain op.Provider, as in the example's main.go.
	router := exampleop.SetupServer(issuer, st, nil, false)

	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.gate.RLock()
		defer s.gate.RUnlock()
		router.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return s
}

// RegisterClient registers (or replaces) a confidential web client, using
// the example storage's storage.WebClient: application type web, grant types
// authorization_code, refresh_token and token-exchange, response type code
// (and id_token), exact redirect_uri matching (plus http:// redirect URIs,
// since the client is in the example's dev mode). The secret is accepted via
// client_secret_basic and client_secret_post. PKCE (S256) is accepted but not
// required for confidential clients.
//
// At least one redirect URI is required (storage.WebClient would otherwise
// silently default to http://localhost:9999/auth/callback).
func (s *Server) RegisterClient(id, secret string, redirectURIs ...string) {
	if len(redirectURIs) == 0 {
		panic("realidp: RegisterClient needs at least one redirect URI")
	}
	c := storage.WebClient(id, secret, redirectURIs...)
	s.gate.Lock()
	defer s.gate.Unlock()
	s.clients[id] = c
}

// RegisterPrivateKeyJWTClient registers (or replaces) a web client as
// RegisterClient does, except that it authenticates at the token endpoint
// with private_key_jwt (RFC 7523 client assertions; the OP requires aud to
// name its issuer), verified with the keys it fetches from jwksURI, as a
// client's registered jwks_uri. The example storage only knows secrets and
// one built-in service key: the two lookups that decide this (the client's
// authentication method, its key by kid) are answered here; verifying the
// assertion stays the OP's.
func (s *Server) RegisterPrivateKeyJWTClient(id, jwksURI string, redirectURIs ...string) {
	s.RegisterClient(id, rand.Text(), redirectURIs...) // a secret nobody knows: only assertions authenticate it
	s.gate.Lock()
	defer s.gate.Unlock()
	s.jwksURIs[id] = jwksURI
}

// keyedStorage is the example storage with private_key_jwt clients.
type keyedStorage struct {
	*storage.Storage
	s *Server // jwksURIs is read under s.gate, held by every request
}

// GetClientByClientID reports private_key_jwt as the authentication
// method of the clients registered with a JWKS URL.
func (k *keyedStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := k.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, ok := k.s.jwksURIs[id]; ok {
		return privateKeyJWTClient{c}, nil
	}
	return c, nil
}

// GetKeyByIDAndClientID fetches the key kid of a private_key_jwt client
// from its JWKS URL (the other clients: the example storage's keys).
func (k *keyedStorage) GetKeyByIDAndClientID(ctx context.Context, kid, clientID string) (*jose.JSONWebKey, error) {
	uri, ok := k.s.jwksURIs[clientID]
	if !ok {
		return k.Storage.GetKeyByIDAndClientID(ctx, kid, clientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("realidp: JWKS of %s: %s", clientID, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("realidp: JWKS of %s: %w", clientID, err)
	}
	keys := set.Key(kid)
	if len(keys) == 0 {
		return nil, fmt.Errorf("realidp: JWKS of %s has no key %q", clientID, kid)
	}
	return &keys[0], nil
}

// privateKeyJWTClient is a client that authenticates with private_key_jwt.
type privateKeyJWTClient struct{ op.Client }

func (privateKeyJWTClient) AuthMethod() oidc.AuthMethod { return oidc.AuthMethodPrivateKeyJWT }

// Login plays the user in a browser: it GETs authorizationURL (following
// redirects to the example OP's login page), submits the login form with
// username and password, and follows the OP's redirects up to, but not
// including, the first redirect to a host other than the OP's (normally the
// client's redirect_uri carrying code and state, or error). That redirect
// response is returned with its body open; the caller must close it and can
// follow or inspect its Location header.
//
// If the OP redirects off-host before showing the login page (e.g. an error
// response to the redirect_uri), that response is returned without logging
// in. Wrong credentials, or any other page than the expected ones, yield an
// error.
//
// browser must have a cookie jar; it is used as is, except that its
// CheckRedirect is replaced (in a copy) to stop at the OP's boundary.
func (s *Server) Login(ctx context.Context, browser *http.Client, authorizationURL string, username, password string) (*http.Response, error) {
	if browser == nil || browser.Jar == nil {
		return nil, errors.New("realidp: Login needs an *http.Client with a cookie jar")
	}
	b := *browser
	b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != s.host {
			return http.ErrUseLastResponse
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("realidp: stopped after %d redirects", maxRedirects)
		}
		return nil
	}

	// 1. Authorization request → (302 to /login/username?authRequestID=…) → login page.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizationURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := b.Do(req)
	if err != nil {
		return nil, err
	}
	if s.leftOP(resp) {
		return resp, nil
	}
	page, err := readPage(resp)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("realidp: authorization request: %s at %s: %s", resp.Status, resp.Request.URL, snippet(page))
	}
	action, form, err := parseLoginForm(page)
	if err != nil {
		return nil, fmt.Errorf("realidp: login page %s: %w", resp.Request.URL, err)
	}
	target, err := resp.Request.URL.Parse(action)
	if err != nil {
		return nil, fmt.Errorf("realidp: login form action %q: %w", action, err)
	}

	// 2. Submit credentials → 302 /authorize/callback?id=… → 302 redirect_uri?code=…&state=…
	form.Set("username", username)
	form.Set("password", password)
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = b.Do(req)
	if err != nil {
		return nil, err
	}
	if s.leftOP(resp) {
		return resp, nil
	}
	page, err = readPage(resp)
	if err != nil {
		return nil, err
	}
	if msg := loginError(page); msg != "" {
		return nil, fmt.Errorf("realidp: login rejected: %s", msg)
	}
	return nil, fmt.Errorf("realidp: login did not redirect to the client: %s at %s: %s", resp.Status, resp.Request.URL, snippet(page))
}

// leftOP reports whether resp is a redirect whose Location is off the OP's host.
func (s *Server) leftOP(resp *http.Response) bool {
	if resp.StatusCode < 300 || resp.StatusCode >= 400 {
		return false
	}
	loc, err := resp.Location()
	return err == nil && loc.Host != s.host
}

func readPage(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("realidp: reading %s: %w", resp.Request.URL, err)
	}
	return body, nil
}

// parseLoginForm returns the action and the pre-filled (hidden) fields of
// the first POST form on page.
func parseLoginForm(page []byte) (action string, fields url.Values, err error) {
	z := html.NewTokenizer(strings.NewReader(string(page)))
	inForm := false
	fields = url.Values{}
	for {
		switch z.Next() {
		case html.ErrorToken:
			if inForm {
				return action, fields, nil
			}
			return "", nil, errors.New("no POST form found")
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "form":
				if !inForm && strings.EqualFold(attr(tok, "method"), "post") {
					inForm, action = true, attr(tok, "action")
				}
			case "input":
				if inForm && attr(tok, "name") != "" {
					fields.Set(attr(tok, "name"), attr(tok, "value"))
				}
			}
		case html.EndTagToken:
			if inForm && z.Token().Data == "form" {
				return action, fields, nil
			}
		}
	}
}

// loginError extracts the example login page's error text (a <p> under the
// form), if any.
func loginError(page []byte) string {
	z := html.NewTokenizer(strings.NewReader(string(page)))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken:
			if z.Token().Data == "p" && z.Next() == html.TextToken {
				if msg := strings.TrimSpace(string(z.Text())); msg != "" {
					return msg
				}
			}
		}
	}
}

func attr(tok html.Token, name string) string {
	for _, a := range tok.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// IDToken signs TestUser in as an app would (the authorization code flow
// with PKCE, through a client "realidp-app" that it registers) and returns
// the user's ID token: a JWT the OP signed, which its token exchange takes
// as a subject token of type urn:ietf:params:oauth:token-type:id_token.
func (s *Server) IDToken(ctx context.Context) (string, error) {
	const redirect = "http://app.invalid/signed-in" // never followed: Login stops there
	s.RegisterClient("realidp-app", "realidp-app-secret", redirect)
	cfg := oauth2.Config{ClientID: "realidp-app", ClientSecret: "realidp-app-secret", RedirectURL: redirect,
		Scopes: []string{"openid", "profile"}, Endpoint: oauth2.Endpoint{AuthURL: s.Issuer + "/auth", TokenURL: s.Issuer + "/oauth/token"}}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	verifier := oauth2.GenerateVerifier()
	resp, err := s.Login(ctx, &http.Client{Jar: jar}, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), TestUser, TestPassword)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("realidp: sign-in: %w", err)
	}
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return "", fmt.Errorf("realidp: sign-in: %w", err)
	}
	id, _ := tok.Extra("id_token").(string)
	if id == "" {
		return "", errors.New("realidp: sign-in: no id_token")
	}
	return id, nil
}
