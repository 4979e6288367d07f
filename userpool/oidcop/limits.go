package oidcop

import (
	"strconv"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Caps on what an authorization request may make the hosted login store,
// in bytes. Every authorization request is stored (sealed) until it
// expires, on an anonymous GET: without them one request could store
// ~40 KB. No real client comes near them.
const (
	maxClientID      = 128  // Cognito's ClientId
	maxRedirectURI   = 1024 // Cognito's CallbackURLs members
	maxState         = 2048
	maxNonce         = 1024
	maxLoginHint     = 512
	maxScope         = 4096 // the raw scope parameter
	maxCodeChallenge = 128  // S256's is 43
	// maxStoredRequest bounds the whole request as created (the JSON
	// that is sealed), whatever the parameters' sizes add up to.
	maxStoredRequest = 8 << 10
)

// tooLong is the invalid_request error of a parameter over its cap.
func tooLong(param string, limit int) *oidc.Error {
	return errInvalidRequest("The " + param + " parameter is too long: at most " + strconv.Itoa(limit) + " bytes.")
}

// tooLongNoRedirect is tooLong for a parameter checked before the client
// and its redirect_uri are known good: answered with a page.
func tooLongNoRedirect(param string, limit int) *oidc.Error {
	return errInvalidRequestNoRedirect("The " + param + " parameter is too long: at most " + strconv.Itoa(limit) + " bytes.")
}

// checkClientLengths refuses a client_id or redirect_uri longer than any
// a client can register, before either is looked up.
func checkClientLengths(d *oidc.AuthRequest) error {
	switch {
	case len(d.ClientID) > maxClientID:
		return tooLongNoRedirect("client_id", maxClientID)
	case len(d.RedirectURI) > maxRedirectURI:
		return tooLongNoRedirect("redirect_uri", maxRedirectURI)
	}
	return nil
}

// checkLengths refuses the first stored parameter over its cap (the raw
// scope: op drops unknown scopes from d.Scopes). An over-long state is
// cleared from d so that the error redirect does not echo it back.
func checkLengths(d *oidc.AuthRequest, rawScope string) error {
	for _, c := range []struct {
		param string
		value string
		max   int
	}{
		{"state", d.State, maxState},
		{"nonce", d.Nonce, maxNonce},
		{"login_hint", d.LoginHint, maxLoginHint},
		{"scope", rawScope, maxScope},
		{"code_challenge", d.CodeChallenge, maxCodeChallenge},
	} {
		if len(c.value) > c.max {
			if c.param == "state" {
				d.State = ""
			}
			return tooLong(c.param, c.max)
		}
	}
	return nil
}

// errRequestTooLarge refuses a request whose parameters are each within
// their caps but together too large to store.
func errRequestTooLarge() *oidc.Error {
	return errInvalidRequest("The authorization request is too large: at most " +
		strconv.Itoa(maxStoredRequest) + " bytes of its parameters can be kept.")
}
