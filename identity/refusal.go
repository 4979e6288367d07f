package identity

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/oauth"
)

// A credential provider's refusal reaches whoever can act on it, in the
// provider's own words (its error and error_description, which package
// oauth has already stripped of anything echoing the request's secrets):
// the agent calling GetResourceOauth2Token for a client-credentials
// request, an on-behalf-of exchange or a refresh the provider refused
// (ValidationException), with the authorization URL of the new consent an
// invalid_grant refresh calls for, and with a FAILED session whose code
// the provider refused (TokenResult.ProviderError); the app completing
// that session (CompleteResourceTokenAuth); and the app's return URL
// (error, error_description).

// refusalOf returns the provider's words from a token request error: the
// error code and description of its OAuth error answer, nil if the
// provider gave no error code (a network failure, a malformed answer).
func refusalOf(err error) *behalf.ProviderRefusal {
	var te *oauth.TokenError
	if !errors.As(err, &te) || te.Code == "" {
		return nil
	}
	return &behalf.ProviderRefusal{Code: te.Code, Description: te.Description}
}

// providerRefused turns a failed token request (what names it: "token
// exchange", "client-credentials request", "token refresh") into what the
// agent sees: the provider's refusal (an answer with a 4xx status other
// than 429) as a ValidationException carrying its error code and
// description, so the agent can tell the user why; a provider that failed
// or could not be reached as ServiceUnavailable.
func providerRefused(what string, err error) error {
	var te *oauth.TokenError
	if errors.As(err, &te) && te.StatusCode >= 400 && te.StatusCode < 500 && te.StatusCode != 429 {
		msg := "The credential provider refused the " + what + " (HTTP " + strconv.Itoa(te.StatusCode) + ")"
		if te.Code != "" {
			msg += ": " + te.Code
		}
		if te.Description != "" {
			msg += ": " + te.Description
		}
		return &behalf.Error{Code: behalf.EINVALID, Message: msg + "."}
	}
	return providerError(err)
}

// providerError is what the agent sees of a provider that failed or could
// not be reached.
func providerError(err error) error {
	return &behalf.Error{Code: behalf.EUNAVAILABLE, Message: "The credential provider refused or failed the token request.", Retry: 5 * time.Second}
}

// grantRefused is grantToken's error when the provider refused the
// grant's refresh token (invalid_grant): the grant is deleted, and the
// user must consent again.
type grantRefused struct {
	refusal *behalf.ProviderRefusal // nil if the provider gave no words
}

func (e *grantRefused) Error() string {
	return "the credential provider refused the grant's refresh token; the user must consent again"
}

// providerFailurePrefix starts the FailureReason of a session the provider
// refused; its error code and description follow, separated by a newline
// (neither holds one: package oauth replaces control characters).
const providerFailurePrefix = "provider: "

// providerFailure is the FailureReason of a session the provider refused.
func providerFailure(r *behalf.ProviderRefusal) string {
	s := providerFailurePrefix + r.Code
	if r.Description != "" {
		s += "\n" + r.Description
	}
	return s
}

// failureRefusal returns the provider's refusal a FailureReason records,
// nil if the session failed for another reason.
func failureRefusal(reason string) *behalf.ProviderRefusal {
	rest, ok := strings.CutPrefix(reason, providerFailurePrefix)
	if !ok || rest == "" {
		return nil
	}
	code, desc, _ := strings.Cut(rest, "\n")
	return &behalf.ProviderRefusal{Code: code, Description: desc}
}

// refusalMessage words a refusal for an error message.
func refusalMessage(r *behalf.ProviderRefusal) string {
	if r.Description == "" {
		return r.Code
	}
	return r.Code + ": " + r.Description
}
