package api

import "net/http"

// noStoreOps are the operations whose answers carry a token, an API key or
// a secret: they are marked never to be cached or stored (RFC 6749 section
// 5.1: Cache-Control: no-store, and Pragma: no-cache for HTTP/1.0 caches),
// errors included, since the headers are set before the operation runs.
// The user pools' /oauth2/token answers carry the same headers
// (userpool/oidcop).
var noStoreOps = map[string]bool{
	// AgentCore data plane.
	"GetWorkloadAccessToken":          true,
	"GetWorkloadAccessTokenForJWT":    true,
	"GetWorkloadAccessTokenForUserId": true,
	"GetResourceOauth2Token":          true,
	"GetResourceApiKey":               true,
	// Behalf's administration: the new key's secret.
	"CreateAccessKey": true,
	// Cognito: tokens, and app clients' secrets.
	"InitiateAuth":                true,
	"RespondToAuthChallenge":      true,
	"AdminInitiateAuth":           true,
	"AdminRespondToAuthChallenge": true,
	"GetTokensFromRefreshToken":   true,
	"CreateUserPoolClient":        true,
	"DescribeUserPoolClient":      true,
}

// markNoStore sets the no-store headers on the answer of op, if it is one
// of noStoreOps.
func markNoStore(h http.Header, op string) {
	if noStoreOps[op] {
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
	}
}
