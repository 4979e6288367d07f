// Package api is Behalf's wire: the AWS restJson1 protocol that the
// AgentCore Identity control plane speaks, and the AWS JSON 1.1 protocol
// of Cognito user pools (cognito-idp: POST / dispatched on X-Amz-Target,
// see cognito.go) with each pool's JWKS. It decodes requests, checks their
// SigV4 signature, calls the services of package behalf, and encodes results
// and errors exactly as the AWS SDKs expect. It holds no business rules.
//
// Routes are in routes.go; the single error table is in error.go; each noun
// has its own file (workload.go, provider.go, apikey.go, vault.go). The
// Cognito API has its own operation table and error mapping in cognito.go
// (exception names from behalf.CognitoException) and its operations in
// cognito_pool.go, cognito_user.go and cognito_auth.go.
package api
