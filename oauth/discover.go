package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
)

// DiscoveryURLField is the wire field of a custom provider's discovery URL;
// Discover's errors name it.
const DiscoveryURLField = "oauth2ProviderConfigInput.customOauth2ProviderConfig.oauthDiscovery.discoveryUrl"

// MaxDiscoveryBytes caps the size of a discovery document.
const MaxDiscoveryBytes = 512 << 10

// Well-known path segments of discovery documents.
const (
	oidcWellKnown    = safehttp.OIDCWellKnown
	rfc8414WellKnown = safehttp.OAuthWellKnown
)

// Discover fetches and checks the discovery document at discoveryURL with
// c, which should come from safehttp.NewClient.
//
// The URL's path must end in /.well-known/openid-configuration or
// /.well-known/oauth-authorization-server (or, per RFC 8414, start with the
// latter followed by the issuer's path), with no query or fragment. The
// document must name issuer, authorization_endpoint and token_endpoint; the
// issuer must be the one the URL was derived from (OIDC: issuer +
// /.well-known/openid-configuration; RFC 8414: the well-known segment
// between host and issuer path, or appended to the issuer). The discovery
// URL and every endpoint must pass safehttp.CheckURL with the client's
// AllowsPrivate setting: https, or http to a loopback or private host when
// private endpoints are allowed.
//
// Errors are behalf.Invalid(DiscoveryURLField, ...) errors, wrapping the
// fetch error where there is one.
func Discover(ctx context.Context, c *http.Client, discoveryURL string) (behalf.AuthServerMetadata, error) {
	allowPrivate := safehttp.AllowsPrivate(c)
	if err := checkDiscoveryURL(discoveryURL, allowPrivate); err != nil {
		return behalf.AuthServerMetadata{}, err
	}
	var md behalf.AuthServerMetadata
	if err := safehttp.GetJSON(ctx, c, discoveryURL, MaxDiscoveryBytes, &md); err != nil {
		return behalf.AuthServerMetadata{}, invalid(err, "Could not fetch discovery document: %s.", plain(err))
	}
	if err := checkMetadata(discoveryURL, md, allowPrivate); err != nil {
		return behalf.AuthServerMetadata{}, err
	}
	return md, nil
}

// checkDiscoveryURL checks a discovery URL before fetching.
func checkDiscoveryURL(raw string, allowPrivate bool) error {
	err := safehttp.Options{AllowPrivate: allowPrivate}.CheckDiscoveryURL(raw, safehttp.OIDCDiscovery|safehttp.OAuthDiscovery)
	if err != nil {
		return invalid(err, "%s.", safehttp.Describe("Discovery URL", err))
	}
	return nil
}

// checkMetadata checks a fetched discovery document.
func checkMetadata(discoveryURL string, md behalf.AuthServerMetadata, allowPrivate bool) error {
	if missing := missingFields(md); len(missing) > 0 {
		return invalid(nil, "Discovery document at %s is missing %s.", discoveryURL, strings.Join(missing, " and "))
	}
	if !issuerMatches(discoveryURL, md.Issuer) {
		return invalid(nil, "Discovery document at %s names issuer %s, which does not match the discovery URL.",
			discoveryURL, md.Issuer)
	}
	for _, ep := range endpointsOf(md) {
		if ep.url == "" {
			continue
		}
		if _, err := safehttp.CheckURL(ep.url, allowPrivate); err != nil {
			return invalid(err, "Discovery document at %s has an unusable %s %s: %s.",
				discoveryURL, ep.name, ep.url, plain(err))
		}
	}
	return nil
}

// missingFields lists the required metadata fields md lacks.
func missingFields(md behalf.AuthServerMetadata) []string {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"issuer", md.Issuer},
		{"authorization_endpoint", md.AuthorizationEndpoint},
		{"token_endpoint", md.TokenEndpoint},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	return missing
}

// endpoint is a named URL from a discovery document.
type endpoint struct{ name, url string }

// endpointsOf lists the URLs of md that Behalf or a browser will use.
func endpointsOf(md behalf.AuthServerMetadata) []endpoint {
	return []endpoint{
		{"authorization_endpoint", md.AuthorizationEndpoint},
		{"token_endpoint", md.TokenEndpoint},
		{"revocation_endpoint", md.RevocationEndpoint},
		{"userinfo_endpoint", md.UserinfoEndpoint},
		{"jwks_uri", md.JWKSURI},
	}
}

// issuerMatches reports whether discoveryURL is where issuer's metadata
// lives: OIDC appends the well-known segment to the issuer; RFC 8414
// inserts it between host and path, and the appended form is accepted too
// since many servers publish it.
func issuerMatches(discoveryURL, issuer string) bool {
	base := strings.TrimSuffix(issuer, "/")
	if strings.HasSuffix(discoveryURL, oidcWellKnown) {
		return discoveryURL == base+oidcWellKnown
	}
	return discoveryURL == base+rfc8414WellKnown || discoveryURL == rfc8414URL(issuer)
}

// rfc8414URL returns issuer's RFC 8414 metadata URL, or "" if issuer is not
// an absolute URL without query or fragment.
func rfc8414URL(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme == "" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return ""
	}
	return u.Scheme + "://" + u.Host + rfc8414WellKnown + strings.TrimSuffix(u.EscapedPath(), "/")
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
