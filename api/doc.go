// Package api is Behalf's wire: the AWS restJson1 protocol that the
// AgentCore Identity control plane speaks. It decodes requests, checks their
// SigV4 signature, calls the services of package behalf, and encodes results
// and errors exactly as the AWS SDKs expect. It holds no business rules.
//
// Routes are in routes.go; the single error table is in error.go; each noun
// has its own file (workload.go, provider.go, apikey.go, vault.go).
package api
