// Package fakeprovider is the Google stand-in of Behalf's tests: a thin
// wrapper over package sandbox (Google's OAuth 2.0 endpoints and a
// Drive-like API) that starts one per test, consents at once on behalf of
// login_hint or DefaultUser instead of showing the consent page, and
// gives each user the two files the tests expect ("<user> notes.txt" and
// "<user> budget").
//
// The server follows Google where Google differs from the bare RFCs (see
// package sandbox): a refresh token is issued only for
// access_type=offline, and on a repeat consent only with prompt=consent;
// refreshing returns no new refresh token unless
// Options.RotateRefreshTokens is set; ID tokens (for the openid scope)
// are unsigned JWTs ("alg":"none").
//
// All methods are safe for concurrent use.
package fakeprovider

import (
	"slices"
	"testing"
	"time"

	"github.com/behalf-dev/behalf/sandbox"
)

// DefaultUser consents to authorization requests that carry no
// login_hint.
const DefaultUser = sandbox.DefaultUser

// DriveScope is the scope the Drive endpoint accepts; any scope starting
// with it (such as DriveScope + ".readonly") does too.
const DriveScope = sandbox.DriveScope

// Endpoint paths, as on Google.
const (
	AuthorizePath  = sandbox.AuthorizePath
	TokenPath      = sandbox.TokenPath
	RevokePath     = sandbox.RevokePath
	DiscoveryPath  = sandbox.DiscoveryPath
	DriveFilesPath = sandbox.DriveFilesPath
)

// Client authentication methods for Options.RequireAuthMethod.
const (
	AuthBasic = sandbox.AuthBasic
	AuthPost  = sandbox.AuthPost
)

// Options configures a Server.
type Options struct {
	// AccessTokenTTL is the lifetime of access tokens; zero means one hour.
	AccessTokenTTL time.Duration
	// RotateRefreshTokens makes every refresh return a new refresh token
	// and invalidate the old one. Google does not rotate.
	RotateRefreshTokens bool
	// RotationGrace, with RotateRefreshTokens, keeps a replaced refresh
	// token usable this long, answering the same successor (see
	// sandbox.Options.RotationGrace).
	RotationGrace time.Duration
	// RequireAuthMethod, AuthBasic or AuthPost, makes the token endpoint
	// refuse confidential clients that authenticate the other way; empty
	// accepts both.
	RequireAuthMethod string
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
}

// Server is a running fake authorization server: a sandbox.Server with
// the Authorize helper.
type Server struct {
	*sandbox.Server
}

// New starts a Server on loopback; t.Cleanup closes it. It fails t if
// opts.RequireAuthMethod is not "", AuthBasic or AuthPost.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if !slices.Contains([]string{"", AuthBasic, AuthPost}, opts.RequireAuthMethod) {
		t.Fatalf("fakeprovider: RequireAuthMethod %q is not %q or %q", opts.RequireAuthMethod, AuthBasic, AuthPost)
	}
	s, err := sandbox.Start("127.0.0.1:0", sandbox.Options{
		AutoConsent:         true,
		Files:               files,
		AccessTokenTTL:      opts.AccessTokenTTL,
		RotateRefreshTokens: opts.RotateRefreshTokens,
		RotationGrace:       opts.RotationGrace,
		RequireAuthMethod:   opts.RequireAuthMethod,
		Now:                 opts.Now,
	})
	if err != nil {
		t.Fatalf("fakeprovider: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return &Server{s}
}

// files is every user's Drive: two files named after the user.
func files(user string) []sandbox.File {
	return []sandbox.File{
		{ID: "file-" + Subject(user) + "-1", Name: user + " notes.txt", MimeType: "text/plain"},
		{ID: "file-" + Subject(user) + "-2", Name: user + " budget", MimeType: "application/vnd.google-apps.spreadsheet"},
	}
}

// Subject returns the stable "sub" claim the server gives user.
func Subject(user string) string { return sandbox.Subject(user) }
