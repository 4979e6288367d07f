package oauth

import "testing"

// SetGitHubAPI points GitHub's token API at u for the rest of the test.
func SetGitHubAPI(t testing.TB, u string) {
	old := githubAPI
	githubAPI = u
	t.Cleanup(func() { githubAPI = old })
}
