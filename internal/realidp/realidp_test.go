package realidp_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf/internal/realidp"
)

type discovery struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	ScopesSupported       []string `json:"scopes_supported"`
	GrantTypesSupported   []string `json:"grant_types_supported"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
}

func getJSON(t *testing.T, ctx context.Context, rawURL, bearer string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", rawURL, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
}

func newBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	s := realidp.Start(t)
	if !strings.HasPrefix(s.Issuer, "http://127.0.0.1:") {
		t.Errorf("Issuer = %q, want loopback", s.Issuer)
	}

	// Discovery.
	var d discovery
	getJSON(t, ctx, s.DiscoveryURL, "", &d)
	if d.Issuer != s.Issuer {
		t.Fatalf("discovery issuer = %q, want %q", d.Issuer, s.Issuer)
	}
	t.Logf("authorization_endpoint=%s token_endpoint=%s jwks_uri=%s", d.AuthorizationEndpoint, d.TokenEndpoint, d.JWKSURI)
	t.Logf("scopes_supported=%v grant_types_supported=%v token_endpoint_auth_methods_supported=%v code_challenge_methods_supported=%v",
		d.ScopesSupported, d.GrantTypesSupported, d.TokenAuthMethods, d.CodeChallengeMethods)
	for _, want := range []struct {
		name string
		have []string
		v    string
	}{
		{"scopes_supported", d.ScopesSupported, "offline_access"},
		{"grant_types_supported", d.GrantTypesSupported, "authorization_code"},
		{"grant_types_supported", d.GrantTypesSupported, "refresh_token"},
		{"token_endpoint_auth_methods_supported", d.TokenAuthMethods, "client_secret_basic"},
		{"token_endpoint_auth_methods_supported", d.TokenAuthMethods, "client_secret_post"},
		{"code_challenge_methods_supported", d.CodeChallengeMethods, "S256"},
	} {
		if !slices.Contains(want.have, want.v) {
			t.Errorf("%s = %v, missing %q", want.name, want.have, want.v)
		}
	}

	// The "app" (stand-in for Behalf's callback). Login must stop before it.
	var appHits atomic.Int32
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		appHits.Add(1)
	}))
	defer app.Close()
	redirectURI := app.URL + "/oauth/callback"

	const clientID, clientSecret = "behalf-e2e", "e2e-secret"
	s.RegisterClient(clientID, clientSecret, redirectURI)

	conf := &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   d.AuthorizationEndpoint,
			TokenURL:  d.TokenEndpoint,
			AuthStyle: oauth2.AuthStyleInHeader, // client_secret_basic
		},
		RedirectURL: redirectURI,
		Scopes:      []string{"openid", "profile", "email", "offline_access"},
	}

	// login performs one authorization request + login and returns code.
	login := func(t *testing.T, verifier string) string {
		t.Helper()
		state := rand.Text()
		authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
		resp, err := s.Login(ctx, newBrowser(t), authURL, realidp.TestUser, realidp.TestPassword)
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("Login status = %s, want 302", resp.Status)
		}
		loc, err := resp.Location()
		if err != nil {
			t.Fatal(err)
		}
		if got := (&url.URL{Scheme: loc.Scheme, Host: loc.Host, Path: loc.Path}).String(); got != redirectURI {
			t.Fatalf("Location = %s, want redirect URI %s", loc, redirectURI)
		}
		q := loc.Query()
		if q.Get("state") != state {
			t.Fatalf("state = %q, want %q", q.Get("state"), state)
		}
		if q.Get("code") == "" {
			t.Fatalf("no code in %s", loc)
		}
		if n := appHits.Load(); n != 0 {
			t.Fatalf("app callback was requested %d times; Login must stop before it", n)
		}
		return q.Get("code")
	}

	verifier := oauth2.GenerateVerifier()
	code := login(t, verifier)

	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("Exchange: access_token=%q refresh_token=%q, want both", tok.AccessToken, tok.RefreshToken)
	}
	t.Logf("token: type=%s expires_in=%v refresh_token=%t id_token=%t",
		tok.TokenType, time.Until(tok.Expiry).Round(time.Second), tok.RefreshToken != "", tok.Extra("id_token") != nil)

	// The code is single-use.
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		t.Errorf("second Exchange of the same code succeeded")
	}

	// The access token is accepted by the OP's userinfo endpoint.
	var ui struct {
		Sub   string `json:"sub"`
		Email string `json:"email"`
	}
	getJSON(t, ctx, d.UserinfoEndpoint, tok.AccessToken, &ui)
	t.Logf("userinfo: sub=%s email=%s", ui.Sub, ui.Email)
	if ui.Sub == "" {
		t.Errorf("userinfo without sub")
	}

	// id_token: signature against the JWKS, iss, aud, exp (zitadel's rp verifier).
	idToken, _ := tok.Extra("id_token").(string)
	if idToken == "" {
		t.Fatal("no id_token in token response")
	}
	verifierIDT := rp.NewIDTokenVerifier(s.Issuer, clientID, rp.NewRemoteKeySet(http.DefaultClient, d.JWKSURI))
	claims, err := rp.VerifyIDToken[*oidc.IDTokenClaims](ctx, idToken, verifierIDT)
	if err != nil {
		t.Fatalf("VerifyIDToken: %v", err)
	}
	if claims.Subject != ui.Sub {
		t.Errorf("id_token sub = %q, userinfo sub = %q", claims.Subject, ui.Sub)
	}
	parts := strings.Split(idToken, ".")
	sig := []byte(parts[2])
	sig[len(sig)/2] ^= 'A' ^ 'B' // still base64url, different bytes
	if sig[len(sig)/2] == parts[2][len(sig)/2] {
		t.Fatal("tamper failed")
	}
	tampered := parts[0] + "." + parts[1] + "." + string(sig)
	if _, err := rp.VerifyIDToken[*oidc.IDTokenClaims](ctx, tampered, verifierIDT); err == nil {
		t.Errorf("VerifyIDToken accepted a tampered signature")
	}

	// Refresh via TokenSource with an expired token, this time with
	// client_secret_post.
	postConf := *conf
	postConf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	expired := &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	nt, err := postConf.TokenSource(ctx, expired).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if nt.AccessToken == "" || nt.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: access_token = %q (old %q), want a new one", nt.AccessToken, tok.AccessToken)
	}
	t.Logf("refresh: new access token; refresh token rotated=%t; id_token=%t",
		nt.RefreshToken != "" && nt.RefreshToken != tok.RefreshToken, nt.Extra("id_token") != nil)

	// Rotation: the old refresh token is no longer valid.
	if _, err := postConf.TokenSource(ctx, expired).Token(); err == nil {
		t.Errorf("old refresh token still accepted after rotation")
	} else {
		t.Logf("old refresh token rejected: %v", err)
	}

	t.Run("PKCE verifier is checked", func(t *testing.T) {
		code := login(t, oauth2.GenerateVerifier())
		if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Fatal("Exchange with the wrong code_verifier succeeded")
		}
	})

	t.Run("wrong client secret is rejected", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := login(t, v)
		bad := *conf
		bad.ClientSecret = "nope"
		if _, err := bad.Exchange(ctx, code, oauth2.VerifierOption(v)); err == nil {
			t.Fatal("Exchange with a wrong client secret succeeded")
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		authURL := conf.AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		resp, err := s.Login(ctx, newBrowser(t), authURL, realidp.TestUser, "wrong")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("Login with a wrong password returned %s", resp.Status)
		}
		t.Logf("Login error: %v", err)
	})

	t.Run("unregistered redirect URI", func(t *testing.T) {
		other := *conf
		other.RedirectURL = app.URL + "/elsewhere"
		authURL := other.AuthCodeURL(rand.Text())
		resp, err := s.Login(ctx, newBrowser(t), authURL, realidp.TestUser, realidp.TestPassword)
		if err == nil {
			resp.Body.Close()
			loc, _ := resp.Location()
			t.Fatalf("Login with an unregistered redirect_uri returned %s to %v", resp.Status, loc)
		}
		t.Logf("Login error: %v", err)
	})
}

// Two servers side by side have independent clients.
func TestServersAreIndependent(t *testing.T) {
	a, b := realidp.Start(t), realidp.Start(t)
	if a.Issuer == b.Issuer {
		t.Fatalf("same issuer %s", a.Issuer)
	}
	a.RegisterClient("only-in-a", "x", "http://127.0.0.1:1/cb")
	ctx := context.Background()
	var d discovery
	getJSON(t, ctx, b.DiscoveryURL, "", &d)
	conf := &oauth2.Config{ClientID: "only-in-a", RedirectURL: "http://127.0.0.1:1/cb", Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: d.AuthorizationEndpoint, TokenURL: d.TokenEndpoint}}
	resp, err := b.Login(ctx, newBrowser(t), conf.AuthCodeURL("st"), realidp.TestUser, realidp.TestPassword)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("server b accepted server a's client: %s", resp.Status)
	}
	t.Logf("server b: %v", err)
}
