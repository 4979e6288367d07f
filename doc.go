// Package behalf is the domain of Behalf, a self-hosted, AgentCore-compatible
// identity service for AI agents: workload identities, credential providers,
// the token vault, and the errors and secret types every layer shares.
//
// It imports only the standard library. Implementations live in
// subpackages (sqlstore, seal, sigv4, oauth, identity, api) and are wired
// together in cmd/behalf.
package behalf
