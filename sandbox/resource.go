package sandbox

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
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
	delete(s.st.refresh, g.previous)
}

// File is one file of a user's sandbox Drive.
type File struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
}

// driveFile is a File as Drive v3 serves it.
type driveFile struct {
	Kind string `json:"kind"`
	File
}

// seedCatalog names the seeded files, in order.
var seedCatalog = []struct{ name, mime string }{
	{"Q3 roadmap", "application/vnd.google-apps.document"},
	{"Budget 2025", "application/vnd.google-apps.spreadsheet"},
	{"Team offsite", "application/vnd.google-apps.folder"},
	{"Architecture overview.pdf", "application/pdf"},
	{"Meeting notes.txt", "text/plain"},
	{"Launch plan", "application/vnd.google-apps.presentation"},
	{"Customer interviews", "application/vnd.google-apps.document"},
	{"logo.png", "image/png"},
	{"Expenses March.csv", "text/csv"},
	{"Onboarding checklist", "application/vnd.google-apps.document"},
}

// SeedFiles returns the n files the sandbox seeds a user's Drive with:
// the same names for every user (numbered files after the first ten),
// with ids that differ per user and never change.
func SeedFiles(user string, n int) []File {
	files := make([]File, 0, max(n, 0))
	for i := range max(n, 0) {
		name, mime := fmt.Sprintf("File %d.txt", i+1), "text/plain"
		if i < len(seedCatalog) {
			name, mime = seedCatalog[i].name, seedCatalog[i].mime
		}
		sum := sha256.Sum256([]byte(user + "\x00" + strconv.Itoa(i)))
		files = append(files, File{ID: "1" + base64.RawURLEncoding.EncodeToString(sum[:])[:32], Name: name, MimeType: mime})
	}
	return files
}

// Files returns user's Drive files.
func (s *Server) Files(user string) []File {
	if s.opts.Files != nil {
		return s.opts.Files(user)
	}
	n := s.opts.SeedFiles
	if n == 0 {
		n = DefaultSeedFiles
	}
	return SeedFiles(user, n)
}

// Drive files.list limits.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// driveFiles serves Drive v3 files.list for the bearer token's user:
// pageSize (1 to 1000, default 100) and pageToken page through the files;
// q, orderBy and fields are ignored (every file is listed with kind, id,
// name and mimeType). Errors are Google's 401, 403 and 400.
func (s *Server) driveFiles(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	at, status := s.bearer(r)
	s.mu.Unlock()
	if status == 0 && !hasScope(at.scopes, func(sc string) bool { return strings.HasPrefix(sc, DriveScope) }) {
		status = http.StatusForbidden
	}
	if writeBearerError(w, status) {
		return
	}
	q := r.URL.Query()
	size := defaultPageSize
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			writeJSON(w, http.StatusBadRequest, googleError(http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid value for pageSize: "+v))
			return
		}
		size = n
	}
	start := 0
	if v := q.Get("pageToken"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "p"))
		if err != nil || !strings.HasPrefix(v, "p") || n < 0 {
			writeJSON(w, http.StatusBadRequest, googleError(http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid value for pageToken: "+v))
			return
		}
		start = n
	}
	all := s.Files(at.grant.user)
	start = min(start, len(all))
	end := min(start+size, len(all))
	files := make([]driveFile, 0, end-start)
	for _, f := range all[start:end] {
		files = append(files, driveFile{Kind: "drive#file", File: f})
	}
	body := map[string]any{"kind": "drive#fileList", "incompleteSearch": false, "files": files}
	if end < len(all) {
		body["nextPageToken"] = "p" + strconv.Itoa(end)
	}
	writeJSON(w, http.StatusOK, body)
}

// userinfo is the OpenID userinfo endpoint: sub always, email with the
// email scope, name with profile.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	at, status := s.bearer(r)
	s.mu.Unlock()
	email := status == 0 && hasScope(at.scopes, func(sc string) bool {
		return sc == "email" || sc == "https://www.googleapis.com/auth/userinfo.email"
	})
	profile := status == 0 && hasScope(at.scopes, func(sc string) bool {
		return sc == "profile" || sc == "https://www.googleapis.com/auth/userinfo.profile"
	})
	if status == 0 && !email && !profile && !slices.Contains(at.scopes, "openid") {
		status = http.StatusForbidden
	}
	if writeBearerError(w, status) {
		return
	}
	user := at.grant.user
	body := map[string]any{"sub": Subject(user)}
	if email {
		body["email"], body["email_verified"] = user, true
	}
	if profile {
		body["name"] = DisplayName(user)
	}
	writeJSON(w, http.StatusOK, body)
}

// DisplayName is the name the sandbox gives user: the part of the email
// address before the @, capitalized ("alice@example.com" is "Alice").
func DisplayName(user string) string {
	local, _, _ := strings.Cut(user, "@")
	r := []rune(local)
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}

// bearer finds the request's access token; status is 0 when it is valid,
// else 401.
func (s *Server) bearer(r *http.Request) (at *accessToken, status int) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, http.StatusUnauthorized
	}
	at, ok := s.st.access[tok]
	if !ok || at.expired || at.grant.revoked || !s.now().Before(at.expires) {
		return nil, http.StatusUnauthorized
	}
	return at, 0
}

func hasScope(scopes []string, match func(string) bool) bool {
	return slices.ContainsFunc(scopes, match)
}

// writeBearerError writes Google's answer for a bearer status 401 or 403
// and reports whether it wrote one.
func writeBearerError(w http.ResponseWriter, status int) bool {
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		writeJSON(w, status, googleError(status, "UNAUTHENTICATED", "Request had invalid authentication credentials."))
		return true
	case http.StatusForbidden:
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="insufficient_scope"`)
		writeJSON(w, status, googleError(status, "PERMISSION_DENIED", "Request had insufficient authentication scopes."))
		return true
	}
	return false
}

// googleError is the error body of Google APIs.
func googleError(code int, status, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}}
}
