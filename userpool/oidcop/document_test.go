package oidcop_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/userpool/oidcop"
	"golang.org/x/oauth2"
)

// docServer is a loopback https server of client ID metadata documents.
type docServer struct {
	*httptest.Server
	mu    sync.Mutex
	docs  map[string]func(w http.ResponseWriter, r *http.Request)
	hits  atomic.Int32
	block chan struct{}
}

func newDocServer(t *testing.T) *docServer {
	d := &docServer{docs: map[string]func(http.ResponseWriter, *http.Request){}, block: make(chan struct{})}
	d.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.hits.Add(1)
		d.mu.Lock()
		h := d.docs[r.URL.Path]
		d.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(func() { close(d.block); d.Close() })
	return d
}

// serve serves body (JSON) at path and returns the path's URL.
func (d *docServer) serve(path, body string, header ...string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.docs[path] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Write([]byte(body))
	}
	return d.URL + path
}

// handle serves h at path and returns the path's URL.
func (d *docServer) handle(path string, h func(http.ResponseWriter, *http.Request)) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.docs[path] = h
	return d.URL + path
}

// client is the hosted login's document client: trusts the server's
// certificate, follows no redirects, gives up after a second.
func (d *docServer) client() *http.Client {
	c := d.Server.Client()
	c.Timeout = time.Second
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// document is a valid document for id with redirect URIs.
func document(id string, redirects ...string) string {
	b, _ := json.Marshal(map[string]any{"client_id": id, "client_name": "Notes MCP", "redirect_uris": redirects,
		"token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code", "refresh_token"}})
	return string(b)
}

// documentAuthorizeURL is an authorization URL for a document client.
func (e *env) documentAuthorizeURL(clientID, redirect, verifier string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
		"scope": {"openid email"}, "state": {"st"}, "resource": {"https://mcp.example.com/mcp"}}
	if verifier != "" {
		q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
		q.Set("code_challenge_method", "S256")
	}
	return e.base + "/oauth2/authorize?" + q.Encode()
}

// Ensure a client identified by a metadata document URL signs a user in:
// the metadata says documents are supported, the login page names the
// document's host, the token endpoint takes the URL as client_id (public,
// PKCE), refresh rotates, the tokens name the pool's app client for the
// document, and the document is fetched once per replica (cached).
func TestClientIDMetadataDocument(t *testing.T) {
	docs := newDocServer(t)
	e := newEnvWith(t, oidcop.WithDocumentHTTPClient(docs.client()))
	id := docs.URL + "/clients/notes.json"
	docs.serve("/clients/notes.json", document(id, e.callback), "Cache-Control", "max-age=600")

	resp, body := e.get(http.DefaultClient, e.issuer+"/.well-known/oauth-authorization-server")
	var md map[string]any
	json.Unmarshal([]byte(body), &md)
	want(t, "client_id_metadata_document_supported", md["client_id_metadata_document_supported"], any(true))
	_ = resp

	c := e.browser()
	verifier := oauth2.GenerateVerifier()
	resp, _ = e.get(c, e.documentAuthorizeURL(id, e.callback, verifier))
	loginURL := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loginURL, e.base+"/login?") {
		t.Fatalf("authorize: %d Location=%q", resp.StatusCode, loginURL)
	}
	resp, page := e.get(c, loginURL)
	host := strings.TrimPrefix(docs.URL, "https://")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Notes MCP") ||
		!strings.Contains(page, "this app identifies itself as <strong>"+host+"</strong>") {
		t.Fatalf("login page: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = e.signIn(c, loginURL, hiddenFields(page), "alice", alicePassword)
	code := e.code(resp, "st")

	tr, _ := e.post("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {e.callback}, "client_id": {id}, "code_verifier": {verifier},
		"resource": {"https://mcp.example.com/mcp"}}, "", "")
	if tr.Status != http.StatusOK || tr.AccessToken == "" || tr.RefreshToken == "" {
		t.Fatalf("exchange: %+v", tr)
	}
	at := claims(t, tr.AccessToken)
	want(t, "client_id claim", at["client_id"], any(e.svc.DocumentClientID(e.pool.ID, id)))
	if aud, _ := json.Marshal(at["aud"]); string(aud) != `["https://mcp.example.com/mcp"]` {
		t.Errorf("aud = %s", aud)
	}
	rr, _ := e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken},
		"client_id": {id}}, "", "")
	if rr.Status != http.StatusOK || rr.RefreshToken == "" || rr.RefreshToken == tr.RefreshToken {
		t.Fatalf("refresh: %+v", rr)
	}
	// HTTP Basic with the URL as the user and no password (what
	// golang.org/x/oauth2 sends first for a client without a secret).
	req, _ := http.NewRequest(http.MethodPost, e.base+"/oauth2/token", strings.NewReader(url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rr.RefreshToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), "")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh with Basic: %v %v", resp, err)
	}

	for range 3 {
		resp, _ := e.get(e.browser(), e.documentAuthorizeURL(id, e.callback, verifier))
		want(t, "authorize again", resp.StatusCode, http.StatusFound)
	}
	if n := docs.hits.Load(); n > 2 {
		t.Errorf("the document was fetched %d times, want at most once per replica", n)
	}
	want(t, "registered clients", e.registeredCount(), 1)

	// Off: refused, and not advertised; nor taken at the token endpoint.
	e.setRegistration(behalf.ClientRegistrationOff)
	resp, body = e.get(e.browser(), e.documentAuthorizeURL(id, e.callback, verifier))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "metadata document") {
		t.Errorf("off: %d %s", resp.StatusCode, body)
	}
	_, body = e.get(http.DefaultClient, e.issuer+"/.well-known/oauth-authorization-server")
	if strings.Contains(body, "client_id_metadata_document_supported") {
		t.Errorf("off: metadata still advertises documents: %s", body)
	}
	if tr, _ := e.post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rr.RefreshToken},
		"client_id": {id}}, "", ""); tr.Error != "invalid_client" {
		t.Errorf("off: token endpoint %+v, want invalid_client", tr)
	}
}

