package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/behalf-dev/behalf/internal/randid"
)

// oauthError is an RFC 6749 section 5.2 error response.
type oauthError struct {
	status     int
	code       string
	desc       string
	retryAfter time.Duration // sent as Retry-After when positive
}

// errorf returns an oauthError.
func errorf(status int, code, desc string) *oauthError {
	return &oauthError{status: status, code: code, desc: desc}
}

// invalidGrant is the error for an unusable code or refresh token.
func invalidGrant(desc string) *oauthError {
	return errorf(http.StatusBadRequest, "invalid_grant", desc)
}

// token is the token endpoint.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, errorf(http.StatusBadRequest, "invalid_request", "The request body is not a valid form."))
		return
	}
	form := r.PostForm
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.lastToken = cloneValues(form)
	resp, oe := s.grantToken(r, form)
	if oe != nil {
		writeError(w, oe)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// grantToken counts the request, authenticates the client and runs the
// grant named by grant_type.
func (s *Server) grantToken(r *http.Request, form url.Values) (map[string]any, *oauthError) {
	gt := form.Get("grant_type")
	switch gt {
	case "authorization_code":
		s.st.exchanges++
	case "refresh_token":
		s.st.refreshes++
		if f := s.st.fail; f != nil {
			oe := errorf(f.status, f.code, "Injected failure.")
			oe.retryAfter = s.st.retryAfter
			return nil, oe
		}
	case "client_credentials":
		s.st.clientCredentials++
	default:
		return nil, errorf(http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+gt)
	}
	if f := s.st.refuse[gt]; f != nil {
		return nil, errorf(f.status, f.code, "Refused "+r.Header.Get("Authorization")+" "+form.Encode())
	}
	clientID, public, oe := s.authenticate(r, form)
	if oe != nil {
		return nil, oe
	}
	switch gt {
	case "authorization_code":
		return s.exchangeCode(clientID, form)
	case "refresh_token":
		return s.refreshToken(clientID, form)
	}
	if public {
		return nil, errorf(http.StatusBadRequest, "unauthorized_client", "Public clients cannot use client_credentials.")
	}
	return s.clientCredentialsToken(clientID, form)
}

// authenticate checks the client's credentials: HTTP Basic (form-encoded
// id and secret, RFC 6749 section 2.3.1), or client_id and client_secret
// in the form, or client_id alone for a public client. In open mode an
// unregistered client passes with any secret.
func (s *Server) authenticate(r *http.Request, form url.Values) (clientID string, public bool, oe *oauthError) {
	id, secret, method, oe := credentials(r, form)
	if oe != nil {
		return "", false, oe
	}
	cl, open, ok := s.lookupClient(id)
	if !ok {
		return "", false, errorf(http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
	}
	if open {
		// Open mode: an unregistered client is whoever it says it is.
		return id, method == "none", nil
	}
	if cl.Secret == "" {
		if secret != "" {
			return "", false, errorf(http.StatusUnauthorized, "invalid_client", "Public clients have no secret.")
		}
		return id, true, nil
	}
	switch {
	case method == "none":
		return "", false, errorf(http.StatusUnauthorized, "invalid_client", "Client authentication is required.")
	case s.opts.RequireAuthMethod != "" && method != s.opts.RequireAuthMethod:
		return "", false, errorf(http.StatusUnauthorized, "invalid_client",
			"Client authentication method "+method+" is not allowed; use "+s.opts.RequireAuthMethod+".")
	case subtle.ConstantTimeCompare([]byte(secret), []byte(cl.Secret)) != 1:
		return "", false, errorf(http.StatusUnauthorized, "invalid_client", "Unauthorized")
	}
	return id, false, nil
}

// credentials extracts the client's id and secret and names the method
// used: AuthBasic, AuthPost or "none".
func credentials(r *http.Request, form url.Values) (id, secret, method string, oe *oauthError) {
	user, pass, basic := r.BasicAuth()
	_, postSecret := form["client_secret"]
	switch {
	case basic && postSecret:
		return "", "", "", errorf(http.StatusBadRequest, "invalid_request", "Use only one client authentication method.")
	case basic:
		id, err1 := url.QueryUnescape(user)
		secret, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil || (form.Has("client_id") && form.Get("client_id") != id) {
			return "", "", "", errorf(http.StatusUnauthorized, "invalid_client", "Malformed client credentials.")
		}
		return id, secret, AuthBasic, nil
	case postSecret:
		return form.Get("client_id"), form.Get("client_secret"), AuthPost, nil
	}
	return form.Get("client_id"), "", "none", nil
}

// exchangeCode runs the authorization_code grant.
func (s *Server) exchangeCode(clientID string, form url.Values) (map[string]any, *oauthError) {
	c, ok := s.st.codes[form.Get("code")]
	switch {
	case !ok || c.clientID != clientID:
		return nil, invalidGrant("Malformed auth code.")
	case c.used:
		s.revokeGrant(c.grant) // RFC 6749 section 4.1.2: a replayed code revokes what it gave
		return nil, invalidGrant("Code was already redeemed.")
	}
	c.used = true
	switch {
	case !s.now().Before(c.expires):
		return nil, invalidGrant("Code expired.")
	case form.Get("redirect_uri") != c.redirect:
		return nil, invalidGrant("redirect_uri does not match the authorization request.")
	case !verifierMatches(form.Get("code_verifier"), c.challenge):
		return nil, invalidGrant("Invalid code verifier.")
	}
	g := &grant{clientID: clientID, user: c.user, scopes: c.scopes}
	c.grant = g
	key := clientID + " " + c.user
	if c.offline && (c.consent || !s.st.consented[key]) {
		g.refresh = s.newRefreshToken(g)
		s.st.consented[key] = true
	}
	resp := s.issue(g, g.scopes)
	if g.refresh != "" {
		resp["refresh_token"] = g.refresh
	}
	s.addIDToken(resp, g, c.nonce)
	return resp, nil
}

// verifierMatches checks a PKCE S256 code verifier against its challenge.
func verifierMatches(verifier, challenge string) bool {
	if verifier == "" {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

// refreshToken runs the refresh_token grant. With RotateRefreshTokens the
// token used is replaced by a new one; the replaced token stays usable
// for the rotation grace window, answering the current refresh token.
func (s *Server) refreshToken(clientID string, form url.Values) (map[string]any, *oauthError) {
	tok := form.Get("refresh_token")
	g, ok := s.st.refresh[tok]
	if !ok || g.revoked || g.clientID != clientID {
		return nil, invalidGrant("Token has been expired or revoked.")
	}
	rotatedOut := tok != g.refresh
	if rotatedOut && (tok != g.previous || !s.now().Before(g.previousUntil)) {
		return nil, invalidGrant("Token has been expired or revoked.")
	}
	scopes := g.scopes
	if req := strings.Fields(form.Get("scope")); len(req) > 0 {
		if !subset(req, g.scopes) {
			return nil, errorf(http.StatusBadRequest, "invalid_scope", "Requested scopes exceed the grant.")
		}
		scopes = req
	}
	resp := s.issue(g, scopes)
	switch {
	case rotatedOut:
		// Inside the grace window: the successor, as the lost answer had it.
		s.st.graceRefreshes++
		resp["refresh_token"] = g.refresh
	case s.opts.RotateRefreshTokens:
		delete(s.st.refresh, g.previous) // its window ends
		g.previous, g.previousUntil = "", time.Time{}
		if s.st.rotationGrace > 0 {
			g.previous, g.previousUntil = g.refresh, s.now().Add(s.st.rotationGrace)
		} else {
			delete(s.st.refresh, g.refresh)
		}
		g.refresh = s.newRefreshToken(g)
		resp["refresh_token"] = g.refresh
	}
	s.addIDToken(resp, g, "")
	return resp, nil
}

// clientCredentialsToken runs the client_credentials grant: the client
// acts for itself, user "client:<id>"; no refresh token.
func (s *Server) clientCredentialsToken(clientID string, form url.Values) (map[string]any, *oauthError) {
	g := &grant{clientID: clientID, user: "client:" + clientID, scopes: strings.Fields(form.Get("scope"))}
	return s.issue(g, g.scopes), nil
}

// issue makes an access token for g with scopes and returns the token
// response without refresh or ID token.
func (s *Server) issue(g *grant, scopes []string) map[string]any {
	tok := "ya29." + randid.Alnum(48)
	s.st.access[tok] = &accessToken{grant: g, scopes: scopes, expires: s.now().Add(s.opts.AccessTokenTTL)}
	resp := map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int(s.opts.AccessTokenTTL / time.Second),
	}
	if len(scopes) > 0 {
		resp["scope"] = strings.Join(scopes, " ")
	}
	return resp
}

// newRefreshToken makes and remembers a refresh token for g.
func (s *Server) newRefreshToken(g *grant) string {
	tok := "1//" + randid.Alnum(48)
	s.st.refresh[tok] = g
	return tok
}

// addIDToken adds an unsigned ID token to resp when g has the openid
// scope.
func (s *Server) addIDToken(resp map[string]any, g *grant, nonce string) {
	if !slices.Contains(g.scopes, "openid") {
		return
	}
	now := s.now()
	claims := map[string]any{
		"iss":   s.URL,
		"aud":   g.clientID,
		"sub":   Subject(g.user),
		"email": g.user,
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	resp["id_token"] = unsignedJWT(claims)
}

// Subject returns the stable "sub" claim the server gives user.
func Subject(user string) string {
	sum := sha256.Sum256([]byte(user))
	return hex.EncodeToString(sum[:10])
}

// unsignedJWT encodes claims as a JWT with "alg":"none".
func unsignedJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	body, _ := json.Marshal(claims)
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(body) + "."
}

// subset reports whether every element of a is in b.
func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// writeError writes an RFC 6749 error response, with Retry-After when
// set and WWW-Authenticate for invalid_client.
func writeError(w http.ResponseWriter, oe *oauthError) {
	if oe.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(oe.retryAfter/time.Second)))
	}
	if oe.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="sandbox"`)
	}
	body := map[string]string{}
	if oe.code != "" {
		body["error"] = oe.code
	}
	if oe.desc != "" {
		body["error_description"] = oe.desc
	}
	writeJSON(w, oe.status, body)
}
