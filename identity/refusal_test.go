package identity

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/oauth"
)

// Ensure a provider's refusal becomes a ValidationException carrying its
// words, and a failure of the provider ServiceUnavailable; and that a
// session's FailureReason keeps the refusal's code and description apart.
func TestProviderRefusal(t *testing.T) {
	refusal := func(status int, code, desc string) error {
		re := &oauth2.RetrieveError{Response: &http.Response{StatusCode: status, Header: http.Header{}}, ErrorCode: code, ErrorDescription: desc}
		return oauth.TokenRequestError("refresh token", re, "cid", "the-client-secret", "the-refresh-token")
	}
	for _, tc := range []struct {
		name string
		err  error
		code string
		msg  string
	}{
		{"InvalidClient", refusal(401, "invalid_client", "bad secret the-client-secret"), behalf.EINVALID,
			"The credential provider refused the token refresh (HTTP 401): invalid_client: bad secret [REDACTED]."},
		{"NoDescription", refusal(400, "unauthorized_client", ""), behalf.EINVALID,
			"The credential provider refused the token refresh (HTTP 400): unauthorized_client."},
		{"TooMany", refusal(429, "slow_down", ""), behalf.EUNAVAILABLE, "The credential provider refused or failed the token request."},
		{"ServerError", refusal(503, "temporarily_unavailable", ""), behalf.EUNAVAILABLE, "The credential provider refused or failed the token request."},
		{"Network", errors.New("dial tcp: connection refused"), behalf.EUNAVAILABLE, "The credential provider refused or failed the token request."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := providerRefused("token refresh", tc.err)
			if behalf.ErrorCode(err) != tc.code || behalf.ErrorMessage(err) != tc.msg {
				t.Fatalf("providerRefused = %s %q, want %s %q", behalf.ErrorCode(err), behalf.ErrorMessage(err), tc.code, tc.msg)
			}
		})
	}

	r := refusalOf(refusal(400, "invalid_grant", "token the-refresh-token revoked\nby the user"))
	if r == nil || r.Code != "invalid_grant" || strings.Contains(r.Description, "the-refresh-token") || strings.Contains(r.Description, "\n") {
		t.Fatalf("refusalOf = %+v", r)
	}
	if refusalOf(errors.New("network")) != nil || refusalOf(refusal(400, "", "no code")) != nil {
		t.Fatal("refusalOf found words where the provider gave no error code")
	}
	for _, want := range []*behalf.ProviderRefusal{r, {Code: "access_denied"}} {
		if got := failureRefusal(providerFailure(want)); got == nil || *got != *want {
			t.Fatalf("FailureReason round trip: %+v, want %+v", got, want)
		}
	}
	for _, other := range []string{"", "exchange_failed", "expired", "binding_refused", "provider: "} {
		if got := failureRefusal(other); got != nil {
			t.Fatalf("failureRefusal(%q) = %+v", other, got)
		}
	}
}
