package oidcop

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// FuzzParseDocument feeds documents and client_id URLs to checkDocumentURL
// and parseDocument: they never panic, every error is a non-redirecting
// invalid_request, and what they accept is an https URL with a path whose
// document names exactly that URL, a public client without a secret, with
// a name and redirect URIs a registration would accept.
func FuzzParseDocument(f *testing.F) {
	const id = "https://app.example.com/client.json"
	for _, s := range []string{
		`{"client_id":"` + id + `","client_name":"x","redirect_uris":["http://127.0.0.1:3000/cb"],"token_endpoint_auth_method":"none"}`,
		`{"client_id":"` + id + `","client_name":"x","redirect_uris":["https://app.example.com/cb"],"client_secret":"s"}`,
		`{"client_id":"https://evil.example.com/x","client_name":"x","redirect_uris":["http://localhost/cb"]}`,
		`{"client_id":null}`, `[]`, `null`, `{"client_id":"` + id + `","redirect_uris":["http://[::1]/cb"]}`,
	} {
		f.Add(id, []byte(s), false)
	}
	f.Add("https://h/", []byte(`{}`), true)
	f.Add("https://u@h/x/../y", []byte(`{}`), true)
	f.Fuzz(func(t *testing.T, raw string, body []byte, open bool) {
		mode := behalf.ClientRegistrationLoopback
		if open {
			mode = behalf.ClientRegistrationOpen
		}
		isRefusal := func(err error) {
			oe, ok := err.(*oidc.Error)
			if !ok || oe.ErrorType != oidc.InvalidRequest || !oe.IsRedirectDisabled() {
				t.Fatalf("error %#v is not a page's invalid_request", err)
			}
		}
		if err := checkDocumentURL(raw); err != nil {
			isRefusal(err)
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Path == "" || u.Path == "/" ||
			strings.Contains(raw, "#") || len(raw) > maxDocumentURL {
			t.Fatalf("accepted client_id URL %q", raw)
		}
		in, err := parseDocument(body, raw, "us-east-1_abc", mode)
		if err != nil {
			isRefusal(err)
			return
		}
		if !in.DynamicallyRegistered || in.GenerateSecret || len(in.CallbackURLs) == 0 || !behalf.ValidDisplayName(in.Name) {
			t.Fatalf("accepted %+v", in)
		}
		if !strings.Contains(string(body), "client_id") {
			t.Fatalf("accepted a document without client_id: %s", body)
		}
	})
}

// Ensure Cache-Control max-age is honoured within the bounds.
func TestDocumentTTL(t *testing.T) {
	for cc, want := range map[string]time.Duration{
		"":                             defaultDocumentTTL,
		"max-age=600":                  10 * time.Minute,
		"public, max-age=5":            minDocumentTTL,
		"max-age=99999999999":          maxDocumentTTL,
		"max-age=-1":                   defaultDocumentTTL,
		"no-store":                     minDocumentTTL,
		"max-age=3600, no-cache":       minDocumentTTL,
		`MAX-AGE="120"`:                2 * time.Minute,
		"max-age=abc, must-revalidate": defaultDocumentTTL,
	} {
		if got := documentTTL(cc); got != want {
			t.Errorf("documentTTL(%q) = %s, want %s", cc, got, want)
		}
	}
}
