package oauth

import (
	"testing"

	"golang.org/x/oauth2"
)

// SetGitHubAPI points GitHub's token API at u for the rest of the test.
func SetGitHubAPI(t testing.TB, u string) {
	old := githubAPI
	githubAPI = u
	t.Cleanup(func() { githubAPI = old })
}

// TokenErrorOf is the error a token request gets for the provider's
// answer re, whose request carried secrets (the first: the client secret
// of client id "client").
func TokenErrorOf(re *oauth2.RetrieveError, secrets ...string) error {
	return tokenError("refresh token", re, newRedactor("client", secrets...))
}
