package oidcop

import (
	"context"
	"net/url"
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
	case isDocumentClientID(d.ClientID) && len(d.ClientID) > maxDocumentURL:
		return tooLongNoRedirect("client_id", maxDocumentURL)
	case !isDocumentClientID(d.ClientID) && len(d.ClientID) > maxClientID:
		return tooLongNoRedirect("client_id", maxClientID)
	case len(d.RedirectURI) > maxRedirectURI:
		return tooLongNoRedirect("redirect_uri", maxRedirectURI)
	}
	return nil
}

// paramCaps are the caps of the stored parameters checked by checkLengths.
var paramCaps = []struct {
	param string
	max   int
}{
	{"state", maxState},
	{"nonce", maxNonce},
	{"login_hint", maxLoginHint},
	{"scope", maxScope},
	{"code_challenge", maxCodeChallenge},
}

// checkLengths refuses the first stored parameter with a value over its
// cap, in the raw form (the scope op has not filtered; every value of a
// repeated parameter).
func checkLengths(form url.Values) error {
	for _, c := range paramCaps {
		for _, v := range form[c.param] {
			if len(v) > c.max {
				return tooLong(c.param, c.max)
			}
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

// Defaults of WithPendingLimits: how many unexpired auth requests the
// hosted login keeps per client address and in all. An auth request lives
// 15 minutes waiting for the login page, then 5 as a code; at most
// maxStoredRequest each, the total bounds them to ~160 MiB.
const (
	DefaultMaxPendingPerClient = 200
	DefaultMaxPending          = 20000
)

// errorTemporarilyUnavailable is RFC 6749's error code (§4.1.2.1) for a
// server that cannot take the request now.
const errorTemporarilyUnavailable = "temporarily_unavailable"

// errTooManyFromClient refuses an authorization from a client address
// that has DefaultMaxPendingPerClient (or its option's) unexpired.
func errTooManyFromClient() *oidc.Error {
	return &oidc.Error{ErrorType: errorTemporarilyUnavailable,
		Description: "Too many sign-ins are in progress from your network. Finish one, or try again in a few minutes."}
}

// errBusy refuses an authorization when the hosted login keeps as many
// unexpired auth requests as it may in all.
func errBusy() *oidc.Error {
	return &oidc.Error{ErrorType: errorTemporarilyUnavailable,
		Description: "The sign-in service is busy. Try again in a few minutes."}
}

// clientKey is the context key of the client address of an authorization
// request (serve puts it there).
type clientKey struct{}

// clientAddr is a request's client address as WithClientAddress found it.
type clientAddr struct {
	key     string
	counted bool // its auth requests are bounded per address
}

// admit checks the bounds on unexpired auth requests before another is
// stored for the client address on ctx, and returns the ClientIP to store
// it with ("" for an address not counted). Past a bound it returns an
// *oidc.Error. Concurrent requests may each pass a bound before any is
// stored: it holds up to the number of requests in flight.
func (p *Provider) admit(ctx context.Context) (string, error) {
	addr, _ := ctx.Value(clientKey{}).(clientAddr)
	addr.counted = addr.counted && addr.key != "" // "" would count everyone's
	now := p.clock()
	if addr.counted && p.maxPerClient > 0 {
		n, err := p.store.CountPoolAuthRequests(ctx, addr.key, now, p.maxPerClient)
		if err != nil {
			return "", err
		}
		if n >= p.maxPerClient {
			p.log.DebugContext(ctx, "hosted login: too many pending sign-ins from one address", "limit", p.maxPerClient)
			return "", errTooManyFromClient()
		}
	}
	if p.maxPending > 0 {
		n, err := p.store.CountPoolAuthRequests(ctx, "", now, p.maxPending)
		if err != nil {
			return "", err
		}
		if n >= p.maxPending {
			// Once a minute at most: the operator must know, the log must
			// not flood.
			if last := p.busyLogged.Load(); now.Unix()-last >= 60 && p.busyLogged.CompareAndSwap(last, now.Unix()) {
				p.log.WarnContext(ctx, "hosted login: refusing sign-ins, as many are pending as allowed", "limit", p.maxPending)
			}
			return "", errBusy()
		}
	}
	if !addr.counted {
		return "", nil
	}
	return addr.key, nil
}
