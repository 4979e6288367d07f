// Package gateway implements Behalf's gateway (AgentCore Gateway): the
// control plane of gateways and their targets (behalf.GatewayService) and
// the MCP endpoint each gateway serves at {public-url}/gateways/{id}/mcp
// (Handler), on the official MCP Go SDK.
//
// A gateway is READY as soon as it is created; it gets a workload identity
// named after its id, created and deleted with it, through which its tools
// obtain their outbound credentials: an API key, a client-credentials
// token, or the signed-in user's own token from the vault (asking for
// consent with MCP's URL elicitation when there is none).
//
// OpenAPI targets are parsed with kin-openapi; each operation with an
// operationId is a tool "{target}___{operationId}". An MCP-server target's
// tools are the remote server's, "{target}___{tool}": the gateway is an
// MCP client of it (the Go SDK's), listing its tools with the target's
// credential at create, update and SynchronizeGatewayTargets (Service's
// Syncer is the Handler), and forwarding tools/call. A target whose
// listing needs the user's OAuth waits in *_PENDING_AUTH with the URL
// where an admin consents for the target's own user id, as AgentCore's.
package gateway
