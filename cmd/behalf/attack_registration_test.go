package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"
)

// Ensure the attacks on a pool's client registration fail through the
// real server: redirect URIs on http public hosts or with fragments, a
// confidential client, a registered client's authorization to another
// redirect URI or without PKCE, and a client_id that is a URL of a
// private address (a client ID metadata document there is never fetched
// without --allow-private-endpoints).
func TestAttackClientRegistration(t *testing.T) {
	s := mustRunMain(t, "")
	ctx := context.Background()
	f := newPoolFixture(t, ctx, s.cognito(t), "attack-dcr")
	issuer := s.URL + "/" + f.poolID
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	register := func(body string) (int, map[string]string) {
		t.Helper()
		resp, err := hc.Post(issuer+"/oauth2/register", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]string
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}
	for name, tc := range map[string]struct{ body, code string }{
		"http on a public host": {`{"redirect_uris":["http://evil.example.com/cb"]}`, "invalid_redirect_uri"},
		"fragment":              {`{"redirect_uris":["http://127.0.0.1:9/cb#frag"]}`, "invalid_redirect_uri"},
		"https by default":      {`{"redirect_uris":["https://evil.example.com/cb"]}`, "invalid_redirect_uri"},
		"confidential":          {`{"redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"client_secret_basic"}`, "invalid_client_metadata"},
	} {
		if status, m := register(tc.body); status != http.StatusBadRequest || m["error"] != tc.code {
			t.Errorf("%s: %d %v, want 400 %s", name, status, m, tc.code)
		}
	}

	callback := "http://127.0.0.1:9/cb"
	status, m := register(`{"redirect_uris":["` + callback + `"],"client_name":"victim tool"}`)
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, m)
	}
	authorize := func(clientID, redirect string, pkce bool) *http.Response {
		t.Helper()
		q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
			"scope": {"openid"}, "state": {"s"}}
		if pkce {
			q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
			q.Set("code_challenge_method", "S256")
		}
		resp, err := hc.Get(issuer + "/oauth2/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := authorize(m["client_id"], "http://127.0.0.1:9/other", true); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("another redirect_uri: %d Location=%q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp := authorize(m["client_id"], callback, false)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || !strings.HasPrefix(loc.String(), callback+"?") || loc.Query().Get("error") != "invalid_request" {
		t.Errorf("no PKCE: %d Location=%q, want an invalid_request redirect", resp.StatusCode, resp.Header.Get("Location"))
	}

	var hits atomic.Int32
	private := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, `{"client_id":"`+"http://"+r.Host+r.URL.Path+`","redirect_uris":["`+callback+`"]}`)
	}))
	t.Cleanup(private.Close)
	for _, id := range []string{private.URL + "/client.json", "https://127.0.0.1:1/client.json", "https://169.254.169.254/latest"} {
		if resp := authorize(id, callback, true); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("client_id %s: %d Location=%q, want 400 and no redirect", id, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server fetched a client_id URL %d times", n)
	}
}
