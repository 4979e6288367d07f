// Package agentruntime implements Behalf's agent-runtime control plane
// (behalf.AgentRuntimeService): AgentCore Runtime's identity-relevant parts
// over agents that are already running.
//
// Behalf runs no containers. A runtime's containerUri is the http(s) base
// URL of a running agent, which serves the AgentCore HTTP contract under it
// (POST /invocations, GET /ping). Container images are refused.
//
// Each runtime gets its own workload identity, "<runtime name>-<10 random
// characters>", created and deleted with it in one store transaction. An
// admin may set its allowed return URLs with UpdateWorkloadIdentity.
//
// Status: a runtime is READY as soon as it is created or updated. Behalf
// does not probe GET /ping first: the agent may start after its runtime is
// registered, and an unreachable agent shows up as an invocation error
// (the gateway's concern), not as a stuck CREATING runtime.
//
// Versions: a runtime starts at version "1" and each update adds one; the
// store keeps every version's configuration. The DEFAULT endpoint (not
// stored) always serves the latest; named endpoints (endpoint.go) point at
// one version each. The gateway invokes the version the qualifier's
// endpoint serves, and pins each session to the version it started on
// until it ends (gateway_session.go).
//
// The OAuth2 callback URL handed to the agent (Behalf-specific) travels on
// the wire as environmentVariables[behalf.CallbackURLEnv].
package agentruntime
