package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/oauth"
)

// userinfoClient is a client whose provider's userinfo endpoint answers
// with handler.
func userinfoClient(t *testing.T, handler http.HandlerFunc) *oauth.Client {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	p := &behalf.OAuth2Provider{Name: "p", Metadata: behalf.AuthServerMetadata{UserinfoEndpoint: srv.URL + "/userinfo"}}
	return &oauth.Client{Provider: p, HTTP: srv.Client()}
}

// Ensure Account asks the userinfo endpoint with the access token and
// picks the name a person recognises, cleaned of control characters.
func TestAccount(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want string
	}{
		"email first":        {`{"sub":"1","email":"ann@example.com","name":"Ann","login":"ann"}`, "ann@example.com"},
		"preferred username": {`{"sub":"1","preferred_username":"ann.s","name":"Ann"}`, "ann.s"},
		"github login":       {`{"id":1,"login":"octocat","name":"The Octocat"}`, "octocat"},
		"name only":          {`{"sub":"1","name":"Ann"}`, "Ann"},
		"nothing":            {`{"sub":"1"}`, ""},
		"escapes removed":    {`{"email":"ann\u001b[31m@example.com\u202e"}`, "ann[31m@example.com"},
		"blank email":        {`{"email":"  ","login":"ann"}`, "ann"},
		"capped":             {`{"email":"` + strings.Repeat("a", 300) + `"}`, strings.Repeat("a", 128)},
	} {
		t.Run(name, func(t *testing.T) {
			c := userinfoClient(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer at-1" {
					http.Error(w, "no token", http.StatusUnauthorized)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(tc.body))
			})
			got, err := c.Account(context.Background(), "at-1")
			if err != nil || got != tc.want {
				t.Fatalf("Account = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// Ensure a refusal, a non-JSON answer, a redirect and a provider without
// a userinfo endpoint give an error and no name.
func TestAccountErrors(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"refused":  func(w http.ResponseWriter, r *http.Request) { http.Error(w, "forbidden", http.StatusForbidden) },
		"not json": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) },
		"redirect": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) },
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := userinfoClient(t, h).Account(context.Background(), "at-1"); err == nil || got != "" {
				t.Fatalf("Account = %q, %v; want an error", got, err)
			}
		})
	}
	c := &oauth.Client{Provider: &behalf.OAuth2Provider{Name: "p"}}
	if _, err := c.Account(context.Background(), "at-1"); !errors.Is(err, oauth.ErrNoUserinfo) {
		t.Fatalf("no userinfo endpoint: %v, want ErrNoUserinfo", err)
	}
}
