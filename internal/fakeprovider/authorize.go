package fakeprovider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/behalf-dev/behalf/internal/randid"
)

// codeTTL is the lifetime of an authorization code.
const codeTTL = 10 * time.Minute

// authCode is an issued authorization code.
type authCode struct {
	clientID  string
	user      string
	redirect  string
	challenge string
	nonce     string
	scopes    []string
	offline   bool // access_type=offline
	consent   bool // prompt included consent
	expires   time.Time
	used      bool
	grant     *grant // set by the first exchange
}

// singleParams are the authorization request parameters that must not be
// repeated (RFC 6749 section 3.1).
var singleParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state",
	"code_challenge", "code_challenge_method", "nonce", "access_type", "prompt", "login_hint",
}

// authorize is the authorization endpoint: it checks the request and, on
// behalf of login_hint or DefaultUser, consents at once.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.authorizations++
	s.st.lastAuth = cloneValues(q)

	cl, ok := s.st.clients[q.Get("client_id")]
	if !ok || len(q["client_id"]) != 1 {
		http.Error(w, "invalid_client: The OAuth client was not found.", http.StatusUnauthorized)
		return
	}
	redirect := q.Get("redirect_uri")
	if len(q["redirect_uri"]) != 1 || !slices.Contains(cl.redirects, redirect) {
		http.Error(w, "redirect_uri_mismatch: The redirect URI is not registered for this client.", http.StatusBadRequest)
		return
	}
	if code, desc := checkAuthRequest(q); code != "" {
		redirectBack(w, r, redirect, url.Values{"error": {code}, "error_description": {desc}, "state": q["state"]})
		return
	}
	if s.st.deny {
		redirectBack(w, r, redirect, url.Values{"error": {"access_denied"}, "state": {q.Get("state")}})
		return
	}
	code := s.newCode(q)
	redirectBack(w, r, redirect, url.Values{"code": {code}, "state": {q.Get("state")}, "scope": {q.Get("scope")}})
}

// checkAuthRequest returns an OAuth error code and description for an
// authorization request the server refuses, or "" if it is acceptable.
func checkAuthRequest(q url.Values) (code, desc string) {
	for _, p := range singleParams {
		if len(q[p]) > 1 {
			return "invalid_request", "Parameter " + p + " is repeated."
		}
	}
	switch {
	case q.Get("response_type") != "code":
		return "unsupported_response_type", "Only response_type=code is supported."
	case q.Get("scope") == "":
		return "invalid_request", "Missing required parameter: scope."
	case q.Get("state") == "":
		return "invalid_request", "Missing required parameter: state."
	case q.Get("code_challenge") == "":
		return "invalid_request", "Missing required parameter: code_challenge."
	case q.Get("code_challenge_method") != "S256":
		return "invalid_request", "code_challenge_method must be S256."
	}
	return "", ""
}

// newCode issues an authorization code for the request q.
func (s *Server) newCode(q url.Values) string {
	user := q.Get("login_hint")
	if user == "" {
		user = DefaultUser
	}
	code := "4/" + randid.Alnum(40)
	s.st.codes[code] = &authCode{
		clientID:  q.Get("client_id"),
		user:      user,
		redirect:  q.Get("redirect_uri"),
		challenge: q.Get("code_challenge"),
		nonce:     q.Get("nonce"),
		scopes:    strings.Fields(q.Get("scope")),
		offline:   q.Get("access_type") == "offline",
		consent:   slices.Contains(strings.Fields(q.Get("prompt")), "consent"),
		expires:   s.now().Add(codeTTL),
	}
	return code
}

// redirectBack redirects the browser to the client's redirect URI with
// params added to its query.
func redirectBack(w http.ResponseWriter, r *http.Request, redirect string, params url.Values) {
	u, err := url.Parse(redirect)
	if err != nil {
		http.Error(w, "invalid redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// Authorize plays the user's browser: it requests authURL without
// following the redirect and returns the URL the server redirected to
// (the client's redirect URI with code and state, or with error). It fails
// if the server answers anything but a redirect.
func (s *Server) Authorize(ctx context.Context, authURL string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("fakeprovider: authorize: %w", err)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fakeprovider: authorize: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("fakeprovider: authorize: status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("fakeprovider: authorize: %w", err)
	}
	return loc, nil
}