// Ensure documents that must not be used are refused with a page (never
// a redirect) that says why, and that nothing is kept for them.
func TestClientIDMetadataDocumentAttacks(t *testing.T) {
	docs := newDocServer(t)
	e := newEnvWith(t, oidcop.WithDocumentHTTPClient(docs.client()))
	u := func(p string) string { return docs.URL + p }
	evil := "http://127.0.0.1:1/evil"
	huge := `{"client_id":"` + u("/huge") + `","client_name":"x","redirect_uris":["` + e.callback + `"],"pad":"` + strings.Repeat("a", 70<<10) + `"}`
	cases := map[string]struct {
		id, redirect, want string
	}{
		"client_id mismatch":              {docs.serve("/mismatch", document(u("/other"), e.callback)), e.callback, "client_id is not the URL"},
		"redirect not listed":             {docs.serve("/listed", document(u("/listed"), e.callback)), evil, "redirect_uri is not one of"},
		"huge":                            {docs.serve("/huge", huge), e.callback, "larger than 64 KiB"},
		"invalid JSON":                    {docs.serve("/invalid", `{"client_id":`), e.callback, "not a JSON object"},
		"array":                           {docs.serve("/array", `[1,2]`), e.callback, "not a JSON object"},
		"not found":                       {u("/missing"), e.callback, "answered 404"},
		"secret":                          {docs.serve("/secret", strings.Replace(document(u("/secret"), e.callback), "{", `{"client_secret":"s",`, 1)), e.callback, "client secret"},
		"confidential":                    {docs.serve("/basic", strings.Replace(document(u("/basic"), e.callback), `"none"`, `"client_secret_basic"`, 1)), e.callback, "token_endpoint_auth_method must be none"},
		"https redirect in loopback mode": {docs.serve("/https", document(u("/https"), "https://app.example.com/cb")), "https://app.example.com/cb", "loopback"},
		"http public redirect":            {docs.serve("/httppublic", document(u("/httppublic"), "http://evil.example.com/cb")), "http://evil.example.com/cb", "not loopback"},
		"no client_name":                  {docs.serve("/noname", `{"client_id":"`+u("/noname")+`","redirect_uris":["`+e.callback+`"]}`), e.callback, "no client_name"},
		"root path":                       {docs.URL + "/", e.callback, "no path"},
		"dot segment":                     {docs.URL + "/a/../b", e.callback, ". or .. path segment"},
		"user info":                       {"https://u@" + strings.TrimPrefix(docs.URL, "https://") + "/x", e.callback, "user information"},
		"redirected": {docs.handle("/moved", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, u("/listed"), http.StatusFound)
		}), e.callback, "answered 302"},
		"slow": {docs.handle("/slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-docs.block:
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}), e.callback, "could not be fetched"},
	}
	for name, tc := range cases {
		resp, body := e.get(e.browser(), e.documentAuthorizeURL(tc.id, tc.redirect, oauth2.GenerateVerifier()))
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d Location=%q, want 400 saying %q:\n%s", name, resp.StatusCode, resp.Header.Get("Location"), tc.want, body)
		}
	}
	want(t, "registered clients", e.registeredCount(), 0)

	// Without PKCE: refused like any public client's (the document is good).
	id := docs.serve("/good", document(u("/good"), e.callback))
	resp, _ := e.get(e.browser(), e.documentAuthorizeURL(id, e.callback, ""))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("error") != "invalid_request" {
		t.Errorf("no PKCE: %d Location=%q, want an invalid_request redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A URL that no authorization read is an unknown client at the token endpoint.
	if tr, _ := e.post("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"},
		"redirect_uri": {e.callback}, "client_id": {u("/never")}, "code_verifier": {oauth2.GenerateVerifier()}}, "", ""); tr.Error != "invalid_client" {
		t.Errorf("unknown document client at the token endpoint: %+v", tr)
	}
}

// Ensure the hosted login never fetches a document from a loopback or
// private address unless the operator allows private endpoints, and that
// without the option an https client_id is an unknown client.
func TestClientIDMetadataDocumentPrivateAddress(t *testing.T) {
	docs := newDocServer(t)
	e := newEnvWith(t, oidcop.WithClientMetadataDocuments(safehttp.Options{}))
	for _, id := range []string{docs.serve("/private", document(docs.URL+"/private", e.callback)),
		"https://169.254.169.254/latest/meta-data", "https://localhost/client.json"} {
		resp, body := e.get(e.browser(), e.documentAuthorizeURL(id, e.callback, oauth2.GenerateVerifier()))
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, "allow-private-endpoints") {
			t.Errorf("%s: %d Location=%q:\n%s", id, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	if n := docs.hits.Load(); n != 0 {
		t.Errorf("the document server got %d requests", n)
	}

	off := newEnv(t)
	_, body := off.get(http.DefaultClient, off.issuer+"/.well-known/oauth-authorization-server")
	if strings.Contains(body, "client_id_metadata_document_supported") {
		t.Errorf("documents advertised without the option: %s", body)
	}
	resp, body := off.get(off.browser(), off.documentAuthorizeURL(docs.URL+"/private", off.callback, oauth2.GenerateVerifier()))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not a client of this user pool") {
		t.Errorf("without the option: %d\n%s", resp.StatusCode, body)
	}
	if n := docs.hits.Load(); n != 0 {
		t.Errorf("the document server got %d requests", n)
	}
}
