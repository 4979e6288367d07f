package fakeprovider

import (
	"net/http"
	"strings"
)

// revoke is the RFC 7009 revocation endpoint. Like Google, it accepts the
// token in the form or the query and revokes the whole grant: the refresh
// token and every access token issued under it. Unknown tokens are
// answered 200 too (RFC 7009 section 2.2); every token is recorded.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	tok := r.FormValue("token")
	if tok == "" {
		writeError(w, errorf(http.StatusBadRequest, "invalid_request", "Missing required parameter: token."))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.revoked = append(s.st.revoked, tok)
	if g, ok := s.st.refresh[tok]; ok {
		s.revokeGrant(g)
	}
	if at, ok := s.st.access[tok]; ok {
		s.revokeGrant(at.grant)
	}
	w.WriteHeader(http.StatusOK)
}

// revokeGrant invalidates g's refresh token and access tokens; g may be
// nil.
func (s *Server) revokeGrant(g *grant) {
	if g == nil {
		return
	}
	g.revoked = true
	delete(s.st.refresh, g.refresh)
}

// driveFile is one entry of the Drive file list.
type driveFile struct {
	Kind     string `json:"kind"`
	ID       string `json:"id"`
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
}

// driveFiles serves a small Drive v3 files.list answer for the bearer
// token's user, or Google's 401/403 errors.
func (s *Server) driveFiles(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	at, status := s.bearer(r)
	s.mu.Unlock()
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		writeJSON(w, status, googleError(status, "UNAUTHENTICATED", "Request had invalid authentication credentials."))
		return
	case http.StatusForbidden:
		writeJSON(w, status, googleError(status, "PERMISSION_DENIED", "Request had insufficient authentication scopes."))
		return
	}
	user := at.grant.user
	writeJSON(w, http.StatusOK, map[string]any{
		"kind":             "drive#fileList",
		"incompleteSearch": false,
		"files": []driveFile{
			{Kind: "drive#file", ID: "file-" + Subject(user) + "-1", Name: user + " notes.txt", MimeType: "text/plain"},
			{Kind: "drive#file", ID: "file-" + Subject(user) + "-2", Name: user + " budget", MimeType: "application/vnd.google-apps.spreadsheet"},
		},
	})
}

// bearer finds the request's access token; status is 0 when it is valid
// and has a Drive scope, else 401 or 403.
func (s *Server) bearer(r *http.Request) (at *accessToken, status int) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, http.StatusUnauthorized
	}
	at, ok := s.st.access[tok]
	if !ok || at.expired || at.grant.revoked || !s.now().Before(at.expires) {
		return nil, http.StatusUnauthorized
	}
	for _, sc := range at.scopes {
		if strings.HasPrefix(sc, DriveScope) {
			return at, 0
		}
	}
	return nil, http.StatusForbidden
}

// googleError is the error body of Google APIs.
func googleError(code int, status, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}}
}
