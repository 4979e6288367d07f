package observe

import (
	"net/http"
	"regexp"
	"strings"
)

// poolIDPattern is a user pool id (Cognito's UserPoolId shape).
var poolIDPattern = regexp.MustCompile(`^[\w-]+_[0-9a-zA-Z]+$`)

// poolRoutes name the hosted login's routes under /{poolId}.
var poolRoutes = map[string]string{
	"/oauth2/authorize":                 "HostedLoginAuthorize",
	"/oauth2/token":                     "HostedLoginToken",
	"/oauth2/userInfo":                  "HostedLoginUserInfo",
	"/oauth2/revoke":                    "HostedLoginRevoke",
	"/logout":                           "HostedLoginLogout",
	"/login":                            "HostedLogin",
	"/.well-known/jwks.json":            "UserPoolJWKS",
	"/.well-known/openid-configuration": "UserPoolDiscovery",
}

// browserRoutes name the browser pages under /identities/oauth2.
var browserRoutes = map[string]string{
	"/identities/oauth2/authorize":       "ConsentAuthorize",
	"/identities/oauth2/bind":            "BindPage",
	"/identities/oauth2/bind/switch":     "BindPageSwitch",
	"/identities/oauth2/signin/callback": "SignInCallback",
}

// cognitoAnonymous are the cognito-idp operations a rate limit may refuse
// before the API names them (package ratelimit).
var cognitoAnonymous = map[string]bool{
	"InitiateAuth": true, "AdminInitiateAuth": true, "RespondToAuthChallenge": true,
	"AdminRespondToAuthChallenge": true, "ChangePassword": true,
}

// Route names a request the route table did not name: the hosted login,
// the browser pages, health checks, and cognito-idp sign-in operations
// refused before dispatch. Anything else is "unknown", so a client cannot
// mint label values.
func Route(r *http.Request) string {
	p := r.URL.Path
	switch p {
	case "/healthz":
		return "Healthz"
	case "/readyz":
		return "Readyz"
	case "/metrics":
		return "Metrics"
	case "/":
		if op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService."); ok && cognitoAnonymous[op] {
			return op
		}
		return "unknown"
	}
	if name, ok := browserRoutes[p]; ok {
		return name
	}
	if strings.HasPrefix(p, "/identities/oauth2/callback/") {
		return "ConsentCallback"
	}
	if p == "/connections" || strings.HasPrefix(p, "/connections/") {
		return "ConnectionsPage"
	}
	if strings.HasPrefix(p, "/.well-known/openid-configuration/") || strings.HasPrefix(p, "/.well-known/oauth-authorization-server/") {
		return "UserPoolDiscovery"
	}
	if pool, rest, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/"); ok && poolIDPattern.MatchString(pool) {
		if name, ok := poolRoutes["/"+rest]; ok {
			return name
		}
	}
	return "unknown"
}
