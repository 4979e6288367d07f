package jwtverify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
)

// DiscoveryURLField is the field Discover's EINVALID errors name.
const DiscoveryURLField = "discoveryUrl"

// MaxDiscoveryBytes caps the size of a discovery document.
const MaxDiscoveryBytes = 512 << 10

// wellKnown is the OpenID Connect Discovery 1.0 path suffix.
const wellKnown = safehttp.OIDCWellKnown

// Discover fetches an OpenID provider's discovery document with c (which
// should come from safehttp.NewClient) and returns the issuer's
// verification data, without Audiences.
//
// discoveryURL is either the document's URL, ending in
// /.well-known/openid-configuration, or the issuer itself, to which that
// path is appended. The expected issuer is the URL without that suffix;
// the document's issuer must equal it (ignoring one trailing slash), and
// the returned Issuer.Issuer is the document's, exactly as tokens carry
// it. The document must name a jwks_uri, and both URLs must pass
// safehttp.CheckURL under the client's AllowsPrivate setting. The document
// is limited to MaxDiscoveryBytes.
//
// Errors are behalf.Invalid(DiscoveryURLField, ...) errors, wrapping the
// fetch error where there is one.
func Discover(ctx context.Context, c *http.Client, discoveryURL string) (Issuer, error) {
	docURL, expected := discoveryTarget(discoveryURL)
	allowPrivate := safehttp.AllowsPrivate(c)
	if err := checkDiscoveryURL(docURL, allowPrivate); err != nil {
		return Issuer{}, err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := safehttp.GetJSON(ctx, c, docURL, MaxDiscoveryBytes, &doc); err != nil {
		return Issuer{}, invalid(err, "Could not fetch discovery document: %s.", plain(err))
	}
	switch {
	case doc.Issuer == "" || doc.JWKSURI == "":
		return Issuer{}, invalid(nil, "Discovery document at %s must name issuer and jwks_uri.", docURL)
	case strings.TrimSuffix(doc.Issuer, "/") != strings.TrimSuffix(expected, "/"):
		return Issuer{}, invalid(nil, "Discovery document at %s names issuer %s, which does not match the discovery URL.", docURL, doc.Issuer)
	}
	if _, err := safehttp.CheckURL(doc.JWKSURI, allowPrivate); err != nil {
		return Issuer{}, invalid(err, "Discovery document at %s has an unusable jwks_uri %s: %s.", docURL, doc.JWKSURI, plain(err))
	}
	return Issuer{Issuer: doc.Issuer, JWKSURI: doc.JWKSURI}, nil
}

// discoveryTarget returns the document URL and the expected issuer for a
// discovery URL or an issuer.
func discoveryTarget(raw string) (docURL, issuer string) {
	if base, ok := strings.CutSuffix(raw, wellKnown); ok {
		return raw, base
	}
	return strings.TrimSuffix(raw, "/") + wellKnown, raw
}

// checkDiscoveryURL checks a discovery URL before fetching.
func checkDiscoveryURL(raw string, allowPrivate bool) error {
	if err := (safehttp.Options{AllowPrivate: allowPrivate}).CheckDiscoveryURL(raw, safehttp.OIDCDiscovery); err != nil {
		return invalid(err, "%s.", safehttp.Describe("Discovery URL", err))
	}
	return nil
}

// plain returns the caller-safe message of a safehttp error.
func plain(err error) string {
	var se *safehttp.Error
	if errors.As(err, &se) {
		return se.Msg
	}
	return "the request failed"
}

// invalid returns a behalf.Invalid error for DiscoveryURLField, wrapping
// cause (if any) alongside it for logs.
func invalid(cause error, format string, args ...any) error {
	e := behalf.Invalid(DiscoveryURLField, format, args...)
	if cause == nil {
		return e
	}
	return fmt.Errorf("%w: %w", e, cause)
}
